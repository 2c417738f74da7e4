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
