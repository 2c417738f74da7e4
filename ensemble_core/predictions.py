"""The validated container every strategy, metric and figure works on."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._validation import EnsembleInputError
from .labels_only import check_smoothing, smooth
from .registry import LABELS_ONLY_SMOOTHING


@dataclass(frozen=True, eq=False)
class PredictionSet:
    """Several models' predictions on one labelled dataset.

    Parameters
    ----------
    probas : ndarray of shape (n_models, n_samples, n_classes), float32
        Each model's class probabilities; a model that gives only hard labels
        (``hard[m]`` true) holds its one-hot rows label-smoothed with ``smoothing``
        (see :mod:`ensemble_core.labels_only`).
    y_true : ndarray of shape (n_samples,), int
        True labels encoded as indices into ``classes``.
    classes : ndarray of shape (n_classes,)
        The class labels as the user wrote them, sorted.
    names : tuple of str
        One unique name per model.
    hard : ndarray of shape (n_models,), bool, optional
        Whether a model gave only hard labels (no probabilities).
    ids : ndarray of shape (n_samples,), optional
        Example ids, as strings.
    content : DataFrame, optional
        Per-example content for display (text, features), one row per sample.
    smoothing : float
        The ε of the labels-only models' rows: ``(1 − ε)`` one-hot plus ``ε / K``
        (:data:`~ensemble_core.registry.LABELS_ONLY_SMOOTHING` by default; 0 keeps them one-hot).
        Applied here, from each labels-only model's labels, so every consumer sees the same rows.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[[0.9, 0.1], [0.2, 0.8]]], dtype=np.float32)
    >>> ps = PredictionSet(p, np.array([0, 1]), np.array(["neg", "pos"]), ("m1",))
    >>> ps.n_models, ps.n_samples, ps.n_classes
    (1, 2, 2)
    """

    probas: np.ndarray
    y_true: np.ndarray
    classes: np.ndarray
    names: tuple[str, ...]
    hard: np.ndarray | None = None
    ids: np.ndarray | None = None
    content: pd.DataFrame | None = field(default=None, repr=False)
    smoothing: float = LABELS_ONLY_SMOOTHING

    def __post_init__(self) -> None:
        probas = np.ascontiguousarray(self.probas, dtype=np.float32)
        if probas.ndim != 3:
            raise EnsembleInputError(
                f"probas must have shape (n_models, n_samples, n_classes); got {probas.shape}"
            )
        n_models, n_samples, n_classes = probas.shape
        if n_models < 1 or n_samples < 1:
            raise EnsembleInputError("a prediction set needs at least one model and one example")
        y_true = np.asarray(self.y_true)
        if y_true.shape != (n_samples,):
            raise EnsembleInputError(f"y_true must have shape ({n_samples},); got {y_true.shape}")
        if not np.issubdtype(y_true.dtype, np.integer) or y_true.min() < 0 or y_true.max() >= n_classes:
            raise EnsembleInputError("y_true must hold class indices in [0, n_classes)")
        classes = np.asarray(self.classes)
        if classes.shape != (n_classes,):
            raise EnsembleInputError(f"expected {n_classes} classes; got {classes.shape[0]}")
        names = tuple(str(n) for n in self.names)
        if len(names) != n_models:
            raise EnsembleInputError(f"expected {n_models} model names; got {len(names)}")
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise EnsembleInputError(f"model names must be unique; {dup!r} appears twice")
        hard = np.zeros(n_models, bool) if self.hard is None else np.asarray(self.hard, bool)
        if hard.shape != (n_models,):
            raise EnsembleInputError(f"hard must have shape ({n_models},); got {hard.shape}")
        smoothing = check_smoothing(self.smoothing)
        object.__setattr__(self, "smoothing", smoothing)
        object.__setattr__(self, "probas", smooth(probas, hard, smoothing))
        object.__setattr__(self, "y_true", y_true.astype(np.intp, copy=False))
        object.__setattr__(self, "classes", classes)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "hard", hard)
        if self.ids is not None:
            ids = np.asarray(self.ids).astype(str)
            if ids.shape != (n_samples,):
                raise EnsembleInputError(f"ids must have shape ({n_samples},); got {ids.shape}")
            object.__setattr__(self, "ids", ids)
        if self.content is not None and len(self.content) != n_samples:
            raise EnsembleInputError(
                f"content has {len(self.content)} rows; expected {n_samples}"
            )

    @property
    def n_models(self) -> int:
        return self.probas.shape[0]

    @property
    def n_samples(self) -> int:
        return self.probas.shape[1]

    @property
    def n_classes(self) -> int:
        return self.probas.shape[2]

    def select(self, models: list[int] | list[str]) -> PredictionSet:
        """A prediction set with only the given models (by index or name), in that order."""
        idx = [self.names.index(m) if isinstance(m, str) else int(m) for m in models]
        if not idx:
            raise EnsembleInputError("select at least one model")
        return PredictionSet(
            self.probas[idx],
            self.y_true,
            self.classes,
            tuple(self.names[i] for i in idx),
            hard=self.hard[idx],
            ids=self.ids,
            content=self.content,
            smoothing=self.smoothing,
        )

    def fingerprint(self) -> str:
        """A content hash of the predictions, labels, classes and names (a cache key)."""
        h = hashlib.blake2b(digest_size=16)
        for arr in (self.probas, self.y_true, self.hard):
            h.update(str(arr.shape).encode())
            h.update(np.ascontiguousarray(arr).tobytes())
        h.update(repr([str(c) for c in self.classes]).encode())
        h.update(repr(self.names).encode())
        return h.hexdigest()
