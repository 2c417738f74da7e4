"""decide(): one rule for the top class, and every path that picks a class agrees with it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ensemble_core import EnsembleEvaluator, PredictionSet, suggest_weights
from ensemble_core.combine import ClassMajorBlock, RowMajorBlock, hard_vote, model_labels
from ensemble_core.decision import DECISION_ATOL, LOG_POOL_ATOL, decide


def _reference(scores: np.ndarray, atol: float) -> np.ndarray:
    """The rule written out row by row in plain Python: the first class within atol of the top."""
    out = []
    for row in scores.reshape(-1, scores.shape[-1]):
        level = row.max() - row.dtype.type(atol)
        out.append(next(c for c, v in enumerate(row) if v >= level))
    return np.array(out).reshape(scores.shape[:-1])


@pytest.mark.parametrize(
    "row, expected",
    [
        ([0.2, 0.4, 0.4], 1),  # an exact tie goes to the first class
        ([0.5, 0.5, 0.0], 0),
        ([0.1, 0.2, 0.7], 2),
        ([0.4999997, 0.5000003], 0),  # 6e-7 apart: a tie
        ([0.499999, 0.500001], 1),  # 2e-6 apart: not a tie
        ([0.3, 0.3 + 1e-6, 0.4 - 1e-6], 2),
    ],
    ids=["exact-tie", "exact-tie-first", "clear", "near-tie", "beyond-tolerance", "three-way"],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_decide_by_hand(row, expected, dtype):
    assert decide(np.array([row], dtype=dtype))[0] == expected


@settings(max_examples=200, deadline=None)
@given(
    scores=st.integers(1, 12).flatmap(
        lambda k: arrays(
            st.sampled_from([np.float32, np.float64]),
            st.tuples(st.integers(1, 20), st.just(k)),
            # few distinct levels plus offsets around the tolerance: exact and near ties
            elements=st.sampled_from([0.0, 0.25, 0.5, 0.5 + 5e-7, 0.5 + 1e-6, 0.5 + 2e-6, 0.75, 1.0]),
        )
    ),
    atol=st.sampled_from([DECISION_ATOL, LOG_POOL_ATOL, 0.0, 0.3]),
)
def test_decide_equals_the_rule_written_out(scores, atol):
    np.testing.assert_array_equal(decide(scores, atol=atol), _reference(scores, atol))


def test_decide_takes_the_last_axis_of_any_shape():
    p = np.array([[[0.2, 0.8], [0.5, 0.5]], [[0.6, 0.4], [0.4999999, 0.5]]], dtype=np.float32)
    np.testing.assert_array_equal(decide(p), [[1, 0], [0, 0]])


@pytest.mark.parametrize("layout", [ClassMajorBlock, RowMajorBlock], ids=["class-major", "row-major"])
@settings(max_examples=80, deadline=None)
@given(
    n_classes=st.sampled_from([2, 3, 10, 40]),
    n_rows=st.integers(1, 30),
    seed=st.integers(0, 2**32 - 1),
    atol=st.sampled_from([DECISION_ATOL, LOG_POOL_ATOL]),
)
def test_the_block_fast_paths_equal_decide_on_float32(layout, n_classes, n_rows, seed, atol):
    rng = np.random.default_rng(seed)
    base = rng.choice([0.1, 0.3, 0.5], size=(n_rows, n_classes))
    scores = (base + rng.choice([0.0, 5e-7, 9.9e-7, 1e-6, 1.01e-6, 3e-6], size=base.shape)).astype(np.float32)
    block = layout(n_classes, n_rows + 3)
    block.load(scores.copy())
    np.testing.assert_array_equal(block.top_class(n_rows, atol=atol), decide(scores, atol=atol))


@settings(max_examples=80, deadline=None)
@given(
    n_models=st.integers(1, 5),
    n_classes=st.integers(2, 5),
    n_rows=st.integers(1, 30),
    seed=st.integers(0, 2**32 - 1),
)
def test_hard_vote_is_decide_on_the_vote_shares(n_models, n_classes, n_rows, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, size=(n_models, n_rows))
    w = rng.choice([0.1, 0.2, 0.3], size=n_models)
    w = w / w.sum()
    pred, shares = hard_vote(labels, w, n_classes)
    np.testing.assert_array_equal(pred, _reference(shares, DECISION_ATOL))


def _near_tie_set() -> PredictionSet:
    """The issue's case: one model, every row [0.4999997, 0.5000003], 90 % of labels class 1."""
    n = 100
    y = np.r_[np.zeros(10, dtype=int), np.ones(90, dtype=int)]
    p = np.tile(np.array([0.4999997, 0.5000003], dtype=np.float32), (1, n, 1))
    return PredictionSet(p, y, np.array(["a", "b"]), ("m",))


def test_a_model_alone_its_one_model_ensembles_and_the_suggestion_baseline_agree():
    """Regression (issue 11): the model alone scored 0.9, a soft "ensemble" of it 0.1 (gain -0.8,
    90 breaks), and the weight suggestion's uniform baseline 0.9."""
    pset = _near_tie_set()
    ev = EnsembleEvaluator(pset)
    alone = ev.model_metrics_["m"].accuracy
    np.testing.assert_array_equal(ev.labels_[0], decide(pset.probas[0]))
    for strategy in ("soft", "hard", "geometric"):
        result = ev.evaluate(strategy)
        assert result.metrics.accuracy == alone, strategy
        assert (result.gain, result.breaks) == (0.0, 0), strategy
    assert suggest_weights(pset, "logloss", folds=2).uniform.accuracy == alone


def test_model_labels_are_decide_per_model():
    rng = np.random.default_rng(0)
    p = rng.choice([0.25, 0.5, 0.5 + 5e-7], size=(3, 50, 4)).astype(np.float32)
    np.testing.assert_array_equal(model_labels(p), np.stack([decide(m) for m in p]))
