"""The frontier against brute force: EnsembleEvaluator on every subset."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ensemble_core._validation import EnsembleInputError
from ensemble_core.deploy.frontier import cost_accuracy_frontier, row_plan
from ensemble_core.ensemble import EnsembleEvaluator
from ensemble_core.predictions import PredictionSet


def _pset(probas: np.ndarray, y: np.ndarray) -> PredictionSet:
    k = probas.shape[-1]
    names = tuple(f"m{i}" for i in range(probas.shape[0]))
    return PredictionSet(probas.astype(np.float32), y, np.arange(k), names)


def _brute(pset: PredictionSet, weights) -> dict[tuple[str, ...], float]:
    out = {}
    raw = np.ones(pset.n_models) if weights is None else np.asarray(weights, dtype=float)
    for size in range(1, pset.n_models + 1):
        for idx in itertools.combinations(range(pset.n_models), size):
            if raw[list(idx)].sum() == 0:
                continue
            sub = pset.select(list(idx))
            out[sub.names] = EnsembleEvaluator(sub).evaluate("soft", list(raw[list(idx)])).metrics.accuracy
    return out


def _noisy(rng, n_models, n, k, *, sharp=2.0):
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n_models, n, k))
    logits[:, np.arange(n), y] += sharp
    p = np.exp(logits)
    return p / p.sum(-1, keepdims=True), y


@pytest.mark.parametrize("weights", [None, [1, 2, 0.5, 3, 1], [0, 1, 0, 2, 1]], ids=["equal", "uneven", "zeros"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_subset_equals_the_evaluator(seed, weights):
    rng = np.random.default_rng(seed)
    probas, y = _noisy(rng, 5, 300, 4)
    pset = _pset(probas, y)
    frontier = cost_accuracy_frontier(pset, rng.uniform(1, 10, 5), weights)
    brute = _brute(pset, weights)
    got = {p.models: p.accuracy for p in frontier.points}
    assert got == brute
    assert frontier.skipped == (3 if weights == [0, 1, 0, 2, 1] else 0)


def test_exact_ties_and_rows_at_the_tolerance():
    """Hard-label models and mirrored probabilities tie exactly (the first class wins);
    gaps of about DECISION_ATOL sit on the threshold and go the evaluator's float32 way."""
    rng = np.random.default_rng(5)
    n, k = 400, 3
    y = rng.integers(0, k, n)
    onehot = np.eye(k)[rng.integers(0, k, (4, n))]
    mirror = onehot[[1, 0, 3, 2]]
    near = np.full((4, n, k), 1 / k)
    gap = rng.choice([0.0, 0.5e-6, 0.9e-6, 1e-6, 1.1e-6, 2e-6], size=(4, n))
    near[:, :, 0] -= gap / 2  # the first class just under the top: on the threshold itself
    near[:, :, 1] += gap / 2
    probas = np.concatenate([onehot[:2], mirror[:1], near[:2]])
    pset = _pset(probas, y)
    frontier = cost_accuracy_frontier(pset, np.ones(5))
    assert {p.models: p.accuracy for p in frontier.points} == _brute(pset, None)
    assert frontier.n_recomputed > 0  # the near-threshold rows took the float32 road


def test_greedy_path_above_the_limit():
    rng = np.random.default_rng(3)
    probas, y = _noisy(rng, 5, 200, 3)
    pset = _pset(probas, y)
    greedy = cost_accuracy_frontier(pset, np.arange(1, 6), exhaustive_max=3)
    assert greedy.method == "greedy" and len(greedy.points) == 5
    brute = _brute(pset, None)
    first = max(brute[(n,)] for n in pset.names)
    assert greedy.points[0].accuracy == first
    for point in greedy.points:
        assert point.accuracy == brute[point.models]
    assert [len(p.models) for p in greedy.points] == [1, 2, 3, 4, 5]


def test_pareto_front_is_brute_force_non_dominated():
    rng = np.random.default_rng(4)
    probas, y = _noisy(rng, 5, 250, 3, sharp=1.0)
    cost = np.array([1.0, 2.0, 2.0, 5.0, 8.0])
    frontier = cost_accuracy_frontier(_pset(probas, y), cost)
    pts = frontier.points
    for i, p in enumerate(pts):
        dominated = any(
            q.cost <= p.cost and q.accuracy >= p.accuracy
            and (q.cost < p.cost or q.accuracy > p.accuracy or (len(q.models), j) < (len(p.models), i))
            for j, q in enumerate(pts) if j != i
        )
        assert p.pareto == (not dominated), p
    costs = [p.cost for p in frontier.pareto]
    accs = [p.accuracy for p in frontier.pareto]
    assert costs == sorted(costs) and accs == sorted(accs) and len(set(accs)) == len(accs)


def test_row_plan_settles_only_margins_every_model_keeps():
    probas = np.array([
        [[0.9, 0.1, 0.0], [0.6, 0.4, 0.0], [0.5000001, 0.4999999, 0.0], [0.1, 0.3, 0.6], [0.5, 0.2, 0.3]],
        [[0.8, 0.2, 0.0], [0.3, 0.7, 0.0], [0.6, 0.4, 0.0], [0.2, 0.5, 0.3], [0.4, 0.4, 0.2]],
    ])
    plan = row_plan(probas, np.zeros(5, dtype=int))
    assert plan.right.tolist() == [True, False, False, False, False]
    assert plan.wrong.tolist() == [False, False, False, True, False]  # class 1 leads class 0 in both
    assert plan.contenders.tolist()[1:3] == [[False, True, False]] * 2
    assert plan.contenders[4].tolist() == [False, True, False]  # a tie in model 2; class 2 never close


@pytest.mark.parametrize("costs, weights, match", [
    ([1.0], None, "number of costs and models"),
    ([1.0, -1.0], None, "costs must be finite"),
    ([1.0, np.nan], None, "costs must be finite"),
    ([1.0, 1.0], [1.0], "number of weights"),
    ([1.0, 1.0], [-1.0, 1.0], "must be >= 0"),
])
def test_bad_input(costs, weights, match):
    probas, y = _noisy(np.random.default_rng(0), 2, 10, 2)
    with pytest.raises(EnsembleInputError, match=match):
        cost_accuracy_frontier(_pset(probas, y), costs, weights)


@pytest.mark.parametrize("seed", [0, 1])
def test_quantised_probabilities_tie_often(seed):
    """Probabilities in quarters: exact ties in many rows and subsets (the first class wins)."""
    rng = np.random.default_rng(seed)
    n, k = 300, 3
    counts = rng.multinomial(4, [1 / k] * k, size=(4, n))
    pset = _pset(counts / 4.0, rng.integers(0, k, n))
    weights = [1, 1, 2, 0]
    frontier = cost_accuracy_frontier(pset, np.ones(4), weights)
    assert {p.models: p.accuracy for p in frontier.points} == _brute(pset, weights)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n_models=st.integers(1, 4), k=st.integers(2, 4),
       grid=st.sampled_from([0, 2, 4, 7]), zero=st.booleans())
def test_any_small_set_equals_brute_force(seed, n_models, k, grid, zero):
    """Random sets, some on a coarse grid (exact ties), some weights zero: every subset as the evaluator."""
    rng = np.random.default_rng(seed)
    n = 60
    p = rng.dirichlet(np.ones(k), size=(n_models, n))
    if grid:
        p = rng.multinomial(grid, [1 / k] * k, size=(n_models, n)) / grid
    weights = rng.integers(0 if zero else 1, 4, n_models).astype(float)
    if weights.sum() == 0:
        weights[0] = 1.0
    pset = _pset(p, rng.integers(0, k, n))
    frontier = cost_accuracy_frontier(pset, rng.uniform(0, 5, n_models), weights)
    assert {q.models: q.accuracy for q in frontier.points} == _brute(pset, weights)


def test_pricing_the_cached_accuracies_is_the_frontier():
    """frontier_for_costs(subset_accuracies(...)) is cost_accuracy_frontier for any costs (the page
    caches the accuracies by weights and re-prices them when a cost is typed)."""
    from ensemble_core.deploy.frontier import frontier_for_costs, subset_accuracies

    rng = np.random.default_rng(3)
    probas = rng.dirichlet(np.ones(3), size=(5, 80)).astype(np.float32)
    pset = PredictionSet(probas, rng.integers(0, 3, 80), np.arange(3), tuple("abcde"))
    weights = [1.0, 2.0, 0.5, 1.5, 1.0]
    accuracies = subset_accuracies(pset, weights)
    for costs in ([1, 2, 3, 4, 5], [5, 4, 3, 2, 1], [0, 0, 1, 1, 9]):
        assert frontier_for_costs(accuracies, costs) == cost_accuracy_frontier(pset, costs, weights)
