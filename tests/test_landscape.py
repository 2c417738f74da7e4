"""The weight landscape agrees with EnsembleEvaluator point by point."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ensemble_core import EnsembleEvaluator, EnsembleInputError, PredictionSet
from ensemble_core.landscape import simplex_grid, simplex_landscape, weight_sweeps

from tests.conftest import random_probas


def _pset(n_models: int, n_classes: int, n: int = 1500, seed: int = 0, hard: bool = False) -> PredictionSet:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, size=n)
    p = random_probas(rng, n_models, n, n_classes)
    p[:, np.arange(n), y] += 0.6  # better than chance, so the landscape has structure
    p /= p.sum(axis=2, keepdims=True)
    if hard:
        p = np.eye(n_classes, dtype=np.float32)[p.argmax(axis=2)]
    return PredictionSet(p, y, np.arange(n_classes), tuple(f"m{i}" for i in range(n_models)))


@pytest.mark.parametrize("n_classes", [2, 3, 7], ids=["binary", "3-class", "7-class"])
@pytest.mark.parametrize("strategy", ["soft", "hard", "geometric"])
def test_ternary_values_equal_direct_evaluation(strategy, n_classes):
    pset = _pset(3, n_classes, seed=n_classes)
    ev = EnsembleEvaluator(pset)
    land = simplex_landscape(pset.probas, pset.y_true, strategy=strategy, resolution=20, names=pset.names)
    assert land.weights.shape == (231, 3)
    for g in np.random.default_rng(1).choice(len(land.weights), 25, replace=False).tolist() + [0, 20, 230]:
        direct = ev.evaluate(strategy, land.weights[g])
        assert land.accuracy[g] == pytest.approx(direct.metrics.accuracy, abs=1e-12), land.weights[g]
        if strategy == "soft":
            assert land.log_loss[g] == pytest.approx(direct.metrics.log_loss, rel=1e-5)
    assert (land.log_loss is None) == (strategy != "soft")


def test_hard_label_models_follow_the_hard_vote_tie_rule():
    pset = _pset(3, 3, n=600, hard=True)
    ev = EnsembleEvaluator(pset)
    land = simplex_landscape(pset.probas, pset.y_true, strategy="hard", resolution=10)
    for g, w in enumerate(land.weights):  # every point, ties (e.g. 0.5/0.5) included
        assert land.accuracy[g] == pytest.approx(ev.evaluate("hard", w).metrics.accuracy, abs=1e-12), w


@pytest.mark.parametrize("strategy", ["soft", "geometric"])
def test_two_model_line_equals_direct_evaluation(strategy):
    pset = _pset(2, 4, seed=3)
    ev = EnsembleEvaluator(pset)
    land = simplex_landscape(pset.probas, pset.y_true, strategy=strategy, resolution=40)
    assert np.allclose(land.weights[:, 0], np.arange(41) / 40)
    direct = [ev.evaluate(strategy, w).metrics.accuracy for w in land.weights]
    assert np.allclose(land.accuracy, direct, rtol=0, atol=1e-12)


def test_sweeps_pass_through_the_current_point_and_match_direct_evaluation():
    pset = _pset(5, 3, seed=4)
    ev = EnsembleEvaluator(pset)
    current = np.array([0.1, 0.3, 0.2, 0.4, 0.0])
    sw = weight_sweeps(pset.probas, pset.y_true, current, resolution=10, names=pset.names)
    assert sw.accuracy.shape == (5, 11) and sw.log_loss.shape == (5, 11)
    for m in range(5):
        for j in (0, 3, 10):
            t = sw.grid[j]
            rest = np.delete(current, m)
            w = np.insert((1 - t) * rest / rest.sum(), m, t)
            direct = ev.evaluate("soft", w).metrics
            assert sw.accuracy[m, j] == pytest.approx(direct.accuracy, abs=1e-12)
            assert sw.log_loss[m, j] == pytest.approx(direct.log_loss, rel=1e-5)
    # model 0's sweep at t = 0.1 is the current point itself
    assert sw.accuracy[0, 1] == pytest.approx(ev.evaluate("soft", current).metrics.accuracy)


def test_sweep_when_all_other_weights_are_zero_spreads_them_equally():
    pset = _pset(3, 3, seed=5)
    sw = weight_sweeps(pset.probas, pset.y_true, [1, 0, 0], strategy="hard", resolution=4)
    direct = EnsembleEvaluator(pset).evaluate("hard", [0, 0.5, 0.5]).metrics.accuracy
    assert sw.accuracy[0, 0] == pytest.approx(direct)
    assert sw.log_loss is None


@settings(max_examples=25, deadline=None)
@given(resolution=st.integers(1, 30), n_models=st.sampled_from([2, 3]))
def test_grid_points_lie_on_the_simplex(resolution, n_models):
    g = simplex_grid(resolution, n_models)
    assert np.all(g >= 0) and np.allclose(g.sum(axis=1), 1.0)
    assert len(g) == (resolution + 1 if n_models == 2 else (resolution + 1) * (resolution + 2) // 2)
    assert len(np.unique(np.round(g * resolution).astype(int), axis=0)) == len(g)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda p, y: simplex_landscape(p, y), "needs 2 or 3 models; got 4"),
        (lambda p, y: simplex_landscape(p[:3], y, resolution=0), "resolution must be at least 1"),
        (lambda p, y: simplex_landscape(p[:3], y, strategy="stacking"), "unknown landscape strategy 'stacking'"),
        (lambda p, y: weight_sweeps(p[:1], y, [1]), "at least 2 models; got 1"),
        (lambda p, y: weight_sweeps(p, y, [1, 2]), "got 2 weights, 4 models"),
    ],
    ids=["four-models", "resolution", "strategy", "one-model", "weights"],
)
def test_rejected_inputs(call, match):
    pset = _pset(4, 3, n=50)
    with pytest.raises(EnsembleInputError, match=match):
        call(pset.probas, pset.y_true)


def test_hard_sweeps_keep_exact_ties_where_the_others_share_thirds():
    # Models a and c always agree against b; at (0.25, 0.5, 0.25) every row is a tie, won
    # by class 0. Sweeping a (or c), the others' shares are 2/3 and 1/3.
    labels = np.array([[0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]])
    y = np.zeros(4, dtype=int)
    p = np.eye(2, dtype=np.float32)[labels]
    current = np.array([0.25, 0.5, 0.25])
    direct = EnsembleEvaluator(PredictionSet(p, y, np.arange(2), ("a", "b", "c"))).evaluate("hard", current)
    sw = weight_sweeps(p, y, current, strategy="hard", resolution=4)
    assert direct.metrics.accuracy == 1.0
    assert sw.accuracy[[0, 1, 2], [1, 2, 1]].tolist() == [1.0, 1.0, 1.0]  # each curve at its current weight


@pytest.mark.parametrize("strategy", ["soft", "geometric"])
def test_exact_ties_of_vote_fraction_models_match_the_evaluator(strategy):
    """k-NN and forest probabilities are fractions (here fifths): averaged at grid weights
    they tie exactly in exact arithmetic, and float32 rounding must not decide the winner
    differently in the landscape and in evaluate()."""
    rng = np.random.default_rng(5)
    n, k = 400, 4
    y = rng.integers(0, k, n)
    votes = rng.multinomial(5, np.full(k, 1 / k), size=(3, n)).astype(np.float32)
    votes[:, np.arange(n), y] += rng.integers(0, 3, size=(3, n))
    p = (votes / votes.sum(axis=2, keepdims=True)).astype(np.float32)
    ev = EnsembleEvaluator(PredictionSet(p, y, np.arange(k), ("a", "b", "c")))
    land = simplex_landscape(p, y, strategy=strategy, resolution=12)
    direct = np.array([ev.evaluate(strategy, w).metrics.accuracy for w in land.weights])
    np.testing.assert_allclose(land.accuracy, direct, rtol=0, atol=1e-12)


@pytest.mark.parametrize("strategy", ["soft", "hard", "geometric"])
def test_a_vertex_of_the_landscape_is_the_model_alone_even_on_near_ties(strategy):
    """The landscape decides by the evaluator's rule: at weight (1, 0) it scores model 1 as
    the evaluator does, rows 6e-7 apart included (the tie goes to the first class)."""
    rng = np.random.default_rng(0)
    y = (rng.random(200) < 0.9).astype(int)
    near = np.tile(np.array([0.4999997, 0.5000003], dtype=np.float32), (100, 1))
    clear = np.eye(2, dtype=np.float32)[y[100:]] * 0.8 + 0.1
    first = np.vstack([near, clear])
    second = rng.dirichlet([1, 1], size=200).astype(np.float32)
    probas = np.stack([first, second])
    land = simplex_landscape(probas, y, strategy=strategy, resolution=4, with_log_loss=False)
    alone = EnsembleEvaluator(PredictionSet(probas, y, np.array(["a", "b"]), ("m1", "m2"))).model_metrics_["m1"]
    assert land.accuracy[np.flatnonzero(land.weights[:, 0] == 1.0)[0]] == alone.accuracy
