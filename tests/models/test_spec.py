"""ModelSpec: a picklable description any process loads itself, through the same safe loaders."""

from __future__ import annotations

import os
import pickle
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np
import pytest

from ensemble_core import EnsembleInputError, registry
from ensemble_core.models import ModelSpec, load_model, spec_for
from ensemble_core.models.spec import LoadOptions, kind_of


def load_and_predict(spec: ModelSpec, batch: list[str]) -> tuple[str, tuple[str, ...], np.ndarray, int]:
    """Run in a spawned process: only the spec and the batch cross over."""
    model = spec.load()
    return model.content_hash, model.classes, model.predict_proba(batch), os.getpid()


def test_a_spec_pickles_and_loads_in_a_fresh_process_with_the_same_predictions(text_pipelines, text_data):
    path = text_pipelines["tfidf_lr"][1]
    spec = spec_for(path)
    assert spec == ModelSpec(str(path.resolve()), "skops", LoadOptions("tfidf_lr", trust_pickle=False))
    assert pickle.loads(pickle.dumps(spec)) == spec and hash(pickle.loads(pickle.dumps(spec))) == hash(spec)
    batch = text_data["text"].tolist()
    here = load_model(path)
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        content_hash, classes, probas, pid = pool.submit(load_and_predict, spec, batch).result(timeout=120)
    assert pid != os.getpid()
    assert (content_hash, classes) == (here.content_hash, here.classes)
    np.testing.assert_array_equal(probas, here.predict_proba(batch))


def test_a_spec_loads_as_load_model_does(text_pipelines, text_data, tmp_path, monkeypatch):
    path = text_pipelines["tfidf_cnb"][1]
    monkeypatch.chdir(tmp_path)  # the spec's path is absolute: it means the same from anywhere
    model = spec_for(path, name="cnb").load()
    assert (model.name, model.kind, model.source) == ("cnb", "skops", str(path.resolve()))
    np.testing.assert_array_equal(model.predict_proba(text_data["text"][:4].tolist()),
                                  load_model(path).predict_proba(text_data["text"][:4].tolist()))


def test_a_pickle_needs_trust_when_the_spec_is_made_and_keeps_it(text_pipelines, tmp_path):
    pipe = text_pipelines["tfidf_lr"][0]
    path = tmp_path / "lr.pkl"
    path.write_bytes(pickle.dumps(pipe))
    with pytest.raises(EnsembleInputError, match=r"lr.pkl: refused to load a pickle.*--trust-pickle"):
        spec_for(path)
    spec = spec_for(path, trust_pickle=True)
    assert spec.kind == "pickle" and spec.options.trust_pickle
    assert spec.load().classes == ("fresh", "rotten")
    with pytest.raises(EnsembleInputError, match="refused to load a pickle"):  # a hand-made spec is checked too
        ModelSpec(spec.path, "pickle", LoadOptions("lr")).load()


def test_the_kinds_are_the_registrys(tmp_path, text_pipelines):
    (tmp_path / "bert").mkdir()
    (tmp_path / "bert" / "config.json").write_text("{}")
    (tmp_path / "head").mkdir()
    (tmp_path / "head" / "ensemble_model.json").write_text("{}")
    (tmp_path / "head" / "config.json").write_text("{}")  # a head directory may hold both
    (tmp_path / "m.ONNX").write_bytes(b"")
    kinds = {kind_of(text_pipelines["tfidf_lr"][1]), kind_of(tmp_path / "bert"), kind_of(tmp_path / "head"),
             kind_of(tmp_path / "m.ONNX")}
    assert kinds == {"skops", "transformers", "embedding_head", "onnx"}
    assert kinds <= set(registry.LOADER_KINDS)
    with pytest.raises(EnsembleInputError, match="unknown model kind 'tensorflow'; expected one of skops, onnx"):
        ModelSpec(str(tmp_path), "tensorflow")


@pytest.mark.parametrize(
    "make, match",
    [(lambda d: d / "missing.skops", "missing.skops: no such file or directory"),
     (lambda d: (d / "notes.txt").write_text("") or d / "notes.txt", r"unknown model format '.txt'; expected"),
     (lambda d: (d / "empty").mkdir() or d / "empty", "not a model directory")],
    ids=["missing", "unknown-suffix", "not-a-model-directory"],
)
def test_what_is_not_a_model_is_refused_without_loading(tmp_path, make, match):
    with pytest.raises(EnsembleInputError, match=match):
        spec_for(make(tmp_path))


def test_a_path_that_changed_kind_is_refused_at_load(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    spec = spec_for(folder)
    (folder / "ensemble_model.json").write_text("{}")
    with pytest.raises(EnsembleInputError, match="the spec says a transformers model, the path now holds a "
                                                 "embedding_head model; make the spec again"):
        spec.load()
