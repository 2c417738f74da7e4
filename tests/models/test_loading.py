"""load_model picks the loader from what the path is; everything else is one clear error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ensemble_core import EnsembleInputError
from ensemble_core.models import load_model, load_model_bytes


def test_dispatch_by_path(text_pipelines, wine_onnx, tiny_bert, embedding_head):
    kinds = {
        text_pipelines["tfidf_lr"][1]: "skops",
        wine_onnx["zipmap"]: "onnx",
        tiny_bert[2]: "transformers",
        embedding_head[3]: "embedding_head",
    }
    for path, kind in kinds.items():
        assert load_model(path).kind == kind


def test_name_defaults_to_the_stem_and_can_be_given(text_pipelines):
    path = text_pipelines["tfidf_cnb"][1]
    assert load_model(path).name == "tfidf_cnb"
    assert load_model(path, name="nb").name == "nb"


def test_content_hash_follows_the_bytes_not_the_name(text_pipelines, tmp_path):
    path = text_pipelines["tfidf_lr"][1]
    copy = tmp_path / "renamed.skops"
    copy.write_bytes(path.read_bytes())
    assert load_model(copy).content_hash == load_model(path).content_hash
    assert load_model(text_pipelines["tfidf_cnb"][1]).content_hash != load_model(path).content_hash


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "absent.skops", r"absent\.skops: no such file or directory"),
        (lambda d: (d / "m.h5").write_bytes(b"x") and d / "m.h5", r"unknown model format '\.h5'"),
        (lambda d: (d / "empty").mkdir() or d / "empty", "not a model directory"),
    ],
    ids=["missing", "unknown-suffix", "plain-directory"],
)
def test_unloadable_paths(tmp_path, make, message):
    with pytest.raises(EnsembleInputError, match=message):
        load_model(make(tmp_path))


def test_upload_of_an_unknown_format_is_refused():
    with pytest.raises(EnsembleInputError, match="uploads may be .skops or .onnx"):
        load_model_bytes("model.safetensors", b"\x00")


def test_upload_of_skops_loads(text_pipelines):
    path = text_pipelines["tfidf_rf"][1]
    model = load_model_bytes("forest.skops", path.read_bytes())
    assert (model.name, model.kind, model.classes) == ("forest", "skops", ("fresh", "rotten"))


def test_importing_the_package_loads_no_heavy_library():
    code = (
        "import sys, ensemble_core, ensemble_core.models\n"
        "print(sorted(m for m in ('torch', 'transformers', 'onnxruntime') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"


def test_a_model_the_cache_has_seen_loads_on_first_prediction(text_pipelines, text_data, tmp_path):
    from ensemble_core.models import PredictionCache

    pipe, path = text_pipelines["tfidf_cnb"]
    cache = PredictionCache(tmp_path)
    eager = load_model(path, cache=cache)
    deferred = load_model(path, cache=cache, name="nb")
    assert deferred._predict is not eager._predict
    for field in ("kind", "classes", "input", "feature_names", "n_features", "content_hash", "batch_size"):
        assert getattr(deferred, field) == getattr(eager, field)
    assert deferred.name == "nb"
    texts = text_data["text"].tolist()
    np.testing.assert_allclose(deferred.predict_proba(texts), pipe.predict_proba(texts))


def test_cache_hit_in_a_new_process_loads_no_model_library(text_pipelines, text_data, tmp_path):
    from ensemble_core.models import PredictionCache, score_model

    path = text_pipelines["tfidf_rf"][1]
    cache = PredictionCache(tmp_path / "cache")
    text_data.to_csv(tmp_path / "data.csv", index=False)
    score_model(load_model(path, cache=cache), text_data, classes=["fresh", "rotten"], cache=cache)
    code = (
        "import sys\n"
        "from ensemble_core.io import LabelsFile\n"
        "from ensemble_core.models import PredictionCache, load_model, score_model\n"
        f"cache = PredictionCache({str(tmp_path / 'cache')!r})\n"
        f"labels = LabelsFile({str(tmp_path / 'data.csv')!r})\n"
        f"score_model(load_model({str(path)!r}, cache=cache), labels.content, classes=labels.classes, cache=cache)\n"
        "print(cache.hits, sorted(m for m in ('sklearn', 'skops', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "1 []"


def test_a_wrong_cached_description_fails_once_and_is_corrected(text_pipelines, tmp_path):
    from ensemble_core.models import PredictionCache
    from ensemble_core.models.loading import _info

    path = text_pipelines["tfidf_lr"][1]
    cache = PredictionCache(tmp_path)
    model = load_model(path)
    # A well-formed, checksummed description that lies about the model.
    cache.put_model_info(model.content_hash, {**_info(model), "classes": ["rotten", "fresh"]})
    deferred = load_model(path, cache=cache)
    assert deferred.classes == ("rotten", "fresh")
    with pytest.raises(EnsembleInputError, match="described this model wrongly.*corrected now: run again"):
        deferred.predict_proba(["good"])
    assert cache.get_model_info(model.content_hash) == _info(model)
    again = load_model(path, cache=cache)
    assert again.classes == ("fresh", "rotten")
    np.testing.assert_array_equal(again.predict_proba(["good"]), model.predict_proba(["good"]))
