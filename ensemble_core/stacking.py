"""Stacking: a meta-learner over the models' probabilities, honestly cross-fitted.

Every reported number comes from out-of-fold predictions: each example is
predicted by a meta-learner trained on the other folds only. A meta-learner fitted
on all rows (:func:`fit_stacker`) is for applying to new prediction files, never
for scoring the rows it was fitted on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from ._validation import EnsembleInputError

MetaLearner = Literal["logistic", "gbm", "mlp"]
META_LEARNERS: tuple[str, ...] = ("logistic", "gbm", "mlp")


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


def make_meta_learner(meta: str, *, seed: int = 0):
    """An unfitted scikit-learn classifier for ``meta`` (logistic, gbm or mlp)."""
    if meta == "logistic":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=1000)
    if meta == "gbm":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(max_iter=100, random_state=seed)
    if meta == "mlp":
        from sklearn.neural_network import MLPClassifier

        return MLPClassifier(
            hidden_layer_sizes=(32,), max_iter=200, early_stopping=True, random_state=seed
        )
    raise EnsembleInputError(f"unknown meta-learner {meta!r}; expected one of {', '.join(META_LEARNERS)}")


def _check_stackable(y_true: np.ndarray, n_classes: int, classes: np.ndarray, folds: int) -> None:
    if folds < 2:
        raise EnsembleInputError(f"stacking needs at least 2 folds; got {folds}")
    counts = np.bincount(y_true, minlength=n_classes)
    present = np.flatnonzero(counts)
    if present.size < 2:
        raise EnsembleInputError(
            "stacking needs at least two classes in the labels; "
            f"the labels hold only {str(classes[present[0]])!r}"
        )
    if counts.min() < folds:
        c = int(counts.argmin())
        raise EnsembleInputError(
            f"stacking with {folds} folds needs at least {folds} examples of each class; "
            f"class {str(classes[c])!r} has {counts[c]}"
        )


def _full_proba(estimator, X: np.ndarray, n_classes: int) -> np.ndarray:
    """predict_proba with one column per class, in class-index order."""
    out = np.zeros((X.shape[0], n_classes), dtype=np.float64)
    out[:, estimator.classes_.astype(np.intp)] = estimator.predict_proba(X)
    return out


def cross_fit_stacking(
    probas: np.ndarray,
    y_true: np.ndarray,
    classes: np.ndarray,
    *,
    meta: str = "logistic",
    folds: int = 5,
    seed: int = 0,
) -> np.ndarray:
    """Out-of-fold stacked probabilities.

    Stratified k-fold over the labelled rows (shuffled with ``seed``); each fold is
    predicted by a meta-learner fitted on the other folds.

    Parameters
    ----------
    probas : ndarray of shape (n_models, n_samples, n_classes)
    y_true : ndarray of shape (n_samples,), class indices
    classes : ndarray of shape (n_classes,), used in error messages

    Returns
    -------
    ndarray of shape (n_samples, n_classes), float32
    """
    from sklearn.model_selection import StratifiedKFold

    n_classes = probas.shape[2]
    make_meta_learner(meta, seed=seed)  # fail fast on an unknown name
    _check_stackable(y_true, n_classes, classes, folds)
    X = stacking_features(probas)
    oof = np.empty((X.shape[0], n_classes), dtype=np.float32)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(X, y_true):
        est = make_meta_learner(meta, seed=seed).fit(X[train], y_true[train])
        oof[test] = _full_proba(est, X[test], n_classes)
    return oof


@dataclass(frozen=True, eq=False)
class StackingModel:
    """A meta-learner fitted on all labelled rows, to apply to new prediction files.

    Its accuracy on the rows it was fitted on is not an honest estimate: report
    :func:`cross_fit_stacking` numbers instead.
    """

    estimator: object
    classes: tuple[str, ...]
    names: tuple[str, ...]
    meta: str

    def predict_proba(self, probas: np.ndarray) -> np.ndarray:
        """Stacked probabilities, shape (n_samples, n_classes), for probas of shape
        (n_models, n_samples, n_classes) with the models in ``names`` order."""
        if probas.shape[0] != len(self.names) or probas.shape[2] != len(self.classes):
            raise EnsembleInputError(
                f"this stacker was fitted on {len(self.names)} models and {len(self.classes)} classes; "
                f"got {probas.shape[0]} models and {probas.shape[2]} classes"
            )
        return _full_proba(self.estimator, stacking_features(probas), len(self.classes)).astype(np.float32)

    def save(self, path: str | Path) -> None:
        """Write the stacker as a skops file (safe to load: no pickle)."""
        import skops.io as sio

        sio.dump(
            {
                "estimator": self.estimator,
                "classes": list(self.classes),
                "names": list(self.names),
                "meta": self.meta,
            },
            Path(path),
        )

    @classmethod
    def load(cls, path: str | Path) -> StackingModel:
        """Read a stacker written by :meth:`save`, through the skops loader's allow-list and checks."""
        from .models.skops_loader import load_skops

        obj = load_skops(path)
        try:
            return cls(obj["estimator"], tuple(obj["classes"]), tuple(obj["names"]), str(obj["meta"]))
        except (TypeError, KeyError):
            raise EnsembleInputError(f"{path}: not a stacker saved by ensemble-explorer") from None


def fit_stacker(
    probas: np.ndarray,
    y_true: np.ndarray,
    classes: np.ndarray,
    names: tuple[str, ...],
    *,
    meta: str = "logistic",
    seed: int = 0,
) -> StackingModel:
    """Fit a meta-learner on all rows (for new data; see :class:`StackingModel`)."""
    n_classes = probas.shape[2]
    _check_stackable(y_true, n_classes, classes, folds=2)
    est = make_meta_learner(meta, seed=seed).fit(stacking_features(probas), y_true)
    return StackingModel(est, tuple(str(c) for c in classes), tuple(names), meta)
