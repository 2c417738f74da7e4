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
    from ensemble_core.merge._tiny import build_family

    train = pd.read_csv(splits["train"])
    y = train["label"].map({label: i for i, label in enumerate(LABELS)}).to_numpy()
    return build_family(tmp_path_factory.mktemp("merge_models"), train["text"], y, labels=LABELS)
