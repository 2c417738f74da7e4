"""The weight-move cache: the linear pool exact, the log-linear perplexity within its bounds and tolerance,
accuracy exact through the candidate bound and its fallback."""

from __future__ import annotations

import numpy as np
import pytest

from ensemble_core import EnsembleInputError
from ensemble_core.lm import evaluate_fusion, score_models
from ensemble_core.lm.reweight import ReweightCache
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
