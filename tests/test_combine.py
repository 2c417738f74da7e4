"""Strategies against scikit-learn's VotingClassifier, plus invariants under hypothesis."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.ensemble import VotingClassifier
from sklearn.frozen import FrozenEstimator

from ensemble_core import EnsembleEvaluator, PredictionSet, check_weights, geometric_vote, hard_vote, soft_vote
from ensemble_core.combine import log_probas, model_labels
from ensemble_core.decision import decide

DATASETS = ["iris", "wine-strings", "breast_cancer", "digits"]


def _pset_from_models(models, X, y):
    classes = np.unique(y)
    probas = np.stack([m.predict_proba(X) for m in models]).astype(np.float32)
    y_idx = np.searchsorted(classes, y)
    return PredictionSet(probas, y_idx, classes, tuple(f"m{i}" for i in range(len(models))))


# VotingClassifier's hard vote bincounts the estimators' raw predictions, so frozen
# estimators must predict integer labels there; string labels are covered by soft voting.
@pytest.mark.parametrize(
    "dataset, voting",
    [(d, "soft") for d in DATASETS] + [(d, "hard") for d in DATASETS if d != "wine-strings"],
)
def test_matches_sklearn_voting_classifier(fitted_models, dataset, voting):
    models, X, y = fitted_models[dataset]
    pset = _pset_from_models(models, X, y)
    ev = EnsembleEvaluator(pset)
    rng = np.random.default_rng(hash((dataset, voting)) % 2**32)
    for _ in range(5):
        weights = rng.uniform(0.05, 3.0, size=len(models))
        ref = VotingClassifier(
            [(f"m{i}", FrozenEstimator(m)) for i, m in enumerate(models)], voting=voting, weights=weights
        ).fit(X, y)
        result = ev.evaluate(voting, weights)
        np.testing.assert_array_equal(pset.classes[result.y_pred], ref.predict(X))
        if voting == "soft":
            np.testing.assert_allclose(result.probas, ref.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_hard_vote_ties_go_to_the_class_that_sorts_first():
    # Two models, equal weight: sample 0 splits 1 vs 0 (0 wins), sample 1 splits 2 vs 1 (1 wins).
    y, shares = hard_vote(np.array([[1, 2], [0, 1]]), np.array([0.5, 0.5]), 3)
    np.testing.assert_array_equal(y, [0, 1])
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)


def test_hard_vote_tie_is_independent_of_float_summation_order():
    # 0.1 + 0.2 != 0.3 in floating point; the tie rule must still see a tie.
    labels = np.array([[1], [1], [0]])
    w = np.array([0.1, 0.2, 0.3]) / 0.6
    assert hard_vote(labels, w, 2)[0][0] == 0
    assert hard_vote(labels[::-1], w[::-1], 2)[0][0] == 0


def test_geometric_vote_is_the_normalised_weighted_product():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), size=(3, 50)).astype(np.float32)
    w = np.array([0.5, 0.3, 0.2])
    got = geometric_vote(log_probas(p), w)
    expected = np.prod(np.clip(p, 1e-7, 1).astype(np.float64) ** w[:, None, None], axis=0)
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)


def test_geometric_vote_with_zero_probability_stays_finite():
    p = np.array([[[1.0, 0.0]], [[0.0, 1.0]]], dtype=np.float32)
    got = geometric_vote(log_probas(p), np.array([0.5, 0.5]))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, [[0.5, 0.5]], atol=1e-6)


def test_hard_label_model_enters_soft_vote_as_one_hot():
    soft = np.array([[[0.6, 0.4], [0.3, 0.7]]], dtype=np.float32)
    hard_onehot = np.array([[[0.0, 1.0], [0.0, 1.0]]], dtype=np.float32)
    p = np.concatenate([soft, hard_onehot])
    np.testing.assert_allclose(soft_vote(p, np.array([0.5, 0.5])), [[0.3, 0.7], [0.15, 0.85]], atol=1e-6)


# --- invariants -------------------------------------------------------------------------

@st.composite
def prediction_problems(draw):
    n_models = draw(st.integers(1, 5))
    n_samples = draw(st.integers(1, 30))
    n_classes = draw(st.integers(2, 5))
    raw = draw(
        arrays(np.float64, (n_models, n_samples, n_classes), elements=st.floats(0.001, 1.0))
    )
    probas = (raw / raw.sum(axis=2, keepdims=True)).astype(np.float32)
    y = draw(arrays(np.int64, n_samples, elements=st.integers(0, n_classes - 1)))
    # Subnormal weights (5e-324) underflow to 0 when scaled: a different, all-zero input.
    weights = draw(arrays(np.float64, n_models, elements=st.floats(0.0, 10.0, allow_subnormal=False)))
    if weights.sum() <= 0:
        weights[0] = 1.0
    return PredictionSet(probas, y, np.arange(n_classes), tuple(f"m{i}" for i in range(n_models))), weights


def _clear_margin(probas: np.ndarray, tol: float = 1e-4) -> np.ndarray:
    """Rows whose top two entries differ by more than tol (argmax is numerically stable)."""
    top2 = np.sort(probas, axis=1)[:, -2:]
    return (top2[:, 1] - top2[:, 0]) > tol


@pytest.mark.parametrize("strategy", ["hard", "soft", "geometric"])
@settings(max_examples=60, deadline=None)
@given(problem=prediction_problems(), data=st.data())
def test_reordering_models_with_their_weights_changes_nothing(strategy, problem, data):
    pset, w = problem
    perm = data.draw(st.permutations(range(pset.n_models)))
    a = EnsembleEvaluator(pset).evaluate(strategy, w)
    b = EnsembleEvaluator(pset.select(list(perm))).evaluate(strategy, w[list(perm)])
    np.testing.assert_allclose(a.probas, b.probas, atol=1e-5)
    stable = _clear_margin(a.probas)
    np.testing.assert_array_equal(a.y_pred[stable], b.y_pred[stable])


@pytest.mark.parametrize("strategy", ["hard", "soft", "geometric"])
@settings(max_examples=60, deadline=None)
@given(problem=prediction_problems(), scale=st.floats(1e-3, 1e3))
def test_scaling_all_weights_changes_nothing(strategy, problem, scale):
    pset, w = problem
    ev = EnsembleEvaluator(pset)
    a, b = ev.evaluate(strategy, w), ev.evaluate(strategy, w * scale)
    np.testing.assert_allclose(a.probas, b.probas, atol=1e-5)
    stable = _clear_margin(a.probas)
    np.testing.assert_array_equal(a.y_pred[stable], b.y_pred[stable])


@pytest.mark.parametrize("strategy", ["hard", "soft", "geometric"])
@settings(max_examples=60, deadline=None)
@given(problem=prediction_problems(), data=st.data())
def test_one_model_with_all_the_weight_reproduces_that_model(strategy, problem, data):
    pset, _ = problem
    m = data.draw(st.integers(0, pset.n_models - 1))
    w = np.zeros(pset.n_models)
    w[m] = 1.0
    result = EnsembleEvaluator(pset).evaluate(strategy, w)
    own = pset.probas[m]
    if strategy == "geometric":  # decided on clipped log-probabilities: near-ties may differ
        stable = _clear_margin(own)
        np.testing.assert_array_equal(result.y_pred[stable], model_labels(own[None])[0][stable])
    else:  # the same decision rule on the same numbers: every row, ties included
        np.testing.assert_array_equal(result.y_pred, model_labels(own[None])[0])
    if strategy == "soft":
        np.testing.assert_allclose(result.probas, own, atol=1e-6)
    if strategy == "geometric":
        np.testing.assert_allclose(result.probas, own, atol=1e-5)


@pytest.mark.parametrize("strategy", ["hard", "soft", "geometric"])
@settings(max_examples=60, deadline=None)
@given(problem=prediction_problems())
def test_ensemble_probabilities_are_a_distribution(strategy, problem):
    pset, w = problem
    result = EnsembleEvaluator(pset).evaluate(strategy, w)
    assert np.all(result.probas >= 0)
    np.testing.assert_allclose(result.probas.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    "weights, match",
    [
        ([1, 2], "got 2 weights, 3 models"),
        ([1, -1, 1], "weight 2 is -1"),
        ([0, 0, 0], "all weights are 0"),
        ([1, float("nan"), 1], "must be finite"),
    ],
    ids=["wrong-count", "negative", "all-zero", "nan"],
)
def test_bad_weights_are_rejected(weights, match):
    with pytest.raises(ValueError, match=match):
        check_weights(weights, 3)


def test_model_labels_is_decide():
    p = np.array([[[0.2, 0.8], [0.9, 0.1], [0.4999997, 0.5000003]]], dtype=np.float32)
    np.testing.assert_array_equal(model_labels(p), [[1, 0, 0]])


@pytest.mark.parametrize("layout", ["class-major", "row-major"])
@settings(max_examples=60, deadline=None)
@given(
    n_classes=st.sampled_from([1, 2, 3, 10, 130]),
    n_rows=st.integers(1, 40),
    spare=st.integers(0, 5),
    levels=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_output_blocks_decide_and_score_like_the_row_wise_functions(layout, n_classes, n_rows, spare, levels, seed):
    """The evaluator's block pass gives exactly decide's labels (ties included: few
    distinct values make many, and offsets around the tolerance make near-ties) and the
    row-wise statistics, also in a partly filled block."""
    from ensemble_core.combine import ClassMajorBlock, RowMajorBlock, normalise_log_pool

    rng = np.random.default_rng(seed)
    scores = (rng.integers(0, levels + 1, size=(n_rows, n_classes)) / levels).astype(np.float32)
    # inside, at and outside the tolerance (1e-6)
    scores += rng.choice([0, 1e-7, 9e-7, 1e-6, 1.1e-6, 2e-6], size=scores.shape).astype(np.float32)
    y_true = rng.integers(0, n_classes, size=n_rows)
    block = (ClassMajorBlock if layout == "class-major" else RowMajorBlock)(n_classes, n_rows + spare)

    out = scores.copy()
    block.load(out)
    pred = block.top_class(n_rows).astype(np.intp)
    np.testing.assert_array_equal(pred, decide(scores))
    confidence, p_true, sum_sq = (np.empty(n_rows, dtype=np.float32) for _ in range(3))
    block.row_stats(n_rows, pred, y_true, out=(confidence, p_true, sum_sq))
    rows = np.arange(n_rows)
    np.testing.assert_array_equal(confidence, scores[rows, pred])
    np.testing.assert_array_equal(p_true, scores[rows, y_true])
    np.testing.assert_allclose(sum_sq, (scores.astype(np.float64) ** 2).sum(axis=1), rtol=1e-5)

    log_scores = np.log(np.clip(scores, 1e-7, None))
    out = log_scores.copy()
    block.load(out)
    block.normalise_log_pool(n_rows)  # written back into the loaded output
    np.testing.assert_allclose(out, normalise_log_pool(log_scores.copy()), rtol=1e-5, atol=1e-7)


def test_output_block_is_class_major_for_few_classes_only():
    from ensemble_core.combine import CLASS_MAJOR_MAX_CLASSES, ClassMajorBlock, RowMajorBlock, output_block

    assert isinstance(output_block(CLASS_MAJOR_MAX_CLASSES, 8), ClassMajorBlock)
    assert isinstance(output_block(CLASS_MAJOR_MAX_CLASSES + 1, 8), RowMajorBlock)


@pytest.mark.parametrize("layout", ["class-major", "row-major"])
@settings(max_examples=60, deadline=None)
@given(
    n_models=st.integers(1, 6),
    n_classes=st.sampled_from([1, 2, 3, 10, 130]),
    n_rows=st.integers(1, 40),
    spare=st.integers(0, 5),
    kind=st.sampled_from(["equal", "decimal", "random"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_output_blocks_vote_like_hard_vote(layout, n_models, n_classes, n_rows, spare, kind, seed):
    """Winners (decide on the shares: ties within its tolerance go to the first class) and
    vote shares exactly as hard_vote gives them.
    Equal weights make exact ties; decimal ones make ties that float addition misses
    (0.1 + 0.2 against 0.3)."""
    from ensemble_core.combine import ClassMajorBlock, RowMajorBlock

    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, size=(n_models, n_rows))
    w = {"equal": lambda: np.full(n_models, 1.0 / n_models),
         "decimal": lambda: rng.choice([0.1, 0.2, 0.3, 0.4, 0.6], size=n_models),
         "random": lambda: rng.dirichlet(np.ones(n_models))}[kind]()
    block = (ClassMajorBlock if layout == "class-major" else RowMajorBlock)(n_classes, n_rows + spare)
    out = np.empty((n_rows, n_classes), dtype=np.float32)
    pred = block.load_votes(labels, w, out)
    ref_pred, ref_shares = hard_vote(labels, w, n_classes)
    np.testing.assert_array_equal(pred, ref_pred)
    np.testing.assert_array_equal(out, ref_shares.astype(np.float32))
    confidence, p_true, sum_sq = (np.empty(n_rows, dtype=np.float32) for _ in range(3))
    y_true = rng.integers(0, n_classes, size=n_rows)
    block.row_stats(n_rows, pred.astype(np.intp), y_true, out=(confidence, p_true, sum_sq))
    np.testing.assert_array_equal(p_true, out[np.arange(n_rows), y_true])


def test_a_near_tie_of_vote_totals_goes_to_the_first_class():
    """0.1 + 0.2 for class 1 against 0.3 for class 0: equal in exact arithmetic."""
    from ensemble_core.combine import ClassMajorBlock

    out = np.empty((1, 2), dtype=np.float32)
    pred = ClassMajorBlock(2, 4).load_votes(np.array([[1], [1], [0]]), np.array([0.1, 0.2, 0.3]), out)
    assert pred[0] == 0
