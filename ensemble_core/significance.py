"""How sure is the gain? Bootstrap intervals, McNemar's test, oracle headroom, in words.

The bootstrap here is the ordinary row bootstrap (resample the labelled rows with
replacement), computed exactly and fast: accuracy and the paired gain over the best
single model depend on a resample only through how many rows fall in each of the
four (ensemble right?, best right?) cells, and those counts are multinomial. Drawing
the counts directly gives the same distribution as resampling index matrices, at a
cost independent of the number of rows.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> best = rng.random(2000) < 0.80
>>> ens = best | (rng.random(2000) < 0.10)
>>> s = gain_statistics(ens, best)
>>> describe_gain(s)
'+1.8 points, 95% CI +1.2 to +2.4; McNemar p < 0.001'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ._validation import EnsembleInputError

#: Below this many discordant pairs McNemar's test uses the exact binomial distribution.
EXACT_BELOW = 25
DEFAULT_RESAMPLES = 2000


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's test of two classifiers on the same rows.

    ``b``: rows the first gets right and the second wrong; ``c``: the reverse.
    ``method`` is "exact" (two-sided binomial, p = 0.5) when ``b + c`` is below
    :data:`EXACT_BELOW`, else "chi2" (continuity-corrected, 1 degree of freedom).
    """

    b: int
    c: int
    statistic: float
    p_value: float
    method: Literal["exact", "chi2"]


def mcnemar_test(correct_a: np.ndarray, correct_b: np.ndarray) -> McNemarResult:
    """McNemar's test on paired right/wrong outcomes.

    Parameters
    ----------
    correct_a, correct_b : bool ndarray of shape (n_samples,)

    Returns
    -------
    McNemarResult; with no discordant rows, p = 1.
    """
    a, b_ = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    if a.shape != b_.shape or a.ndim != 1:
        raise EnsembleInputError(f"McNemar needs two equal-length outcome vectors; got {a.shape} and {b_.shape}")
    b = int(np.count_nonzero(a & ~b_))
    c = int(np.count_nonzero(~a & b_))
    n = b + c
    if n < EXACT_BELOW:
        return McNemarResult(b, c, float(min(b, c)), _binomial_p(min(b, c), n), "exact")
    stat = (abs(b - c) - 1.0) ** 2 / n
    return McNemarResult(b, c, stat, _chi2_1_sf(stat), "chi2")


# McNemar's two distributions in plain Python: scipy.stats costs 0.6-0.8 s to import, on
# every ``evaluate``, for one p-value (tests/test_significance.py compares both with scipy's).
def _binomial_p(k: int, n: int) -> float:
    """Two-sided exact binomial p-value of ``k`` successes of ``n`` at p = 1/2 (k <= n / 2): exact
    (integers, then one correctly rounded division)."""
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n)


def _chi2_1_sf(x: float) -> float:
    """The survival function of chi-square with one degree of freedom: P(Z² > x) = erfc(√(x/2))."""
    return math.erfc(math.sqrt(x / 2.0))


def _percentile_interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(samples, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def _outcomes(*vectors: np.ndarray) -> tuple[np.ndarray, ...]:
    """The right/wrong vectors as bool arrays, checked to be 1-D, non-empty and of one length."""
    out = tuple(np.asarray(v, bool) for v in vectors)
    shapes = [v.shape for v in out]
    if any(v.ndim != 1 or v.size == 0 for v in out) or len(set(shapes)) > 1:
        raise EnsembleInputError(
            f"outcome vectors must be non-empty and of equal length; got {' and '.join(map(str, shapes))}"
        )
    return out


def _check_level(level: float, n_resamples: int) -> None:
    if not 0 < level < 1:
        raise EnsembleInputError(f"confidence level must be in (0, 1); got {level}")
    if n_resamples < 1:
        raise EnsembleInputError(f"n_resamples must be at least 1; got {n_resamples}")


def bootstrap_accuracy_ci(
    correct: np.ndarray, *, n_resamples: int = DEFAULT_RESAMPLES, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval for accuracy.

    Parameters
    ----------
    correct : bool ndarray of shape (n_samples,)

    Returns
    -------
    (low, high)
    """
    _check_level(level, n_resamples)
    (correct,) = _outcomes(correct)
    n = correct.shape[0]
    # The number right in a row-resample is Binomial(n, observed accuracy).
    hits = np.random.default_rng(seed).binomial(n, np.count_nonzero(correct) / n, size=n_resamples)
    return _percentile_interval(hits / n, level)


def bootstrap_gain_ci(
    correct: np.ndarray,
    correct_baseline: np.ndarray,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Paired percentile bootstrap interval for ``accuracy(correct) - accuracy(baseline)``.

    Both are scored on the same resampled rows; a resample's gain is ``(b - c) / n``
    with ``(b, c)`` its discordant counts, drawn as one multinomial over the four cells.

    Parameters
    ----------
    correct, correct_baseline : bool ndarray of shape (n_samples,)

    Returns
    -------
    (low, high)
    """
    _check_level(level, n_resamples)
    a, base = _outcomes(correct, correct_baseline)
    n = a.shape[0]
    b = np.count_nonzero(a & ~base)
    c = np.count_nonzero(~a & base)
    cells = np.array([b, c, n - b - c]) / n
    counts = np.random.default_rng(seed).multinomial(n, cells, size=n_resamples)
    return _percentile_interval((counts[:, 0] - counts[:, 1]) / n, level)


def bootstrap_mean_ci(
    values: np.ndarray,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    level: float = 0.95,
    seed: int = 0,
    chunk_elements: int = 10_000_000,
) -> tuple[float, float]:
    """Percentile row-bootstrap interval for the mean of per-row values.

    For any per-row quantity, e.g. the log-loss difference of two combiners on the same
    rows (a paired interval). Resamples are drawn as index matrices in chunks of at most
    ``chunk_elements`` entries, so memory stays bounded at any number of rows.

    Parameters
    ----------
    values : ndarray of shape (n_samples,)

    Returns
    -------
    (low, high)
    """
    _check_level(level, n_resamples)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise EnsembleInputError(f"values must be a non-empty vector; got shape {values.shape}")
    n = values.size
    rng = np.random.default_rng(seed)
    per_chunk = max(1, chunk_elements // n)
    means = np.empty(n_resamples)
    for start in range(0, n_resamples, per_chunk):
        stop = min(n_resamples, start + per_chunk)
        means[start:stop] = values[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    return _percentile_interval(means, level)


@dataclass(frozen=True)
class GainStatistics:
    """The ensemble against the best single model, with uncertainty.

    Attributes
    ----------
    accuracy, accuracy_ci : the ensemble's accuracy and its bootstrap interval
    best_accuracy : float
    gain, gain_ci : accuracy minus the best single model's, and its paired bootstrap interval
    mcnemar : McNemarResult (ensemble vs best single)
    oracle_accuracy : float or None
        Share of rows some model gets right; ``headroom`` = oracle − ensemble accuracy.
    level : float, confidence level of the intervals
    """

    accuracy: float
    accuracy_ci: tuple[float, float]
    best_accuracy: float
    gain: float
    gain_ci: tuple[float, float]
    mcnemar: McNemarResult
    oracle_accuracy: float | None
    level: float

    @property
    def headroom(self) -> float | None:
        return None if self.oracle_accuracy is None else self.oracle_accuracy - self.accuracy


def gain_statistics(
    correct: np.ndarray,
    correct_best: np.ndarray,
    *,
    oracle_correct: np.ndarray | None = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    level: float = 0.95,
    seed: int = 0,
) -> GainStatistics:
    """Accuracy, gain over the best single model, their intervals, McNemar and headroom.

    Parameters
    ----------
    correct : bool ndarray of shape (n_samples,), the ensemble right or wrong per row
    correct_best : bool ndarray of shape (n_samples,), the best single model's
    oracle_correct : bool ndarray of shape (n_samples,), optional; any model right
    """
    correct, correct_best = _outcomes(correct, correct_best)
    acc, best = float(correct.mean()), float(correct_best.mean())
    return GainStatistics(
        accuracy=acc,
        accuracy_ci=bootstrap_accuracy_ci(correct, n_resamples=n_resamples, level=level, seed=seed),
        best_accuracy=best,
        gain=acc - best,
        gain_ci=bootstrap_gain_ci(correct, correct_best, n_resamples=n_resamples, level=level, seed=seed),
        mcnemar=mcnemar_test(correct, correct_best),
        oracle_accuracy=None if oracle_correct is None else float(np.mean(oracle_correct)),
        level=level,
    )


def _points(x: float) -> str:
    return f"{100 * x:+.1f}"


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def describe_gain(stats: GainStatistics, *, baseline: str | None = None) -> str:
    """The gain in words a stakeholder understands.

    ``"+1.3 points, 95% CI +0.4 to +2.1; McNemar p = 0.004"``, with ``over <baseline>``
    after the points when a name is given.
    """
    lo, hi = stats.gain_ci
    over = f" over {baseline}" if baseline else ""
    return (
        f"{_points(stats.gain)} points{over}, {stats.level:.0%} CI {_points(lo)} to {_points(hi)}; "
        f"McNemar {_p_text(stats.mcnemar.p_value)}"
    )
