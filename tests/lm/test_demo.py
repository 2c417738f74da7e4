"""The committed language-model demo loads under the safety rules and its fusion helps."""

from __future__ import annotations

import json
from pathlib import Path

from ensemble_core.cli import main

ROOT = Path(__file__).resolve().parents[2]
LM = ROOT / "demo_data" / "lm"


def test_the_demo_models_fuse_better_than_either_on_test_reviews(capsys):
    assert main(["lm-eval", "--models", str(LM / "fresh"), str(LM / "rotten"), "--text",
                 str(ROOT / "demo_data" / "sentiment" / "test.csv"), "--column", "text", "--max-tokens", "3000",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    best = min(m["perplexity"] for m in report["models"].values())
    assert report["tokens"] <= 3000 and report["perplexity"] < best
