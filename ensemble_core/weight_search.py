"""Suggested soft-voting weights: Caruana ensemble selection and continuous log-loss
weights, both scored by nested cross-validation so the claimed gain is honest.

Three methods (the ``method`` of :func:`suggest_weights`):

- ``"caruana"``: greedy forward selection with replacement (Caruana et al., 2004;
  AutoGluon's weighted ensemble), 25 rounds, minimising log loss; weight = share of picks.
- ``"accuracy"``: the same selection maximising accuracy. Accuracy is a step function
  of the weights, so a gradient method (or a smooth surrogate, which optimises
  something else) is the wrong tool; greedy selection works on the metric itself.
  Ties in accuracy, frequent on small data, are broken by log loss.
- ``"logloss"``: continuous weights minimising the log loss of the soft vote over the
  whole simplex (softmax parametrisation, L-BFGS with the analytic gradient, started
  from uniform). Log loss is convex in the weights, so this finds the optimum.

Honesty: :func:`suggest_weights` splits the labelled rows into k folds; for each
fold the weights are chosen on the other folds only and the fold is scored with
them. The held-out numbers (and those of uniform soft voting and of the best single
model, itself chosen on the other folds) come only from these out-of-fold
predictions. The suggested weights are then fitted once more on all rows.

Examples
--------
>>> import numpy as np
>>> from ensemble_core import PredictionSet
>>> rng = np.random.default_rng(0)
>>> y = rng.integers(0, 2, size=400)
>>> good = np.where(rng.random(400) < 0.9, y, 1 - y)
>>> p = np.stack([np.eye(2)[good] * 0.8 + 0.1, rng.dirichlet([1, 1], size=400)]).astype(np.float32)
>>> s = suggest_weights(PredictionSet(p, y, np.array([0, 1]), ("good", "noise")), "logloss")
>>> bool(s.weights[0] > 0.9), s.heldout.log_loss < s.uniform.log_loss
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Literal

import numpy as np

from . import registry
from ._crossfit import Executor, cross_fit
from ._threads import limited
from ._validation import EnsembleInputError
from .calibration import apply_temperatures, fit_temperatures
from .combine import model_labels, soft_vote
from .decision import DECISION_ATOL, decide
from .labels_only import has_log_loss, is_labels_only
from .metrics import LOG_LOSS_EPS, mean_nll
from .predictions import PredictionSet
from .registry import METHODS, Method  # noqa: F401 - defined in registry, kept importable from here

SelectionMetric = Literal["log_loss", "accuracy"]
#: AutoGluon's default number of selection rounds.
DEFAULT_ROUNDS = 25
#: Two log losses closer than this count as equal (then the least-picked model wins).
_LOSS_TOL = 1e-12


@dataclass(frozen=True)
class SelectionStep:
    """One round of ensemble selection: the model added and the ensemble's metrics after it."""

    model: int
    accuracy: float
    log_loss: float


@dataclass(frozen=True, eq=False)
class SelectionResult:
    """Caruana ensemble selection.

    Attributes
    ----------
    weights : ndarray of shape (n_models,)
        Share of picks in the kept prefix (averaged over bags when bagged).
    path : tuple of SelectionStep
        Every round of the (first) run, the sorted initialisation included.
    n_kept : int
        How many picks of ``path`` make the weights: the best prefix on the selection
        rows (earliest among equals), so extra rounds never make them worse there.
    metric : str
    bag_weights : ndarray of shape (n_bags, n_models)
    """

    weights: np.ndarray
    path: tuple[SelectionStep, ...]
    n_kept: int
    metric: str
    bag_weights: np.ndarray


def true_class_matrix(probas: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """Each model's probability of the true class, shape (n_samples, n_models), float64.

    The soft vote's log loss depends on the weights only through this matrix.
    """
    return np.take_along_axis(probas, y_true[None, :, None], axis=2)[:, :, 0].T.astype(np.float64)


@dataclass(frozen=True, eq=False)
class Shared:
    """What every fit of the weights reads, computed once over all rows and shared read-only
    by the folds of a nested cross-validation (threads): each fold then names its rows
    instead of copying them. Built by :func:`shared_arrays`.

    Attributes
    ----------
    true : ndarray of shape (n_models, n_samples), float32
        Each model's probability of the true class.
    labels : ndarray of shape (n_models, n_samples)
        Each model's predicted class (:func:`~ensemble_core.combine.model_labels`).
    scores : ndarray of shape (n_models, n_classes, n_samples), float32, or None
        The probabilities class-major (what selection adds up); None for methods that
        only need ``true``.
    """

    true: np.ndarray
    labels: np.ndarray
    scores: np.ndarray | None

    def q(self, rows: np.ndarray | None) -> np.ndarray:
        """:func:`true_class_matrix` of these rows (all when None), shape (n_rows, n_models), float64."""
        true = self.true if rows is None else self.true[:, rows]
        return true.T.astype(np.float64)


def shared_arrays(probas: np.ndarray, y_true: np.ndarray, *, scores: bool = True) -> Shared:
    """The :class:`Shared` arrays of ``probas`` (n_models, n_samples, n_classes); ``scores``
    only when a selection method will run (it is the size of ``probas``)."""
    true = np.take_along_axis(probas, y_true[None, :, None], axis=2)[:, :, 0]
    class_major = np.ascontiguousarray(probas.transpose(0, 2, 1)) if scores else None
    # Model by model: the decision rule's temporaries are then one model's size, not all of them.
    labels = np.empty(probas.shape[:2], np.min_scalar_type(max(probas.shape[2] - 1, 0)))
    for m in range(probas.shape[0]):
        labels[m] = model_labels(probas[m:m + 1])[0]
    return Shared(true, labels, class_major)


def _nll(p_true: np.ndarray) -> np.ndarray:
    """Mean negative log-likelihood over the examples (axis 0)."""
    return mean_nll(p_true, axis=0)


def _choose(primary: np.ndarray, secondary: np.ndarray, picks: np.ndarray, tol: float) -> int:
    """Index of the best candidate: highest primary, then highest secondary, then fewest picks.

    Ties go to the least-picked model, so identical models share the picks rather than
    the first one taking them all; then to the lowest index.
    """
    ok = primary >= primary.max() - tol
    ok &= secondary >= secondary[ok].max() - _LOSS_TOL
    fewest = picks[ok].min()
    return int(np.flatnonzero(ok & (picks == fewest))[0])


def correct_class_major(scores: np.ndarray, y_true: np.ndarray, *, atol: float = DECISION_ATOL) -> np.ndarray:
    """Whether each column's top class is the true class, by
    :func:`~ensemble_core.decision.decide`'s rule (the first class within ``atol`` of the
    column's maximum).

    Parameters
    ----------
    scores : ndarray of shape (n_classes, n_samples) or (n_sets, n_classes, n_samples)
        Class-major, so the max over classes is an element-wise pass (an ``argmax`` over
        a short last axis is several times slower).
    y_true : ndarray of shape (n_samples,)
    atol : the tolerance on these scores: for sums of ``t`` models' probabilities,
        ``t * DECISION_ATOL`` (the rule applies to their average)

    Returns
    -------
    bool ndarray of shape (n_samples,) or (n_sets, n_samples)
    """
    s = scores if scores.ndim == 3 else scores[None]
    n_sets, n_classes, n = s.shape
    where = y_true.astype(np.intp, copy=False) * n + np.arange(n)  # intp: no overflow for small label types
    s_true = np.take(s.reshape(n_sets, n_classes * n), where, axis=1)
    level = s.max(axis=1)
    level -= s.dtype.type(atol)
    correct = s_true >= level
    # A tie for the top goes to the first class within the tolerance: recheck the (rare) tied
    # columns exactly. (Counting in uint8 is four times faster than numpy's default int64 sum
    # of booleans.)
    reaching = (s >= level[:, None, :]).view(np.uint8)
    tied = correct & (reaching.sum(axis=1, dtype=np.uint8 if n_classes < 256 else np.intp) > 1)
    if tied.any():
        b, j = np.nonzero(tied)
        correct[b, j] = (s[b, :, j] >= level[b, j][:, None]).argmax(axis=1) == y_true[j]
    return correct.reshape(scores.shape[:-2] + (n,))


#: Rows (examples) per block when counting every candidate's accuracy: each block of
#: candidate sums (models × classes × rows) stays in cache. On 10 models × 10 classes ×
#: 100,000 rows one count took 21 ms in blocks of 4,096 against 120 ms over all rows at once.
_COUNT_BLOCK = 4096


def _correct_with_each(
    scores: np.ndarray, sums: np.ndarray, y_true: np.ndarray, rows: np.ndarray, *, atol: float
) -> np.ndarray:
    """For each model, how many of the ``rows`` columns the running ``sums`` plus that
    model's scores get right (``atol``: the decision tolerance on those sums).

    Parameters
    ----------
    scores : ndarray of shape (n_models, n_classes, n_samples), class-major
    sums : ndarray of shape (n_classes, n_samples)
    rows : bool ndarray of shape (n_samples,), the columns to count

    Returns
    -------
    ndarray of shape (n_models,), int
    """
    counts = np.zeros(scores.shape[0], np.intp)
    for start in range(0, len(rows), _COUNT_BLOCK):
        block = slice(start, start + _COUNT_BLOCK)
        wanted = rows[block]
        n_wanted = int(np.count_nonzero(wanted))
        if n_wanted == 0:
            continue
        if n_wanted * 2 >= len(wanted):  # mostly wanted: add the whole block, count the wanted
            cand = scores[:, :, block] + sums[:, block]
            counts += (correct_class_major(cand, y_true[block], atol=atol) & wanted).sum(axis=1)
        else:  # gathering the few wanted columns is cheaper
            cols = start + np.flatnonzero(wanted)
            cand = np.take(scores, cols, axis=2, mode="clip")  # valid column indices
            cand += np.take(sums, cols, axis=1, mode="clip")
            counts += correct_class_major(cand, y_true[cols], atol=atol).sum(axis=1)
    return counts


def _top_two_gap(scores: np.ndarray) -> np.ndarray:
    """Each column's largest minus its second largest value (0 where the top is shared;
    infinite with one class).

    Parameters
    ----------
    scores : ndarray of shape (n_classes, n_samples), class-major
    """
    first = np.full(scores.shape[1], -np.inf, dtype=scores.dtype)
    second = first.copy()
    low = np.empty_like(first)
    for row in scores:  # a running top two: element-wise passes, no sort along the short axis
        np.minimum(row, first, out=low)
        np.maximum(second, low, out=second)
        np.maximum(first, row, out=first)
    return first - second


def _select_once(
    scores: np.ndarray,
    q: np.ndarray,
    y_true: np.ndarray,
    candidates: np.ndarray,
    *,
    rounds: int,
    metric: SelectionMetric,
    init_size: int,
    rows: np.ndarray | None = None,
) -> tuple[np.ndarray, tuple[SelectionStep, ...], int]:
    """One selection run over ``candidates``; ``scores`` are class-major probabilities of all
    rows, ``q`` the true-class matrix of the selection rows only, and ``rows`` (bool, over all
    rows; None = all) says which rows select. The sums run over every row (a column's sum never
    depends on another's), but only the selection rows are counted: the same numbers as on a
    copy of those rows, without the copy."""
    n_models = scores.shape[0]
    n = q.shape[0]
    picks = np.zeros(n_models, np.intp)
    sums = np.zeros(scores.shape[1:], np.float32)
    s_true = np.zeros(n)
    q_cand = q[:, candidates]
    scores_cand = scores if len(candidates) == n_models else scores[candidates]
    everywhere = rows is None

    def counted(correct: np.ndarray) -> np.ndarray:
        return correct if everywhere else correct[..., rows]

    path: list[SelectionStep] = []
    keys: list[tuple[float, float]] = []
    single_ll = _nll(q_cand)
    # One model at a time: correct_class_major's temporaries are the size of what it is given.
    single_acc = np.array([counted(correct_class_major(model, y_true)).mean() for model in scores_cand])
    order = np.lexsort((single_ll, -single_acc) if metric == "accuracy" else (-single_acc, single_ll))
    init = candidates[order[: max(0, min(init_size, rounds))]]
    for t in range(rounds):
        if t < len(init):
            m = int(init[t])
        else:
            mix = s_true[:, None] + q_cand
            mix /= t + 1
            ll = _nll(mix)
            if metric == "accuracy":
                # The sums of t picks are decided with t times the tolerance (the rule applies
                # to their average). A column whose top-two gap exceeds 1 plus the next
                # round's tolerance keeps its top class whatever is added (each class gains
                # at most 1), so only contested rows are recounted.
                atol_next = (t + 1) * DECISION_ATOL
                contested = _top_two_gap(sums) <= 1.0 + atol_next
                if not everywhere:
                    contested &= rows
                settled = int(np.count_nonzero(counted(correct_class_major(sums, y_true, atol=t * DECISION_ATOL)
                                                       & ~contested)))
                acc = (settled + _correct_with_each(scores_cand, sums, y_true, contested, atol=atol_next)) / n
                m = int(candidates[_choose(acc, -ll, picks[candidates], 0.5 / n)])
            else:
                m = int(candidates[_choose(-ll, np.zeros_like(ll), picks[candidates], _LOSS_TOL)])
        picks[m] += 1
        sums += scores[m]
        s_true += q[:, m]
        step = SelectionStep(
            m, float(np.mean(counted(correct_class_major(sums, y_true, atol=(t + 1) * DECISION_ATOL)))),
            float(_nll(s_true / (t + 1))),
        )
        path.append(step)
        keys.append((step.accuracy, -step.log_loss) if metric == "accuracy" else (-step.log_loss, 0.0))
    best = max(keys)
    n_kept = next(i for i, k in enumerate(keys) if k[0] >= best[0] - _LOSS_TOL and k[1] >= best[1] - _LOSS_TOL) + 1
    kept = np.bincount([s.model for s in path[:n_kept]], minlength=n_models)
    return kept / n_kept, tuple(path), n_kept


def caruana_selection(
    probas: np.ndarray,
    y_true: np.ndarray,
    *,
    rounds: int = DEFAULT_ROUNDS,
    metric: SelectionMetric = "log_loss",
    init_size: int = 1,
    bags: int = 1,
    bag_fraction: float = 0.5,
    seed: int = 0,
    rows: np.ndarray | None = None,
    shared: Shared | None = None,
) -> SelectionResult:
    """Greedy forward ensemble selection with replacement (Caruana et al., 2004).

    Starts from the ``init_size`` best single models (sorted initialisation; 1 is plain
    greedy, whose first pick is the best single model anyway), then each round adds the
    model — possibly one already in — whose addition gives the best soft-vote metric on
    these rows. Weights are each model's share of the picks in the best prefix of the path.
    Bagged selection (``bags`` > 1) repeats this on random subsets of ``bag_fraction`` of
    the models and averages the weights, which damps overfitting to the selection rows.

    Parameters
    ----------
    probas : ndarray of shape (n_models, n_samples, n_classes)
    y_true : ndarray of shape (n_samples,), class indices
    rounds : int, total picks per run
    metric : {"log_loss", "accuracy"}
        Accuracy ties are broken by log loss; metric ties by the least-picked model.
    rows : ndarray of int, optional
        Select on these rows only (sorted indices; default all): the same result as on
        ``probas[:, rows]``, without copying them.
    shared : Shared, optional
        :func:`shared_arrays` of ``probas`` (with ``scores``), when the caller made them once
        for several fits.

    Returns
    -------
    SelectionResult
    """
    if rounds < 1:
        raise EnsembleInputError(f"rounds must be at least 1; got {rounds}")
    if metric not in ("log_loss", "accuracy"):
        raise EnsembleInputError(f"unknown selection metric {metric!r}; expected log_loss or accuracy")
    if bags < 1 or not 0 < bag_fraction <= 1:
        raise EnsembleInputError(f"bags must be >= 1 and bag_fraction in (0, 1]; got {bags}, {bag_fraction}")
    n_models = probas.shape[0]
    if shared is None or shared.scores is None:
        shared = shared_arrays(probas, y_true)
    q = shared.q(rows)
    mask = None
    if rows is not None:
        mask = np.zeros(y_true.shape[0], bool)
        mask[rows] = True
    scores = shared.scores
    rng = np.random.default_rng(seed)
    bag_weights = np.empty((bags, n_models))
    path: tuple[SelectionStep, ...] = ()
    n_kept = 0
    for b in range(bags):
        if bags == 1:
            candidates = np.arange(n_models)
        else:
            size = max(1, int(round(bag_fraction * n_models)))
            candidates = np.sort(rng.choice(n_models, size=size, replace=False))
        w, bag_path, kept = _select_once(
            scores, q, y_true, candidates, rounds=rounds, metric=metric, init_size=init_size, rows=mask
        )
        bag_weights[b] = w
        if b == 0:
            path, n_kept = bag_path, kept
    return SelectionResult(bag_weights.mean(axis=0), path, n_kept, metric, bag_weights)


def log_loss_weights(probas: np.ndarray, y_true: np.ndarray, *, max_iter: int = 500,
                     rows: np.ndarray | None = None, shared: Shared | None = None) -> np.ndarray:
    """Soft-voting weights minimising log loss over the simplex.

    ``w = softmax(theta)``, minimised by L-BFGS from uniform with the analytic gradient
    ``dL/dtheta = w * (g - w.g)``, ``g_m = -mean(q_im / (q w)_i)``, where ``q`` holds each
    model's probability of the true class. The result is never worse on these rows than
    uniform weights or any single model (the best of the three is returned).

    Parameters
    ----------
    probas : ndarray of shape (n_models, n_samples, n_classes)
    y_true : ndarray of shape (n_samples,), class indices
    rows, shared : as for :func:`caruana_selection`

    Returns
    -------
    ndarray of shape (n_models,), non-negative, sums to 1.
    """
    from scipy.optimize import minimize

    q = (shared or shared_arrays(probas, y_true, scores=False)).q(rows)
    n_models = q.shape[1]
    q_rows = np.ascontiguousarray(q.T)  # (n_models, n_samples): both products run along rows

    def loss_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = np.exp(theta - theta.max())
        w /= w.sum()
        mix = w @ q_rows
        clipped = mix < LOG_LOSS_EPS
        np.maximum(mix, LOG_LOSS_EPS, out=mix)
        loss = float(-np.mean(np.log(mix)))
        inv = np.reciprocal(mix, out=mix)
        inv[clipped] = 0.0  # the clip is flat there
        g = -(q_rows @ inv) / inv.shape[0]
        return loss, w * (g - w @ g)

    # Products this small gain nothing from BLAS threads, and on a busy machine the
    # threads' hand-offs cost 10-30x the arithmetic (measured): see _threads.
    with limited("weight_search"):
        res = minimize(loss_and_grad, np.zeros(n_models), jac=True, method="L-BFGS-B",
                       options={"maxiter": max_iter, "gtol": 1e-8, "ftol": 1e-12})
    w_opt = np.exp(res.x - res.x.max())
    candidates = np.vstack([w_opt / w_opt.sum(), np.full(n_models, 1.0 / n_models), np.eye(n_models)])
    return candidates[int(np.argmin(_nll(q @ candidates.T)))]


@dataclass(frozen=True)
class HeldOutScores:
    """Accuracy and log loss of one way of combining, on out-of-fold predictions; ``log_loss``
    is None where there is none (labels-only models: :mod:`.labels_only`)."""

    accuracy: float
    log_loss: float | None

    def to_dict(self) -> dict:
        return {"accuracy": self.accuracy, "log_loss": self.log_loss}


@dataclass(frozen=True, eq=False)
class WeightSuggestion:
    """Suggested weights with honest (nested cross-validated) evidence.

    Attributes
    ----------
    method : str
    names : tuple of str
    weights : ndarray of shape (n_models,)
        Fitted on all rows: the suggestion to apply.
    heldout, uniform, best_single : HeldOutScores
        Out-of-fold scores of the suggestion (weights chosen without the fold), of uniform
        soft voting and of the best single model (chosen on the other folds), same folds.
        ``best_single.log_loss`` is None when a fold chose a labels-only model (by accuracy:
        by log loss only models with probabilities are ranked); every log loss is None when
        every model is labels-only.
    in_sample : HeldOutScores
        The final weights scored on the rows they were fitted on (optimistic; for contrast).
    heldout_probas : ndarray of shape (n_samples, n_classes), float32
        The out-of-fold soft vote behind ``heldout``: each row combined with weights chosen
        without it (for per-example comparisons and intervals).
    fold_weights : ndarray of shape (n_folds, n_models)
    best_single_names : tuple of str, the model chosen as best single in each fold
    path : tuple of SelectionStep
        The final fit's selection path (empty for ``logloss``); the weights come from its
        first ``n_kept`` picks (the best prefix on all rows).
    temperatures : ndarray of shape (n_models,) or None
        With calibration: the all-rows temperatures the weights apply to.
    folds, seed : int
    """

    method: str
    names: tuple[str, ...]
    weights: np.ndarray
    heldout: HeldOutScores
    uniform: HeldOutScores
    best_single: HeldOutScores
    in_sample: HeldOutScores
    heldout_probas: np.ndarray
    fold_weights: np.ndarray
    best_single_names: tuple[str, ...]
    path: tuple[SelectionStep, ...]
    n_kept: int
    temperatures: np.ndarray | None
    folds: int
    seed: int

    def to_dict(self) -> dict:
        """JSON-able form, weights and temperatures keyed by model name."""
        return {
            "method": self.method,
            "weights": {n: float(w) for n, w in zip(self.names, self.weights)},
            "heldout": self.heldout.to_dict(),
            "uniform": self.uniform.to_dict(),
            "best_single": {**self.best_single.to_dict(), "chosen_per_fold": list(self.best_single_names)},
            "in_sample": self.in_sample.to_dict(),
            "path": [
                {"model": self.names[s.model], "accuracy": s.accuracy, "log_loss": s.log_loss} for s in self.path
            ],
            "path_kept": self.n_kept,
            "calibrated": self.temperatures is not None,
            "temperatures": None if self.temperatures is None
            else {n: float(t) for n, t in zip(self.names, self.temperatures)},
            "folds": self.folds,
            "seed": self.seed,
        }


def _selection_weights(
    probas: np.ndarray, y_true: np.ndarray, *, metric: SelectionMetric, rounds: int = DEFAULT_ROUNDS,
    init_size: int = 1, bags: int = 1, seed: int = 0, rows: np.ndarray | None = None, shared: Shared | None = None,
) -> tuple[np.ndarray, tuple[SelectionStep, ...], int]:
    sel = caruana_selection(probas, y_true, rounds=rounds, metric=metric, init_size=init_size, bags=bags, seed=seed,
                            rows=rows, shared=shared)
    return sel.weights, sel.path, sel.n_kept


#: The ``caruana`` method: :func:`caruana_selection` on log loss; returns (weights, path, n_kept).
caruana_weights = partial(_selection_weights, metric="log_loss")
#: The ``accuracy`` method: :func:`caruana_selection` on accuracy; returns (weights, path, n_kept).
accuracy_weights = partial(_selection_weights, metric="accuracy")


def logloss_weights(probas: np.ndarray, y_true: np.ndarray, *, rows: np.ndarray | None = None,
                    shared: Shared | None = None, **_) -> tuple[np.ndarray, tuple[SelectionStep, ...], int]:
    """The ``logloss`` method: :func:`log_loss_weights`; (weights, (), 0): no selection path."""
    return log_loss_weights(probas, y_true, rows=rows, shared=shared), (), 0


def _method(method: str) -> registry.MethodSpec:
    try:
        return registry.method(method)
    except KeyError:
        raise EnsembleInputError(
            f"unknown optimisation method {method!r}; expected one of {', '.join(METHODS)}"
        ) from None


def fit_weights(
    probas: np.ndarray,
    y_true: np.ndarray,
    method: Method = "logloss",
    *,
    rounds: int = DEFAULT_ROUNDS,
    init_size: int = 1,
    bags: int = 1,
    seed: int = 0,
    rows: np.ndarray | None = None,
    shared: Shared | None = None,
) -> tuple[np.ndarray, tuple[SelectionStep, ...], int]:
    """Weights by one method (:data:`~ensemble_core.registry.METHOD_SPECS`) on the given rows
    (no held-out evaluation).

    Parameters
    ----------
    rows : sorted row indices to fit on (default all): the same weights as on
        ``probas[:, rows]``, ``y_true[rows]``, without copying the rows
    shared : :func:`shared_arrays` of ``probas``, made once for several fits

    Returns
    -------
    weights : ndarray of shape (n_models,)
    path : tuple of SelectionStep (empty for ``logloss``)
    n_kept : int, picks of ``path`` the weights come from (0 for ``logloss``)
    """
    return _method(method).implementation()(probas, y_true, rounds=rounds, init_size=init_size, bags=bags, seed=seed,
                                            rows=rows, shared=shared)


def _best_single_score(shared: Shared, y_true: np.ndarray, rows: np.ndarray | None, metric: str,
                       hard: np.ndarray) -> np.ndarray:
    """Each model's loss on ``rows`` (all when None) by the method's metric (lower is better), shape
    (n_models,). By log loss a labels-only model is not ranked (it has none), unless every model is
    labels-only: then by accuracy."""
    if metric == "accuracy" or hard.all():
        labels, y = (shared.labels, y_true) if rows is None else (shared.labels[:, rows], y_true[rows])
        return -(labels == y).mean(axis=1)
    return np.where(hard, np.inf, _nll(shared.q(rows)))


def _scores(y_true: np.ndarray, probas: np.ndarray, *, log_loss: bool = True) -> HeldOutScores:
    p_true = probas[np.arange(y_true.shape[0]), y_true].astype(np.float64)
    return HeldOutScores(float(np.mean(decide(probas) == y_true)), float(_nll(p_true)) if log_loss else None)


@dataclass(frozen=True, eq=False)
class _FoldFit:
    """One fold of the nested cross-validation: the weights and the best single model chosen on
    its training rows, and its test rows predicted with each (arrays of shape (n_test, n_classes))."""

    weights: np.ndarray
    best: int
    heldout: np.ndarray
    best_heldout: np.ndarray


def _weights_fold(probas: np.ndarray, y: np.ndarray, hard: np.ndarray, method: Method, calibrate: bool,
                  options: dict, shared: Shared, train: np.ndarray, test: np.ndarray) -> _FoldFit:
    """Temperatures (with ``calibrate``), weights and the best single model fitted on ``train``;
    ``test`` predicted with them. Without calibration the fold reads ``shared`` (all rows) at its
    training rows instead of copying them."""
    p_test = probas[:, test]
    if calibrate:  # the temperatures change every probability: the fold needs its own copy
        t = fit_temperatures(probas[:, train], y[train], hard)
        p_train, p_test = apply_temperatures(probas[:, train], t), apply_temperatures(p_test, t)
        w = fit_weights(p_train, y[train], method, **options)[0]
    else:
        w = fit_weights(probas, y, method, rows=train, shared=shared, **options)[0]
    b = int(np.argmin(_best_single_score(shared, y, train, _method(method).metric, hard)))
    return _FoldFit(w, b, soft_vote(p_test, w), probas[b, test])


def _weights_on_all_rows(probas: np.ndarray, y: np.ndarray, hard: np.ndarray, method: Method, calibrate: bool,
                         options: dict, shared: Shared) -> tuple[np.ndarray | None, np.ndarray,
                                                                 tuple[SelectionStep, ...], int, HeldOutScores]:
    """The suggestion itself: temperatures (with ``calibrate``), weights, selection path and picks
    kept, fitted on every row, and the in-sample scores of its soft vote."""
    temperatures = fit_temperatures(probas, y, hard) if calibrate else None
    p_all = apply_temperatures(probas, temperatures) if calibrate else probas
    weights, path, n_kept = fit_weights(p_all, y, method, shared=None if calibrate else shared, **options)
    return temperatures, weights, path, n_kept, _scores(y, soft_vote(p_all, weights), log_loss=not hard.all())


def suggest_weights(
    pset: PredictionSet,
    method: Method = "logloss",
    *,
    folds: int = 5,
    seed: int = 0,
    calibrate: bool = False,
    rounds: int = DEFAULT_ROUNDS,
    init_size: int = 1,
    bags: int = 1,
    executor: Executor | None = None,
) -> WeightSuggestion:
    """Suggest soft-voting weights and measure them honestly by nested k-fold.

    For each of ``folds`` folds (stratified, a rare class spread over them, shuffled with
    ``seed``: :mod:`._folds`): temperatures (with ``calibrate``) and weights are fitted on the other folds only,
    and the fold is predicted with them. The held-out scores of the suggestion, of
    uniform soft voting and of the best single model (picked on the other folds by the
    method's metric) come from these out-of-fold predictions. The returned weights are
    then fitted on all rows.

    Parameters
    ----------
    pset : PredictionSet
    method : {"logloss", "caruana", "accuracy"}
    calibrate : bool
        Temperature-scale each model before combining (weights then apply to the
        calibrated models; baselines stay on the models as given).
    executor : runs the folds and the fit on all rows (anything with ``map``; see
        :mod:`._crossfit`); default: the thread policy's worker threads

    Returns
    -------
    WeightSuggestion
    """
    _method(method)  # an unknown method is refused here, before any fold runs
    probas, y, labels_only = pset.probas, pset.y_true, is_labels_only(pset)
    n_models = probas.shape[0]
    # The folds and the fit on all rows are independent: NumPy releases the GIL in its array
    # work, so by default a few threads use the cores (each result is the same as run alone).
    options = {"rounds": rounds, "init_size": init_size, "bags": bags, "seed": seed}
    # Made once and read by every fold (bounded memory: the folds name their rows, no copies).
    shared = shared_arrays(probas, y, scores=not calibrate and _method(method).selects)
    fit = cross_fit(partial(_weights_fold, probas, y, labels_only, method, calibrate, options, shared), y,
                    folds=folds, seed=seed, operation="weight_search", executor=executor,
                    refit=partial(_weights_on_all_rows, probas, y, labels_only, method, calibrate, options, shared))
    temperatures, weights, path, n_kept, in_sample = fit.refit
    oof = fit.out_of_fold([f.heldout for f in fit.folds])
    # Log loss compares only models with probabilities: none for labels-only models alone, and none
    # for the best single model when a fold picked a labels-only one (by accuracy).
    any_probas = has_log_loss(pset)
    best_has_probas = any_probas and not any(labels_only[f.best] for f in fit.folds)
    return WeightSuggestion(
        method=method,
        names=pset.names,
        weights=weights,
        heldout=_scores(y, oof, log_loss=any_probas),
        uniform=_scores(y, soft_vote(probas, np.full(n_models, 1.0 / n_models)), log_loss=any_probas),
        best_single=_scores(y, fit.out_of_fold([f.best_heldout for f in fit.folds]), log_loss=best_has_probas),
        in_sample=in_sample,
        heldout_probas=oof,
        fold_weights=np.array([f.weights for f in fit.folds]),
        best_single_names=tuple(pset.names[f.best] for f in fit.folds),
        path=path,
        n_kept=n_kept,
        temperatures=temperatures,
        folds=len(fit.tests),
        seed=seed,
    )
