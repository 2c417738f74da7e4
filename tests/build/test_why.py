"""Condorcet's jury theorem, exactly, and the loaded models against independent voters."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ensemble_core import EnsembleInputError
from ensemble_core.build.why import independence_gap, jury_curve, majority_right_probability


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=7))
def test_poisson_binomial_equals_enumerating_every_outcome(ps):
    brute = 0.0
    for outcome in itertools.product([0, 1], repeat=len(ps)):
        if sum(outcome) > len(ps) / 2:
            brute += np.prod([p if o else 1 - p for p, o in zip(ps, outcome)])
    assert majority_right_probability(ps) == pytest.approx(brute, abs=1e-12)


def test_the_jury_theorem_grows_above_and_shrinks_below_one_half():
    up = jury_curve(0.6, [1, 3, 11, 51])
    down = jury_curve(0.4, [1, 3, 11, 51])
    assert up == sorted(up) and up[0] == pytest.approx(0.6) and up[-1] > 0.9
    assert down == sorted(down, reverse=True) and down[-1] < 0.1


def test_identical_models_gain_nothing_and_independent_ones_match_the_theory():
    rng = np.random.default_rng(0)
    same = np.tile(rng.random(20_000) < 0.7, (3, 1))
    gap = independence_gap(same)
    assert gap.actual == pytest.approx(0.7, abs=0.01) and gap.mean_error_correlation == pytest.approx(1.0)
    p = same[0].mean()
    assert gap.independent == pytest.approx(3 * p**2 * (1 - p) + p**3, abs=1e-12)
    assert gap.actual == pytest.approx(p) and gap.actual < gap.independent  # what correlated errors cost
    free = rng.random((3, 200_000)) < 0.7
    gap = independence_gap(free)
    assert gap.actual == pytest.approx(0.784, abs=0.005) and abs(gap.mean_error_correlation) < 0.01


@pytest.mark.parametrize("bad", [[], [0.5, 1.2], [float("nan")]])
def test_bad_accuracies_are_refused(bad):
    with pytest.raises(EnsembleInputError, match="accuracies must be a non-empty list"):
        majority_right_probability(bad)


def test_one_model_is_refused():
    with pytest.raises(EnsembleInputError, match="need at least two models"):
        independence_gap(np.ones((1, 5), bool))


def test_the_mean_and_best_accuracies_are_the_models_own():
    correct = np.array([[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 0, 1]], bool)  # 3/4, 1/4, 3/4 right
    gap = independence_gap(correct)
    assert gap.mean_accuracy == pytest.approx((0.75 + 0.25 + 0.75) / 3) and gap.best_single == 0.75


def test_the_voting_split_prefers_soft_right_then_hard_right_then_surest():
    from ensemble_core.build.why import voting_split

    y = np.array([0, 1, 1, 0, 1, 0])
    hard = np.array([0, 1, 0, 1, 0, 0])  # rows 2, 3, 4 differ from soft
    soft = np.array([0, 1, 1, 0, 1, 0])
    p = np.full((6, 2), 0.5)
    p[[2, 3, 4], soft[[2, 3, 4]]] = [0.6, 0.55, 0.7]
    assert voting_split(y, hard, soft, p) == 4  # all three: soft right; row 4 is surest
    assert voting_split(y, hard, hard, p) is None
    # soft wrong everywhere it differs: the hard vote's right answers come first
    assert voting_split(1 - y, hard, soft, p) == 4
    y2 = np.array([0, 1, 0, 1, 1, 0])  # rows 2 and 3: hard right; row 4: soft right
    assert voting_split(y2, hard, soft, p) == 4
    y3 = np.array([0, 1, 0, 1, 2, 0])  # row 4 now neither right: row 2 (hard right) before it
    assert voting_split(y3, hard, soft, p) == 2
