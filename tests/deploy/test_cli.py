"""``frontier`` (and ``distill``) on the command line: JSON equal to the core, one line + status 2 for bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ensemble_core.cli import main
from ensemble_core.deploy.costs import ModelCost, write_cost
from ensemble_core.deploy.frontier import cost_accuracy_frontier
from ensemble_core.io import load_prediction_set


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("frontier")
    rng = np.random.default_rng(0)
    n = 120
    y = rng.integers(0, 3, n)
    pd.DataFrame({"id": np.arange(n), "label": y}).to_csv(d / "labels.csv", index=False)
    for name in ("a", "b", "c"):
        logits = rng.normal(size=(n, 3))
        logits[np.arange(n), y] += 1.0
        p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        pd.DataFrame({"id": np.arange(n), "0": p[:, 0], "1": p[:, 1], "2": p[:, 2]}).to_csv(d / f"{name}.csv", index=False)
    write_cost(d / "a.csv", ModelCost("a", 5.0, "measured", batch_size=16))
    return d


def _run(capsys, *argv):
    status = main([*map(str, argv)])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_frontier_json_equals_the_core(capsys, files):
    preds = [files / f"{n}.csv" for n in "abc"]
    status, out, _ = _run(capsys, "frontier", "--labels", files / "labels.csv", "--predictions", *preds,
                          "--costs", "b=2,c=1", "--weights", "a=1,b=2,c=1", "--json")
    assert status == 0
    report = json.loads(out)
    expected = cost_accuracy_frontier(load_prediction_set(files / "labels.csv", preds), [5.0, 2.0, 1.0], [1, 2, 1])
    assert report["points"] == [p.to_dict() for p in expected.points]
    assert [c["source"] for c in report["costs"]] == ["measured", "entered", "entered"]
    status, out, _ = _run(capsys, "frontier", "--labels", files / "labels.csv", "--predictions", *preds,
                          "--costs", "b=2,c=1")
    assert status == 0 and "Pareto front" in out and "a: 5 ms per 1,000 examples (measured)" in out


@pytest.mark.parametrize("extra, match", [
    ([], "no cost for model 'b'"),
    (["--costs", "b=x"], "expected name=ms pairs"),
    (["--costs", "b=1,c=1,z=2"], "'z', which is not a loaded model"),
    (["--costs", "b=1,c=1", "--weights", "1,2"], "number of weights"),
])
def test_frontier_bad_input_is_one_line_and_status_2(capsys, files, extra, match):
    preds = [files / f"{n}.csv" for n in "abc"]
    status, out, err = _run(capsys, "frontier", "--labels", files / "labels.csv", "--predictions", *preds, *extra)
    assert status == 2 and out == "" and err.count("\n") == 1 and match in err


def _distill_args(d, tmp_path, members=("lr", "nb", "tree"), train_members=None, **over):
    over = {k: (str(tmp_path / v) if k == "--out" else v) for k, v in over.items()}
    args = {"--train-labels": d / "transfer.csv", "--labels": d / "held_out.csv", "--student": "logistic",
            "--out": tmp_path / "s.skops", **over}
    argv = ["distill"]
    for key, value in args.items():
        if value is not None:
            argv += [key, value]
    argv += ["--train-predictions", *[d / "transfer" / f"{m}.csv" for m in (train_members or members)]]
    argv += ["--predictions", *[d / "held_out" / f"{m}.csv" for m in members]]
    return argv


def test_distill_json_has_every_row(capsys, feature_splits, tmp_path):
    status, out, _ = _run(capsys, *_distill_args(feature_splits, tmp_path, **{"--epochs": 3, "--costs": "lr=1,nb=1,tree=2"}),
                          "--json")
    assert status == 0
    report = json.loads(out)
    assert set(report) >= {"student", "hard_label_student", "ensemble", "members", "student_path"}
    for row in (report["student"], report["hard_label_student"], report["ensemble"], *report["members"]):
        assert set(row) >= {"accuracy", "log_loss", "agreement", "ms_per_1000", "size_bytes"}
    assert report["ensemble"]["ms_per_1000"] == 4.0 and report["student_path"] == str(tmp_path / "s.skops")


@pytest.mark.parametrize("change, match", [
    (dict(train_members=("lr", "nb")), "member 'tree' has no predictions on the transfer set"),
    (dict(members=("lr", "nb"), train_members=("lr", "nb", "tree")), "member 'tree' has no predictions on the held-out"),
    ({"--student": "tfidf-logistic"}, "needs a text column"),
    ({"--student": "transformer"}, "saved as a transformers folder"),
    ({"--student": "bert"}, "invalid choice"),
    ({"--alpha": "2"}, "--alpha must be in [0, 1]"),
    ({"--temperature": "-1"}, "--temperature must be"),
    ({"--out": "student.onnx"}, "saved as .skops"),
    ({"--text-column": "f0"}, "reads feature columns"),
    ({"--feature-columns": "nope"}, "no feature column 'nope'"),
])
def test_distill_bad_input_is_one_line_and_status_2(capsys, feature_splits, tmp_path, change, match):
    status, out, err = _run(capsys, *_distill_args(feature_splits, tmp_path, **change))
    assert status == 2 and out == "" and err.count("\n") == 1 and match in err


def test_distill_refuses_a_transfer_set_without_content(capsys, feature_splits, tmp_path):
    labels = pd.read_csv(feature_splits / "transfer.csv")[["id", "label"]]
    labels.to_csv(tmp_path / "bare.csv", index=False)
    status, _, err = _run(capsys, *_distill_args(feature_splits, tmp_path, **{"--train-labels": tmp_path / "bare.csv"}))
    assert status == 2 and "transfer set: no content columns" in err and err.count("\n") == 1


def test_distill_text_data_with_a_features_student(capsys, text_splits, tmp_path):
    status, _, err = _run(capsys, *_distill_args(text_splits, tmp_path, members=("lr", "nb")))
    assert status == 2 and "column 'text' is not numeric" in err
