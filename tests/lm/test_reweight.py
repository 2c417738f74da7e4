"""The weight-move cache: the linear pool exact, the log-linear perplexity within its bounds and tolerance,
accuracy exact through the candidate bound and its fallback."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ensemble_core import EnsembleInputError, _threads
from ensemble_core.lm import evaluate_fusion, lm_metrics, score_models
from ensemble_core.lm import reweight
from ensemble_core.lm.reweight import ReweightCache, log_linear_normaliser
from tests.lm.conftest import random_scores

WEIGHTS = [[0.2, 0.3, 0.5], [1, 0, 0], [0, 0, 3], [1, 1, 1]]


def _exact(scores, w, pool):
    return evaluate_fusion(scores, w, pool).fused


@pytest.mark.parametrize("top_k", [1, 3, 8])
@pytest.mark.parametrize("seed", [0, 1])
def test_linear_pool_is_exact(seed, top_k):
    scores = random_scores(3, n_tokens=300, vocab=20, seed=seed)
    cache = ReweightCache(scores, top_k=top_k)
    for w in WEIGHTS:
        quick, exact = cache.metrics(w, "linear"), _exact(scores, w, "linear")
        assert quick.perplexity == pytest.approx(exact.perplexity, rel=1e-6)
        assert quick.bits_per_byte == pytest.approx(exact.bits_per_byte, rel=1e-6)
        assert quick.accuracy == exact.accuracy and quick.max_relative_error == 0


@pytest.mark.parametrize("top_k", [1, 3, 8])
@pytest.mark.parametrize("seed", [0, 1])
def test_log_linear_pool_is_within_its_bounds_and_the_tolerance(seed, top_k):
    scores = random_scores(3, n_tokens=300, vocab=20, seed=seed)
    cache = ReweightCache(scores, top_k=top_k, tolerance=1e-3)
    for w in WEIGHTS:
        quick, exact = cache.metrics(w, "loglinear"), _exact(scores, w, "loglinear")
        lo, hi = quick.perplexity_bounds
        assert lo * (1 - 1e-6) <= exact.perplexity <= hi * (1 + 1e-6)
        assert abs(quick.perplexity / exact.perplexity - 1) <= 1e-3 + 1e-6
        assert quick.max_relative_error <= 1e-3 + 1e-9
        assert quick.accuracy == exact.accuracy


@pytest.mark.parametrize(("tolerance", "recomputed"), [(1e-2, range(1, 50)), (1e-3, range(1, 50)), (0, [200])])
def test_only_the_loose_tokens_are_recomputed(tolerance, recomputed):
    """180 peaked tokens, where two near-copies agree (tight bounds), and 20 flat ones (loose)."""
    rng = np.random.default_rng(0)
    scores = random_scores(2, n_tokens=200, vocab=30, seed=3)
    base = rng.normal(size=(200, 30)) * np.where(np.arange(200) < 180, 8.0, 0.1)[:, None]
    logits = np.stack([base, base + rng.normal(scale=0.3, size=base.shape)])
    scores.log_probs[...] = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    scores.targets[...] = base.argmax(axis=1)
    quick = ReweightCache(scores, top_k=8, tolerance=tolerance).metrics([0.4, 0.6], "loglinear")
    exact = _exact(scores, [0.4, 0.6], "loglinear")
    assert quick.full_tokens in recomputed
    assert quick.perplexity_bounds[0] * (1 - 1e-6) <= exact.perplexity <= quick.perplexity_bounds[1] * (1 + 1e-6)
    assert abs(quick.perplexity / exact.perplexity - 1) <= tolerance + 1e-6
    assert quick.accuracy == exact.accuracy


@pytest.mark.parametrize("pool", ["linear", "loglinear"])
def test_tiny_models(lms, reviews, pool):
    scores = score_models(lms, reviews["text"].iloc[:80].tolist())
    cache = ReweightCache(scores)
    for w in ([0.3, 0.7], [1, 0]):
        quick, exact = cache.metrics(w, pool), _exact(scores, w, pool)
        assert quick.perplexity == pytest.approx(exact.perplexity, rel=1e-3)
        assert quick.accuracy == exact.accuracy


def test_bad_weights_are_refused():
    with pytest.raises(EnsembleInputError, match="all weights are 0"):
        ReweightCache(random_scores(2)).metrics([0, 0], "linear")


def _log_z_float64(log_probs, w):
    s = np.einsum("m,mtv->tv", w, log_probs.astype(np.float64))
    top = s.max(axis=1)
    return np.log(np.exp(s - top[:, None]).sum(axis=1)) + top, s.argmax(axis=1)


@pytest.mark.parametrize("n_workers", [1, 2])
@pytest.mark.parametrize("block_bytes", [1, 200, 1 << 17])
def test_the_exact_pass_in_blocks_and_threads_is_a_direct_computation(monkeypatch, block_bytes, n_workers):
    """One token a block, a few, all in one; on one thread and two: the float64 reference."""
    monkeypatch.setattr(reweight, "BLOCK_BYTES", block_bytes)
    monkeypatch.setitem(_threads.POLICY, "lm_reweight", _threads.Threads(blas=1, workers=n_workers))
    scores = random_scores(3, n_tokens=157, vocab=23, seed=4)
    w = np.array([0.2, 0.3, 0.5])
    expected, top1 = _log_z_float64(scores.log_probs, w)
    log_z, pred = log_linear_normaliser(scores.log_probs, w)
    np.testing.assert_allclose(log_z, expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(pred, top1)
    rows = np.array([150, 3, 77, 3])
    log_z, pred = log_linear_normaliser(scores.log_probs, w, rows)
    np.testing.assert_allclose(log_z, expected[rows], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(pred, top1[rows])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), sharpness=st.floats(0.1, 12), top_k=st.integers(1, 6),
       weights=st.lists(st.floats(0, 1), min_size=3, max_size=3).filter(lambda w: sum(x > 0 for x in w) >= 2))
def test_the_cheap_gap_never_exceeds_the_bounds_gap(seed, sharpness, top_k, weights):
    """What lets the cache skip the bounds when even the cheap ones are too loose: the same decision."""
    scores = random_scores(3, n_tokens=40, vocab=15, seed=seed)
    scores.log_probs[...] = scores.log_probs * sharpness
    scores.log_probs[...] -= np.log(np.exp(scores.log_probs.astype(np.float64)).sum(-1, keepdims=True))
    cache = ReweightCache(scores, top_k=top_k)
    w = np.array(weights) / sum(weights)
    log_rest = cache._log_rest_bound(w)
    _, lo = cache._candidate_part(w)
    gap = np.logaddexp(lo, log_rest) - lo
    assert np.all(cache._least_gap(w, log_rest) <= gap + 1e-9)


@pytest.mark.parametrize("model", [0, 2])
def test_a_log_linear_pool_of_one_model_is_that_model_without_a_pass(model):
    scores = random_scores(3, n_tokens=120, vocab=30, seed=5)
    w = np.zeros(3)
    w[model] = 2.0
    quick = ReweightCache(scores).metrics(w, "loglinear")
    alone = lm_metrics(scores.log_probs[model], scores.targets, int(scores.n_bytes.sum()))
    assert quick.perplexity == alone.perplexity and quick.accuracy == alone.accuracy
    assert quick.full_tokens == 0
