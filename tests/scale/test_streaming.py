"""Streaming evaluation equals the in-memory evaluator on a store split into many row groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ensemble_core import EnsembleEvaluator, load_prediction_set
from ensemble_core._validation import EnsembleInputError
from ensemble_core.metrics import classifier_metrics
from ensemble_core.scale.streaming import stream_soft_evaluation


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """1,000 rows, 4 classes, 3 models of different skill, each file with its own row-group size."""
    rng = np.random.default_rng(5)
    d = tmp_path_factory.mktemp("stream")
    n, k = 1000, 4
    classes = np.array(["a", "b", "c", "d"])
    y = rng.integers(0, k, n)
    ids = np.array([f"x{i}" for i in range(n)])
    pd.DataFrame({"id": ids, "label": classes[y]}).to_csv(d / "labels.csv", index=False)
    files = []
    for m, (skill, group) in enumerate([(1.0, 37), (2.0, 100), (0.3, 256)]):
        logits = rng.normal(size=(n, k))
        logits[np.arange(n), y] += skill
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        p = p.astype(np.float32)
        if m == 2:
            p[:5] = np.float32(0.25)  # exact ties: the decision rule's first class
        table = pa.table({"id": ids, **{c: p[:, j] for j, c in enumerate(classes)}})
        path = d / f"m{m}.parquet"
        pq.write_table(table, path, row_group_size=group)
        files.append(path)
    return d / "labels.csv", files


@pytest.mark.parametrize("batch_rows", [1000, 64, 7])
@pytest.mark.parametrize("weights", [None, [0.2, 0.5, 0.3]], ids=["equal", "weighted"])
def test_streaming_equals_the_in_memory_evaluator(store, batch_rows, weights):
    labels, files = store
    assert pq.ParquetFile(files[0]).metadata.num_row_groups == 28
    got = stream_soft_evaluation(labels, files, weights, batch_rows=batch_rows)
    pset = load_prediction_set(labels, files)
    evaluator = EnsembleEvaluator(pset)
    result = evaluator.evaluate("soft", None if weights is None else np.array(weights))
    want = [classifier_metrics(pset.y_true, np.asarray(r), p) for r, p in
            zip(evaluator.labels_, pset.probas)]
    for a, b in zip([*got.models, got.ensemble], [*want, result.metrics]):
        np.testing.assert_array_equal(a.confusion_matrix, b.confusion_matrix)
        for name in ("accuracy", "macro_f1", "log_loss", "ece"):
            assert getattr(a, name) == pytest.approx(getattr(b, name), rel=1e-12, abs=1e-14), name
        # Each row's sum of squares is a float32 sum, over the classes in the evaluator's own
        # order for the ensemble: equal to float32 rounding.
        assert a.brier == pytest.approx(b.brier, rel=1e-7)
    assert got.best_name == evaluator.best_name_
    assert (got.fixes, got.breaks) == (result.fixes, result.breaks)
    assert got.oracle_accuracy == evaluator.oracle_accuracy_
    assert got.disagreement_rate == evaluator.disagreement_rate_
    assert got.n_rows == 1000


def test_rows_in_another_order_are_refused(store, tmp_path):
    labels, files = store
    shuffled = tmp_path / "m0.parquet"
    pq.write_table(pq.read_table(files[0]).take(np.r_[1, 0, 2:1000]), shuffled)
    with pytest.raises(EnsembleInputError, match="rows 1-64: ids differ from the labels file's"):
        stream_soft_evaluation(labels, [shuffled, files[1]], batch_rows=64)


def test_rows_that_are_not_probabilities_are_refused(store, tmp_path):
    labels, files = store
    table = pq.read_table(files[1]).to_pandas()
    table.loc[500, "a"] = 3.0
    bad = tmp_path / "m1.parquet"
    table.to_parquet(bad, index=False)
    with pytest.raises(EnsembleInputError, match=r"m1.parquet: row 501: not probabilities"):
        stream_soft_evaluation(labels, [files[0], bad], batch_rows=100)


def _json(capsys, argv):
    import json

    from ensemble_core.cli import main

    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("weights", [[], ["--weights", "1,3,0.5"]], ids=["equal", "weighted"])
def test_evaluate_stream_reports_what_evaluate_reports(capsys, store, weights):
    labels, files = store
    argv = ["evaluate", "--labels", str(labels), "--predictions", *map(str, files), *weights, "--json"]
    full = _json(capsys, argv)
    streamed = _json(capsys, [*argv, "--stream", "--batch-rows", "100"])
    assert set(streamed) <= set(full)
    assert set(full) - set(streamed) == {"accuracy_ci", "gain_ci", "mcnemar_p", "gain_summary"}
    for key in ("strategy", "n_samples", "classes", "names", "confusion_matrix", "best_single", "oracle_accuracy",
                "disagreement_rate", "fixes", "breaks"):
        assert streamed[key] == full[key], key
    assert streamed["weights"] == pytest.approx(full["weights"], rel=1e-7)
    for key in ("accuracy", "macro_f1", "log_loss", "ece", "gain_over_best"):
        assert streamed[key] == pytest.approx(full[key], rel=1e-12, abs=1e-14), key
    assert streamed["brier"] == pytest.approx(full["brier"], rel=1e-7)
    assert streamed["notes"] == ["streamed 100 rows at a time: no confidence intervals or McNemar test"]


def test_evaluate_stream_table_prints(capsys, store):
    from ensemble_core.cli import main

    labels, files = store
    assert main(["evaluate", "--labels", str(labels), "--predictions", *map(str, files), "--stream"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1000 examples, 4 classes, 3 models") and "95% CI" not in out and "oracle accuracy" in out


@pytest.mark.parametrize("extra, match", [
    (["--strategy", "hard"], "--strategy other than soft"),
    (["--optimize", "caruana"], "--optimize"),
    (["--weights", "m0=1,m1=2,m2=1"], "--weights by name"),
])
def test_evaluate_stream_refuses_what_it_cannot_do(capsys, store, extra, match):
    from ensemble_core.cli import main

    labels, files = store
    assert main(["evaluate", "--labels", str(labels), "--predictions", *map(str, files), "--stream", *extra]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1
