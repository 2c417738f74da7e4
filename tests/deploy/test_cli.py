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
