"""Fused generation: greedy equals the step-by-step argmax of the fused distribution computed directly;
sampling follows the distribution; caches and the context limit do not change the tokens."""

from __future__ import annotations

import numpy as np
import pytest

from ensemble_core import EnsembleInputError
from ensemble_core.lm.generation import Sampling, choose_token, generate, generate_stream
from ensemble_core.lm.pools import fuse


def _reference_greedy(reference_models, names, tokenizer, prompt, weights, pool, n, context=64):
    """Re-run every model on the whole sequence (its last `context` tokens) at every step: no cache."""
    import torch

    ids = [tokenizer.bos_token_id, *tokenizer(prompt)["input_ids"]]
    new = []
    for _ in range(n):
        window = torch.tensor([ids[-context:]])
        with torch.no_grad():
            log_probs = np.stack([torch.log_softmax(reference_models[name](window).logits[0, -1], -1).numpy()
                                  for name in names])[:, None]
        token = int(np.argmax(fuse(log_probs, weights, pool)[0]))
        if token == tokenizer.eos_token_id:
            break
        ids.append(token)
        new.append(token)
    return new


@pytest.mark.parametrize("pool", ["linear", "loglinear"])
def test_greedy_fused_generation_is_the_step_by_step_argmax(lms, reference_models, pool):
    # 70 new tokens after a 6-token prompt: the sequences pass the 64-token context.
    prompt, weights = "A slow, strange film", [0.35, 0.65]
    got = generate(lms, prompt, weights=weights, pool=pool, max_new_tokens=70)
    expected = _reference_greedy(reference_models, ["fresh", "rotten"], lms[0].tokenizer, prompt, weights, pool, 70)
    assert list(got.token_ids) == expected
    assert got.stopped == ("max_new_tokens" if len(expected) == 70 else "eos")
    assert got.text == lms[0].tokenizer.decode(expected, skip_special_tokens=True)
    assert got.weights == (0.35, 0.65) and got.names == ("fresh", "rotten")


def test_one_model_alone_is_transformers_greedy_generate(lms, reference_models):
    import torch

    tok = lms[0].tokenizer
    ids = [tok.bos_token_id, *tok("The acting")["input_ids"]]
    with torch.no_grad():
        out = reference_models["fresh"].generate(torch.tensor([ids]), max_new_tokens=30, do_sample=False,
                                                 eos_token_id=None, pad_token_id=tok.pad_token_id)
    got = generate(lms[:1], "The acting", max_new_tokens=30)
    expected = out[0, len(ids):].tolist()
    cut = expected.index(tok.eos_token_id) if tok.eos_token_id in expected else len(expected)
    assert list(got.token_ids) == expected[:cut]


def test_streaming_yields_the_same_tokens(lms):
    sampling = Sampling(greedy=False, temperature=0.9, top_k=50, seed=3)
    streamed = list(generate_stream(lms, "Funny", max_new_tokens=12, sampling=sampling))
    assert tuple(streamed) == generate(lms, "Funny", max_new_tokens=12, sampling=sampling).token_ids
    assert streamed != list(generate_stream(lms, "Funny", max_new_tokens=12,
                                            sampling=Sampling(greedy=False, temperature=0.9, top_k=50, seed=4)))


P = np.array([0.5, 0.3, 0.15, 0.05])


def _frequencies(sampling, n=20_000):
    rng = np.random.default_rng(0)
    draws = [choose_token(np.log(P), sampling, rng) for _ in range(n)]
    return np.bincount(draws, minlength=4) / n


@pytest.mark.parametrize(("sampling", "expected"), [
    (Sampling(greedy=False), P),
    (Sampling(greedy=False, temperature=0.5), P**2 / (P**2).sum()),
    (Sampling(greedy=False, top_k=2), np.array([0.5, 0.3, 0, 0]) / 0.8),
    (Sampling(greedy=False, top_p=0.7), np.array([0.5, 0.3, 0, 0]) / 0.8),  # 0.5 < 0.7 ≤ 0.8
    (Sampling(greedy=False, top_p=0.8, top_k=3), np.array([0.5, 0.3, 0, 0]) / 0.8),
    (Sampling(greedy=False, top_k=1), np.array([1.0, 0, 0, 0])),
    (Sampling(greedy=False, top_p=0.01), np.array([1.0, 0, 0, 0])),
], ids=["plain", "temperature", "top_k", "top_p", "both", "top_k_1", "top_p_small"])
def test_sampling_follows_the_distribution(sampling, expected):
    np.testing.assert_allclose(_frequencies(sampling), expected, atol=0.015)


def test_greedy_takes_the_first_of_tied_tokens():
    assert choose_token(np.log([0.4, 0.4, 0.2]), Sampling(), np.random.default_rng(0)) == 0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"temperature": 0.0}, "--temperature must be > 0"),
    ({"top_k": 0}, "--top-k must be at least 1"),
    ({"top_p": 1.5}, r"--top-p must be in \(0, 1\]"),
])
def test_bad_sampling_is_refused(kwargs, message):
    with pytest.raises(EnsembleInputError, match=message):
        Sampling(greedy=False, **kwargs)


def test_bad_generation_requests_are_refused(lms, lm_dirs):
    from ensemble_core.lm import load_causal_lm

    with pytest.raises(EnsembleInputError, match="--max-new-tokens must be at least 1"):
        generate(lms, "x", max_new_tokens=0)
    with pytest.raises(EnsembleInputError, match="all weights are 0"):
        generate(lms, "x", weights=[0, 0])
    with pytest.raises(EnsembleInputError, match="the tokenizers differ"):
        generate([lms[0], load_causal_lm(lm_dirs["other"])], "x")
