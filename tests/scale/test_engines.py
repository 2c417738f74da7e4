"""Engines: shards, the local engine against score_model, the Ray engine against the local one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ensemble_core._validation import EnsembleInputError
from ensemble_core.models.loading import load_model
from ensemble_core.models.scoring import score_model
from ensemble_core.models.spec import spec_for
from ensemble_core.scale.engines import LocalEngine, RayEngine, ScoreOptions, split_shards


def _assemble(results, n_shards):
    by_index = {r.index: r for r in results}
    assert sorted(by_index) == list(range(n_shards))
    return np.concatenate([by_index[i].probas for i in range(n_shards)])


@pytest.mark.parametrize("rows", [1, 5, 24, 100])
def test_shards_cover_every_row_once_in_order(text_data, rows):
    shards = split_shards(text_data, rows=rows)
    assert [s.index for s in shards] == list(range(len(shards)))
    assert pd.concat([s.data for s in shards])["id"].tolist() == text_data["id"].tolist()
    assert all(s.start == s.index * rows for s in shards)


@pytest.mark.parametrize("rows", [0, -1, 2.5, True])
def test_shard_rows_must_be_a_positive_integer(text_data, rows):
    with pytest.raises(EnsembleInputError, match="rows per shard must be a positive integer"):
        split_shards(text_data, rows=rows)


def test_local_engine_equals_score_model_on_the_whole_data(text_data, text_pipelines):
    path = text_pipelines["tfidf_lr"][1]
    classes = ("rotten", "fresh")
    shards = split_shards(text_data, rows=5)
    got = _assemble(LocalEngine().map_shards(spec_for(path), ScoreOptions(classes=classes), shards), len(shards))
    want = score_model(load_model(path), text_data, classes=classes)
    np.testing.assert_array_equal(got, want)
    # The reference itself: scikit-learn's own probabilities, columns in the asked order.
    pipe = text_pipelines["tfidf_lr"][0]
    ref = pipe.predict_proba(text_data["text"].tolist())[:, [list(pipe.classes_).index(c) for c in classes]]
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-7)


def test_local_engine_without_classes_takes_the_models(text_data, text_pipelines):
    (result,) = LocalEngine().map_shards(spec_for(text_pipelines["tfidf_cnb"][1]), ScoreOptions(),
                                         split_shards(text_data, rows=24))
    assert result.classes == ("fresh", "rotten") and result.probas.shape == (24, 2)


def test_local_engine_loads_nothing_without_shards(tmp_path):
    class Unloadable:
        def load(self):
            raise AssertionError("loaded")

    assert list(LocalEngine().map_shards(Unloadable(), ScoreOptions(), [])) == []


@pytest.mark.slow
@pytest.mark.parametrize("model", ["skops", "onnx", "transformers"])
def test_ray_engine_equals_local_engine(local_ray, request, text_data, text_pipelines, wine, model):
    if model == "skops":
        spec, data, classes = spec_for(text_pipelines["tfidf_rf"][1]), text_data, ("fresh", "rotten")
    elif model == "onnx":
        spec = spec_for(request.getfixturevalue("wine_onnx")["zipmap"])
        data, classes = wine[0], ("barolo", "grignolino", "barbera")
    else:
        spec, data, classes = spec_for(request.getfixturevalue("tiny_bert")[2]), text_data, ("fresh", "rotten")
    shards = split_shards(data, rows=7)
    options = ScoreOptions(classes=classes)
    # One torch actor: two would each import torch, seconds more on two cores.
    ray_results = list(RayEngine(workers=1 if model == "transformers" else 2).map_shards(spec, options, shards))
    local = _assemble(LocalEngine().map_shards(spec, options, shards), len(shards))
    if model == "transformers":
        # torch's kernels may sum in another order with another thread count (Ray's workers run one).
        np.testing.assert_allclose(_assemble(ray_results, len(shards)), local, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_array_equal(_assemble(ray_results, len(shards)), local)


@pytest.mark.slow
def test_a_user_error_in_a_ray_worker_is_one_line(local_ray, text_data, text_pipelines):
    spec = spec_for(text_pipelines["tfidf_lr"][1])
    shards = split_shards(text_data, rows=12)
    with pytest.raises(EnsembleInputError, match="no text column 'review'"):
        list(RayEngine(workers=1).map_shards(spec, ScoreOptions(text_column="review"), shards))
