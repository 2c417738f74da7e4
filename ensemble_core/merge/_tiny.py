"""Tiny BERT sequence classifiers built from a config and fine-tuned here, for tests,
benchmarks and the demo: several fine-tunes of one initialisation (which merge well) and
fine-tunes of another (which do not).

Examples
--------
>>> base = init_classifier(tiny_bert_config(300, labels=["fresh", "rotten"]), seed=0)  # doctest: +SKIP
>>> tuned = fine_tune(base, tokenizer, texts, y, seed=1, steps=30)  # doctest: +SKIP
>>> save_classifier(tuned, tokenizer, "models/a")  # doctest: +SKIP
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def tiny_bert_config(vocab_size: int, *, labels: Sequence[str], hidden_size: int = 32, layers: int = 1,
                     heads: int = 2, intermediate_size: int = 64, max_positions: int = 64, **kwargs):
    """A small ``BertConfig`` for a single-label classifier over ``labels`` (id order)."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=vocab_size, hidden_size=hidden_size, num_hidden_layers=layers, num_attention_heads=heads,
        intermediate_size=intermediate_size, max_position_embeddings=max_positions,
        id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)}, **kwargs,
    )


def init_classifier(config, *, seed: int):
    """A randomly initialised ``BertForSequenceClassification`` (torch seed ``seed``), in eval mode."""
    import torch
    from transformers import BertForSequenceClassification

    torch.manual_seed(seed)
    return BertForSequenceClassification(config).eval()


def fine_tune(model, tokenizer, texts: Sequence[str], y: np.ndarray, *, seed: int, steps: int = 30,
              learning_rate: float = 3e-3, batch_size: int = 32):
    """A fine-tuned copy of ``model`` (AdamW; ``seed`` decides the batches): ``model`` is unchanged."""
    import torch

    tuned = copy.deepcopy(model).train()
    encoded = tokenizer(list(texts), padding=True, truncation=True, return_tensors="pt")
    labels = torch.tensor(np.array(y), dtype=torch.long)
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.AdamW(tuned.parameters(), lr=learning_rate)
    for _ in range(steps):
        rows = torch.randint(len(labels), (batch_size,), generator=generator)
        loss = tuned(**{k: v[rows] for k, v in encoded.items()}, labels=labels[rows]).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return tuned.eval()


def save_classifier(model, tokenizer, folder: str | Path) -> Path:
    """Save ``model`` (safetensors) and ``tokenizer`` under ``folder``; returns it."""
    folder = Path(folder)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def build_family(root: str | Path, texts: Sequence[str], y: np.ndarray, *, labels: Sequence[str],
                 vocab_size: int = 400) -> dict[str, Path]:
    """Tiny classifiers under ``root`` for tests: ``base`` (a random initialisation), ``a`` and ``b``
    (fine-tunes of it: seeds 1 and 2, learning rates 3e-3 and 1e-3), ``c`` (a fine-tune of another
    initialisation), with one WordPiece tokenizer learnt on ``texts``; torch on one thread meanwhile.

    Returns
    -------
    dict of name → directory
    """
    import torch

    from ..models._tiny import train_wordpiece_tokenizer

    root = Path(root)
    texts = list(texts)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the machine is shared; the models are too small to gain from more
    try:
        tokenizer = train_wordpiece_tokenizer(texts, root / "tokenizer", vocab_size=vocab_size)
        config = tiny_bert_config(len(tokenizer), labels=labels)
        base = init_classifier(config, seed=0)
        other = init_classifier(config, seed=7)
        return {
            "base": save_classifier(base, tokenizer, root / "base"),
            "a": save_classifier(fine_tune(base, tokenizer, texts, y, seed=1), tokenizer, root / "a"),
            "b": save_classifier(fine_tune(base, tokenizer, texts, y, seed=2, learning_rate=1e-3), tokenizer,
                                 root / "b"),
            "c": save_classifier(fine_tune(other, tokenizer, texts, y, seed=3), tokenizer, root / "c"),
        }
    finally:
        torch.set_num_threads(threads)
