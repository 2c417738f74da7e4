"""dashboard.sources: building and loading data sources (no Streamlit)."""

import io

import pytest

from dashboard.sources import DataSource, FileEntry, demo_source, folder_source, load_source, upload_source
from ensemble_core import EnsembleInputError


class Upload(io.BytesIO):
    def __init__(self, name: str, data: bytes) -> None:
        super().__init__(data)
        self.name = name


LABELS = b"id,label,text\n1,cat,a\n2,dog,b\n3,dog,c\n"
GOOD = b"id,cat,dog\n1,0.9,0.1\n2,0.2,0.8\n3,0.6,0.4\n"


def test_upload_source_loads_and_key_is_content_based():
    src = upload_source(Upload("labels.csv", LABELS), [Upload("m1.csv", GOOD)])
    pset = load_source(src)
    assert pset.names == ("m1",) and pset.n_samples == 3
    again = upload_source(Upload("labels.csv", LABELS), [Upload("m1.csv", GOOD)])
    assert again.key == src.key
    other = upload_source(Upload("labels.csv", LABELS), [Upload("m1.csv", GOOD.replace(b"0.9,0.1", b"0.8,0.2"))])
    assert other.key != src.key


@pytest.mark.parametrize(
    ("labels", "preds", "message"),
    [
        (None, [Upload("m.csv", GOOD)], "upload a labels file"),
        (Upload("labels.csv", LABELS), [], "at least one prediction file"),
        (Upload("labels.json", LABELS), [Upload("m.csv", GOOD)], "labels.json: the labels file must be CSV"),
        (Upload("labels.csv", LABELS), [Upload("m.xlsx", GOOD)], "m.xlsx: a prediction file must be CSV"),
    ],
)
def test_upload_source_rejects(labels, preds, message):
    with pytest.raises(EnsembleInputError, match=message):
        upload_source(labels, preds)


def test_load_source_names_the_uploaded_file():
    src = upload_source(Upload("labels.csv", LABELS), [Upload("bad.csv", b"id,cat,dog\n1,0.9,0.9\n2,0.2,0.8\n3,0.6,0.4\n")])
    with pytest.raises(EnsembleInputError, match=r"bad.csv: row 1: probabilities sum to 1.8"):
        load_source(src)


def test_folder_source(tmp_path):
    (tmp_path / "labels.csv").write_bytes(LABELS)
    preds = tmp_path / "preds"
    preds.mkdir()
    (preds / "b.csv").write_bytes(GOOD)
    (preds / "a.csv").write_bytes(GOOD)
    (preds / "notes.txt").write_text("ignored")
    src = folder_source(str(tmp_path / "labels.csv"), str(preds))
    assert load_source(src).names == ("a", "b")
    with pytest.raises(EnsembleInputError, match="no such file"):
        folder_source(str(tmp_path / "nope.csv"), str(preds))
    with pytest.raises(EnsembleInputError, match="no such folder"):
        folder_source(str(tmp_path / "labels.csv"), str(tmp_path / "nope"))
    with pytest.raises(EnsembleInputError, match="give the path of a labels file"):
        folder_source("  ", str(preds))


def test_adding_predictions_to_a_demo_makes_it_own_data():
    demo = demo_source("digits")
    extra = FileEntry("copy.csv", data=open(demo.predictions[0].path, "rb").read())
    mixed = demo.with_predictions([extra])
    assert isinstance(mixed, DataSource) and mixed.kind == "upload"
    assert load_source(mixed).names[-1] == "copy"
    assert mixed.model_names[-1] == "copy"
    # The same file added again: refused by name, naming the file, before anything is read.
    again = FileEntry("copy.csv", data=b"not even a table")
    with pytest.raises(EnsembleInputError, match="copy.csv: a model named 'copy' is already loaded; rename"):
        mixed.with_predictions([again])
    with pytest.raises(EnsembleInputError, match="unknown demo 'nope'"):
        demo_source("nope")
