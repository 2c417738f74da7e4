"""The cost–accuracy frontier: every subset of the models, its soft-vote accuracy and its
cost; the Pareto front of the cheapest subsets for each accuracy.

A subset's accuracy is exactly ``EnsembleEvaluator(pset.select(subset)).evaluate("soft",
weights[subset]).metrics.accuracy`` (the user's weights renormalised over the subset;
classes decided by :func:`~ensemble_core.decision.decide`), computed for all subsets at once:

* **Settled rows** (:func:`row_plan`). A weighted mean keeps any margin every model has:
  where every model puts the true class above all others by more than ``DECISION_ATOL +``
  :data:`SETTLED_SLACK`, every subset is right; where one class beats the true class so in
  every model, every subset is wrong. Such rows are counted once; on the others only the
  classes that come that close to the true class in some model (its *contenders*) matter.
* **Shared sums.** The open rows are walked in a depth-first order over the subsets, each
  subset's gaps (each contender's weighted probability minus the true class's, float32,
  class-major, rows grouped by their number of contenders) being its parent's plus one
  model's — one addition per subset — and the largest gap per row settles most rows.
* **The decision** on rows near a tie: in float64 the first class within ``atol · W`` of
  the row's maximum (``W`` the subset's weight total: the sums are not renormalised). Where a class lies within
  :data:`AMBIGUITY_BAND` (normalised) of that threshold, float32 rounding could decide
  otherwise: those few rows are recomputed as the evaluator computes them (float32
  :func:`~ensemble_core.combine.soft_vote` over the same models and renormalised weights,
  then :func:`~ensemble_core.decision.decide`). Exact ties (a gap of 0) are a full ``atol``
  away from the threshold and need no recomputation.

Above :data:`EXHAUSTIVE_MAX_MODELS` models the frontier is a greedy forward path: start from
nothing and add, at each step, the model that gives the best accuracy (ties: the cheaper,
then the earlier model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._threads import limited
from .._validation import EnsembleInputError, check_weights
from ..combine import soft_vote
from ..decision import DECISION_ATOL, decide
from ..predictions import PredictionSet

#: Up to this many models every subset is evaluated (4,095 subsets); above, a greedy path.
EXHAUSTIVE_MAX_MODELS = 12
#: A margin counts for every subset when it exceeds ``DECISION_ATOL`` plus this: above the
#: band plus twice the float32 rounding of the gaps' sums up to some 400 models.
SETTLED_SLACK = 1e-4
#: A float64 score within this (normalised) of the decision threshold could be decided
#: otherwise by the evaluator's float32 sum; such rows are recomputed its way. Below half
#: of ``DECISION_ATOL``, so that exact ties (a full ``atol`` above the threshold) are never
#: recomputed; above twice the float32 rounding error of a weighted sum of a dozen
#: probabilities seen in practice (a few 1e-8).
AMBIGUITY_BAND = 2.5e-7


@dataclass(frozen=True)
class FrontierPoint:
    """One subset of the models.

    Attributes
    ----------
    models : the subset's model names, in the prediction set's order
    accuracy : its soft-vote accuracy
    cost : the sum of its models' costs (ms per 1,000 examples)
    pareto : whether no other subset is at least as accurate for no more cost (ties in both:
        the one with fewer models, then the first enumerated, is on the front)
    """

    models: tuple[str, ...]
    accuracy: float
    cost: float
    pareto: bool = False

    def to_dict(self) -> dict:
        return {"models": list(self.models), "accuracy": self.accuracy, "cost": self.cost, "pareto": self.pareto}


@dataclass(frozen=True)
class Frontier:
    """Every evaluated subset, and how.

    Attributes
    ----------
    points : every evaluated subset (all, or the greedy path's), in enumeration order
    method : ``"exhaustive"`` or ``"greedy"``
    n_settled : rows decided once for every subset
    n_recomputed : row-subset pairs recomputed in float32 (near the decision threshold)
    skipped : subsets whose weights are all zero (no soft vote exists)
    """

    points: tuple[FrontierPoint, ...]
    method: str
    n_settled: int
    n_recomputed: int
    skipped: int = 0

    @property
    def pareto(self) -> tuple[FrontierPoint, ...]:
        """The Pareto front, cheapest first."""
        return tuple(sorted((p for p in self.points if p.pareto), key=lambda p: p.cost))

    def to_dict(self) -> dict:
        return {"method": self.method, "n_settled": self.n_settled, "n_recomputed": self.n_recomputed,
                "skipped": self.skipped, "points": [p.to_dict() for p in self.points],
                "pareto": [p.to_dict() for p in self.pareto]}


@dataclass(frozen=True, eq=False)
class RowPlan:
    """What each row needs, found once for every subset.

    Attributes
    ----------
    right : ndarray of shape (n_samples,), bool
        Every model puts the true class above every other by more than ``atol + slack``:
        every subset is right.
    wrong : ndarray of shape (n_samples,), bool
        Some class beats the true class by more than ``atol + slack`` in every model: the
        true class is never within ``atol`` of the top, every subset is wrong.
    contenders : ndarray of shape (n_samples, n_classes), bool
        The classes that come within ``atol + slack`` below the true class (or above it) in
        some model; no subset's decision about the true class depends on the others.
    """

    right: np.ndarray
    wrong: np.ndarray
    contenders: np.ndarray


def row_plan(probas: np.ndarray, y_true: np.ndarray, *, slack: float = SETTLED_SLACK) -> RowPlan:
    """Which rows every subset decides alike, and which classes matter on the others.

    A weighted mean keeps any margin that every model has, so a class more than ``atol +
    slack`` below the true class in every model stays so in every subset.

    Parameters
    ----------
    probas : ndarray of shape (n_models, n_samples, n_classes)
    y_true : ndarray of shape (n_samples,), int

    Examples
    --------
    >>> probas = np.array([[[0.9, 0.1, 0.0], [0.6, 0.4, 0.0], [0.2, 0.8, 0.0]],
    ...                    [[0.8, 0.2, 0.0], [0.3, 0.7, 0.0], [0.1, 0.9, 0.0]]])
    >>> plan = row_plan(probas, np.array([0, 0, 0]))
    >>> plan.right.tolist(), plan.wrong.tolist(), plan.contenders[1].tolist()
    ([True, False, False], [False, False, True], [False, True, False])
    """
    n = probas.shape[1]
    p_true = probas[:, np.arange(n), y_true][..., None]
    gap = probas - p_true  # (models, rows, classes): each class's lead over the true one
    hi, lo = gap.max(axis=0), gap.min(axis=0)
    hi[np.arange(n), y_true] = -np.inf
    lo[np.arange(n), y_true] = -np.inf
    margin = DECISION_ATOL + slack
    contenders = hi >= -margin
    wrong = (lo > margin).any(axis=1)
    right = ~contenders.any(axis=1)
    return RowPlan(right, wrong, contenders & ~(right | wrong)[:, None])


class _SubsetScorer:
    """Counts a subset's correct rows among the rows the plan leaves open.

    Walked per subset: ``gaps`` (models × cells, float32), for each open row each contending
    class's weighted probability minus the true class's. Rows are grouped by their number of
    contenders ``k``, each group a (k × rows) class-major block of the cells, so a subset's
    gaps are its parent's plus one model's (one addition over all cells) and a row's largest
    gap is one reduction per group. The largest gap says whether the true class clearly wins
    (below ``-(atol·W + band + rounding)``), clearly loses (above ``atol·W + band +
    rounding``: it is not within ``atol`` of the top) or is near a tie; only near-tie rows
    are decided in full, from float64 sums (:meth:`_near_hits`)."""

    def __init__(self, pset: PredictionSet, raw_weights: np.ndarray, plan: RowPlan):
        self.pset, self.raw = pset, raw_weights
        self.w = check_weights(raw_weights, pset.n_models)
        open_rows = np.flatnonzero(~(plan.right | plan.wrong))
        counts = plan.contenders[open_rows].sum(axis=1)
        order = np.argsort(counts, kind="stable")
        self.rows = open_rows[order]  # open rows, grouped by their number of contenders
        counts = counts[order]
        self.groups: list[tuple[int, int, int, int]] = []  # (k, first row, rows, first cell)
        # float32 gaps, each the float64 product of a float32 lead and a weight, rounded once,
        # written in place block by block (no float64 copy of them all).
        self.gaps = np.empty((pset.n_models, int(counts.sum())), dtype=np.float32)
        w = self.w[:, None, None]
        cell = 0
        y = pset.y_true
        for k in np.unique(counts):
            first, stop = np.searchsorted(counts, k), np.searchsorted(counts, k, side="right")
            rows = self.rows[first:stop]
            classes = np.nonzero(plan.contenders[rows])[1].reshape(rows.size, k)
            p = pset.probas[:, rows]  # (models, rows, classes)
            lead = np.take_along_axis(p, classes[None], axis=2) - p[:, np.arange(rows.size), y[rows]][..., None]
            block = self.gaps[:, cell: cell + int(k) * rows.size].reshape(pset.n_models, int(k), rows.size)
            np.multiply(lead, w, out=block.transpose(0, 2, 1), casting="same_kind")
            self.groups.append((int(k), int(first), int(rows.size), cell))
            cell += int(k) * rows.size
        self._worst = np.empty(self.rows.size, dtype=np.float32)
        self.recomputed = 0

    def correct(self, gaps: np.ndarray, total: float, members: Sequence[int]) -> int:
        """How many open rows the subset ``members`` (weight total ``total``, summed
        ``gaps``) classifies correctly."""
        if self.rows.size == 0:
            return 0
        worst = self._worst
        for k, first, m, cell in self.groups:
            np.maximum.reduce(gaps[cell: cell + k * m].reshape(k, m), axis=0, out=worst[first: first + m])
        # The float32 sum of k gaps is within k·2⁻²⁴·W of the exact one (each |gap| ≤ its weight).
        rounding = 2.0 * (len(members) + 1) * 2.0**-24 * total
        edge = np.float32(DECISION_ATOL * total + AMBIGUITY_BAND * total + rounding)
        wins = int(np.count_nonzero(worst < -edge))
        if int(np.count_nonzero(worst <= edge)) == wins:  # no row near a tie (the usual case): one pass
            return wins
        near = np.flatnonzero(np.abs(worst) <= edge)
        return wins + self._near_hits(self.rows[near], total, members)

    def _near_hits(self, rows: np.ndarray, total: float, members: Sequence[int]) -> int:
        """Near-tie rows decided by the rule itself: in float64, the first class within
        ``atol·W`` of the top; where a class lies within the band of that threshold, the
        evaluator's own float32 soft vote (see the module docstring)."""
        idx = list(members)
        sums = np.zeros((rows.size, self.pset.n_classes))
        for j in idx:
            sums += self.w[j] * self.pset.probas[j, rows].astype(np.float64)
        band = AMBIGUITY_BAND * total
        level_low = sums.max(axis=1) - DECISION_ATOL * total - band
        index = (sums >= level_low[:, None]).argmax(axis=1)
        sure = sums[np.arange(rows.size), index] >= level_low + 2 * band
        y = self.pset.y_true
        hits = int(np.count_nonzero(sure & (index == y[rows])))
        unsure = rows[~sure]
        if unsure.size:
            self.recomputed += unsure.size
            # Rows first, then models: indexing the models first would copy every row of them.
            probas = np.ascontiguousarray(self.pset.probas[:, unsure][idx])
            scores = soft_vote(probas, check_weights(self.raw[idx], len(idx)))
            hits += int(np.count_nonzero(decide(scores) == y[unsure]))
        return hits


@dataclass(frozen=True)
class SubsetAccuracies:
    """Every subset's soft-vote accuracy, which does not depend on the costs: computed once per
    set of weights, then priced by :func:`frontier_for_costs` for any costs in milliseconds.

    Attributes
    ----------
    names : the models' names
    members : per subset, its models' indices (enumeration order)
    accuracy : per subset, its soft-vote accuracy
    n_settled, n_recomputed, skipped : as :class:`Frontier`'s
    """

    names: tuple[str, ...]
    members: tuple[tuple[int, ...], ...]
    accuracy: tuple[float, ...]
    n_settled: int
    n_recomputed: int
    skipped: int


def _checked(pset: PredictionSet, weights) -> np.ndarray:
    check_weights(weights, pset.n_models)  # refuses a wrong count, negative or non-finite weights
    return np.ones(pset.n_models) if weights is None else np.asarray(weights, dtype=np.float64)


def _checked_costs(costs: Sequence[float], n_models: int) -> np.ndarray:
    cost = np.asarray(costs, dtype=np.float64)
    if cost.shape != (n_models,):
        raise EnsembleInputError(f"number of costs and models must be equal; got {cost.size} costs, {n_models} models")
    if not np.all(np.isfinite(cost)) or np.any(cost < 0):
        raise EnsembleInputError(f"costs must be finite and >= 0; got {cost.tolist()}")
    return cost


def subset_accuracies(pset: PredictionSet, weights=None) -> SubsetAccuracies:
    """Every subset's soft-vote accuracy (the user's ``weights`` renormalised over each subset):
    ``2ⁿ − 1`` of them, so meant for up to :data:`EXHAUSTIVE_MAX_MODELS` models (above, the
    frontier is a greedy path, which depends on the costs: :func:`cost_accuracy_frontier`).

    Raises
    ------
    EnsembleInputError
        On bad weights.

    Examples
    --------
    >>> probas = np.array([[[0.9, 0.1], [0.4, 0.6]], [[0.2, 0.8], [0.3, 0.7]]], dtype=np.float32)
    >>> pset = PredictionSet(probas, np.array([0, 1]), np.array(["a", "b"]), ("m1", "m2"))
    >>> subset_accuracies(pset).accuracy
    (1.0, 1.0, 0.5)
    """
    raw = _checked(pset, weights)
    plan = row_plan(pset.probas, pset.y_true)
    settled_hits = int(np.count_nonzero(plan.right))
    scorer = _SubsetScorer(pset, raw, plan)
    found: list[tuple[tuple[int, ...], int]] = []
    # One block around the walk: each near-tie recomputation's soft vote opens its own, which
    # then changes nothing (a block that sets the threads hops to the BLAS thread: 0.9 s of
    # 3.6 s for 27 recomputations at load 17).
    with limited("reweight"):
        skipped = _walk_all(scorer, found)
    n = pset.n_samples
    return SubsetAccuracies(tuple(pset.names), tuple(m for m, _ in found),
                            tuple((settled_hits + hits) / n for _, hits in found),
                            int(np.count_nonzero(plan.right | plan.wrong)), scorer.recomputed, skipped)


def frontier_for_costs(accuracies: SubsetAccuracies, costs: Sequence[float]) -> Frontier:
    """The exhaustive frontier of ``accuracies`` priced with ``costs`` (one per model, ms per 1,000
    examples): each subset's total cost and the Pareto front. Milliseconds for 4,095 subsets.

    Examples
    --------
    >>> probas = np.array([[[0.9, 0.1], [0.4, 0.6]], [[0.2, 0.8], [0.3, 0.7]]], dtype=np.float32)
    >>> pset = PredictionSet(probas, np.array([0, 1]), np.array(["a", "b"]), ("m1", "m2"))
    >>> acc = subset_accuracies(pset)
    >>> [p.models for p in frontier_for_costs(acc, [1.0, 5.0]).pareto]
    [('m1',)]
    >>> [p.models for p in frontier_for_costs(acc, [5.0, 1.0]).pareto]
    [('m2',), ('m1',)]
    """
    cost = _checked_costs(costs, len(accuracies.names))
    points = [(members, acc, float(cost[list(members)].sum()))
              for members, acc in zip(accuracies.members, accuracies.accuracy)]
    return _frontier(points, accuracies.names, "exhaustive", accuracies.n_settled, accuracies.n_recomputed,
                     accuracies.skipped)


def _frontier(points, names, method, n_settled, n_recomputed, skipped) -> Frontier:
    on_front = _pareto(points)
    return Frontier(
        points=tuple(FrontierPoint(tuple(names[j] for j in members), acc, c, front)
                     for (members, acc, c), front in zip(points, on_front)),
        method=method, n_settled=n_settled, n_recomputed=n_recomputed, skipped=skipped,
    )


def cost_accuracy_frontier(
    pset: PredictionSet,
    costs: Sequence[float],
    weights=None,
    *,
    exhaustive_max: int = EXHAUSTIVE_MAX_MODELS,
) -> Frontier:
    """Soft-vote accuracy against total cost for every subset of the models (a greedy
    forward path above ``exhaustive_max`` models), with the Pareto front.

    Parameters
    ----------
    pset : the models' predictions on labelled rows
    costs : one non-negative cost per model (ms per 1,000 examples), in ``pset.names`` order
    weights : the user's weights, one per model (None: equal); each subset uses its own,
        renormalised
    exhaustive_max : every subset up to this many models

    Returns
    -------
    Frontier

    Examples
    --------
    >>> probas = np.array([[[0.9, 0.1], [0.4, 0.6]], [[0.2, 0.8], [0.3, 0.7]]], dtype=np.float32)
    >>> pset = PredictionSet(probas, np.array([0, 1]), np.array(["a", "b"]), ("m1", "m2"))
    >>> f = cost_accuracy_frontier(pset, [1.0, 5.0])
    >>> [(p.models, p.accuracy, p.pareto) for p in f.points]
    [(('m1',), 1.0, True), (('m1', 'm2'), 1.0, False), (('m2',), 0.5, False)]
    """
    raw = _checked(pset, weights)
    cost = _checked_costs(costs, pset.n_models)
    if pset.n_models <= exhaustive_max:
        return frontier_for_costs(subset_accuracies(pset, weights), cost)
    plan = row_plan(pset.probas, pset.y_true)
    settled_hits = int(np.count_nonzero(plan.right))
    scorer = _SubsetScorer(pset, raw, plan)
    found: list[tuple[tuple[int, ...], int]] = []
    with limited("reweight"):  # as in subset_accuracies
        _walk_greedy(scorer, cost, found)
    n = pset.n_samples
    points = [(members, (settled_hits + hits) / n, float(cost[list(members)].sum())) for members, hits in found]
    return _frontier(points, pset.names, "greedy", int(np.count_nonzero(plan.right | plan.wrong)),
                     scorer.recomputed, 0)


def _walk_all(scorer: _SubsetScorer, found: list) -> int:
    """Depth first over every subset: each subset's sums are its parent's plus one model's
    weighted probabilities (one buffer per depth). Returns the subsets skipped."""
    parts, w = scorer.gaps, scorer.w
    n_models = parts.shape[0]
    stack = np.empty((n_models,) + parts.shape[1:], dtype=parts.dtype)
    skipped = 0
    members: list[int] = []

    def visit(start: int, depth: int, total: float) -> None:
        nonlocal skipped
        for j in range(start, n_models):
            if depth == 0:
                np.copyto(stack[0], parts[j])
            else:
                np.add(stack[depth - 1], parts[j], out=stack[depth])
            members.append(j)
            t = total + w[j]
            if t > 0:
                found.append((tuple(members), scorer.correct(stack[depth], t, members)))
            else:
                skipped += 1
            visit(j + 1, depth + 1, t)
            members.pop()

    visit(0, 0, 0.0)
    return skipped


def _walk_greedy(scorer: _SubsetScorer, cost: np.ndarray, found: list) -> None:
    """Forward selection: add the model giving the most correct rows (ties: cheaper, earlier)."""
    parts, w = scorer.gaps, scorer.w
    sums = np.zeros(parts.shape[1:], dtype=parts.dtype)
    trial = np.empty_like(sums)
    members: list[int] = []
    total = 0.0
    left = list(range(parts.shape[0]))
    while left:
        best = None
        for j in left:
            if total + w[j] <= 0:
                continue
            np.add(sums, parts[j], out=trial)
            hits = scorer.correct(trial, total + w[j], sorted(members + [j]))
            key = (-hits, cost[j], j)
            if best is None or key < best[0]:
                best = (key, j, hits)
        if best is None:  # only zero-weight models are left: they change no vote
            break
        _, j, hits = best
        sums += parts[j]
        total += w[j]
        members.append(j)
        left.remove(j)
        found.append((tuple(sorted(members)), hits))


def _pareto(points: list[tuple[tuple[int, ...], float, float]]) -> list[bool]:
    """Whether each (members, accuracy, cost) is on the Pareto front: cheapest first, a point
    is on it when it is more accurate than every point no dearer (equal cost and accuracy: the
    smaller subset, then the first)."""
    order = sorted(range(len(points)), key=lambda i: (points[i][2], -points[i][1], len(points[i][0]), i))
    front = [False] * len(points)
    best = -np.inf
    for i in order:
        if points[i][1] > best:
            front[i] = True
            best = points[i][1]
    return front
