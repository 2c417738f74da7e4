"""The prediction store: files evaluate reads, equal to the score command's; resuming a stopped run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from ensemble_core._validation import EnsembleInputError
from ensemble_core.cli import main
from ensemble_core.io import load_prediction_set
from ensemble_core.models.spec import spec_for
from ensemble_core.scale.engines import LocalEngine
from ensemble_core.scale.store import PARTS_FOLDER, score_to_store, store_contents

from .conftest import ROOT


class Stop(Exception):
    """Stands for the process being killed between two shards."""


def _specs(text_pipelines, *names):
    return [spec_for(text_pipelines[n][1]) for n in names]


def test_each_model_file_is_what_score_writes_for_it(data_files, text_pipelines, tmp_path, capsys):
    store = tmp_path / "store"
    result = score_to_store(_specs(text_pipelines, "tfidf_lr", "tfidf_cnb"), data_files / "reviews.csv", store,
                            engine=LocalEngine(), shard_rows=5)
    assert result.files == (store / "tfidf_lr.parquet", store / "tfidf_cnb.parquet")
    assert (result.n_rows, result.n_shards, result.scored) == (24, 5, (5, 5))
    for name, path in zip(["tfidf_lr", "tfidf_cnb"], result.files):
        single = tmp_path / f"{name}.parquet"
        assert main(["score", "--model", str(text_pipelines[name][1]), "--data", str(data_files / "reviews.csv"),
                     "--out", str(single), "--no-cache"]) == 0
        pd.testing.assert_frame_equal(pd.read_parquet(path), pd.read_parquet(single))
    capsys.readouterr()
    pset = load_prediction_set(data_files / "reviews.csv", list(result.files))
    assert tuple(pset.names) == ("tfidf_lr", "tfidf_cnb") and pset.probas.shape == (2, 24, 2)
    # The parts are gone; one done marker per model, holding its fingerprint, remains.
    markers = sorted((store / PARTS_FOLDER).iterdir())
    assert [m.name for m in markers] == [f"{n}-{m.read_text().strip()}.done" for n, m in
                                          zip(["tfidf_cnb", "tfidf_lr"], markers)]


def test_a_stopped_run_resumes_with_only_the_unfinished_shards(data_files, text_pipelines, tmp_path):
    specs = _specs(text_pipelines, "tfidf_lr", "tfidf_rf")
    store = tmp_path / "store"
    first: list[tuple[str, int]] = []

    def stop_after_three(name, index):
        first.append((name, index))
        if len(first) == 3:
            raise Stop

    with pytest.raises(Stop):
        score_to_store(specs, data_files / "reviews.csv", store, engine=LocalEngine(), shard_rows=10,
                       on_shard=stop_after_three)
    # tfidf_lr finished (3 shards of 10, 10, 4 rows); tfidf_rf had not started.
    assert first == [("tfidf_lr", 0), ("tfidf_lr", 1), ("tfidf_lr", 2)]
    assert not (store / "tfidf_lr.parquet").exists()

    second: list[tuple[str, int]] = []
    with pytest.raises(Stop):
        score_to_store(specs, data_files / "reviews.csv", store, engine=LocalEngine(), shard_rows=10,
                       on_shard=lambda name, index: second.append((name, index)) or (
                           len(second) == 1 and name == "tfidf_rf" and _raise()))
    # The third shard of tfidf_lr was saved before the stop: nothing of it is scored again.
    assert second == [("tfidf_rf", 0)]
    contents = store_contents(store)
    assert [(m.name, m.n_rows, m.classes, m.has_ids) for m in contents.models] == [("tfidf_lr", 24, ("fresh", "rotten"), True)]
    assert [(r.name, r.shards_done) for r in contents.unfinished] == [("tfidf_rf", 1)]
    assert contents.n_rows == 24 and contents.memory_bytes == 24 * 2 * 4

    third: list[tuple[str, int]] = []
    result = score_to_store(specs, data_files / "reviews.csv", store, engine=LocalEngine(), shard_rows=10,
                            on_shard=lambda name, index: third.append((name, index)))
    assert third == [("tfidf_rf", 1), ("tfidf_rf", 2)]
    assert result.scored == (0, 2)

    fresh = score_to_store(specs, data_files / "reviews.csv", tmp_path / "fresh", engine=LocalEngine(),
                           shard_rows=10)
    for a, b in zip(result.files, fresh.files):
        pd.testing.assert_frame_equal(pd.read_parquet(a), pd.read_parquet(b))

    # Done: a rerun scores nothing.
    assert score_to_store(specs, data_files / "reviews.csv", store, engine=LocalEngine(), shard_rows=10).scored == (0, 0)


def _raise():
    raise Stop


def test_parts_of_other_data_are_not_reused(data_files, text_pipelines, text_data, tmp_path):
    specs = _specs(text_pipelines, "tfidf_lr")
    store = tmp_path / "store"
    data = tmp_path / "reviews.csv"
    text_data.to_csv(data, index=False)
    calls: list[int] = []

    def stop_after_one(name, index):
        calls.append(index)
        raise Stop

    with pytest.raises(Stop):
        score_to_store(specs, data, store, engine=LocalEngine(), shard_rows=10, on_shard=stop_after_one)
    changed = text_data.assign(text=text_data["text"][::-1].to_numpy())
    changed.to_csv(data, index=False)
    calls.clear()
    score_to_store(specs, data, store, engine=LocalEngine(), shard_rows=10, on_shard=lambda n, i: calls.append(i))
    assert calls == [0, 1, 2]
    pipe = text_pipelines["tfidf_lr"][0]
    want = pipe.predict_proba(changed["text"].tolist())
    got = pd.read_parquet(store / "tfidf_lr.parquet")
    np.testing.assert_allclose(got[list(pipe.classes_)].to_numpy(), want, rtol=1e-6, atol=1e-7)


def test_a_name_with_a_dot_keeps_its_own_done_marker(data_files, text_pipelines, text_data, tmp_path):
    """The marker of "m.v1" was "m.done" (the dot read as a suffix), so the model scored on
    other data later was taken as done and its old predictions kept."""
    store = tmp_path / "store"
    spec = spec_for(text_pipelines["tfidf_lr"][1], name="m.v1")
    data = tmp_path / "reviews.csv"
    text_data.to_csv(data, index=False)
    assert score_to_store([spec], data, store, engine=LocalEngine(), shard_rows=10).scored == (3,)
    text_data.iloc[::-1].to_csv(data, index=False)
    assert score_to_store([spec], data, store, engine=LocalEngine(), shard_rows=10).scored == (3,)
    markers = sorted((store / PARTS_FOLDER).iterdir())
    assert [m.name for m in markers] == sorted(f"m.v1-{m.read_text().strip()}.done" for m in markers)
    assert len(markers) == 2
    assert store_contents(store).models[0].name == "m.v1"


def test_store_contents_refuses_what_is_no_store(tmp_path):
    with pytest.raises(EnsembleInputError, match="no such folder"):
        store_contents(tmp_path / "nothing")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(EnsembleInputError, match="broken.parquet: not a Parquet file"):
        store_contents(tmp_path)


def test_unlabelled_rows_take_the_models_classes(data_files, text_pipelines, text_data, tmp_path):
    result = score_to_store(_specs(text_pipelines, "tfidf_cnb"), data_files / "unlabelled.csv", tmp_path,
                            engine=LocalEngine(), shard_rows=7)
    written = pd.read_parquet(result.files[0])
    assert list(written.columns) == ["id", "fresh", "rotten"]
    assert written["id"].tolist() == text_data["id"].tolist()


def test_two_models_of_one_name_are_refused(data_files, text_pipelines, tmp_path):
    spec = spec_for(text_pipelines["tfidf_lr"][1])
    with pytest.raises(EnsembleInputError, match="tfidf_lr"):
        score_to_store([spec, spec], data_files / "reviews.csv", tmp_path, engine=LocalEngine())


def test_a_store_is_a_folder(data_files, text_pipelines, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(EnsembleInputError, match="a prediction store is a folder"):
        score_to_store(_specs(text_pipelines, "tfidf_lr"), data_files / "reviews.csv", tmp_path / "file",
                       engine=LocalEngine())


_KILLED_AFTER_TWO = """
import os, signal, sys
from ensemble_core.models.spec import spec_for
from ensemble_core.scale.engines import LocalEngine
from ensemble_core.scale.store import score_to_store
done = []
def on_shard(name, index):
    done.append(index)
    if len(done) == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # no cleanup runs: as a killed run
score_to_store([spec_for(sys.argv[1])], sys.argv[2], sys.argv[3], engine=LocalEngine(), shard_rows=5,
               on_shard=on_shard)
"""


@pytest.mark.slow
def test_a_killed_process_resumes_with_only_the_unfinished_shards(data_files, text_pipelines, tmp_path):
    path = text_pipelines["tfidf_lr"][1]
    store = tmp_path / "store"
    proc = subprocess.run([sys.executable, "-c", _KILLED_AFTER_TWO, str(path), str(data_files / "reviews.csv"),
                           str(store)], env={**os.environ, "PYTHONPATH": ROOT}, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert not (store / "tfidf_lr.parquet").exists()
    calls: list[int] = []
    result = score_to_store([spec_for(path)], data_files / "reviews.csv", store, engine=LocalEngine(),
                            shard_rows=5, on_shard=lambda name, index: calls.append(index))
    assert calls == [2, 3, 4] and result.scored == (3,)
    pipe = text_pipelines["tfidf_lr"][0]
    got = pd.read_parquet(store / "tfidf_lr.parquet")
    want = pipe.predict_proba(pd.read_csv(data_files / "reviews.csv")["text"].tolist())
    np.testing.assert_allclose(got[list(pipe.classes_)].to_numpy(), want, rtol=1e-6, atol=1e-7)
