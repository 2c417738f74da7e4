"""The file format: what is read, how rows align, and every rejected input's message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ensemble_core import EnsembleInputError, LabelsFile, load_prediction_set, write_predictions


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def labels(tmp_path):
    return _write(tmp_path / "labels.csv", "id,label,text\n1,pos,great\n2,neg,awful\n3,pos,fine\n")


def test_reads_probabilities_and_aligns_rows_by_id(tmp_path, labels):
    pred = _write(tmp_path / "rf.csv", "id,neg,pos\n3,0.2,0.8\n1,0.1,0.9\n2,0.7,0.3\n")
    ps = load_prediction_set(labels, [pred])
    assert ps.names == ("rf",)
    assert list(ps.classes) == ["neg", "pos"]
    np.testing.assert_array_equal(ps.y_true, [1, 0, 1])
    np.testing.assert_allclose(ps.probas[0], [[0.1, 0.9], [0.7, 0.3], [0.2, 0.8]])
    assert list(ps.ids) == ["1", "2", "3"]
    assert list(ps.content["text"]) == ["great", "awful", "fine"]


def test_hard_labels_become_one_hot_rows(tmp_path, labels):
    pred = _write(tmp_path / "llm.csv", "prediction\npos\npos\nneg\n")
    ps = load_prediction_set(labels, [pred], names=["an LLM"])
    assert ps.hard.tolist() == [True]
    # One-hot rows, label-smoothed with the default ε = 0.1 over 2 classes (ensemble_core.labels_only).
    np.testing.assert_allclose(ps.probas[0], [[0.05, 0.95], [0.05, 0.95], [0.95, 0.05]], rtol=1e-6)
    assert ps.names == ("an LLM",)


def test_integer_labels_match_columns_and_sort_numerically(tmp_path):
    lab = _write(tmp_path / "l.csv", "label\n10\n2\n2\n")
    pred = _write(tmp_path / "p.csv", "2,10\n0.9,0.1\n0.8,0.2\n0.3,0.7\n")
    ps = load_prediction_set(lab, [pred])
    assert list(ps.classes) == [2, 10]
    np.testing.assert_array_equal(ps.y_true, [1, 0, 0])
    np.testing.assert_allclose(ps.probas[0, 0], [0.9, 0.1])


def test_integer_hard_labels_read_as_float_still_match(tmp_path):
    lab = _write(tmp_path / "l.csv", "label\n0\n1\n")
    pred = _write(tmp_path / "p.csv", "prediction\n1.0\n0.0\n")
    ps = load_prediction_set(lab, [pred])
    np.testing.assert_array_equal(ps.probas[0].argmax(axis=1), [1, 0])


def test_parquet_round_trip(tmp_path):
    pd.DataFrame({"id": [5, 6], "label": ["a", "b"]}).to_parquet(tmp_path / "l.parquet")
    write_predictions(tmp_path / "m.parquet", ["a", "b"], probas=np.array([[0.6, 0.4], [0.1, 0.9]]), ids=[6, 5])
    ps = load_prediction_set(tmp_path / "l.parquet", [tmp_path / "m.parquet"])
    np.testing.assert_allclose(ps.probas[0], [[0.1, 0.9], [0.6, 0.4]])


def test_written_hard_predictions_read_back(tmp_path, labels):
    write_predictions(tmp_path / "out.csv", np.array(["neg", "pos"]), labels=np.array([1, 0, 1]), ids=[1, 2, 3])
    ps = load_prediction_set(labels, [tmp_path / "out.csv"])
    assert ps.hard[0]
    np.testing.assert_array_equal(ps.probas[0].argmax(axis=1), [1, 0, 1])


def test_upload_file_objects_are_read_like_paths(tmp_path, labels):
    import io

    lab = LabelsFile("uploaded.csv", source=io.BytesIO(labels.read_bytes()))
    ps = load_prediction_set(lab, [("up.csv", io.BytesIO(b"neg,pos\n0.5,0.5\n0.5,0.5\n0.2,0.8\n"))])
    assert ps.names == ("up",) and ps.n_samples == 3


LABELS = "id,label\n1,pos\n2,neg\n3,pos\n"
BAD_PREDICTIONS = [
    ("nan", "id,neg,pos\n1,0.5,0.5\n2,,0.5\n3,0.5,0.5\n", r"bad\.csv: column 'neg': row 2: probability is missing"),
    ("inf", "id,neg,pos\n1,0.5,0.5\n2,0.5,0.5\n3,inf,0.5\n", r"column 'neg': row 3: probability is infinite"),
    ("negative", "id,neg,pos\n1,-0.5,1.5\n2,0.5,0.5\n3,0.5,0.5\n", r"column 'neg': row 1: probability is negative"),
    ("bad-sum", "id,neg,pos\n1,0.5,0.5\n2,0.3,0.3\n3,0.5,0.5\n", r"row 2: probabilities sum to 0\.6.*normalise"),
    ("missing-class", "id,pos\n1,1\n2,1\n3,1\n", r"missing probability column for class 'neg'"),
    ("unknown-class", "id,neg,pos,maybe\n1,0.5,0.5,0\n2,0.5,0.5,0\n3,0.5,0.5,0\n", r"unknown class column 'maybe'"),
    ("unknown-hard-label", "id,prediction\n1,pos\n2,meh\n3,neg\n", r"column 'prediction': row 2: 'meh' is not a known class"),
    ("missing-hard-label", "id,prediction\n1,pos\n2,\n3,neg\n", r"column 'prediction': row 2: prediction is missing"),
    ("both-kinds", "id,prediction,neg,pos\n1,pos,0,1\n2,neg,1,0\n3,pos,0,1\n", r"both a 'prediction' column"),
    ("duplicate-id", "id,neg,pos\n1,0.5,0.5\n1,0.5,0.5\n3,0.5,0.5\n", r"column 'id': row 2: duplicate id '1'"),
    ("id-missing-in-predictions", "id,neg,pos\n1,0.5,0.5\n3,0.5,0.5\n", r"id '2' from labels\.csv is missing"),
    ("extra-id-in-predictions", "id,neg,pos\n1,0.5,0.5\n2,0.5,0.5\n3,0.5,0.5\n4,0.5,0.5\n", r"id '4' is not in labels\.csv"),
    ("text-in-probability", "id,neg,pos\n1,0.5,0.5\n2,0.5,abc\n3,0.5,0.5\n", r"column 'pos': row 2: 'abc' is not a number"),
    ("empty-file", "", r"bad\.csv: the file is empty"),
    ("header-only", "id,neg,pos\n", r"bad\.csv: the file has no rows"),
    ("not-csv", 'id,neg,pos\n1,"0.5,0.5\n', r"bad\.csv: not a valid CSV file"),
]


@pytest.mark.parametrize("content, match", [c[1:] for c in BAD_PREDICTIONS], ids=[c[0] for c in BAD_PREDICTIONS])
def test_bad_prediction_files_are_rejected_with_a_precise_message(tmp_path, content, match):
    lab = _write(tmp_path / "labels.csv", LABELS)
    bad = _write(tmp_path / "bad.csv", content)
    with pytest.raises(EnsembleInputError, match=match):
        load_prediction_set(lab, [bad])


def test_row_count_mismatch_without_ids(tmp_path):
    lab = _write(tmp_path / "labels.csv", "label\npos\nneg\npos\n")
    bad = _write(tmp_path / "bad.csv", "neg,pos\n0.5,0.5\n0.5,0.5\n")
    with pytest.raises(EnsembleInputError, match=r"bad\.csv: has 2 rows but labels\.csv has 3"):
        load_prediction_set(lab, [bad])


BAD_LABELS = [
    ("no-label-column", "id,target\n1,a\n", r"no 'label' column"),
    ("missing-label", "id,label\n1,a\n2,\n", r"column 'label': row 2: label is missing"),
    ("duplicate-id", "id,label\n1,a\n1,b\n", r"column 'id': row 2: duplicate id '1'"),
    ("fractional-label", "label\n0.5\n1\n", r"row 1: 0\.5 is not a class label"),
    ("empty", "", r"the file is empty"),
]


@pytest.mark.parametrize("content, match", [c[1:] for c in BAD_LABELS], ids=[c[0] for c in BAD_LABELS])
def test_bad_labels_files_are_rejected(tmp_path, content, match):
    with pytest.raises(EnsembleInputError, match=match):
        LabelsFile(_write(tmp_path / "labels.csv", content))


def test_not_a_parquet_file(tmp_path):
    lab = _write(tmp_path / "labels.csv", LABELS)
    bad = _write(tmp_path / "bad.parquet", "this is not parquet")
    with pytest.raises(EnsembleInputError, match=r"bad\.parquet: not a valid Parquet file"):
        load_prediction_set(lab, [bad])


@pytest.mark.parametrize(
    "name, match",
    [("missing.csv", r"missing\.csv: no such file"), ("model.txt", r"unknown file type")],
    ids=["missing-file", "unknown-suffix"],
)
def test_missing_or_unknown_files(tmp_path, name, match):
    lab = _write(tmp_path / "labels.csv", LABELS)
    if name.endswith(".txt"):
        _write(tmp_path / name, "x")
    with pytest.raises(EnsembleInputError, match=match):
        load_prediction_set(lab, [tmp_path / name])


def test_duplicate_model_names_are_rejected(tmp_path):
    lab = _write(tmp_path / "labels.csv", LABELS)
    (tmp_path / "a").mkdir()
    p1 = _write(tmp_path / "m.csv", "id,neg,pos\n1,0.5,0.5\n2,0.5,0.5\n3,0.5,0.5\n")
    p2 = _write(tmp_path / "a" / "m.csv", "id,neg,pos\n1,0.5,0.5\n2,0.5,0.5\n3,0.5,0.5\n")
    with pytest.raises(EnsembleInputError, match=r"m\.csv and .*a/m\.csv both give the model name 'm'"):
        load_prediction_set(lab, [p1, p2])
    with pytest.raises(EnsembleInputError, match="'m' appears twice"):  # names given explicitly
        load_prediction_set(lab, [p1, p2], names=["m", "m"])


def test_a_class_called_NA_is_a_label_not_a_gap(tmp_path):
    lab = _write(tmp_path / "l.csv", "label\nNA\nEU\n")
    pred = _write(tmp_path / "p.csv", "EU,NA\n0.2,0.8\n0.9,0.1\n")
    ps = load_prediction_set(lab, [pred])
    assert list(ps.classes) == ["EU", "NA"]
    np.testing.assert_array_equal(ps.y_true, [1, 0])


def test_rows_without_labels_read_against_given_classes(tmp_path):
    rows = LabelsFile(_write(tmp_path / "new.csv", "id,text\n7,good\n8,bad\n"), classes=["neg", "pos"])
    assert not rows.labelled and rows.y_true is None
    assert rows.keys == ["neg", "pos"] and rows.n_samples == 2 and list(rows.ids) == ["7", "8"]
    with pytest.raises(EnsembleInputError, match=r"new\.csv: no 'label' column; a prediction set needs labelled rows"):
        load_prediction_set(rows, [_write(tmp_path / "m.csv", "id,neg,pos\n7,0.5,0.5\n8,0.5,0.5\n")])


def test_labels_read_against_given_classes_keep_their_order(tmp_path):
    rows = LabelsFile(_write(tmp_path / "l.csv", "label\npos\npos\n"), classes=["pos", "neg"])
    assert rows.y_true.tolist() == [0, 0] and list(rows.classes) == ["pos", "neg"]
    with pytest.raises(EnsembleInputError, match=r"l2\.csv: column 'label': row 2: 'meh' is not a known class; classes are pos, neg"):
        LabelsFile(_write(tmp_path / "l2.csv", "label\npos\nmeh\n"), classes=["pos", "neg"])


DUPLICATE_HEADERS = [
    ("prediction-csv", "labels.csv", "id,label\n1,a\n2,a.1\n", "p.csv", "id,a,a\n1,1,0\n2,0,1\n", r"p\.csv: column 'a' appears more than once"),
    ("labels-csv", "labels.csv", "label,label\na,b\nb,a\n", "p.csv", "a,b\n1,0\n0,1\n", r"labels\.csv: column 'label' appears more than once"),
    ("after-spaces", "labels.csv", "label\na\nb\n", "p.csv", "a, b,b \n1,0,0\n0,1,0\n", r"p\.csv: column 'b' appears more than once"),
    ("after-blank-lines", "labels.csv", "label\na\nb\n", "p.csv", "\n\na,a\n1,0\n0,1\n", r"column 'a' appears more than once"),
    # pandas ends a line at \r, \n or \r\n: so must the header scan, or the check is skipped
    ("cr-prediction", "l.csv", "label\ra\ra.1\ra\r", "p.csv", "a,a\r0.9,0.1\r0.2,0.8\r0.6,0.4\r", r"p\.csv: column 'a' appears more than once"),
    ("cr-labels", "l.csv", "label,label\ra,b\rb,a\r", "p.csv", "a,b\r1,0\r0,1\r", r"l\.csv: column 'label' appears more than once"),
    ("crlf-after-blank-lines", "l.csv", "label\r\na\r\nb\r\n", "p.csv", "\r\n\r\na,a\r\n1,0\r\n0,1\r\n", r"p\.csv: column 'a' appears more than once"),
    ("cr-in-quoted-name", "l.csv", 'label\r"x\ry"\ra\r', "p.csv", '"x\ry",a,a\r0,1,0\r1,0,0\r', r"p\.csv: column 'a' appears more than once"),
]


@pytest.mark.parametrize("lname, ltext, pname, ptext, match", [d[1:] for d in DUPLICATE_HEADERS], ids=[d[0] for d in DUPLICATE_HEADERS])
def test_a_repeated_column_name_is_refused_before_pandas_renames_it(tmp_path, lname, ltext, pname, ptext, match):
    """pandas reads a second 'a' as 'a.1': a class of that name would then silently match it."""
    with pytest.raises(EnsembleInputError, match=match):
        load_prediction_set(_write(tmp_path / lname, ltext), [_write(tmp_path / pname, ptext)])


def test_repeated_names_are_refused_in_gzip_parquet_and_uploads(tmp_path):
    import gzip
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    lab = _write(tmp_path / "labels.csv", "label\na\nb\n")
    (tmp_path / "p.csv.gz").write_bytes(gzip.compress(b"a,a\n1,0\n0,1\n"))
    pq.write_table(pa.table([pa.array([1.0, 0.0]), pa.array([0.0, 1.0])], names=["a", "a"]), tmp_path / "p.parquet")
    for path in (tmp_path / "p.csv.gz", tmp_path / "p.parquet"):
        with pytest.raises(EnsembleInputError, match=rf"{path.name}: column 'a' appears more than once; give each"):
            load_prediction_set(lab, [path])
    with pytest.raises(EnsembleInputError, match=r"up\.csv: column 'a' appears more than once"):
        load_prediction_set(lab, [("up.csv", io.BytesIO(b"a,a\n1,0\n0,1\n"))])


def test_quoted_header_names_are_parsed_as_csv(tmp_path):
    lab = _write(tmp_path / "labels.csv", 'label\n"x,y"\n"x\ny"\n')
    ps = load_prediction_set(lab, [_write(tmp_path / "p.csv", '"x\ny","x,y"\n0,1\n1,0\n')])
    assert list(ps.classes) == ["x\ny", "x,y"]
    np.testing.assert_array_equal(ps.probas[0].argmax(axis=1), ps.y_true)


def test_a_quote_inside_a_name_does_not_open_a_quoted_field(tmp_path):
    """Only a quote that starts a field opens quoting, as in pandas: 'a,5",b' is three names,
    and the scan for the header's end stays linear however many rows follow."""
    import time

    from ensemble_core.io import header_names

    path = _write(tmp_path / "p.csv", 'id,5",b\n' + "1,0,1\n" * 200_000)
    started = time.perf_counter()
    assert header_names(path) == ["id", '5"', "b"]
    assert time.perf_counter() - started < 1.0
    assert list(pd.read_csv(path, nrows=0).columns) == ["id", '5"', "b"]


def test_a_quoted_field_spanning_chunks_ends_the_header_where_pandas_does(tmp_path, monkeypatch):
    from ensemble_core import io as eio

    monkeypatch.setattr(eio, "_CHUNK", 3)
    path = _write(tmp_path / "p.csv", 'a,  "b""\r,c",d\r1,2,3\r')
    assert eio.header_names(path) == ["a", 'b"\r,c', "d"] == list(pd.read_csv(path, nrows=0, skipinitialspace=True).columns)


def test_a_header_too_wide_is_refused_before_it_is_parsed(tmp_path):
    from ensemble_core.io import MAX_COLUMNS

    lab = _write(tmp_path / "labels.csv", "label\na\n")
    wide = _write(tmp_path / "wide.csv", ",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)) + "\n" + "0," * MAX_COLUMNS + "1\n")
    with pytest.raises(EnsembleInputError, match=r"wide\.csv: has 100,001 columns; at most 100,000 are read"):
        load_prediction_set(lab, [wide])


def test_a_header_line_too_long_is_refused_in_bounded_memory(tmp_path, monkeypatch):
    import tracemalloc

    from ensemble_core import io as eio

    monkeypatch.setattr(eio, "MAX_HEADER_BYTES", 2**20)
    lab = _write(tmp_path / "labels.csv", "label\na\n")
    long = _write(tmp_path / "long.csv", ",".join(f"{i:0999d}" for i in range(3000)) + "\n")  # 3 MB, no row
    tracemalloc.start()
    try:
        with pytest.raises(EnsembleInputError, match=r"long\.csv: the header line is longer than 1 MiB"):
            load_prediction_set(lab, [long])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * 2**20


def test_parquet_width_is_judged_from_the_footer(tmp_path, monkeypatch):
    from ensemble_core import io as eio

    lab = _write(tmp_path / "labels.csv", "label\na\nb\n")
    pd.DataFrame({"a": [1.0, 0.0], "b": [0.0, 1.0], "c": [0.0, 0.0]}).to_parquet(tmp_path / "p.parquet")
    monkeypatch.setattr(eio, "MAX_COLUMNS", 2)
    with pytest.raises(EnsembleInputError, match=r"p\.parquet: has 3 columns; at most 2 are read"):
        load_prediction_set(lab, [tmp_path / "p.parquet"])
    monkeypatch.setattr(eio, "MAX_PARQUET_FOOTER_BYTES", 100)
    with pytest.raises(EnsembleInputError, match=r"p\.parquet: its Parquet metadata is [\d,]+ bytes, over the 100 read"):
        load_prediction_set(lab, [tmp_path / "p.parquet"])


# Class identity: one rule (io.label_key) for labels, probability column names, hard predictions and ids.
CLASS_IDENTITY = [
    # id, labels column, prediction file, expected classes, expected y_true
    ("1-and-01-are-two-classes", "1\n01\n1\n", "01,1\n0,1\n1,0\n0,1\n", ["01", "1"], [1, 0, 1]),
    ("01-02-columns-match", "01\n02\n01\n", "01,02\n1,0\n0,1\n1,0\n", ["01", "02"], [0, 1, 0]),
    ("integers-sort-by-value", "10\n2\n2\n", "2,10\n0,1\n1,0\n1,0\n", [2, 10], [1, 0, 0]),
    ("whole-floats-are-integers", "1.0\n2.0\n2\n", "1,2.00\n1,0\n0,1\n0,1\n", [1, 2], [0, 1, 1]),
    ("hard-float-predictions", "0\n1\n1\n", "prediction\n0.0\n1.0\n1\n", [0, 1], [0, 1, 1]),
    ("negative-integers", "-1\n1\n-1\n", "1,-1\n0,1\n1,0\n0,1\n", [-1, 1], [0, 1, 0]),
    ("plus-sign-is-text", "+1\n-1\n+1\n", "-1,+1\n0,1\n1,0\n0,1\n", ["+1", "-1"], [0, 1, 0]),
    ("booleans-as-written", "True\nFalse\nTrue\n", "False,True\n0,1\n1,0\n0,1\n", ["False", "True"], [1, 0, 1]),
    ("lowercase-booleans-are-text", "true\nfalse\ntrue\n", "true,false\n1,0\n0,1\n1,0\n", ["false", "true"], [1, 0, 1]),
    ("one-text-label-makes-all-text", "2\n10\na\n", "a,10,2\n0,0,1\n0,1,0\n1,0,0\n", ["10", "2", "a"], [1, 0, 2]),
    ("beyond-int64", "99999999999999999999\n1\n", "1,99999999999999999999\n0,1\n1,0\n", [1, 99999999999999999999], [1, 0]),
]


@pytest.mark.parametrize("labels_text, pred_text, classes, y_true", [c[1:] for c in CLASS_IDENTITY], ids=[c[0] for c in CLASS_IDENTITY])
def test_class_identity_is_one_rule_for_labels_columns_and_predictions(tmp_path, labels_text, pred_text, classes, y_true):
    lab = _write(tmp_path / "labels.csv", "label\n" + labels_text)
    ps = load_prediction_set(lab, [_write(tmp_path / "p.csv", pred_text)])
    assert list(ps.classes) == classes
    assert ps.y_true.tolist() == y_true
    np.testing.assert_array_equal(ps.probas[0].argmax(axis=1), ps.y_true)  # each file is right on every row


CLASS_MISMATCHES = [
    ("1-is-not-01", "1\n01\n", "1\n1\n0\n", r"missing probability column for class '01'; expected one column per class \(01, 1\)"),
    ("01-prediction-for-1", "1\n2\n", "prediction\n01\n2\n", r"column 'prediction': row 1: '01' is not a known class; classes are 1, 2"),
    ("two-columns-one-class", "1\n2\n", "1,1.0,2\n0.5,0.5,0\n0,0,1\n", r"columns '1' and '1\.0' both name class '1'"),
]


@pytest.mark.parametrize("labels_text, pred_text, match", [c[1:] for c in CLASS_MISMATCHES], ids=[c[0] for c in CLASS_MISMATCHES])
def test_class_mismatches_are_refused(tmp_path, labels_text, pred_text, match):
    lab = _write(tmp_path / "labels.csv", "label\n" + labels_text)
    with pytest.raises(EnsembleInputError, match=match):
        load_prediction_set(lab, [_write(tmp_path / "p.csv", pred_text)])


def test_ids_follow_the_same_rule(tmp_path):
    lab = _write(tmp_path / "labels.csv", "id,label\n01,a\n02,b\n")
    ps = load_prediction_set(lab, [_write(tmp_path / "p.csv", "id,a,b\n02,0,1\n01,1,0\n")])
    assert list(ps.ids) == ["01", "02"]
    with pytest.raises(EnsembleInputError, match=r"id '01' from labels\.csv is missing"):
        load_prediction_set(lab, [_write(tmp_path / "q.csv", "id,a,b\n1,1,0\n2,0,1\n")])
    lab2 = _write(tmp_path / "labels2.csv", "id,label\n1,a\n1.0,b\n")
    with pytest.raises(EnsembleInputError, match=r"column 'id': row 2: duplicate id '1'"):
        LabelsFile(lab2)


def test_typed_parquet_columns_follow_the_same_rule(tmp_path):
    pd.DataFrame({"label": ["01", "1", "01"]}).to_parquet(tmp_path / "text.parquet")
    assert list(LabelsFile(tmp_path / "text.parquet").classes) == ["01", "1"]
    pd.DataFrame({"label": [2.0, 10.0, 2.0]}).to_parquet(tmp_path / "floats.parquet")
    assert list(LabelsFile(tmp_path / "floats.parquet").classes) == [2, 10]
    pd.DataFrame({"label": [True, False, True]}).to_parquet(tmp_path / "bools.parquet")
    bools = LabelsFile(tmp_path / "bools.parquet")
    assert list(bools.classes) == ["False", "True"] and bools.y_true.tolist() == [1, 0, 1]
    ps = load_prediction_set(bools, [_write(tmp_path / "p.csv", "True,False\n1,0\n0,1\n1,0\n")])
    np.testing.assert_array_equal(ps.probas[0].argmax(axis=1), ps.y_true)


@pytest.mark.parametrize(
    "value, key",
    [("01", "01"), (" 1 ", "1"), ("1.0", "1"), ("-3.00", "-3"), ("1.50", "1.50"), ("+1", "+1"), ("1e3", "1e3"),
     ("-0", "-0"), ("00.0", "00.0"), (1.0, "1"), (np.float32(2.0), "2"), (0.5, "0.5"), (np.int64(-7), "-7"),
     (True, "True"), (np.bool_(False), "False"), ("NA", "NA")],
)
def test_label_key(value, key):
    from ensemble_core.io import label_key

    assert label_key(value) == key
    assert label_key(label_key(value)) == key  # a key is its own key


def test_bad_numbers_are_refused_without_numpy_warnings(tmp_path):
    """The causes are fixed, not the warnings hidden: reading raises no warning at all."""
    import warnings

    pd.DataFrame({"label": [0.0, 1.0, np.inf]}).to_parquet(tmp_path / "inf.parquet")
    lab = _write(tmp_path / "labels.csv", "label\na\nb\n")
    big = _write(tmp_path / "big.csv", "a,b\n1e308,1e308\n0.5,0.5\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(EnsembleInputError, match=r"row 3: inf is not a class label"):
            LabelsFile(tmp_path / "inf.parquet")
        with pytest.raises(EnsembleInputError, match=r"big\.csv: column 'a': row 1: probability is greater than 1 \(\+0\.001\)"):
            load_prediction_set(lab, [big])


# Ids: every bad-id case (both sides, CSV and typed Parquet columns) and how rows align, each message
# pinned exactly as the per-value reader (before the vectorised checks) gave it.
def _pred_csv(ids):
    """A prediction CSV whose row k (from 0) gives class a the probability (k + 1) / 10."""
    return "id,a,b\n" + "".join(f"{i},{(k + 1) / 10},{1 - (k + 1) / 10:.1f}\n" for k, i in enumerate(ids))


def _labels_csv(ids):
    return "id,label\n" + "".join(f"{i},{'ab'[k % 2]}\n" for k, i in enumerate(ids))


def _pred_parquet(ids, typ=None):
    import pyarrow as pa

    a = [(k + 1) / 10 for k in range(len(ids))]
    return pa.table({"id": pa.array(ids, type=typ), "a": a, "b": [1 - x for x in a]})


def _labels_parquet(ids, typ=None):
    import pyarrow as pa

    return pa.table({"id": pa.array(ids, type=typ), "label": ["ab"[k % 2] for k in range(len(ids))]})


def _id_cases():
    import pyarrow as pa

    P, L, PQ, LQ = _pred_csv, _labels_csv, _pred_parquet, _labels_parquet
    GOOD_L = "id,label\n1,a\n2,b\n3,a\n"
    # side, case, labels (CSV text or Arrow table), predictions, expected: the message, or
    # ("ok", ids, class a's probability in label order)
    return [
    ("labels", "empty-cell", L(["1", "", "3"]), P(["1", "2", "3"]),
     "labels.csv: column 'id': row 2: id is missing"),
    ("labels", "spaces-only-cell", L(["1", "   ", "3"]), P(["1", "2", "3"]),
     "labels.csv: column 'id': row 2: id is missing"),
    ("labels", "quoted-spaces-are-blank-id", L(["1", '"  "', "3"]), PQ(["3", "", "1"]),
     ('ok', ['1', '', '3'], [0.3, 0.2, 0.1])),
    ("labels", "quoted-empty", L(["1", '""', "3"]), P(["1", "2", "3"]),
     "labels.csv: column 'id': row 2: id is missing"),
    ("labels", "missing-then-duplicate", L(["1", "1", ""]), P(["1", "2", "3"]),
     "labels.csv: column 'id': row 3: id is missing"),
    ("labels", "duplicate-exact", L(["x", "y", "x"]), P(["1", "2", "3"]),
     "labels.csv: column 'id': row 3: duplicate id 'x'"),
    ("labels", "duplicate-first-repeat-named", L(["a", "b", "c", "b", "a"]), P(["1", "2", "3"]),
     "labels.csv: column 'id': row 4: duplicate id 'b'"),
    ("labels", "duplicate-whole-float", L(["7", "8", "7.000"]), P(["1", "2", "3"]),
     "labels.csv: column 'id': row 3: duplicate id '7'"),
    ("labels", "duplicate-trailing-space", L(["7", '"7 "', "8"]), P(["1", "2", "3"]),
     "labels.csv: column 'id': row 2: duplicate id '7'"),
    ("labels", "duplicate-tab", L(["q", '"q\t"', "r"]), P(["1", "2", "3"]),
     "labels.csv: column 'id': row 2: duplicate id 'q'"),
    ("labels", "duplicate-nbsp", L(["q", "q\u00a0", "r"]), P(["1", "2", "3"]),
     "labels.csv: column 'id': row 2: duplicate id 'q'"),
    ("labels", "leading-zero-is-another-id", L(["1", "01", "2"]), P(["2", "1", "01"]),
     ('ok', ['1', '01', '2'], [0.2, 0.3, 0.1])),
    ("labels", "minus-zero-is-another-id", L(["0", "-0", "-0.0"]), P(["-0.0", "0.0", "-0"]),
     ('ok', ['0', '-0', '-0.0'], [0.2, 0.3, 0.1])),
    ("labels", "duplicate-zero-float", L(["0", "0.0", "5"]), P(["1", "2", "3"]),
     "labels.csv: column 'id': row 2: duplicate id '0'"),
    ("labels", "duplicate-unicode", L(["ü", "ß", "ü"]), P(["1", "2", "3"]),
     "labels.csv: column 'id': row 3: duplicate id 'ü'"),
    ("labels", "parquet-null-string", LQ(["1", None, "3"]), P(["1", "2", "3"]),
     "labels.parquet: column 'id': row 2: id is missing"),
    ("labels", "parquet-empty-string-is-an-id", LQ(["1", "", "3"]), PQ(["", "3", "1"]),
     ('ok', ['1', '', '3'], [0.3, 0.1, 0.2])),
    ("labels", "parquet-two-empty-strings", LQ(["", "2", ""]), P(["1", "2", "3"]),
     "labels.parquet: column 'id': row 3: duplicate id ''"),
    ("labels", "parquet-blank-strings", LQ(["  ", "2", " "]), P(["1", "2", "3"]),
     "labels.parquet: column 'id': row 3: duplicate id ''"),
    ("labels", "parquet-null-int", LQ([1, None, 3], pa.int64()), P(["1", "2", "3"]),
     "labels.parquet: column 'id': row 2: id is missing"),
    ("labels", "parquet-nan-float", LQ([1.0, float("nan"), 3.0]), P(["1", "2", "3"]),
     "labels.parquet: column 'id': row 2: id is missing"),
    ("labels", "parquet-duplicate-int", LQ([5, 6, 5], pa.int64()), P(["1", "2", "3"]),
     "labels.parquet: column 'id': row 3: duplicate id '5'"),
    ("labels", "parquet-duplicate-float", LQ([1.0, 2.5, 1.0]), P(["1", "2", "3"]),
     "labels.parquet: column 'id': row 3: duplicate id '1'"),
    ("labels", "parquet-floats-match-text", LQ([1.0, 2.5, 3.0]), P(["3", "1", "2.5"]),
     ('ok', ['1', '2.5', '3'], [0.2, 0.3, 0.1])),
    ("labels", "parquet-duplicate-bool", LQ([True, False, True]), P(["1", "2", "3"]),
     "labels.parquet: column 'id': row 3: duplicate id 'True'"),
    ("labels", "parquet-bools-match-text", LQ([True, False]), P(["False", "True"]),
     ('ok', ['True', 'False'], [0.2, 0.1])),
    ("labels", "parquet-large-int", LQ([2**62, 3, 2**62], pa.int64()), P(["1", "2", "3"]),
     "labels.parquet: column 'id': row 3: duplicate id '4611686018427387904'"),
    ("labels", "parquet-uint64", LQ([2**64 - 1, 3, 4], pa.uint64()), P([str(2**64 - 1), "4", "3"]),
     ('ok', ['18446744073709551615', '3', '4'], [0.1, 0.3, 0.2])),
    ("labels", "parquet-big-float", LQ([1e20, 2.0, 1e20]), P(["1", "2", "3"]),
     "labels.parquet: column 'id': row 3: duplicate id '100000000000000000000'"),
    ("labels", "parquet-inf-float", LQ([float("inf"), 2.0, 3.0]), P(["2", "3", "inf"]),
     ('ok', ['inf', '2', '3'], [0.3, 0.1, 0.2])),
    ("labels", "parquet-dictionary", pa.table({"id": pa.array(["x", "y", "x"]).dictionary_encode(), "label": ["a", "b", "a"]}), P(["1", "2", "3"]),
     "labels.parquet: column 'id': row 3: duplicate id 'x'"),
    ("labels", "parquet-large-string", LQ(["x", "y", "z"], pa.large_string()), P(["z", "y", "x"]),
     ('ok', ['x', 'y', 'z'], [0.3, 0.2, 0.1])),
    ("predictions", "empty-cell", GOOD_L, P(["1", "", "3"]),
     "pred.csv: column 'id': row 2: id is missing"),
    ("predictions", "spaces-only-cell", GOOD_L, P(["1", "   ", "3"]),
     "pred.csv: column 'id': row 2: id is missing"),
    ("predictions", "quoted-spaces", GOOD_L, P(["1", '"  "', "3"]),
     "pred.csv: id '2' from labels.csv is missing (1 labelled ids have no prediction)"),
    ("predictions", "missing-then-duplicate", GOOD_L, P(["3", "3", ""]),
     "pred.csv: column 'id': row 3: id is missing"),
    ("predictions", "duplicate-exact", GOOD_L, P(["1", "2", "1"]),
     "pred.csv: column 'id': row 3: duplicate id '1'"),
    ("predictions", "duplicate-whole-float", GOOD_L, P(["1", "2", "2.0"]),
     "pred.csv: column 'id': row 3: duplicate id '2'"),
    ("predictions", "duplicate-of-unknown-id", GOOD_L, P(["9", "1", "9"]),
     "pred.csv: column 'id': row 3: duplicate id '9'"),
    ("predictions", "duplicate-before-bad-probability", GOOD_L, "id,a,b\n1,0.5,0.5\n1,2,0.5\n3,0.5,0.5\n",
     "pred.csv: column 'id': row 2: duplicate id '1'"),
    ("predictions", "parquet-null", GOOD_L, PQ(["1", None, "3"]),
     "pred.parquet: column 'id': row 2: id is missing"),
    ("predictions", "parquet-blank", GOOD_L, PQ(["1", "", "3"]),
     "pred.parquet: id '2' from labels.csv is missing (1 labelled ids have no prediction)"),
    ("predictions", "parquet-duplicate-int", GOOD_L, PQ([1, 3, 1], pa.int64()),
     "pred.parquet: column 'id': row 3: duplicate id '1'"),
    ("predictions", "parquet-ints-align", GOOD_L, PQ([3, 2, 1], pa.int64()),
     ('ok', ['1', '2', '3'], [0.3, 0.2, 0.1])),
    ("predictions", "parquet-floats-align", GOOD_L, PQ([3.0, 2.0, 1.0]),
     ('ok', ['1', '2', '3'], [0.3, 0.2, 0.1])),
    ("align", "missing-first-in-label-order", L(["5", "4", "3", "2"]), P(["5", "3"]),
     "pred.csv: id '4' from labels.csv is missing (2 labelled ids have no prediction)"),
    ("align", "missing-count", L(["a1", "a2", "a3", "a4"]), P(["a4", "a1"]),
     "pred.csv: id 'a2' from labels.csv is missing (2 labelled ids have no prediction)"),
    ("align", "missing-and-extra", L(["1", "2", "3"]), P(["1", "2", "4"]),
     "pred.csv: id '3' from labels.csv is missing (1 labelled ids have no prediction)"),
    ("align", "extra-smallest-named", L(["1", "2"]), P(["2", "z", "b9", "1", "b10"]),
     "pred.csv: id 'b10' is not in labels.csv (3 predicted ids have no label)"),
    ("align", "extra-code-point-order", L(["1", "2"]), P(["1", "é", "2", "e", "z"]),
     "pred.csv: id 'e' is not in labels.csv (3 predicted ids have no label)"),
    ("align", "leading-zero-not-matched", L(["01", "02"]), P(["1", "2"]),
     "pred.csv: id '01' from labels.csv is missing (2 labelled ids have no prediction)"),
    ("align", "whole-float-matched", L(["1", "2"]), P(["2.0", "1.00"]),
     ('ok', ['1', '2'], [0.2, 0.1])),
    ("align", "spaces-matched", L(["1", "2"]), P(['" 2 "', "1"]),
     ('ok', ['1', '2'], [0.2, 0.1])),
    ("align", "labels-without-ids", "label\na\nb\n", P(["2", "1"]),
     ('ok', None, [0.1, 0.2])),
    ("align", "predictions-without-ids", GOOD_L, "a,b\n0.9,0.1\n0.2,0.8\n0.4,0.6\n",
     ('ok', ['1', '2', '3'], [0.9, 0.2, 0.4])),
    ("align", "predictions-without-ids-short", GOOD_L, "a,b\n0.9,0.1\n0.2,0.8\n",
     "pred.csv: has 2 rows but labels.csv has 3; give both files an 'id' column or the same rows in the same order"),
    ("align", "typed-vs-text", LQ([10, 20, 30], pa.int64()), P(["30", "10", "20"]),
     ('ok', ['10', '20', '30'], [0.2, 0.3, 0.1])),
    ]


ID_CASES = _id_cases()


@pytest.mark.parametrize("labels, predictions, expected", [c[2:] for c in ID_CASES], ids=[f"{c[0]}-{c[1]}" for c in ID_CASES])
def test_id_checks_and_alignment_give_the_pinned_messages(tmp_path, labels, predictions, expected):
    import pyarrow.parquet as pq

    def write(name, spec):
        if isinstance(spec, str):
            return _write(tmp_path / f"{name}.csv", spec)
        pq.write_table(spec, tmp_path / f"{name}.parquet")
        return tmp_path / f"{name}.parquet"

    lab, pred = write("labels", labels), write("pred", predictions)
    if isinstance(expected, str):
        with pytest.raises(EnsembleInputError) as info:
            load_prediction_set(lab, [pred])
        assert str(info.value) == f"{tmp_path}/{expected}"
    else:
        ps = load_prediction_set(lab, [pred])
        assert (None if ps.ids is None else list(ps.ids)) == expected[1]
        np.testing.assert_allclose(ps.probas[0][:, 0], expected[2], atol=1e-6)


_KEY_TEXT = st.text(alphabet=st.sampled_from(list("0123456789-+.e aA\t\u00a0\u2003\u3000ü\x1c")), max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.lists(_KEY_TEXT, min_size=1, max_size=30))
def test_column_keys_is_label_key_on_every_text(values):
    from ensemble_core.io import column_keys, label_key

    assert column_keys(pd.Series(values, dtype="str")).to_pylist() == [label_key(v) for v in values]
    assert column_keys(pd.Series(values, dtype=object)).to_pylist() == [label_key(v) for v in values]


@pytest.mark.parametrize(
    "values",
    [[1, -7, 2**62], np.array([2**64 - 1, 3], dtype=np.uint64), [1.0, 2.5, -0.0, 1e20, 2.0**70, np.inf, -np.inf],
     np.array([0.1, 2.0], dtype=np.float32), [True, False], pd.array([3, 4], dtype="Int64"),
     pd.Categorical(["01", "1.0", " x "]), [1, "a", 2.0], [pd.Timestamp("2024-01-02")]],
    ids=["int64", "uint64", "floats", "float32", "bool", "nullable-int", "categorical", "mixed-objects", "timestamps"],
)
def test_column_keys_is_label_key_on_typed_columns(values):
    from ensemble_core.io import column_keys, label_key

    series = pd.Series(values)
    assert column_keys(series).to_pylist() == [label_key(v) for v in series.tolist()]


def test_arrow_trims_exactly_the_whitespace_python_strips():
    """column_keys trims in Arrow, label_key with str.strip: the same characters, on every code point."""
    import sys

    from ensemble_core.io import column_keys

    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    values = [f"{c}x{c}" for c in chars]
    assert column_keys(pd.Series(values, dtype="str")).to_pylist() == [v.strip() for v in values]


def test_ids_in_many_row_groups_align(tmp_path):
    """A Parquet file's row groups arrive as chunks: ids are checked and matched across them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 1000
    rng = np.random.default_rng(0)
    ids = np.array([f"r{i}" for i in range(n)])
    pq.write_table(pa.table({"id": ids, "label": rng.choice(["a", "b"], n)}), tmp_path / "l.parquet", row_group_size=128)
    perm = rng.permutation(n)
    a = rng.uniform(size=n)
    pq.write_table(pa.table({"id": ids[perm], "a": a[perm], "b": 1 - a[perm]}), tmp_path / "p.parquet", row_group_size=100)
    ps = load_prediction_set(tmp_path / "l.parquet", [tmp_path / "p.parquet"])
    np.testing.assert_allclose(ps.probas[0][:, 0], a, rtol=1e-6)
    dup = ids.copy()
    dup[700] = "r3"
    pq.write_table(pa.table({"id": dup, "label": ["a"] * n}), tmp_path / "d.parquet", row_group_size=128)
    with pytest.raises(EnsembleInputError, match=r"d\.parquet: column 'id': row 701: duplicate id 'r3'$"):
        LabelsFile(tmp_path / "d.parquet")


def _reference_probabilities(path, df, columns):
    """The reader before columns went straight into float32: a float64 table, checked whole."""
    from ensemble_core.io import SUM_TOLERANCE, _as_float_column

    probas = np.column_stack([_as_float_column(path, df, c) for c in columns])
    for problem, mask in (
        ("is missing (NaN)", np.isnan(probas)),
        ("is infinite", np.isinf(probas)),
        ("is negative", probas < 0),
        (f"is greater than 1 (+{SUM_TOLERANCE:g})", probas > 1 + SUM_TOLERANCE),
    ):
        if mask.any():
            row, col = np.argwhere(mask)[0]
            raise EnsembleInputError(f"{path}: column {columns[col]!r}: row {row + 1}: probability {problem}")
    sums = probas.sum(axis=1)
    off = np.abs(sums - 1.0) > SUM_TOLERANCE
    if off.any():
        row = int(np.flatnonzero(off)[0]) + 1
        raise EnsembleInputError(
            f"{path}: row {row}: probabilities sum to {sums[row - 1]:.4g}, expected 1 (±{SUM_TOLERANCE:g}); "
            "normalise the scores or give hard labels in a 'prediction' column"
        )
    return probas.astype(np.float32)


def _tricky_table(rng, n, k):
    """Probabilities with rows summing to within a few ulps of 1 ± the tolerance, and planted problems."""
    p = rng.dirichlet(np.ones(k), size=n)
    edge = rng.choice(n, size=n // 3, replace=False)
    p[edge, 0] += rng.choice([1e-3, -1e-3], size=edge.size) + rng.integers(-4, 5, size=edge.size) * 2.0**-52
    for value in rng.choice([np.nan, np.inf, -0.5, 1.5, 1e308, -np.inf], size=rng.integers(0, 3)):
        p[rng.integers(n), rng.integers(k)] = value
    return p


@pytest.mark.parametrize("seed", range(40))
def test_probability_columns_read_as_the_whole_table_check_did(tmp_path, seed):
    """Same float32 values, and the same message on every planted problem and edge sum, as the
    float64 table the reader used to stack and check."""
    import warnings

    from ensemble_core.io import _read_probability_columns

    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 60)), int(rng.choice([2, 3, 7, 8, 9, 10, 17, 130]))
    columns = [f"c{j}" for j in range(k)]
    df = pd.DataFrame(_tricky_table(rng, n, k), columns=columns)
    if seed % 4 == 0:
        df = df.astype({columns[0]: np.float32})
    if seed % 5 == 0:
        df[columns[-1]] = df[columns[-1]].astype(str)
        df.loc[int(rng.integers(n)), columns[-1]] = "abc"
    path = tmp_path / "p.csv"
    try:
        expected = _reference_probabilities(path, df, columns)
    except EnsembleInputError as exc:
        expected = str(exc)
    out = np.empty((n, k), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            _read_probability_columns(path, df, columns, out)
            got = out
        except EnsembleInputError as exc:
            got = str(exc)
    if isinstance(expected, str):
        assert got == expected
    else:
        assert not isinstance(got, str), got
        np.testing.assert_array_equal(got, expected)


def test_parquet_prediction_files_are_written_in_bounded_row_groups(tmp_path):
    """A streamed reader holds a row group of every file: written ones hold PARQUET_ROW_GROUP rows
    (pyarrow's default, 1,048,576, was 40 MiB a file at 10 classes)."""
    import pyarrow.parquet as pq

    from ensemble_core.io import PARQUET_ROW_GROUP

    n = PARQUET_ROW_GROUP + 10
    write_predictions(tmp_path / "m.parquet", ["a", "b"], probas=np.full((n, 2), 0.5, dtype=np.float32))
    meta = pq.ParquetFile(tmp_path / "m.parquet").metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [PARQUET_ROW_GROUP, 10]


def test_every_bad_prediction_file_is_reported_not_only_the_first(tmp_path):
    """Regression (issue 12 item 16): the first bad file stopped the reading, hiding the others' problems."""
    from ensemble_core._validation import InputProblems

    (tmp_path / "labels.csv").write_text("id,label\n1,cat\n2,dog\n")
    files = {"sums.csv": "id,cat,dog\n1,0.5,0.4\n2,0.1,0.9\n", "good.csv": "id,cat,dog\n1,0.6,0.4\n2,0.1,0.9\n",
             "bird.csv": "id,cat,bird\n1,0.5,0.5\n2,0.1,0.9\n", "gone.csv": None}
    for name, text in files.items():
        if text is not None:
            (tmp_path / name).write_text(text)
    with pytest.raises(InputProblems) as err:
        load_prediction_set(tmp_path / "labels.csv", [tmp_path / n for n in files])
    problems = err.value.problems
    assert [Path(p.split(":")[0]).name for p in problems] == ["sums.csv", "bird.csv", "gone.csv"]
    assert "row 1: probabilities sum to 0.9" in problems[0] and "unknown class column 'bird'" in problems[1]
    assert str(err.value) == "\n".join(problems)
    with pytest.raises(EnsembleInputError) as one:  # a single bad file: its own error, as before
        load_prediction_set(tmp_path / "labels.csv", [tmp_path / "good.csv", tmp_path / "bird.csv"])
    assert not isinstance(one.value, InputProblems) and "\n" not in str(one.value)
