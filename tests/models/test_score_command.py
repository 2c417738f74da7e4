"""``ensemble-explorer score``: prediction files, the cache, and one line + status 2 for every bad input."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from ensemble_core import load_prediction_set
from ensemble_core.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory, text_data, text_pipelines, wine):
    d = tmp_path_factory.mktemp("score")
    text_data.to_csv(d / "reviews.csv", index=False)
    text_data.drop(columns="label").to_csv(d / "unlabelled.csv", index=False)
    wine[0].to_csv(d / "wine.csv", index=False)
    return d


def _score(capsys, *argv):
    status = main(["score", *map(str, argv)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_writes_a_prediction_file_that_evaluate_reads(capsys, files, text_pipelines, text_data, tmp_path):
    pipe, path = text_pipelines["tfidf_lr"]
    out = tmp_path / "lr.csv"
    status, stdout, _ = _score(capsys, "--model", path, "--data", files / "reviews.csv", "--out", out,
                               "--cache-dir", tmp_path / "cache")
    assert status == 0
    assert stdout.count("\n") == 1 and "tfidf_lr: scored 24 rows" in stdout and "cache miss, now cached" in stdout
    written = pd.read_csv(out)
    assert list(written.columns) == ["id", "fresh", "rotten"]
    assert written["id"].tolist() == text_data["id"].tolist()
    pset = load_prediction_set(files / "reviews.csv", [out])
    np.testing.assert_allclose(pset.probas[0], pipe.predict_proba(text_data["text"].tolist()), atol=1e-6)
    accuracy = np.mean(pset.probas[0].argmax(1) == pset.y_true)
    assert f"accuracy {accuracy:.4f}" in stdout


def test_second_run_is_a_cache_hit(capsys, files, text_pipelines, tmp_path):
    args = ["--model", text_pipelines["tfidf_rf"][1], "--data", files / "reviews.csv", "--cache-dir", tmp_path]
    assert _score(capsys, *args, "--out", tmp_path / "a.csv")[0] == 0
    status, stdout, _ = _score(capsys, *args, "--out", tmp_path / "b.csv")
    assert status == 0 and "(cache hit)" in stdout
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    status, stdout, _ = _score(capsys, *args, "--out", tmp_path / "c.csv", "--no-cache")
    assert status == 0 and "(no cache)" in stdout


def test_an_unwritable_cache_is_not_reported_as_written(capsys, files, text_pipelines, tmp_path):
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("")
    status, stdout, stderr = _score(capsys, "--model", text_pipelines["tfidf_lr"][1], "--data", files / "reviews.csv",
                                    "--out", tmp_path / "p.csv", "--cache-dir", not_a_folder)
    assert status == 0 and "(cache miss, not cached)" in stdout
    # the CLI prints each warning as one line of its own, without Python's source line
    lines = stderr.splitlines()
    assert lines and all(
        line.startswith("ensemble-explorer: warning: prediction cache not written (") and line.endswith(" (UserWarning)")
        for line in lines
    )


def test_features_model_with_name_and_output_folder(capsys, files, wine_onnx, tmp_path):
    features = [c for c in pd.read_csv(files / "wine.csv").columns if c != "label"]
    status, stdout, _ = _score(capsys, "--model", wine_onnx["zipmap"], "--data", files / "wine.csv",
                               "--feature-columns", *features, "--name", "onnx_lr", "--out", tmp_path, "--no-cache")
    assert status == 0, stdout
    written = pd.read_csv(tmp_path / "onnx_lr.csv")
    assert list(written.columns) == ["barbera", "barolo", "grignolino"]  # the labels file's sorted classes


def test_unlabelled_data_takes_the_model_classes(capsys, files, tiny_bert, tmp_path):
    status, stdout, _ = _score(capsys, "--model", tiny_bert[2], "--data", files / "unlabelled.csv",
                               "--out", tmp_path / "p.csv", "--no-cache", "--batch-size", "7")
    assert status == 0 and "accuracy" not in stdout
    assert list(pd.read_csv(tmp_path / "p.csv").columns) == ["id", "rotten", "fresh"]


def test_trusted_pickle(capsys, files, text_pipelines, tmp_path):
    path = tmp_path / "lr.pkl"
    path.write_bytes(pickle.dumps(text_pipelines["tfidf_lr"][0]))
    args = ["--model", path, "--data", files / "reviews.csv", "--out", tmp_path / "p.csv", "--no-cache"]
    assert _score(capsys, *args)[0] == 2
    assert _score(capsys, *args, "--trust-pickle")[0] == 0


def _bad_inputs(d, text_pipelines, tiny_bert, wine_skops):
    lr = text_pipelines["tfidf_lr"][1]
    reviews = d / "reviews.csv"
    (d / "empty.csv").write_text("id,text,label\n")
    (d / "weird.xlsx").write_bytes(b"x")
    (d / "model.pkl").write_bytes(pickle.dumps([1]))
    (d / "not_a_model").mkdir(exist_ok=True)
    (d / "disallowed.skops").write_bytes(_disallowed_skops())
    (d / "other_classes.csv").write_text("text,label\ngood,pos\nbad,neg\n")
    (d / "missing_text.csv").write_text("text,label\ngood,fresh\n,rotten\n")
    (d / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (d / "csv.parquet").write_text("text,label\ngood,fresh\n")
    wine_inf = pd.read_csv(d / "wine.csv")
    wine_inf.loc[3, "alcohol"] = np.inf
    wine_inf.to_csv(d / "wine_inf.csv", index=False)
    return [
        ("missing-model", ["--model", d / "nope.skops", "--data", reviews], "nope.skops: no such file"),
        ("missing-data", ["--model", lr, "--data", d / "nope.csv"], "nope.csv: no such file"),
        ("unknown-data-format", ["--model", lr, "--data", d / "weird.xlsx"], "unknown file type"),
        ("unknown-model-format", ["--model", d / "weird.xlsx", "--data", reviews], "unknown model format '.xlsx'"),
        ("not-a-model-dir", ["--model", d / "not_a_model", "--data", reviews], "not a model directory"),
        ("missing-column", ["--model", lr, "--data", reviews, "--text-column", "body"], "no text column 'body'"),
        ("class-mismatch", ["--model", lr, "--data", d / "other_classes.csv"], "do not match the data's"),
        ("refused-pickle", ["--model", d / "model.pkl", "--data", reviews], "refused to load a pickle"),
        ("disallowed-skops", ["--model", d / "disallowed.skops", "--data", reviews],
         "outside ensemble-explorer's allow-list"),
        ("empty-data", ["--model", lr, "--data", d / "empty.csv"], "has no rows"),
        ("missing-text", ["--model", lr, "--data", d / "missing_text.csv"], "column 'text': row 2: text is missing"),
        ("not-csv-content", ["--model", lr, "--data", d / "binary.csv"], "binary.csv: not a valid CSV file"),
        ("not-parquet-content", ["--model", lr, "--data", d / "csv.parquet"], "csv.parquet: not a valid Parquet file"),
        ("infinite-feature", ["--model", wine_skops, "--data", d / "wine_inf.csv"],
         "column 'alcohol': row 4: inf is not a finite number"),
        ("bad-batch-size", ["--model", lr, "--data", reviews, "--batch-size", "0"], "--batch-size must be at least 1"),
        ("both-column-kinds", ["--model", lr, "--data", reviews, "--text-column", "text", "--feature-columns", "a"],
         "not allowed with argument"),
        ("bert-pickled-weights", ["--model", tiny_bert, "--data", reviews], "pytorch_model.bin"),
    ]


def _disallowed_skops() -> bytes:
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    return sio.dumps(make_pipeline(FunctionTransformer(np.save), LogisticRegression()))


@pytest.fixture(scope="module")
def bad_inputs(files, text_pipelines, tiny_bert, wine_skops, tmp_path_factory):
    import shutil

    bert = shutil.copytree(tiny_bert[2], tmp_path_factory.mktemp("bad") / "bert")
    (bert / "model.safetensors").rename(bert / "pytorch_model.bin")
    return {case[0]: case for case in _bad_inputs(files, text_pipelines, bert, wine_skops)}


BAD_CASES = [
    "missing-model", "missing-data", "unknown-data-format", "unknown-model-format", "not-a-model-dir",
    "missing-column", "class-mismatch", "refused-pickle", "disallowed-skops", "empty-data", "missing-text",
    "not-csv-content", "not-parquet-content", "infinite-feature", "bad-batch-size",
    "both-column-kinds", "bert-pickled-weights",
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_is_one_line_and_status_2(capsys, bad_inputs, tmp_path, case):
    _, argv, message = bad_inputs[case]
    out = tmp_path / "p.csv"
    status, stdout, stderr = _score(capsys, *argv, "--out", out, "--cache-dir", tmp_path / "cache")
    assert status == 2
    assert stderr.startswith("ensemble-explorer: error: ") and stderr.count("\n") == 1
    assert message in stderr
    assert stdout == "" and not out.exists()


def test_an_unknown_output_type_is_refused_before_scoring(capsys, files, text_pipelines, tmp_path):
    out = tmp_path / "p.xlsx"
    status, stdout, stderr = _score(capsys, "--model", text_pipelines["tfidf_lr"][1], "--data", files / "reviews.csv",
                                    "--out", out, "--cache-dir", tmp_path / "cache")
    assert status == 2 and stdout == ""
    assert "p.xlsx: unknown file type" in stderr and stderr.count("\n") == 1
    assert not out.exists()
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.npy*"))  # nothing was scored


def test_writes_the_measured_cost_beside_the_predictions_and_keeps_it_on_a_cache_hit(
        capsys, files, text_pipelines, tmp_path):
    import json

    _, path = text_pipelines["tfidf_lr"]
    out = tmp_path / "lr.csv"
    args = ("--model", path, "--data", files / "reviews.csv", "--out", out, "--cache-dir", tmp_path / "cache",
            "--batch-size", 8)
    status, stdout, _ = _score(capsys, *args)
    sidecar = tmp_path / "lr.cost.json"
    cost = json.loads(sidecar.read_text())
    assert status == 0 and str(sidecar) in stdout
    assert cost["source"] == "measured" and cost["batch_size"] == 8 and cost["n_rows"] == 24
    assert cost["ms_per_1000"] > 0 and cost["size_bytes"] == path.stat().st_size
    assert cost["memory_method"] == "ru_maxrss delta" and cost["peak_memory_bytes"] >= 0
    status, stdout, _ = _score(capsys, *args)  # a cache hit measures the cache: the sidecar stays
    assert status == 0 and "cost not measured (cache hit)" in stdout
    assert json.loads(sidecar.read_text()) == cost
