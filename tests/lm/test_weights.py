"""Pool weights: EM climbs the likelihood to the mixture optimum; the log-linear fit finds the NLL minimum;
the suggestion is fitted on tune documents and measured on the others."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import minimize_scalar

from ensemble_core import EnsembleInputError
from ensemble_core.lm import evaluate_fusion, score_models
from ensemble_core.lm.pools import log_softmax
from ensemble_core.lm.weights import (
    em_mixture_weights,
    log_linear_nll,
    log_linear_weights,
    split_documents,
    suggest_lm_weights,
)

target_log_probs = arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 30)), elements=st.floats(-15, 0))


@settings(max_examples=60, deadline=None)
@given(a=target_log_probs)
def test_em_never_lowers_the_likelihood(a):
    fit = em_mixture_weights(a, max_iter=50)
    steps = np.diff(fit.log_likelihoods)
    assert np.all(steps >= -1e-12)
    assert fit.weights.sum() == pytest.approx(1) and np.all(fit.weights >= 0)
    w = fit.weights
    log_mix = np.log(np.exp(a).T @ w + 1e-300)
    assert log_mix.mean() == pytest.approx(fit.log_likelihoods[-1], abs=1e-9)


def test_em_reaches_the_mixture_optimum_of_two_models():
    rng = np.random.default_rng(0)
    a = np.log(rng.uniform(0.01, 1, size=(2, 500)))
    fit = em_mixture_weights(a, max_iter=2000, tol=1e-13)
    best = minimize_scalar(lambda w: -np.mean(np.log(w * np.exp(a[0]) + (1 - w) * np.exp(a[1]))),
                           bounds=(0, 1), method="bounded", options={"xatol": 1e-10})
    assert fit.weights[0] == pytest.approx(best.x, abs=1e-4)


def _random_log_probs(seed: int, n_models: int = 3, n_tokens: int = 40, vocab: int = 7):
    rng = np.random.default_rng(seed)
    log_probs = log_softmax(rng.normal(scale=2, size=(n_models, n_tokens, vocab)))
    return log_probs, rng.integers(0, vocab, n_tokens)


def test_log_linear_nll_and_gradient_match_a_direct_computation():
    from scipy.special import logsumexp

    log_probs, targets = _random_log_probs(1)
    rows = np.arange(targets.shape[0])

    def nll(w):  # the unnormalised objective the gradient is of: mean(logsumexp(w·lp) − w·lp[y])
        z = np.tensordot(w, log_probs, axes=1)
        return np.mean(logsumexp(z, axis=-1) - z[rows, targets])

    w = np.array([0.2, 0.5, 0.3])
    value, grad = log_linear_nll(log_probs, targets, w)
    assert value == pytest.approx(nll(w))
    for m in range(3):
        step = np.eye(3)[m] * 1e-6
        assert grad[m] == pytest.approx((nll(w + step) - nll(w - step)) / 2e-6, rel=1e-5, abs=1e-8)


def test_log_linear_weights_minimise_the_nll_over_the_simplex():
    log_probs, targets = _random_log_probs(2, n_models=2)
    w = log_linear_weights(log_probs, targets)
    grid = np.linspace(0, 1, 2001)
    on_grid = min(log_linear_nll(log_probs, targets, np.array([g, 1 - g]))[0] for g in grid)
    assert log_linear_nll(log_probs, targets, w)[0] <= on_grid + 1e-9
    assert w.sum() == pytest.approx(1) and np.all(w >= 0)


def test_split_is_random_disjoint_and_keeps_both_sides():
    mask = split_documents(10, 0.5, seed=3)
    assert mask.sum() == 5 and not np.array_equal(mask, split_documents(10, 0.5, seed=4))
    assert split_documents(2, 0.01, seed=0).sum() == 1 and split_documents(2, 0.99, seed=0).sum() == 1


@pytest.mark.parametrize(("args", "message"), [
    ((1, 0.5, 0), "at least 2 documents"),
    ((5, 0.0, 0), "--tune-fraction must be between 0 and 1"),
    ((5, 1.0, 0), "--tune-fraction must be between 0 and 1"),
])
def test_bad_splits_are_refused(args, message):
    with pytest.raises(EnsembleInputError, match=message):
        split_documents(*args)


@pytest.mark.parametrize("pool", ["linear", "loglinear"])
def test_suggestion_is_fitted_on_tune_documents_and_reported_on_the_others(lms, reviews, pool):
    docs = reviews["text"].iloc[-60:].tolist()
    scores = score_models(lms, docs)
    s = suggest_lm_weights(scores, pool, tune_fraction=0.5, seed=1)
    mask = split_documents(60, 0.5, seed=1)
    assert (s.tune_documents, s.heldout_documents) == (30, 30)
    weights = list(s.weights.values())
    held = evaluate_fusion(scores.documents(~mask), weights, pool)
    assert s.heldout == held.fused and s.models == held.models
    assert s.uniform == evaluate_fusion(scores.documents(~mask), None, pool).fused
    # Fitted on the tune documents: at least as good there as equal weights and each model alone.
    tune = scores.documents(mask)
    for baseline in ([0.5, 0.5], [1, 0], [0, 1]):
        assert s.tune.nll <= evaluate_fusion(tune, baseline, pool).fused.nll + 1e-6
    assert s.best_single == min(held.models, key=lambda n: held.models[n].perplexity)
    report = s.to_dict()
    assert report["perplexity"] == s.heldout.perplexity and set(report["weights"]) == {"fresh", "rotten"}
