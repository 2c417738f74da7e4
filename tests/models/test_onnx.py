"""ONNX through onnxruntime: skl2onnx exports (ZipMap or matrix output) agree with scikit-learn."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ensemble_core import EnsembleInputError
from ensemble_core.models import load_model, load_model_bytes


@pytest.mark.parametrize("kind", ["zipmap", "matrix"])
def test_skl2onnx_export_agrees_with_sklearn(wine, wine_onnx, kind):
    df, pipe = wine
    model = load_model(wine_onnx[kind])
    features = df.drop(columns="label")
    assert (model.kind, model.input, model.n_features) == ("onnx", "features", features.shape[1])
    assert model.classes == tuple(pipe.classes_)
    probas = model.predict_proba(features.to_numpy())
    # float32 inside ONNX: agreement to float32 precision.
    np.testing.assert_allclose(probas, pipe.predict_proba(features), atol=1e-5)


def test_upload_bytes_give_the_same_model(wine_onnx):
    path = wine_onnx["matrix"]
    from_file = load_model(path)
    uploaded = load_model_bytes("wine_matrix.onnx", path.read_bytes())
    assert uploaded.content_hash == from_file.content_hash
    assert (uploaded.name, uploaded.classes) == ("wine_matrix", from_file.classes)


@pytest.mark.parametrize("which, options", [(1, None), (0, {"zipmap": False})], ids=["forest-zipmap", "linear-matrix"])
def test_integer_classes(fitted_models, tmp_path, which, options):
    # Integer labels sit in classlabels_int64s (ZipMap, trees) or classlabels_ints (LinearClassifier).
    from skl2onnx import to_onnx

    models, X, _ = fitted_models["iris"]
    est = models[which]
    path = tmp_path / "iris.onnx"
    path.write_bytes(to_onnx(est, X[:1].astype(np.float32), options=options).SerializeToString())
    model = load_model(path)
    assert model.classes == ("0", "1", "2")
    np.testing.assert_allclose(model.predict_proba(X), est.predict_proba(X), atol=1e-5)


def _metadata(path, tmp_path, classes_text):
    import onnx

    proto = onnx.load(path)
    onnx.helper.set_model_props(proto, {"classes": classes_text})
    out = tmp_path / "with_meta.onnx"
    onnx.save(proto, out)
    return out


def test_metadata_classes_take_precedence(wine_onnx, tmp_path):
    path = _metadata(wine_onnx["matrix"], tmp_path, json.dumps(["a", "b", "c"]))
    assert load_model(path).classes == ("a", "b", "c")


def test_bad_metadata_classes_are_refused(wine_onnx, tmp_path):
    path = _metadata(wine_onnx["matrix"], tmp_path, "a,b,c")
    with pytest.raises(EnsembleInputError, match="metadata 'classes' must be a JSON list"):
        load_model(path)


def test_model_without_known_classes_is_refused(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    # A bare softmax over 3 inputs: probabilities, but nothing names the classes.
    graph = helper.make_graph(
        [helper.make_node("Softmax", ["x"], ["probabilities"], axis=1)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 3])],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    proto.ir_version = 8
    path = tmp_path / "softmax.onnx"
    onnx.save(proto, path)
    with pytest.raises(EnsembleInputError, match="cannot tell the model's classes"):
        load_model(path)


def test_invalid_onnx_file_is_one_clear_error(tmp_path):
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"definitely not protobuf")
    with pytest.raises(EnsembleInputError, match=r"broken\.onnx: not a valid ONNX model"):
        load_model(path)


def test_text_pipeline_export_reads_strings(text_data, tmp_path):
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import StringTensorType
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    # skl2onnx's tokenizer splits on a regex; plain words keep it identical to scikit-learn's.
    tfidf = TfidfVectorizer(token_pattern=r"\b\w+\b")
    pipe = make_pipeline(tfidf, LogisticRegression())
    texts = text_data["text"].tolist()
    pipe.fit(texts, text_data["label"])
    # locale "C": the default en_US.UTF-8 need not be installed (it is not on Debian's slim images).
    onx = convert_sklearn(pipe, initial_types=[("input", StringTensorType([None, 1]))],
                          options={id(pipe): {"zipmap": False}, id(tfidf): {"locale": "C"}})
    path = tmp_path / "text_lr.onnx"
    path.write_bytes(onx.SerializeToString())
    model = load_model(path)
    assert (model.input, model.classes) == ("text", ("fresh", "rotten"))
    np.testing.assert_allclose(model.predict_proba(texts), pipe.predict_proba(texts), atol=1e-4)


def test_a_batch_the_model_cannot_run_is_one_line(wine_onnx):
    model = load_model(wine_onnx["matrix"])
    with pytest.raises(EnsembleInputError, match=r"wine_matrix\.onnx: the ONNX model failed on one batch of 2 rows "
                                                 r"\(.*\)$"):
        model.predict_proba(np.zeros((2, 3)))
    # A failed batch is the model's answer, not a broken worker: the next batch runs.
    assert model.predict_proba(np.zeros((2, model.n_features))).shape == (2, 3)
