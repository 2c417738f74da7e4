"""Tiny BERT classifiers for the merge tests: a base, two fine-tunes of it (``a``, ``b``: one
basin) and a fine-tune of another initialisation (``c``), with one tokenizer; tune and
held-out splits of the demo reviews."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

SENTIMENT = Path(__file__).resolve().parents[2] / "demo_data" / "sentiment"
LABELS = ["fresh", "rotten"]


@pytest.fixture(scope="session")
def splits(tmp_path_factory) -> dict[str, Path]:
    """``train`` (240 rows), ``tune`` and ``heldout`` (60 rows each) as labels files."""
    root = tmp_path_factory.mktemp("merge_data")
    train = pd.read_csv(SENTIMENT / "train.csv").head(240)
    val = pd.read_csv(SENTIMENT / "val.csv")
    paths = {}
    for name, frame in (("train", train), ("tune", val.iloc[:60]), ("heldout", val.iloc[60:120])):
        paths[name] = root / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    return paths


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory, splits) -> dict[str, Path]:
    """Directories ``base``, ``a``, ``b`` (fine-tunes of base), ``c`` (another initialisation)."""
    import torch

    from ensemble_core.merge._tiny import fine_tune, init_classifier, save_classifier, tiny_bert_config
    from ensemble_core.models._tiny import train_wordpiece_tokenizer

    root = tmp_path_factory.mktemp("merge_models")
    train = pd.read_csv(splits["train"])
    y = train["label"].map({label: i for i, label in enumerate(LABELS)}).to_numpy()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the machine is shared; the models are too small to gain from more
    try:
        tokenizer = train_wordpiece_tokenizer(train["text"], root / "tokenizer", vocab_size=400)
        config = tiny_bert_config(len(tokenizer), labels=LABELS)
        base = init_classifier(config, seed=0)
        other = init_classifier(config, seed=7)
        texts = train["text"].tolist()
        return {
            "base": save_classifier(base, tokenizer, root / "base"),
            "a": save_classifier(fine_tune(base, tokenizer, texts, y, seed=1), tokenizer, root / "a"),
            "b": save_classifier(fine_tune(base, tokenizer, texts, y, seed=2, learning_rate=1e-3), tokenizer,
                                 root / "b"),
            "c": save_classifier(fine_tune(other, tokenizer, texts, y, seed=3), tokenizer, root / "c"),
        }
    finally:
        torch.set_num_threads(threads)
