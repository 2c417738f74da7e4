"""Pools and metrics: a hand computation, invariants, and the tiny models fused directly in torch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ensemble_core import EnsembleInputError
from ensemble_core.lm import evaluate_fusion, fuse, linear_pool, lm_metrics, log_linear_pool, score_models
from ensemble_core.lm.pools import log_softmax, token_nll

#: Two models, 3 tokens, a vocabulary of 4 words.
P1 = np.array([[0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25], [0.1, 0.2, 0.3, 0.4]])
P2 = np.array([[0.4, 0.4, 0.1, 0.1], [0.1, 0.6, 0.2, 0.1], [0.5, 0.1, 0.1, 0.3]])
TARGETS = np.array([0, 1, 3])


def test_hand_computed_linear_pool_and_its_metrics():
    log_probs = np.log(np.stack([P1, P2]))
    fused = linear_pool(log_probs, [3, 1])  # normalised to 0.75, 0.25
    # Token 1: 0.75*0.7 + 0.25*0.4 = 0.625; token 2: 0.75*0.25 + 0.25*0.6 = 0.3375; token 3: 0.75*0.4 + 0.25*0.3 = 0.375.
    np.testing.assert_allclose(np.exp(fused[np.arange(3), TARGETS]), [0.625, 0.3375, 0.375])
    m = lm_metrics(fused, TARGETS, n_bytes=6)
    nll = -(math.log(0.625) + math.log(0.3375) + math.log(0.375))
    assert m.nll == pytest.approx(nll / 3)
    assert m.perplexity == pytest.approx(math.exp(nll / 3))
    assert m.bits_per_byte == pytest.approx(nll / math.log(2) / 6)
    # Top-1: token 1 → word 0 (0.625), token 2 → word 1 (0.3375 against 0.2125, 0.2375, 0.2125), token 3 → word 3.
    assert m.accuracy == 1.0 and (m.n_tokens, m.n_bytes) == (3, 6)


def test_hand_computed_log_linear_pool():
    log_probs = np.log(np.stack([P1, P2]))
    fused = np.exp(log_linear_pool(log_probs, [1, 1]))
    geometric = np.sqrt(P1 * P2)
    np.testing.assert_allclose(fused, geometric / geometric.sum(axis=1, keepdims=True))
    # Token 1 row: sqrt(.28), sqrt(.04), sqrt(.01), sqrt(.01) = .5292, .2, .1, .1, sum .9292.
    assert fused[0, 0] == pytest.approx(math.sqrt(0.28) / (math.sqrt(0.28) + 0.2 + 0.1 + 0.1))
    # Token 3 row: sqrt(.05), sqrt(.02), sqrt(.03), sqrt(.12): word 3 is the top and the target.
    root = np.sqrt([0.05, 0.02, 0.03, 0.12])
    assert fused[2, 3] == pytest.approx(root[3] / root.sum())
    assert lm_metrics(np.log(fused), TARGETS, 6).accuracy == 1.0


logits_3d = arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 6), st.integers(2, 8)),
                   elements=st.floats(-20, 20))
weights_st = st.lists(st.floats(0, 10), min_size=4, max_size=4).filter(lambda w: sum(w) > 1e-3)


@settings(max_examples=60, deadline=None)
@given(logits=logits_3d, weights=weights_st)
def test_averaging_raw_logits_is_the_log_linear_pool(logits, weights):
    w = np.array(weights[: logits.shape[0]])
    if w.sum() < 1e-3:
        w = np.ones(logits.shape[0])
    averaged = np.tensordot(w / w.sum(), logits, axes=1)  # the GPT-2 example: weighted mean of logits
    expected = averaged - np.log(np.exp(averaged - averaged.max(-1, keepdims=True)).sum(-1, keepdims=True)) \
        - averaged.max(-1, keepdims=True)
    np.testing.assert_allclose(log_linear_pool(log_softmax(logits.copy()), w), expected, atol=1e-9)
    # Raw logits in place of log-softmaxes: the same distribution.
    np.testing.assert_allclose(log_linear_pool(logits, w), expected, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(logits=logits_3d, weights=weights_st, scale=st.floats(0.01, 100))
def test_pools_normalise_weights_and_rows(logits, weights, scale):
    log_probs = log_softmax(logits.copy())
    w = np.array(weights[: logits.shape[0]]) + 1e-3
    for pool in ("linear", "loglinear"):
        fused = fuse(log_probs, w, pool)
        np.testing.assert_allclose(fuse(log_probs, w * scale, pool), fused, atol=1e-9)
        np.testing.assert_allclose(np.exp(fused).sum(-1), 1, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(logits=logits_3d)
def test_a_pool_of_one_model_is_that_model(logits):
    log_probs = log_softmax(logits.copy())
    for m in range(log_probs.shape[0]):
        weights = np.eye(log_probs.shape[0])[m]
        np.testing.assert_allclose(linear_pool(log_probs, weights), log_probs[m], atol=1e-9)
        np.testing.assert_allclose(log_linear_pool(log_probs, weights), log_probs[m], atol=1e-9)
    np.testing.assert_allclose(linear_pool(log_probs[:1]), log_probs[0], atol=1e-9)


def test_linear_pool_keeps_tokens_every_model_finds_very_unlikely():
    log_probs = np.array([[[-200.0, 0.0]], [[-300.0, 0.0]]])  # exp underflows float32 and float64 alike
    assert linear_pool(log_probs, [0.5, 0.5])[0, 0] == pytest.approx(-200 + math.log(0.5))


@pytest.mark.parametrize(("weights", "message"), [
    ([0, 0], "all weights are 0"),
    ([1, -1], "weights must be >= 0; weight 2 is -1"),
    ([1], "got 1 weights, 2 models"),
    ([1, float("nan")], "finite"),
])
def test_bad_weights_are_refused(weights, message):
    log_probs = np.log(np.stack([P1, P2]))
    for pool in ("linear", "loglinear"):
        with pytest.raises(EnsembleInputError, match=message):
            fuse(log_probs, weights, pool)


def test_token_nll():
    np.testing.assert_allclose(token_nll(np.log(P1), TARGETS), -np.log([0.7, 0.25, 0.4]))


@pytest.mark.parametrize("pool", ["linear", "loglinear"])
def test_fusion_of_the_tiny_models_equals_transformers_run_directly(lms, reference_models, pool):
    """Unequal weights and sliding windows: each model run in torch on the same windows, fused by hand."""
    import torch

    from ensemble_core.lm.scoring import windows

    docs = ["A sharp, funny film.", " ".join(["Long, slow and strangely moving."] * 14)]
    weights, stride = [0.3, 0.7], 20
    result = evaluate_fusion(score_models(lms, docs, stride=stride), weights, pool)
    nll, correct, n = 0.0, 0, 0
    tok = lms[0].tokenizer
    for doc in docs:
        ids = [tok.bos_token_id, *tok(doc)["input_ids"]]
        for begin, first, end in windows(len(ids), 64, stride):
            window = torch.tensor([ids[begin:end]])
            with torch.no_grad():
                logs = [torch.log_softmax(reference_models[m.name](window).logits[0].double(), -1) for m in lms]
            if pool == "linear":
                fused = torch.log(weights[0] * logs[0].exp() + weights[1] * logs[1].exp())
            else:
                fused = torch.log_softmax(weights[0] * logs[0] + weights[1] * logs[1], -1)
            for j in range(first, end):
                row = fused[j - 1 - begin]
                nll -= row[ids[j]].item()
                correct += int(row.argmax().item() == ids[j])
                n += 1
    assert result.fused.n_tokens == n
    assert result.fused.perplexity == pytest.approx(math.exp(nll / n), rel=1e-5)
    assert result.fused.accuracy == correct / n
    assert result.fused.bits_per_byte == pytest.approx(nll / math.log(2) / sum(len(d.encode()) for d in docs),
                                                       rel=1e-5)
    assert result.weights == (0.3, 0.7) and list(result.models) == ["fresh", "rotten"]
    assert result.fused.perplexity != result.models["fresh"].perplexity
