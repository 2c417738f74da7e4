"""The prediction cache as an attack surface (issue 10, findings 4 and 7): an entry that is
a FIFO is a miss that never blocks; a model description that is well formed and
checksummed but lies fails one run, with one line, and is corrected for the next."""

from __future__ import annotations

import time

import crafted
import pandas as pd
import pytest

from ensemble_core.cli import main
from ensemble_core.models import PredictionCache, load_model
from ensemble_core.models.loading import _info

SECONDS = 5


@pytest.fixture
def scored(sandbox):
    """A genuine TF-IDF model and reviews in the sandbox, scored once so the cache holds its
    description and predictions: returns ``score(out) -> (status, stdout, stderr)``."""
    import skops.io as sio
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = sandbox.files / "reviews_lr.skops"
    pipeline = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(crafted.TEXTS, crafted.LABELS)
    model.write_bytes(sio.dumps(pipeline))
    pd.DataFrame({"id": [f"r{i}" for i in range(4)], "text": crafted.TEXTS, "label": crafted.LABELS}).to_csv(
        sandbox.files / "reviews.csv", index=False)

    def score(capsys, out: str):
        status = main(["score", "--model", str(model), "--data", str(sandbox.files / "reviews.csv"),
                       "--out", str(sandbox.work / out)])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return model, score


def test_fifo_entries_are_misses_that_never_block(sandbox, scored, fifo, capsys):
    model, score = scored
    assert score(capsys, "first.csv")[0] == 0
    entries = [p for p in sandbox.cache.rglob("*") if p.is_file()]
    assert len(entries) == 2  # the model's description and its predictions
    for entry in entries:
        entry.unlink()
        fifo(entry)
    started = time.perf_counter()
    status, out, _ = score(capsys, "second.csv")
    assert time.perf_counter() - started < SECONDS
    assert status == 0 and "(cache miss, now cached)" in out
    assert all(entry.is_file() for entry in entries)  # rewritten as regular files
    assert (sandbox.work / "first.csv").read_bytes() == (sandbox.work / "second.csv").read_bytes()


def test_a_lying_model_description_fails_once_and_is_rewritten(sandbox, scored, capsys):
    model, score = scored
    assert score(capsys, "first.csv")[0] == 0
    truth = load_model(model)
    cache = PredictionCache()
    # Valid JSON, every field, checksummed: but the classes are reversed.
    cache.put_model_info(truth.content_hash, {**_info(truth), "classes": ["rotten", "fresh"]})
    for entry in sandbox.cache.rglob("*.npyc"):
        entry.unlink()  # so the model must run again
    sandbox.freeze()
    status, out, err = score(capsys, "second.csv")
    assert status == 2 and out == "" and err.count("\n") == 1
    assert "reviews_lr.skops: the prediction cache described this model wrongly" in err and "run again" in err
    assert sandbox.changes(ignore_cache=True) == []
    assert cache.get_model_info(truth.content_hash) == _info(truth)
    status, out, _ = score(capsys, "third.csv")
    assert status == 0
    assert (sandbox.work / "first.csv").read_bytes() == (sandbox.work / "third.csv").read_bytes()
