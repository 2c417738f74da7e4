"""Tiny GPT-2 language models trained once per test session on the demo's review text.

Two models share one byte-level BPE tokenizer (fusable): one trained on fresh reviews,
one on rotten ones, with different seeds. A third has its own tokenizer (not fusable).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REVIEWS = Path(__file__).resolve().parents[2] / "demo_data" / "sentiment" / "train.csv"
#: Few steps: the tests need real, differing models, not good ones (about 1.5 s each).
STEPS = 30


@pytest.fixture(scope="session")
def reviews() -> pd.DataFrame:
    return pd.read_csv(REVIEWS).head(2000)


@pytest.fixture(scope="session")
def lm_dirs(tmp_path_factory, reviews) -> dict[str, Path]:
    """``fresh`` and ``rotten`` (one tokenizer) and ``other`` (another tokenizer)."""
    import torch

    from ensemble_core.lm._tiny import build_model, train_tokenizer

    root = tmp_path_factory.mktemp("lms")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the machine is shared; the models are too small to gain from more
    try:
        tokenizer = train_tokenizer(reviews["text"], vocab_size=500)
        dirs = {}
        for seed, label in enumerate(("fresh", "rotten")):
            texts = reviews.loc[reviews["label"] == label, "text"]
            dirs[label] = build_model(root / label, tokenizer, texts, seed=seed, steps=STEPS, batch_size=8)
        other = train_tokenizer(reviews["text"], vocab_size=450)
        dirs["other"] = build_model(root / "other", other, reviews["text"], seed=2, steps=5)
    finally:
        torch.set_num_threads(threads)
    return dirs


@pytest.fixture(scope="session")
def lms(lm_dirs):
    """The fresh and rotten models, loaded."""
    from ensemble_core.lm import load_causal_lms

    return load_causal_lms([lm_dirs["fresh"], lm_dirs["rotten"]])


@pytest.fixture(scope="session")
def reference_models(lm_dirs) -> dict:
    """The fresh and rotten networks loaded by transformers directly, on the CPU: the reference the
    loaded models (on CUDA when torch sees it) are checked against."""
    from transformers import AutoModelForCausalLM

    return {name: AutoModelForCausalLM.from_pretrained(lm_dirs[name]).eval() for name in ("fresh", "rotten")}


def random_scores(n_models: int, n_tokens: int = 60, vocab: int = 9, seed: int = 0):
    """An ``LMScores`` of random distributions over a small vocabulary: two documents, no model run."""
    from ensemble_core.lm.pools import log_softmax
    from ensemble_core.lm.scoring import LMScores

    rng = np.random.default_rng(seed)
    log_probs = log_softmax(rng.normal(scale=2, size=(n_models, n_tokens, vocab))).astype(np.float32)
    return LMScores(tuple(f"m{i}" for i in range(n_models)), log_probs, rng.integers(0, vocab, n_tokens),
                    np.array([0, 25, n_tokens]), np.array([80, 120]), (32,) * n_models, (0.0,) * n_models)
