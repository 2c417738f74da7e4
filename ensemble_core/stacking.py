"""Stacking: a meta-learner over the models' probabilities, honestly cross-fitted.

Every reported number comes from out-of-fold predictions: each example is
predicted by a meta-learner trained on the other folds only. A meta-learner fitted
on all rows (:func:`fit_stacker`) is for applying to new prediction files, never
for scoring the rows it was fitted on.

Rare classes: the folds are those of every cross-fitted computation
(:mod:`._folds`), so a class with fewer rows than folds has each row in another
fold, and every fold's meta-learner is trained on all of that class's rows but one.
Stacking needs two classes of at least two rows each (then every fold's training rows
hold two classes, whatever the seed); a class of one row is predicted, in its own
fold, by a meta-learner that never saw it (probability 0 for it there). A meta-learner
that cannot be fitted on a fold's rows (gradient boosting's early stopping, on more
than 10,000 rows, splits off a stratified validation set and needs two rows of each
class) stops the run with one line naming the rarest class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from . import registry
from ._crossfit import Executor, cross_fit
from ._threads import limited
from ._validation import EnsembleInputError
from .io import label_key
from .registry import META_LEARNERS, MetaLearner  # noqa: F401 - defined in registry, kept importable from here


def stacking_features(probas: np.ndarray) -> np.ndarray:
    """The meta-learner's input.

    Parameters
    ----------
    probas : ndarray of shape (n_models, n_samples, n_classes)

    Returns
    -------
    ndarray of shape (n_samples, n_models) for two classes (each model's
    probability of the second class), else (n_samples, n_models * n_classes).
    """
    n_models, n_samples, n_classes = probas.shape
    if n_classes == 2:
        return np.ascontiguousarray(probas[:, :, 1].T)
    return np.ascontiguousarray(probas.transpose(1, 0, 2).reshape(n_samples, n_models * n_classes))


def logistic_meta(seed: int = 0):
    """The ``logistic`` meta-learner: multinomial logistic regression (deterministic: no seed)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


def gbm_meta(seed: int = 0):
    """The ``gbm`` meta-learner: histogram gradient boosting, 100 rounds."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=100, random_state=seed)


def mlp_meta(seed: int = 0):
    """The ``mlp`` meta-learner: one hidden layer of 32 units, early stopping."""
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=(32,), max_iter=200, early_stopping=True, random_state=seed)


def make_meta_learner(meta, *, seed: int = 0):
    """An unfitted scikit-learn classifier for ``meta``.

    Parameters
    ----------
    meta : str or scikit-learn classifier
        A name in :data:`~ensemble_core.registry.META_LEARNERS` (its factory in
        :data:`~ensemble_core.registry.META_LEARNER_SPECS` is called with ``seed``), or
        any scikit-learn classifier with ``predict_proba``, which is cloned (as
        ``StackingClassifier`` treats ``final_estimator``: its parameters, its own
        ``random_state`` included, are kept; anything fitted is not).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> make_meta_learner("gbm", seed=3).random_state
    3
    >>> make_meta_learner(LogisticRegression(C=0.5)).C
    0.5
    >>> make_meta_learner("forest")
    Traceback (most recent call last):
    ...
    ensemble_core._validation.EnsembleInputError: unknown meta-learner 'forest'; expected one of logistic, gbm, mlp
    """
    if isinstance(meta, str):
        try:
            spec = registry.meta_learner(meta)
        except KeyError:
            raise EnsembleInputError(
                f"unknown meta-learner {meta!r}; expected one of {', '.join(registry.META_LEARNERS)}"
            ) from None
        return spec.implementation()(seed)
    from sklearn.base import clone, is_classifier

    if not (is_classifier(meta) and hasattr(meta, "predict_proba")):
        raise EnsembleInputError(
            f"the meta-learner must be one of {', '.join(registry.META_LEARNERS)} or a scikit-learn classifier "
            f"with predict_proba; got {type(meta).__name__}"
        )
    return clone(meta)


def meta_learner_name(meta) -> str:
    """How a meta-learner is named in results and saved stackers: its registry name, or its
    class name for a classifier instance."""
    return meta if isinstance(meta, str) else type(meta).__name__


def _check_stackable(y_true: np.ndarray, classes: np.ndarray, folds: int | None) -> None:
    """Refuse labels no meta-learner can be fitted on: a single class; cross-fitted (``folds``
    given), fewer than two classes of at least two rows. A class of two rows or more has rows in
    two folds (:mod:`._folds`), so it is in every fold's training rows; a class of one row is
    missing from its own fold's, which could then hold a single class."""
    if folds is not None and folds < 2:
        raise EnsembleInputError(f"stacking needs at least 2 folds; got {folds}")
    counts = np.bincount(y_true, minlength=len(classes))
    present = np.flatnonzero(counts)
    if present.size < 2:
        raise EnsembleInputError(
            "stacking needs at least two classes in the labels; "
            f"the labels hold only {str(classes[present[0]])!r}"
        )
    if folds is not None and np.count_nonzero(counts >= 2) < 2:
        single = present[counts[present] == 1][0]
        raise EnsembleInputError(
            "stacking needs two classes of at least 2 examples each, so that every fold's meta-learner "
            f"is trained on two classes; class {str(classes[single])!r} has 1"
        )


def _fit_meta(meta, seed: int, X: np.ndarray, y: np.ndarray, classes: np.ndarray, rows: str):
    """``meta`` fitted on ``X``, ``y``; a meta-learner that refuses the rows says so in one line."""
    estimator = make_meta_learner(meta, seed=seed)
    try:
        return estimator.fit(X, y)
    except ValueError as exc:
        counts = np.bincount(y, minlength=len(classes))
        present = np.flatnonzero(counts)
        rarest = present[counts[present].argmin()]
        raise EnsembleInputError(
            f"stacking: the {meta_learner_name(meta)} meta-learner cannot be fitted on {rows} ({y.shape[0]} rows; "
            f"class {str(classes[rarest])!r} has {counts[rarest]} of them): {' '.join(str(exc).split())}"
        ) from exc


def _full_proba(estimator, X: np.ndarray, n_classes: int) -> np.ndarray:
    """predict_proba with one column per class, in class-index order."""
    out = np.zeros((X.shape[0], n_classes), dtype=np.float64)
    out[:, estimator.classes_.astype(np.intp)] = estimator.predict_proba(X)
    return out


def _stacking_fold(X: np.ndarray, y_true: np.ndarray, classes: np.ndarray, meta: str, seed: int,
                   train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """One fold: a meta-learner fitted on ``train``, its probabilities for ``test`` (float32)."""
    est = _fit_meta(meta, seed, X[train], y_true[train], classes, "one fold's training rows")
    return _full_proba(est, X[test], len(classes)).astype(np.float32)


def cross_fit_stacking(
    probas: np.ndarray,
    y_true: np.ndarray,
    classes: np.ndarray,
    *,
    meta="logistic",
    folds: int = 5,
    seed: int = 0,
    executor: Executor | None = None,
) -> np.ndarray:
    """Out-of-fold stacked probabilities.

    Stratified k-fold over the labelled rows (shuffled with ``seed``; rare classes as the
    module docstring says); each fold is predicted by a meta-learner fitted on the other folds.

    Parameters
    ----------
    probas : ndarray of shape (n_models, n_samples, n_classes)
    y_true : ndarray of shape (n_samples,), class indices
    classes : ndarray of shape (n_classes,), used in error messages
    meta : a built-in meta-learner's name or an unfitted scikit-learn classifier
        (see :func:`make_meta_learner`)
    executor : runs the folds (anything with ``map``; see :mod:`._crossfit`); default: the
        thread policy's worker threads

    Returns
    -------
    ndarray of shape (n_samples, n_classes), float32

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, size=300)
    >>> probas = rng.dirichlet(np.ones(3), size=(2, 300)).astype(np.float32)
    >>> cross_fit_stacking(probas, y, np.array(["a", "b", "c"]), folds=3).shape
    (300, 3)
    """
    make_meta_learner(meta, seed=seed)  # fail fast on an unknown name
    _check_stackable(y_true, classes, folds)
    X = stacking_features(probas)
    # The folds are independent and each fit is deterministic, so by default they run side by
    # side on the policy's worker threads (scikit-learn's loss and NumPy's products release the
    # GIL): the same numbers, sooner, and on a shared machine a larger share of the cores. A fit
    # holds its training rows and scikit-learn's float64 copy of them: about 3x X a worker.
    fit = cross_fit(partial(_stacking_fold, X, y_true, np.asarray(classes), meta, seed), y_true, folds=folds,
                    seed=seed, operation="stacking", bytes_each=3 * X.nbytes, executor=executor)
    return fit.out_of_fold(fit.folds)


#: FNV-1a's 64-bit prime and offset: mixing each row's 32-bit words into one hash.
_FNV_PRIME = np.uint64(0x100000001B3)
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)


def row_fingerprints(probas: np.ndarray) -> np.ndarray:
    """One 64-bit hash per example of the meta-learner's input for it: every model's float32
    probabilities, bit for bit. Neither the row's position nor its id goes in, so the same
    rows are recognised in any order, as a subset, and with or without ids.

    Parameters
    ----------
    probas : ndarray of shape (n_models, n_samples, n_classes)

    Returns
    -------
    ndarray of shape (n_samples,), uint64
    """
    words = np.ascontiguousarray(stacking_features(probas), dtype=np.float32).view(np.uint32)
    h = np.full(words.shape[0], _FNV_OFFSET, dtype=np.uint64)
    for j in range(words.shape[1]):
        h = (h ^ words[:, j]) * _FNV_PRIME  # wraps modulo 2**64, as FNV intends
    return h


def id_fingerprints(ids: np.ndarray) -> np.ndarray:
    """One 64-bit hash per id (SipHash with pandas' fixed key: the same in every run)."""
    import pandas as pd

    return pd.util.hash_array(np.asarray(ids, dtype=object))


@dataclass(frozen=True, eq=False)
class StackingModel:
    """A meta-learner fitted on all labelled rows, to apply to new prediction files.

    Its accuracy on the rows it was fitted on is not an honest estimate: report
    :func:`cross_fit_stacking` numbers instead. ``input_fingerprints`` (sorted
    :func:`row_fingerprints` of the training rows) and ``id_fingerprints`` (of their ids,
    when they had ids) tell :meth:`fitted_rows` whether new rows are those rows; both are
    None in files saved before they were kept. ``temperatures`` (one per model, or None)
    are applied to each model's probabilities before the meta-learner sees them, as they
    were when it was fitted, and so is ``smoothing``: the ε its labels-only inputs were
    label-smoothed with (:mod:`.labels_only`; 0 in files saved before it was kept, whose
    labels-only inputs were one-hot).
    """

    estimator: object
    classes: tuple[str, ...]
    names: tuple[str, ...]
    meta: str
    input_fingerprints: np.ndarray | None = None
    id_fingerprints: np.ndarray | None = None
    temperatures: tuple[float, ...] | None = None
    smoothing: float = 0.0

    def model_order(self, names: Sequence[str], *, source: object = "the stacker") -> list[int]:
        """For each of the stacker's models, in its order, the position of that model in ``names``.

        Raises
        ------
        EnsembleInputError
            When a model the stacker was fitted on is missing or a name is not one
            of them: a stacker's inputs are matched by name, never by position.
        """
        missing = [n for n in self.names if n not in names]
        extra = [n for n in names if n not in self.names]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"no prediction file for {', '.join(map(repr, missing))}")
            if extra:
                parts.append(f"{', '.join(map(repr, extra))} {'is' if len(extra) == 1 else 'are'} not among them")
            raise EnsembleInputError(
                f"{source}: fitted on models {', '.join(self.names)}; {'; '.join(parts)} "
                "(a prediction file gives the model name of its file stem, or of --names)"
            )
        return [list(names).index(n) for n in self.names]

    def scale(self, probas: np.ndarray, hard: np.ndarray | None = None) -> np.ndarray:
        """The models' probabilities as the meta-learner was fitted on them: temperature-scaled
        with the stacker's temperatures, if it has them, and the labels-only models' rows
        (``hard``: one flag per model) label-smoothed with its ``smoothing``."""
        from .labels_only import smooth

        if self.temperatures is not None:
            from .calibration import apply_temperatures

            probas = apply_temperatures(probas, np.asarray(self.temperatures))
        return probas if hard is None else smooth(probas, hard, self.smoothing)

    def predict_proba(self, probas: np.ndarray) -> np.ndarray:
        """Stacked probabilities, shape (n_samples, n_classes), for probas of shape
        (n_models, n_samples, n_classes) with the models in ``names`` order, already
        passed through :meth:`scale`."""
        if probas.shape[0] != len(self.names) or probas.shape[2] != len(self.classes):
            raise EnsembleInputError(
                f"this stacker was fitted on {len(self.names)} models and {len(self.classes)} classes; "
                f"got {probas.shape[0]} models and {probas.shape[2]} classes"
            )
        with limited("stacking"):
            return _full_proba(self.estimator, stacking_features(probas), len(self.classes)).astype(np.float32)

    def fitted_rows(self, probas: np.ndarray, ids: np.ndarray | None = None) -> np.ndarray | None:
        """Which rows are rows this stacker was fitted on, or None when it kept no fingerprints.

        A row counts when every model's probabilities for it (after :meth:`scale`, float32,
        bit for bit) are those of a training row, whatever its position, or when both have
        ids and its id is a training row's id.

        Parameters
        ----------
        probas : ndarray of shape (n_models, n_samples, n_classes), models in ``names`` order, scaled
        ids : ndarray of shape (n_samples,) of str, optional

        Returns
        -------
        ndarray of shape (n_samples,), bool, or None
        """
        if self.input_fingerprints is None:
            return None
        seen = np.isin(row_fingerprints(probas), self.input_fingerprints)
        if ids is not None and self.id_fingerprints is not None:
            seen |= np.isin(id_fingerprints(ids), self.id_fingerprints)
        return seen

    def save(self, path: str | Path) -> None:
        """Write the stacker as a skops file (safe to load: no pickle)."""
        import skops.io as sio

        sio.dump(
            {
                "estimator": self.estimator,
                "classes": list(self.classes),
                "names": list(self.names),
                "meta": self.meta,
                "input_fingerprints": self.input_fingerprints,
                "id_fingerprints": self.id_fingerprints,
                "temperatures": None if self.temperatures is None else list(self.temperatures),
                "smoothing": self.smoothing,
            },
            Path(path),
        )

    @classmethod
    def from_saved(cls, obj: object, *, source: object = "stacker") -> StackingModel:
        """A stacker from what :meth:`save` wrote, read back by a safe skops loader
        (:func:`ensemble_core.models.loading.load_stacker` reads the file).

        Raises
        ------
        EnsembleInputError
            When ``obj`` is not what :meth:`save` writes.
        """
        try:
            # "row_fingerprints" (kept for a while with the row number mixed in) are not read.
            inputs, ids, temperatures = (obj.get(k) for k in ("input_fingerprints", "id_fingerprints", "temperatures"))
            stacker = cls(
                obj["estimator"],
                tuple(obj["classes"]),
                tuple(obj["names"]),
                str(obj["meta"]),
                None if inputs is None else np.asarray(inputs, dtype=np.uint64),
                None if ids is None else np.asarray(ids, dtype=np.uint64),
                None if temperatures is None else tuple(float(t) for t in temperatures),
                float(obj.get("smoothing", 0.0)),
            )
            if not 0.0 <= stacker.smoothing < 1.0:
                raise ValueError("smoothing")
            if stacker.temperatures is not None and (
                len(stacker.temperatures) != len(stacker.names)
                or not all(np.isfinite(t) and t > 0 for t in stacker.temperatures)
            ):
                raise ValueError("temperatures")
            return stacker
        except (TypeError, KeyError, AttributeError, ValueError):
            raise EnsembleInputError(f"{source}: not a stacker saved by ensemble-explorer") from None


def fit_stacker(
    probas: np.ndarray,
    y_true: np.ndarray,
    classes: np.ndarray,
    names: tuple[str, ...],
    *,
    meta="logistic",
    seed: int = 0,
    ids: np.ndarray | None = None,
    temperatures: Sequence[float] | None = None,
    smoothing: float = 0.0,
) -> StackingModel:
    """Fit a meta-learner on all rows (for new data; see :class:`StackingModel`).

    ``probas`` are the models' probabilities as the meta-learner is to see them: when
    they were temperature-scaled, pass the ``temperatures`` used, and when labels-only
    models' rows were label-smoothed, the ``smoothing`` (a set's
    :attr:`~ensemble_core.predictions.PredictionSet.smoothing`), so that the stacker
    scales new probabilities the same way. ``ids`` (the rows' ids, if any) are kept,
    hashed, with the fingerprints of the training rows.
    """
    make_meta_learner(meta, seed=seed)  # fail fast on an unknown name
    _check_stackable(y_true, classes, folds=None)
    with limited("stacking"):
        est = _fit_meta(meta, seed, stacking_features(probas), y_true, np.asarray(classes), "all labelled rows")
    return StackingModel(
        est,
        tuple(label_key(c) for c in classes),
        tuple(names),
        meta_learner_name(meta),
        np.unique(row_fingerprints(probas)),
        None if ids is None else np.unique(id_fingerprints(ids)),
        None if temperatures is None else tuple(float(t) for t in temperatures),
        float(smoothing),
    )
