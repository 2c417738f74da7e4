"""What a stacking meta-learner learned: how much it leans on each model, and (logistic) for which class.

Two views, both honest about the rows they are computed on:

- **Permutation importance per model, cross-fitted** (every meta-learner). In each fold of
  :func:`~ensemble_core.stacking.cross_fit_stacking`'s split a meta-learner is fitted on the
  other folds, exactly as stacking fits it; then, on the fold's own rows (which it never saw),
  one model's inputs (its probabilities for every class, together) are shuffled across the rows
  and the stacked accuracy and log loss are measured again. What the ensemble loses is how much
  the meta-learner relies on that model, over and above what the other models already tell it.
  Shuffles follow :func:`sklearn.inspection.permutation_importance` (the same random stream,
  ``n_repeats`` cumulative shuffles per model), so with one input per model (two classes) each
  fold's numbers are scikit-learn's. The folds' losses are added up over all rows: the result is
  the out-of-fold stacked score minus the out-of-fold score with that model shuffled.
- **Coefficients per model and class** (logistic regression): the meta-learner fitted on all
  labelled rows (the one ``evaluate --save-meta`` saves). Class ``k``'s score is a weighted sum
  of every model's probabilities; the weight of model ``m``'s probability *of class k* in it says
  how far the meta-learner follows model ``m`` when that model says ``k``. For two classes there
  is one score, the log-odds of the second class, and one input per model.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> y = rng.integers(0, 2, size=200)
>>> good = np.where(y[:, None] == np.arange(2), 0.8, 0.2)       # right 100% of the time, sure
>>> noise = rng.dirichlet(np.ones(2), size=200)                   # knows nothing
>>> probas = np.stack([good, noise]).astype(np.float32)
>>> insight = explain_stacking(probas, y, np.array(["a", "b"]), ("good", "noise"), folds=4)
>>> bool(insight.accuracy_drop[0] > 0.3 > abs(insight.accuracy_drop[1]))
True
>>> insight.trust().shape  # (n_models, classes scored): the log-odds of 'b'
(2, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from ._crossfit import Executor, cross_fit
from .decision import decide
from .io import label_key
from .metrics import mean_nll
from .stacking import (
    _check_stackable,
    _fit_meta,
    _full_proba,
    make_meta_learner,
    meta_learner_name,
    stacking_features,
)

#: Shuffles per model and fold (scikit-learn's ``permutation_importance`` default).
N_REPEATS = 5


@dataclass(frozen=True, eq=False)
class StackingInsight:
    """What a stacking meta-learner learned (see the module docstring).

    Attributes
    ----------
    meta : str
        The meta-learner's name.
    names : tuple of str, (n_models,)
    classes : tuple of str, (n_classes,)
    folds, seed, n_repeats : int
        The cross-fitting split and the shuffles per model and fold.
    accuracy : float
        Out-of-fold stacked accuracy (the same as stacking's: the same folds and fits).
    log_loss : float
        Out-of-fold stacked log loss.
    accuracy_drop : ndarray of shape (n_models,)
        Out-of-fold accuracy lost, on average over the shuffles, when the model's inputs are shuffled.
    accuracy_drop_std : ndarray of shape (n_models,)
        Its standard deviation over the ``n_repeats`` shuffles.
    log_loss_increase, log_loss_increase_std : ndarray of shape (n_models,)
        The same for the out-of-fold log loss (positive: worse without the model).
    coefficients : ndarray of shape (n_scores, n_models, n_inputs) or None
        Logistic regression only, fitted on all rows: ``coefficients[s, m, i]`` is the weight of
        model ``m``'s probability of class ``input_classes[i]`` in the score of ``score_classes[s]``
        (two classes: one score, the log-odds of the second class, and one input per model).
    score_classes, input_classes : tuple of str, or None
        The classes of the coefficients' first and last axes.
    """

    meta: str
    names: tuple[str, ...]
    classes: tuple[str, ...]
    folds: int
    seed: int
    n_repeats: int
    accuracy: float
    log_loss: float
    accuracy_drop: np.ndarray
    accuracy_drop_std: np.ndarray
    log_loss_increase: np.ndarray
    log_loss_increase_std: np.ndarray
    coefficients: np.ndarray | None = None
    score_classes: tuple[str, ...] | None = None
    input_classes: tuple[str, ...] | None = None

    def trust(self) -> np.ndarray | None:
        """Per model and class, the weight of the model's probability of a class in that class's
        own score (logistic regression; None otherwise).

        Returns
        -------
        ndarray of shape (n_models, n_scores) or None; the columns are :attr:`score_classes`.
        """
        if self.coefficients is None:
            return None
        if len(self.input_classes) == 1:  # two classes: one score, one input, the same class
            return self.coefficients[0].copy()
        columns = [self.input_classes.index(c) for c in self.score_classes]
        return np.stack([self.coefficients[s, :, i] for s, i in enumerate(columns)], axis=1)

    def to_dict(self) -> dict:
        """Plain JSON-ready values: the importances by model name, the coefficients nested by
        score class, then model, then input class."""
        out = {
            "meta": self.meta, "folds": self.folds, "seed": self.seed, "n_repeats": self.n_repeats,
            "accuracy": self.accuracy, "log_loss": self.log_loss,
            "permutation_importance": {
                name: {"accuracy_drop": float(self.accuracy_drop[m]),
                       "accuracy_drop_std": float(self.accuracy_drop_std[m]),
                       "log_loss_increase": float(self.log_loss_increase[m]),
                       "log_loss_increase_std": float(self.log_loss_increase_std[m])}
                for m, name in enumerate(self.names)
            },
            "coefficients": None,
        }
        if self.coefficients is not None:
            out["coefficients"] = {
                score: {name: dict(zip(self.input_classes, map(float, self.coefficients[s, m])))
                        for m, name in enumerate(self.names)}
                for s, score in enumerate(self.score_classes)
            }
        return out


def permutation_seed(seed: int) -> int:
    """The seed of every shuffle stream, derived from ``seed`` as
    :func:`sklearn.inspection.permutation_importance` derives it from ``random_state``."""
    return int(np.random.RandomState(seed).randint(np.iinfo(np.int32).max + 1))


def model_columns(n_models: int, n_classes: int) -> list[np.ndarray]:
    """Each model's columns of :func:`~ensemble_core.stacking.stacking_features`.

    >>> [c.tolist() for c in model_columns(2, 3)]
    [[0, 1, 2], [3, 4, 5]]
    >>> [c.tolist() for c in model_columns(2, 2)]
    [[0], [1]]
    """
    width = 1 if n_classes == 2 else n_classes
    return [np.arange(m * width, (m + 1) * width) for m in range(n_models)]


def _scores(probas: np.ndarray, y: np.ndarray) -> tuple[int, float]:
    """(rows right, summed negative log-likelihood of the true class)."""
    right = int(np.count_nonzero(decide(probas) == y))
    return right, float(mean_nll(probas[np.arange(y.size), y]) * y.size)


def _importance_fold(X: np.ndarray, y_true: np.ndarray, classes: np.ndarray, meta, seed: int, n_repeats: int,
                     n_models: int, train: np.ndarray, test: np.ndarray) -> tuple[tuple[int, float], np.ndarray]:
    """One fold: the meta-learner fitted on ``train`` (as stacking fits it), scored on ``test``
    as it is and with each model's columns shuffled.

    Returns the fold's (rows right, summed NLL) and an array of shape (n_models, n_repeats, 2) of
    the same with that model shuffled.
    """
    est = _fit_meta(meta, seed, X[train], y_true[train], classes, "one fold's training rows")
    X_test, y = X[test], y_true[test]
    n_classes = len(classes)
    base = _scores(_full_proba(est, X_test, n_classes), y)
    shuffled = np.empty((n_models, n_repeats, 2))
    stream = permutation_seed(seed)
    for m, cols in enumerate(model_columns(n_models, n_classes)):
        rs = np.random.RandomState(stream)  # as scikit-learn: the same stream for every column
        order = np.arange(test.size)
        X_perm = X_test.copy()
        for r in range(n_repeats):
            rs.shuffle(order)
            X_perm[:, cols] = X_perm[np.ix_(order, cols)]  # cumulative, as scikit-learn shuffles
            shuffled[m, r] = _scores(_full_proba(est, X_perm, n_classes), y)
    return base, shuffled


def _coefficients(estimator, n_models: int, classes: Sequence[str]):
    """A fitted linear meta-learner's ``coef_`` as (n_scores, n_models, n_inputs), with the classes
    of its scores and inputs."""
    n_classes = len(classes)
    inputs = (classes[1],) if n_classes == 2 else tuple(classes)
    fitted = [classes[int(c)] for c in estimator.classes_]
    scores = (fitted[1],) if len(fitted) == 2 else tuple(fitted)
    coef = np.asarray(estimator.coef_, dtype=np.float64).reshape(len(scores), n_models, len(inputs))
    return coef, scores, inputs


def _is_linear(meta) -> bool:
    """Whether ``meta`` is a meta-learner whose coefficients are worth showing."""
    if isinstance(meta, str):
        return meta == "logistic"
    from sklearn.linear_model import LogisticRegression

    return isinstance(meta, LogisticRegression)


def explain_stacking(
    probas: np.ndarray,
    y_true: np.ndarray,
    classes: np.ndarray,
    names: Sequence[str],
    *,
    meta="logistic",
    folds: int = 5,
    seed: int = 0,
    n_repeats: int = N_REPEATS,
    executor: Executor | None = None,
) -> StackingInsight:
    """Cross-fitted permutation importance of each model for a stacking meta-learner, and the
    coefficients of a logistic one (see the module docstring).

    Parameters
    ----------
    probas : ndarray of shape (n_models, n_samples, n_classes)
    y_true : ndarray of shape (n_samples,), class indices
    classes : ndarray of shape (n_classes,)
    names : the models' names, (n_models,)
    meta, folds, seed, executor : as :func:`~ensemble_core.stacking.cross_fit_stacking` (the same
        split and the same fits); ``seed`` also seeds the shuffles
    n_repeats : shuffles per model and fold

    Returns
    -------
    StackingInsight

    Cost: stacking's fits once more, plus ``n_models × n_repeats`` predictions of each fold's rows,
    plus (logistic) one fit on all rows.
    """
    make_meta_learner(meta, seed=seed)  # fail fast on an unknown name
    _check_stackable(y_true, classes, folds)
    if n_repeats < 1:
        raise ValueError(f"n_repeats must be at least 1; got {n_repeats}")
    classes = np.asarray(classes)
    keys = tuple(label_key(c) for c in classes)
    n_models = probas.shape[0]
    X = stacking_features(probas)
    refit = (partial(_fit_meta, meta, seed, X, y_true, classes, "all labelled rows") if _is_linear(meta)
             else None)
    fit = cross_fit(partial(_importance_fold, X, y_true, classes, meta, seed, n_repeats, n_models), y_true,
                    folds=folds, seed=seed, operation="stacking", bytes_each=3 * X.nbytes, refit=refit,
                    executor=executor)
    n = y_true.size
    base = np.sum([b for b, _ in fit.folds], axis=0) / n  # (accuracy, log loss) over all rows
    shuffled = np.sum([s for _, s in fit.folds], axis=0) / n  # (n_models, n_repeats, 2)
    accuracy_drop = base[0] - shuffled[..., 0]
    log_loss_increase = shuffled[..., 1] - base[1]
    coefficients = score_classes = input_classes = None
    if fit.refit is not None:
        coefficients, score_classes, input_classes = _coefficients(fit.refit, n_models, keys)
    return StackingInsight(
        meta_learner_name(meta), tuple(names), keys, folds, seed, n_repeats, float(base[0]), float(base[1]),
        accuracy_drop.mean(axis=1), accuracy_drop.std(axis=1), log_loss_increase.mean(axis=1),
        log_loss_increase.std(axis=1), coefficients, score_classes, input_classes,
    )
