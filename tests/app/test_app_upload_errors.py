"""AppTest: several bad files uploaded at once: each file's problem is reported, one line each."""

import pytest
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.xdist_group("app")
LABELS = b"id,label\n1,cat\n2,dog\n"
GOOD = b"id,cat,dog\n1,0.6,0.4\n2,0.1,0.9\n"


def _upload_script(labels: tuple[str, bytes], predictions: list[tuple[str, bytes]], add: list[tuple[str, bytes]]):
    import io as _io

    import streamlit as st

    from dashboard.actions import add_uploaded_predictions, load_uploads

    class Up(_io.BytesIO):
        def __init__(self, name, data):
            super().__init__(data)
            self.name = name

    st.session_state["ok"] = load_uploads(Up(*labels), [Up(*p) for p in predictions])
    if add:
        st.session_state["added"] = add_uploaded_predictions([Up(*p) for p in add])


def _lines(at, shown) -> list[str]:
    (box,) = at.error  # one error box
    return [shown(line) for line in box.value.split("  \n")]


@pytest.mark.parametrize(
    ("labels", "predictions", "expected"),
    [
        (("labels.csv", LABELS),
         [("sums.csv", b"id,cat,dog\n1,0.5,0.4\n2,0.1,0.9\n"), ("good.csv", GOOD),
          ("bird.csv", b"id,cat,bird\n1,0.5,0.5\n2,0.1,0.9\n"), ("broken.parquet", b"not parquet at all")],
         ["sums.csv: row 1: probabilities sum to 0.9", "bird.csv", "unknown class column 'bird'",
          "broken.parquet", "not a valid Parquet file"]),
        (("labels.txt", LABELS), [("a.json", GOOD), ("good.csv", GOOD), ("b.xlsx", GOOD)],
         ["labels.txt: the labels file must be CSV or Parquet", "a.json: a prediction file must be",
          "b.xlsx: a prediction file must be"]),
    ],
    ids=["contents", "file types"],
)
def test_each_bad_upload_is_named_on_its_own_line(shown, labels, predictions, expected):
    at = AppTest.from_function(_upload_script, args=(labels, predictions, []))
    at.run(timeout=30)
    assert not at.exception and at.session_state["ok"] is False
    lines = _lines(at, shown)
    bad = [name for name, _ in [labels, *predictions] if name != "good.csv" and name != "labels.csv"]
    assert len(lines) == len(bad)
    for name, line in zip(bad, lines):
        assert line.startswith(name)  # one file, one line
    assert all(any(e in line for line in lines) for e in expected)


def test_each_bad_file_added_to_the_loaded_data_is_named(shown):
    add = [("good.csv", GOOD), ("more.csv", b"id,cat,dog\n1,0.5,0.4\n2,0.1,0.9\n"), ("x.txt", GOOD)]
    at = AppTest.from_function(_upload_script, args=(("labels.csv", LABELS), [("good.csv", GOOD)], add))
    at.run(timeout=30)
    assert at.session_state["ok"] is True and at.session_state["added"] is False
    assert _lines(at, shown) == ["good.csv: a model named 'good' is already loaded; rename the file to add it as "
                                 "another model", "x.txt: a prediction file must be CSV or Parquet (.csv, .csv.gz, "
                                 ".parquet, .pq)"]
