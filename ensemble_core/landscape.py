"""The weight landscape: accuracy (and log loss) over the weights the sliders move.

- Two models: along ``w`` in [0, 1] (weights ``(w, 1 - w)``).
- Three models: over a triangular grid of the weight simplex (resolution ``r`` gives
  every ``(i, j, k) / r`` with ``i + j + k = r``).
- More models: a sweep of each weight around the current point, the others keeping
  their relative shares.

Why it is fast: for soft, hard and geometric voting the ensemble's score for class
``c`` is linear in the weights (probabilities, one-hot votes, log-probabilities), so
an example is right at ``w`` exactly when ``sum_m w_m (s_my - s_mc) > 0`` for every
other class ``c``. A class that no model puts above the true class can never win
(nor can any class where the models all agree: a shared argmax survives every convex
combination); a class every model puts above it always wins. Only the remaining
(example, class) pairs are evaluated, line by line: along a line of the grid
each pair holds on a half-line, so an example is right on an interval, and the counts
are a difference array (see :class:`_LinearDecisions`). Ties go to the class that sorts first,
by the evaluator's own rule (:func:`~ensemble_core.decision.decide`: scores within the
tolerance of the top tie), on the same scores: vote shares, probabilities, pooled
log-probabilities. The rule is applied pairwise against
the true class, which is exact except where three classes lie within twice the
tolerance of each other without being equal (never seen outside constructed data).

The strategies with a landscape are the linear pools: those with a ``scores_path`` in
:data:`~ensemble_core.registry.STRATEGY_SPECS`.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> p = rng.dirichlet([1, 1, 1], size=(3, 500)).astype(np.float32)
>>> y = rng.integers(0, 3, size=500)
>>> land = simplex_landscape(p, y, resolution=10)
>>> land.weights.shape, land.accuracy.shape
((66, 3), (66,))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from . import registry
from ._threads import limited
from ._validation import EnsembleInputError, check_weights
from .decision import DECISION_ATOL, LOG_POOL_ATOL
from .metrics import mean_nll

LandscapeStrategy = Literal["soft", "hard", "geometric"]
#: The strategies whose scores are linear in the weights (a ``scores_path`` in the registry).
LANDSCAPE_STRATEGIES: tuple[str, ...] = tuple(s.name for s in registry.STRATEGY_SPECS if s.scores_path)
#: Grid points per block of the log-loss product (bounds its temporary array).
_BLOCK_ELEMENTS = 4_000_000


@dataclass(frozen=True, eq=False)
class Landscape:
    """Metrics at points of the weight simplex of two or three models.

    Attributes
    ----------
    strategy : str
    names : tuple of str, the models whose weights vary
    weights : ndarray of shape (n_points, n_models), rows on the simplex
    accuracy : ndarray of shape (n_points,)
    log_loss : ndarray of shape (n_points,) or None (soft voting only)
    resolution : int, grid steps per unit weight
    """

    strategy: str
    names: tuple[str, ...]
    weights: np.ndarray
    accuracy: np.ndarray
    log_loss: np.ndarray | None
    resolution: int


@dataclass(frozen=True, eq=False)
class WeightSweeps:
    """Each model's weight swept from 0 to 1 around ``current``, the others keeping their shares.

    Attributes
    ----------
    strategy : str
    names : tuple of str
    current : ndarray of shape (n_models,), normalised
    grid : ndarray of shape (n_points,), the swept model's weight
    accuracy : ndarray of shape (n_models, n_points)
    log_loss : ndarray of shape (n_models, n_points) or None (soft voting only)
    """

    strategy: str
    names: tuple[str, ...]
    current: np.ndarray
    grid: np.ndarray
    accuracy: np.ndarray
    log_loss: np.ndarray | None


def simplex_grid(resolution: int, n_models: int) -> np.ndarray:
    """Every weight vector with coordinates in steps of ``1 / resolution`` (2 or 3 models).

    Returns
    -------
    ndarray of shape (n_points, n_models); n_points = r + 1 for two models,
    (r + 1)(r + 2) / 2 for three.
    """
    if resolution < 1:
        raise EnsembleInputError(f"resolution must be at least 1; got {resolution}")
    steps = np.arange(resolution + 1)
    if n_models == 2:
        counts = np.stack([steps, resolution - steps], axis=1)
    elif n_models == 3:
        i, j = np.meshgrid(steps, steps, indexing="ij")
        keep = i + j <= resolution
        counts = np.stack([i[keep], j[keep], resolution - i[keep] - j[keep]], axis=1)
    else:
        raise EnsembleInputError(
            f"a simplex landscape needs 2 or 3 models; got {n_models} (use weight_sweeps for more)"
        )
    return counts / resolution


def _spec(strategy: str) -> registry.StrategySpec:
    if strategy not in LANDSCAPE_STRATEGIES:
        raise EnsembleInputError(
            f"unknown landscape strategy {strategy!r}; expected one of {', '.join(LANDSCAPE_STRATEGIES)}"
        )
    return registry.strategy(strategy)


def _scores(probas: np.ndarray, strategy: str) -> np.ndarray:
    """What the strategy adds up with the weights: probabilities, one-hot votes or log-probabilities."""
    return _spec(strategy).scores()(probas)


def _atol(strategy: str) -> float:
    """The decision tolerance on the strategy's scores (see :mod:`~ensemble_core.decision`)."""
    return LOG_POOL_ATOL if _spec(strategy).log_scores else DECISION_ATOL


class _RowReduction:
    """Per-row max (or min) of per-pair values ``A + i * B``, for many ``i``, without reduceat.

    Pairs are laid out by level (a row's first pair, second pair, ...) with rows sorted by
    how many pairs they have, so level ``c`` is one contiguous slice of the rows that have
    more than ``c`` pairs: each reduction is a few element-wise passes over the pairs.
    """

    def __init__(self, row: np.ndarray, a: np.ndarray, b: np.ndarray, n_rows: int, *, take_max: bool) -> None:
        counts = np.bincount(row, minlength=n_rows)
        order = np.argsort(-counts, kind="stable")
        self.pos = np.empty(n_rows, np.intp)
        self.pos[order] = np.arange(n_rows)
        by_row = np.argsort(row, kind="stable")
        starts = np.cumsum(counts) - counts
        level = np.empty(row.size, np.intp)
        level[by_row] = np.arange(row.size) - np.repeat(starts, counts)
        n_levels = int(counts.max()) if row.size else 0
        self.widths = [int(np.count_nonzero(counts > c)) for c in range(n_levels)]
        self.a = np.zeros((n_levels, n_rows))
        self.b = np.zeros((n_levels, n_rows))
        self.a[level, self.pos[row]] = a
        self.b[level, self.pos[row]] = b
        self.take_max = take_max
        self.empty = -np.inf if take_max else np.inf

    def at(self, i: float) -> np.ndarray:
        """Each row's reduction at ``i``, shape (n_rows,); ±inf for rows without pairs."""
        out = np.full(self.pos.size, self.empty)
        op = np.maximum if self.take_max else np.minimum
        for c, width in enumerate(self.widths):
            level = self.a[c, :width] + i * self.b[c, :width]
            op(out[:width], level, out=out[:width])
        return out[self.pos]


class _LinearDecisions:
    """The (example, class) pairs whose outcome depends on the weights, for linear scores.

    With the tie threshold folded into the margins, example ``r`` is right at ``w`` iff
    ``sum_v w_v d_v >= 0`` for each of its pairs. Built once per landscape.
    """

    def __init__(self, scores: np.ndarray, y_true: np.ndarray, *, atol: float) -> None:
        n_models, n, n_classes = scores.shape
        rows = np.arange(n)
        diff = scores[:, rows, y_true][:, :, None] - scores  # (n_models, n, n_classes)
        margin_lo, margin_hi = diff.min(axis=0), diff.max(axis=0)
        cls = np.arange(n_classes)
        # decide(): y is picked iff it is within the tolerance of every class above it, and
        # every class before it is more than the tolerance below it. Margins are compared
        # with the threshold by ">=", so a lower class needs y ahead by more than atol.
        threshold = np.where(cls[None, :] < y_true[:, None], np.nextafter(atol, np.inf), -atol)
        other = cls[None, :] != y_true[:, None]
        always_lost = ((margin_hi < threshold) & other).any(axis=1)
        live = (margin_lo < threshold) & other & ~always_lost[:, None]
        pair_row, pair_cls = np.nonzero(live)
        live_rows, self.pair_row = np.unique(pair_row, return_inverse=True)
        self.n = n
        self.n_rows = live_rows.size
        self.n_never_lost = int(np.count_nonzero(~always_lost & ~live.any(axis=1)))
        self.margins = diff[:, pair_row, pair_cls].astype(np.float64) - threshold[pair_row, pair_cls]

    def counts_on_lines(self, alpha0: np.ndarray, step: np.ndarray, beta: np.ndarray, n_lines: int, j_max) -> list:
        """Examples right at each point ``j = 0..j_max(i)`` of each line ``i = 0..n_lines-1``.

        A pair is satisfied where ``alpha0 + i * step + j * beta >= 0``: a half-line in
        ``j``, so each example's right set on a line is an interval of ``j`` (the
        intersection of its pairs' half-lines), and the counts over ``j`` are one
        difference array per line.
        """
        pos, neg, flat = beta > 0, beta < 0, beta == 0
        # Satisfied for j >= -alpha / beta (beta > 0) or j <= -alpha / beta (beta < 0).
        lower = _RowReduction(self.pair_row[pos], -alpha0[pos] / beta[pos], -step[pos] / beta[pos],
                              self.n_rows, take_max=True)
        upper = _RowReduction(self.pair_row[neg], -alpha0[neg] / beta[neg], -step[neg] / beta[neg],
                              self.n_rows, take_max=False)
        constant = _RowReduction(self.pair_row[flat], alpha0[flat], step[flat], self.n_rows, take_max=False)
        out = []
        for i in range(n_lines):
            top = j_max(i)
            lo = np.ceil(np.clip(lower.at(i), -1.0, top + 1.0)).astype(np.intp)
            hi = np.floor(np.clip(upper.at(i), -1.0, top + 1.0)).astype(np.intp)
            np.maximum(lo, 0, out=lo)
            np.minimum(hi, top, out=hi)
            ok = (lo <= hi) & (constant.at(i) >= 0)
            edges = np.bincount(lo[ok], minlength=top + 2) - np.bincount(hi[ok] + 1, minlength=top + 2)
            out.append(self.n_never_lost + np.cumsum(edges)[: top + 1])
        return out

    def line_accuracy(self, resolution: int) -> np.ndarray:
        """Two models: accuracy at weights ``(j, r - j) / r``, j = 0..r."""
        d_a, d_b = self.margins
        counts = self.counts_on_lines(resolution * d_b, np.zeros_like(d_a), d_a - d_b, 1, lambda i: resolution)
        return counts[0] / self.n

    def triangle_accuracy(self, resolution: int) -> np.ndarray:
        """Three models: accuracy at ``(i, j, r - i - j) / r`` in :func:`simplex_grid` order."""
        d0, d1, d2 = self.margins
        counts = self.counts_on_lines(resolution * d2, d0 - d2, d1 - d2, resolution + 1,
                                      lambda i: resolution - i)
        return np.concatenate(counts) / self.n


def _log_loss_grid(probas: np.ndarray, y_true: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Soft-vote log loss at each weight vector: only the true-class probabilities matter.

    One (points × examples) block at a time, examples along rows so the product, the log
    and the sum each run over contiguous memory.
    """
    n = y_true.shape[0]
    q = np.ascontiguousarray(probas[:, np.arange(n), y_true], dtype=np.float32)  # (n_models, n_samples)
    w = weights.astype(np.float32)
    out = np.empty(weights.shape[0])
    block = max(1, _BLOCK_ELEMENTS // n)
    for start in range(0, weights.shape[0], block):
        out[start : start + block] = mean_nll(w[start : start + block] @ q, axis=1)
    return out


def _names(names, n_models: int) -> tuple[str, ...]:
    return tuple(names) if names is not None else tuple(f"model {i + 1}" for i in range(n_models))


def simplex_landscape(
    probas: np.ndarray,
    y_true: np.ndarray,
    *,
    strategy: LandscapeStrategy = "soft",
    resolution: int = 50,
    names: tuple[str, ...] | None = None,
    with_log_loss: bool = True,
) -> Landscape:
    """Accuracy (and soft log loss) over the weight simplex of two or three models.

    Parameters
    ----------
    probas : ndarray of shape (2 or 3, n_samples, n_classes)
    y_true : ndarray of shape (n_samples,), class indices
    strategy : {"soft", "hard", "geometric"}
    resolution : int, steps per unit weight (50 → 1,326 points for three models)
    with_log_loss : bool, also compute soft voting's log loss at every point

    Returns
    -------
    Landscape
    """
    grid = simplex_grid(resolution, probas.shape[0])
    # Threads hand off badly on a shared machine; the blocks are sized for one core.
    with limited("landscape"):
        decisions = _LinearDecisions(_scores(probas, strategy), y_true, atol=_atol(strategy))
        accuracy = decisions.line_accuracy(resolution) if grid.shape[1] == 2 else decisions.triangle_accuracy(resolution)
        ll = _log_loss_grid(probas, y_true, grid) if with_log_loss and _spec(strategy).pools_probabilities else None
    return Landscape(strategy, _names(names, probas.shape[0]), grid, accuracy, ll, resolution)


def weight_sweeps(
    probas: np.ndarray,
    y_true: np.ndarray,
    weights,
    *,
    strategy: LandscapeStrategy = "soft",
    resolution: int = 20,
    names: tuple[str, ...] | None = None,
    with_log_loss: bool = True,
) -> WeightSweeps:
    """Sweep each model's weight from 0 to 1 around the current weights.

    At sweep value ``t`` model ``m`` has weight ``t`` and every other model
    ``(1 - t) * w_j / sum_{k != m} w_k`` (equal shares when the others are all 0), so the
    curve passes through the current point at ``t = w_m``.

    Parameters
    ----------
    probas : ndarray of shape (n_models, n_samples, n_classes), n_models >= 2
    weights : sequence of n_models non-negative numbers (normalised here)

    Returns
    -------
    WeightSweeps
    """
    n_models = probas.shape[0]
    if n_models < 2:
        raise EnsembleInputError(f"a weight sweep needs at least 2 models; got {n_models}")
    current = check_weights(weights, n_models)
    scores = _scores(probas, strategy)
    line = simplex_grid(resolution, 2)
    accuracy = np.empty((n_models, line.shape[0]))
    ll = np.empty_like(accuracy) if with_log_loss and _spec(strategy).pools_probabilities else None
    with limited("landscape"):
        for m in range(n_models):
            rest = np.delete(current, m)
            rest = rest / rest.sum() if rest.sum() > 0 else np.full(n_models - 1, 1.0 / (n_models - 1))
            others = np.delete(np.arange(n_models), m)
            # The others pooled in float64: in float32 a share such as 1/3 is off by ~1e-8,
            # and hard-vote ties on the curve then went the wrong way.
            pair = np.stack([scores[m], np.tensordot(rest, scores[others], axes=1)])
            accuracy[m] = _LinearDecisions(pair, y_true, atol=_atol(strategy)).line_accuracy(resolution)
            if ll is not None:
                pair_p = np.stack([probas[m], np.tensordot(rest, probas[others], axes=1).astype(np.float32)])
                ll[m] = _log_loss_grid(pair_p, y_true, line)
    return WeightSweeps(strategy, _names(names, n_models), current, line[:, 0], accuracy, ll)
