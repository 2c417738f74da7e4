"""Why ensembles work: independent errors (Condorcet's jury theorem) against the real models'.

If each of n voters is right with probability p > 1/2, independently, a majority of them is
right more often than any one, and ever more often as n grows (Condorcet, 1785). Real models
err together; how far they fall short of that promise is how correlated their errors are.
Everything here counts a *strict majority of the models right*, for the independent voters and
for the loaded models alike, so the two numbers compare like with like.

Examples
--------
>>> round(majority_right_probability([0.7, 0.7, 0.7]), 3)  # 3·0.7²·0.3 + 0.7³
0.784
>>> round(jury_curve(0.6, [1, 5, 25])[-1], 3)
0.846
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._validation import EnsembleInputError


def majority_right_probability(accuracies: Sequence[float]) -> float:
    """P(more than half of the voters are right) for independent voters with these accuracies
    (the Poisson-binomial distribution, exactly, by dynamic programming)."""
    p = np.asarray(accuracies, dtype=np.float64)
    if p.ndim != 1 or p.size == 0 or ((p < 0) | (p > 1) | ~np.isfinite(p)).any():
        raise EnsembleInputError(f"accuracies must be a non-empty list of numbers in [0, 1]; got {accuracies!r}")
    dist = np.zeros(p.size + 1)
    dist[0] = 1.0
    for q in p:  # dist[k] = P(k right so far)
        dist[1:] = dist[1:] * (1 - q) + dist[:-1] * q
        dist[0] *= 1 - q
    return float(dist[p.size // 2 + 1:].sum())


def jury_curve(accuracy: float, sizes: Sequence[int]) -> list[float]:
    """P(a strict majority is right) for each number of independent voters of one accuracy."""
    return [majority_right_probability([accuracy] * int(n)) for n in sizes]


@dataclass(frozen=True)
class IndependenceGap:
    """The loaded models against independent voters of the same accuracies.

    ``independent``: the share of rows a strict majority would get right if the models erred
    independently; ``actual``: the share where a strict majority of them is right;
    ``mean_error_correlation``: the mean pairwise correlation of their error indicators;
    ``best_single``, ``mean_accuracy``: the best and the mean of the models' accuracies (the mean is the
    accuracy of the independent voters the jury curve draws).
    """

    independent: float
    actual: float
    mean_error_correlation: float
    best_single: float
    mean_accuracy: float


def independence_gap(correct: np.ndarray) -> IndependenceGap:
    """Compare the models' real majority with what independent errors would give.

    Parameters
    ----------
    correct : bool ndarray of shape (n_models, n_samples): each model right or wrong per row
    """
    correct = np.asarray(correct, dtype=bool)
    if correct.ndim != 2 or correct.shape[0] < 2 or correct.shape[1] == 0:
        raise EnsembleInputError(f"need at least two models' outcomes on the same rows; got shape {correct.shape}")
    accuracies = correct.mean(axis=1)
    actual = float((correct.sum(axis=0) > correct.shape[0] / 2).mean())
    wrong = (~correct).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(wrong)
    upper = corr[np.triu_indices(correct.shape[0], 1)]
    return IndependenceGap(
        independent=majority_right_probability(accuracies), actual=actual,
        mean_error_correlation=float(np.nanmean(upper)) if np.isfinite(upper).any() else float("nan"),
        best_single=float(accuracies.max()), mean_accuracy=float(accuracies.mean()),
    )


def voting_split(y_true: np.ndarray, hard_pred: np.ndarray, soft_pred: np.ndarray,
                 soft_probas: np.ndarray) -> int | None:
    """The row that best shows hard and soft voting deciding differently (None when they never do).

    Rows where the soft average is right and the hard vote wrong come first (confidence outvoting a
    majority), then those where the hard vote is right, then the rest; within each, the row where the
    soft average is surest of its class, then the first.

    Parameters
    ----------
    y_true, hard_pred, soft_pred : ndarrays of shape (n_samples,), class indices
    soft_probas : ndarray of shape (n_samples, n_classes), the soft average

    Examples
    --------
    >>> y, hard, soft = np.array([0, 1, 1, 0]), np.array([0, 0, 1, 1]), np.array([0, 1, 0, 0])
    >>> p = np.array([[.9, .1], [.4, .6], [.55, .45], [.8, .2]])
    >>> voting_split(y, hard, soft, p)  # rows 1 and 3: soft right, hard wrong; row 3 is surer
    3
    """
    y_true, hard_pred, soft_pred = map(np.asarray, (y_true, hard_pred, soft_pred))
    split = np.flatnonzero(hard_pred != soft_pred)
    if split.size == 0:
        return None
    soft_right = soft_pred[split] == y_true[split]
    hard_right = hard_pred[split] == y_true[split]
    rank = np.where(soft_right, 0, np.where(hard_right, 1, 2))
    sure = np.asarray(soft_probas)[split, soft_pred[split]]
    return int(split[np.lexsort((split, -sure, rank))[0]])
