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


@pytest.mark.parametrize("batch_rows", [1000, 64, 61])
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
    pq.write_table(pq.read_table(files[0]).take(np.r_[0:70, 71, 70, 72:1000]), shuffled)
    with pytest.raises(EnsembleInputError) as info:
        stream_soft_evaluation(labels, [shuffled, files[1]], batch_rows=64)
    assert str(info.value) == (
        f"{shuffled}: row 71: id 'x71' where labels.csv has 'x70'; --stream joins the files row by row and needs "
        "the labels file's row order (a prediction store's): evaluate without --stream joins by id")


def _rewrite(path, tmp_path, edit):
    table = pq.read_table(path).to_pandas()
    edit(table)
    out = tmp_path / path.name
    table.to_parquet(out, index=False)
    return out


def _nan(t):
    t.loc[500, "a"] = np.nan


def _over(t):
    t.loc[500, "a"] = 3.0


def _sum(t):
    t.loc[700, "b"] += 0.01


def _no_id(t):
    t.loc[300, "id"] = None


@pytest.mark.parametrize("edit", [_nan, _over, _sum, _no_id], ids=["nan", "over-1", "sum", "missing-id"])
def test_a_bad_file_is_refused_as_evaluate_refuses_it(store, tmp_path, edit):
    """Checked by the same functions as the in-memory reader, with rows counted in the file."""
    labels, files = store
    bad = _rewrite(files[1], tmp_path, edit)
    with pytest.raises(EnsembleInputError) as memory:
        load_prediction_set(labels, [files[0], bad])
    with pytest.raises(EnsembleInputError) as streamed:
        stream_soft_evaluation(labels, [files[0], bad], batch_rows=100)
    assert str(streamed.value) == str(memory.value)


def test_what_evaluate_accepts_streaming_accepts(store, tmp_path):
    """A probability just over 1 (within the sum tolerance) is accepted in memory; the stream's
    own check used to refuse it."""
    labels, files = store

    def edit(t):
        t.loc[10, ["a", "b", "c", "d"]] = [1.0005, 0.0, 0.0, 0.0]

    edited = _rewrite(files[2], tmp_path, edit)
    got = stream_soft_evaluation(labels, [files[0], edited], batch_rows=64)
    evaluator = EnsembleEvaluator(load_prediction_set(labels, [files[0], edited]))
    np.testing.assert_array_equal(got.ensemble.confusion_matrix, evaluator.evaluate("soft").metrics.confusion_matrix)


@pytest.mark.parametrize("column, match", [
    ("id", r"labels.csv: column 'id': row 500: id is missing"),
    ("label", r"labels.csv: column 'label': row 500: label is missing"),
])
def test_bad_labels_are_refused_naming_the_row_in_the_file(store, tmp_path, column, match):
    labels, files = store
    frame = pd.read_csv(labels, dtype=str)
    frame.loc[499, column] = None  # in the second chunk
    frame.to_csv(tmp_path / "labels.csv", index=False)
    with pytest.raises(EnsembleInputError, match=match):
        stream_soft_evaluation(tmp_path / "labels.csv", files, batch_rows=300)


def test_labels_without_a_label_column_are_refused(store, tmp_path):
    labels, files = store
    pd.read_csv(labels, dtype=str).drop(columns="label").to_csv(tmp_path / "ids.csv", index=False)
    with pytest.raises(EnsembleInputError, match=r"ids.csv: no 'label' column"):
        stream_soft_evaluation(tmp_path / "ids.csv", files)


def test_parquet_labels_stream_as_csv_labels(store, tmp_path):
    labels, files = store
    pd.read_csv(labels, dtype=str).to_parquet(tmp_path / "labels.parquet", row_group_size=90)
    a = stream_soft_evaluation(labels, files, batch_rows=64)
    b = stream_soft_evaluation(tmp_path / "labels.parquet", files, batch_rows=64)
    assert [m.to_dict() for m in [*a.models, a.ensemble]] == [m.to_dict() for m in [*b.models, b.ensemble]]
    assert (a.classes, a.fixes, a.breaks, a.oracle_accuracy) == (b.classes, b.fixes, b.breaks, b.oracle_accuracy)


def test_integer_labels_are_ordered_by_value_across_chunks(tmp_path):
    """Classes are sorted by value once every chunk's labels are seen (10 after 9, the first
    chunk seeing only 10), as the in-memory reader sorts them."""
    rng = np.random.default_rng(0)
    n = 300
    y = np.r_[np.full(100, 10), rng.choice([9, 10, 11], n - 100)]
    pd.DataFrame({"label": y}).to_csv(tmp_path / "y.csv", index=False)
    p = rng.dirichlet(np.ones(3), n).astype(np.float32)
    pq.write_table(pa.table({"11": p[:, 2], "9": p[:, 0], "10": p[:, 1]}), tmp_path / "m.parquet")
    got = stream_soft_evaluation(tmp_path / "y.csv", [tmp_path / "m.parquet"], batch_rows=100)
    pset = load_prediction_set(tmp_path / "y.csv", [tmp_path / "m.parquet"])
    assert got.classes == ("9", "10", "11")
    np.testing.assert_array_equal(got.models[0].confusion_matrix,
                                  classifier_metrics(pset.y_true, pset.probas[0].argmax(1), pset.probas[0]).confusion_matrix)


_POOLS: list = []


def test_memory_stays_bounded_on_files_far_larger_than_a_batch(tmp_path):
    """100,000 rows (a 15 MB labels file with a text column, two 1.6 MB prediction files) read
    2,000 rows at a time: the peak of Python and NumPy allocations (tracemalloc) and of Arrow's
    stays near one batch's, and the numbers are the in-memory evaluation's."""
    import tracemalloc

    rng = np.random.default_rng(1)
    n, k = 100_000, 4
    y = rng.integers(0, k, n)
    ids = np.char.add("example-", np.arange(n).astype(str))
    pd.DataFrame({"id": ids, "text": ["lorem ipsum " * 10] * n, "label": y}).to_csv(tmp_path / "y.csv", index=False)
    files = []
    for m in range(2):
        logits = rng.normal(size=(n, k)).astype(np.float32)
        logits[np.arange(n), y] += 1.0
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        table = pa.table({"id": ids, **{str(c): p[:, c] for c in range(k)}})
        pq.write_table(table, tmp_path / f"m{m}.parquet", row_group_size=4096)
        files.append(tmp_path / f"m{m}.parquet")
    size = sum(f.stat().st_size for f in [tmp_path / "y.csv", *files])
    assert size > 15 * 2**20

    pool = pa.proxy_memory_pool(pa.default_memory_pool())
    _POOLS.append(pool)  # never freed: a buffer that outlives its pool would crash the process
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    tracemalloc.start()
    try:
        got = stream_soft_evaluation(tmp_path / "y.csv", files, batch_rows=2000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        pa.set_memory_pool(previous)
    print(f"peak {peak / 2**20:.2f} MiB, arrow {pool.max_memory() / 2**20:.2f} MiB, files {size / 2**20:.1f} MiB")
    assert peak < 3 * 2**20, f"{peak / 2**20:.1f} MiB"
    assert pool.max_memory() < 3 * 2**20, f"{pool.max_memory() / 2**20:.1f} MiB"
    evaluator = EnsembleEvaluator(load_prediction_set(tmp_path / "y.csv", files))
    result = evaluator.evaluate("soft")
    np.testing.assert_array_equal(got.ensemble.confusion_matrix, result.metrics.confusion_matrix)
    assert (got.fixes, got.breaks, got.oracle_accuracy) == (result.fixes, result.breaks, evaluator.oracle_accuracy_)
    assert got.ensemble.log_loss == pytest.approx(result.metrics.log_loss, rel=1e-12)


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
