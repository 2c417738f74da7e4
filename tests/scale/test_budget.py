"""The memory budget: over it ``evaluate`` streams by itself, with ``--stream``'s numbers; under it nothing changes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ensemble_core import registry
from ensemble_core.cli import main
from ensemble_core.scale.budget import arrays_bytes, default_budget_bytes, machine_ram_bytes, memory_check


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """300 rows, 3 classes, 2 models as a store writes them (id + one float32 column per class)."""
    rng = np.random.default_rng(3)
    d = tmp_path_factory.mktemp("budget")
    n, classes = 300, ["a", "b", "c"]
    y = rng.integers(0, 3, n)
    ids = [f"r{i}" for i in range(n)]
    pd.DataFrame({"id": ids, "label": np.array(classes)[y]}).to_csv(d / "labels.csv", index=False)
    files = []
    for m, skill in enumerate([1.0, 2.0]):
        logits = rng.normal(size=(n, 3))
        logits[np.arange(n), y] += skill
        p = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
        path = d / f"m{m}.parquet"
        pq.write_table(pa.table({"id": ids, **{c: p[:, j] for j, c in enumerate(classes)}}), path, row_group_size=64)
        files.append(path)
    return d / "labels.csv", files


def _run(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_arrays_are_sized_from_the_footer(store, tmp_path):
    labels, files = store
    assert arrays_bytes(files[0]) == 300 * 3 * 4  # the id column is not counted
    csv = tmp_path / "m.csv"
    pd.read_parquet(files[0]).to_csv(csv, index=False)
    assert arrays_bytes(csv) == csv.stat().st_size
    check = memory_check(files, budget_mb=0.007)
    assert (check.arrays_bytes, check.budget_bytes, check.over) == (7200, 7000, True)
    assert not memory_check(files, budget_mb=0.0072).over  # equal to the budget fits
    assert default_budget_bytes() == int(machine_ram_bytes() * registry.MEMORY_BUDGET_FRACTION)


def test_over_the_budget_evaluate_streams_with_the_numbers_of_stream(capsys, store):
    labels, files = store
    argv = ["evaluate", "--labels", str(labels), "--predictions", *map(str, files), "--json", "--batch-rows", "50"]
    code, out, err = _run(capsys, [*argv, "--stream"])
    assert code == 0 and err == ""
    streamed = json.loads(out)
    code, out, err = _run(capsys, [*argv, "--memory-budget", "0.005"])
    assert code == 0
    assert err == ("evaluate: prediction arrays 0.0 MB exceed the memory budget 0.0 MB: streaming them 50 rows at a "
                   "time (as --stream)\n")
    auto = json.loads(out)
    assert auto.pop("memory_budget") == {"arrays_bytes": 7200, "budget_bytes": 5000, "over": True,
                                         "streamed": "automatically"}
    assert auto == streamed


def test_under_the_budget_evaluate_is_unchanged(capsys, store):
    labels, files = store
    argv = ["evaluate", "--labels", str(labels), "--predictions", *map(str, files), "--json"]
    code, out, err = _run(capsys, argv)
    default = json.loads(out)
    assert code == 0 and err == "" and "accuracy_ci" in default  # in memory: intervals
    code, out, err = _run(capsys, [*argv, "--memory-budget", "0.0072"])
    assert code == 0 and err == "" and json.loads(out) == default


@pytest.mark.parametrize("extra, match", [
    (["--optimize", "caruana"], "does not take --optimize: raise --memory-budget MB, or drop --optimize"),
    (["--strategy", "stacking"], "does not take --strategy other than soft"),
])
def test_over_the_budget_what_streaming_cannot_do_is_refused(capsys, store, extra, match):
    labels, files = store
    code, out, err = _run(capsys, ["evaluate", "--labels", str(labels), "--predictions", *map(str, files),
                                   "--memory-budget", "0.001", *extra])
    assert code == 2 and out == ""
    assert "prediction arrays 0.0 MB exceed the memory budget 0.0 MB" in err and match in err
    assert err.count("\n") == 1


def test_over_the_budget_csv_predictions_are_refused(capsys, store, tmp_path):
    labels, files = store
    csv = tmp_path / "m0.csv"
    pd.read_parquet(files[0]).to_csv(csv, index=False)
    code, out, err = _run(capsys, ["evaluate", "--labels", str(labels), "--predictions", str(csv), str(files[1]),
                                   "--memory-budget", "0.001"])
    assert code == 2 and f"{csv} is not: convert it, or raise --memory-budget MB" in err and err.count("\n") == 1


def test_a_budget_that_is_not_positive_is_refused(capsys, store):
    labels, files = store
    code, _, err = _run(capsys, ["evaluate", "--labels", str(labels), "--predictions", str(files[0]),
                                 "--memory-budget", "0"])
    assert code == 2 and "--memory-budget must be a positive number of MB" in err
