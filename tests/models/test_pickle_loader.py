"""Pickles run code when loaded: refused unless trusted (and nothing runs then), always refused as uploads."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from ensemble_core import EnsembleInputError
from ensemble_core.models import load_model, load_model_bytes


class _TouchOnLoad:
    """Unpickling this calls ``os.mkdir(path)``: the path appears iff pickle code ran."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


@pytest.mark.parametrize("suffix", [".pkl", ".pickle", ".joblib"])
def test_untrusted_pickle_runs_no_code(tmp_path, suffix):
    marker = tmp_path / "pwned"
    path = tmp_path / f"model{suffix}"
    path.write_bytes(pickle.dumps(_TouchOnLoad(str(marker))))
    with pytest.raises(EnsembleInputError, match=r"refused to load a pickle.*runs any code.*--trust-pickle"):
        load_model(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    "suffix, message", [(".skops", "not a valid skops file"), (".onnx", "not a valid ONNX model")]
)
@pytest.mark.parametrize("trust_pickle", [False, True], ids=["untrusted", "trusted"])
def test_pickle_under_another_suffix_is_never_unpickled(tmp_path, suffix, message, trust_pickle):
    # The suffix picks the loader; no other loader falls back to unpickling, trusted or not.
    marker = tmp_path / "pwned"
    path = tmp_path / f"model{suffix}"
    path.write_bytes(pickle.dumps(_TouchOnLoad(str(marker))))
    with pytest.raises(EnsembleInputError, match=message):
        load_model(path, trust_pickle=trust_pickle)
    with pytest.raises(EnsembleInputError, match=message):
        load_model_bytes(path.name, path.read_bytes())
    assert not marker.exists()


def test_trusting_the_same_pickle_does_run_its_code(tmp_path):
    # The control for the test above: this payload really acts when unpickled.
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(_TouchOnLoad(str(marker))))
    with pytest.raises(EnsembleInputError, match="holds a NoneType, not a fitted classifier"):
        load_model(path, trust_pickle=True)
    assert marker.exists()


def test_uploaded_pickle_is_refused_even_when_harmless(text_pipelines, tmp_path):
    marker = tmp_path / "pwned"
    with pytest.raises(EnsembleInputError, match="uploaded pickle/joblib files are never loaded"):
        load_model_bytes("model.pkl", pickle.dumps(_TouchOnLoad(str(marker))))
    assert not marker.exists()


@pytest.mark.parametrize("suffix", [".pkl", ".joblib"])
def test_trusted_pickle_loads_and_agrees(text_pipelines, text_data, tmp_path, suffix):
    import joblib

    pipe, _ = text_pipelines["tfidf_lr"]
    path = tmp_path / f"lr{suffix}"
    if suffix == ".joblib":
        joblib.dump(pipe, path)
    else:
        path.write_bytes(pickle.dumps(pipe))
    model = load_model(path, trust_pickle=True)
    assert (model.kind, model.input, model.classes) == ("pickle", "text", ("fresh", "rotten"))
    texts = text_data["text"].tolist()
    np.testing.assert_allclose(model.predict_proba(texts), pipe.predict_proba(texts))


def test_trusted_pickle_that_is_not_a_classifier_is_refused(tmp_path):
    path = tmp_path / "numbers.pkl"
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(EnsembleInputError, match="holds a list, not a fitted classifier"):
        load_model(path, trust_pickle=True)


def test_trusted_file_that_is_not_a_pickle_is_one_clear_error(tmp_path):
    path = tmp_path / "garbage.pkl"
    path.write_bytes(b"this is not a pickle")
    with pytest.raises(EnsembleInputError, match="could not unpickle"):
        load_model(path, trust_pickle=True)
