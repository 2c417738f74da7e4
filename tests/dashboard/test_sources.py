"""dashboard.sources: building and loading data sources (no Streamlit)."""

import io
import os
from pathlib import Path

import pytest

from dashboard.sources import (
    ROOT_VARIABLE,
    DataSource,
    FileEntry,
    demo_source,
    folder_source,
    load_source,
    local_root,
    path_under_root,
    upload_source,
)
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


def test_folder_source(tmp_path, monkeypatch):
    monkeypatch.setenv(ROOT_VARIABLE, str(tmp_path))
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


# Files on this machine: only under the root ------------------------------------------------


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``$ENSEMBLE_EXPLORER_ROOT`` with a labels file and a folder of two prediction files,
    and beside it (outside the root) a folder of the same files."""
    inside = tmp_path / "root"
    outside = tmp_path / "outside"
    for folder in (inside, outside):
        (folder / "preds").mkdir(parents=True)
        (folder / "labels.csv").write_bytes(LABELS)
        (folder / "preds" / "a.csv").write_bytes(GOOD)
        (folder / "preds" / "b.csv").write_bytes(GOOD)
    monkeypatch.setenv(ROOT_VARIABLE, str(inside))
    return inside


def test_the_root_is_the_variable_else_the_starting_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(ROOT_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    assert local_root() == tmp_path.resolve()
    monkeypatch.setenv(ROOT_VARIABLE, str(tmp_path / "nope"))
    with pytest.raises(EnsembleInputError, match=f"{ROOT_VARIABLE}=.*nope: no such folder"):
        local_root()


def test_paths_inside_the_root_load(root, monkeypatch):
    src = folder_source(str(root / "labels.csv"), str(root / "preds"))
    assert load_source(src).names == ("a", "b")
    monkeypatch.chdir(root.parent)  # relative paths start at the root, not the working folder
    assert folder_source("labels.csv", "preds").labels.path == str(root / "labels.csv")
    assert path_under_root("preds/../preds/a.csv") == root / "preds" / "a.csv"


@pytest.mark.parametrize(("labels", "folder", "refused"), [
    ("{outside}/labels.csv", "{root}/preds", "{outside}/labels.csv"),
    ("{root}/labels.csv", "{outside}/preds", "{outside}/preds"),
    ("../outside/labels.csv", "preds", "../outside/labels.csv"),
    ("{root}/preds/../../outside/labels.csv", "preds", "{root}/preds/../../outside/labels.csv"),
    ("~/labels.csv", "preds", str(Path("~/labels.csv").expanduser())),
    ("/etc/passwd", "preds", "/etc/passwd"),
], ids=["absolute-labels", "absolute-folder", "dotdot", "dotdot-inside", "home", "etc"])
def test_paths_outside_the_root_are_refused_naming_path_and_root(root, labels, folder, refused):
    outside = root.parent / "outside"
    fill = {"root": root, "outside": outside}
    message = f"^{refused.format(**fill)}: outside {root.resolve()}, the only folder this app reads files from"
    with pytest.raises(EnsembleInputError, match=message.replace(".", r"\.").replace("/", r"\/")):
        folder_source(labels.format(**fill), folder.format(**fill))


@pytest.mark.parametrize("link", ["labels.csv", "preds", "preds/c.csv"])
def test_a_symlink_inside_the_root_that_leads_out_is_refused(root, link):
    outside = root.parent / "outside"
    if link == "labels.csv":
        (root / "labels.csv").unlink()
    if link == "preds":
        (root / "preds" / "a.csv").unlink()
        (root / "preds" / "b.csv").unlink()
        (root / "preds").rmdir()
    (root / link).symlink_to(outside / ("preds/a.csv" if link == "preds/c.csv" else link))
    with pytest.raises(EnsembleInputError, match=f"outside {root.resolve()}"):
        folder_source(str(root / "labels.csv"), str(root / "preds"))


def test_a_symlink_that_stays_inside_the_root_is_read_where_it_leads(root):
    (root / "preds" / "c.csv").symlink_to(root / "preds" / "a.csv")
    src = folder_source(str(root / "labels.csv"), str(root / "preds"))
    assert [e.name for e in src.predictions] == ["a.csv", "b.csv", "c.csv"]
    assert src.predictions[2].path == str(root / "preds" / "a.csv")
    assert load_source(src).names == ("a", "b", "c")


def test_the_bundled_demos_load_whatever_the_root(root):
    assert not str(demo_source("digits").labels.path).startswith(str(root))
    assert load_source(demo_source("digits")).n_models > 1


def test_the_root_is_never_read_outside_even_when_it_is_a_symlink(tmp_path, monkeypatch):
    """A root given through a symlink is the folder it leads to; its files still load."""
    real = tmp_path / "real"
    (real / "preds").mkdir(parents=True)
    (real / "labels.csv").write_bytes(LABELS)
    (real / "preds" / "a.csv").write_bytes(GOOD)
    os.symlink(real, tmp_path / "link")
    monkeypatch.setenv(ROOT_VARIABLE, str(tmp_path / "link"))
    assert local_root() == real.resolve()
    assert load_source(folder_source(str(tmp_path / "link" / "labels.csv"), "preds")).names == ("a",)


def test_a_fifo_as_labels_file_is_refused_without_opening_it(root):
    os.mkfifo(root / "fifo.csv")
    with pytest.raises(EnsembleInputError, match="fifo.csv: not a regular file"):
        folder_source(str(root / "fifo.csv"), str(root / "preds"))
    os.mkfifo(root / "preds" / "c.csv")  # skipped, never opened
    assert folder_source(str(root / "labels.csv"), str(root / "preds")).model_names == ("a", "b")
