"""Where the loaded data comes from: a bundled demo, uploaded files, or files on
this machine. A :class:`DataSource` is small and hashable by its content key, so
the prediction set built from it is cached once (no Streamlit here).

Files on this machine are read only under one folder, :func:`local_root`, chosen when the
app starts (``$ENSEMBLE_EXPLORER_ROOT``, else the folder it was started in): a path whose
real location (symlinks followed) leaves it is refused. The bundled demos are the app's own
files and are read wherever the app is installed.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Literal, Protocol

from ensemble_core import EnsembleInputError, LabelsFile, PredictionSet, load_prediction_set
from ensemble_core.demo import DEMOS
from ensemble_core.io import check_unique_model_names, model_name
from ensemble_core.registry import TABLE_FORMAT_SPECS, TABLE_SUFFIXES

#: The endings of labels and prediction files, in the registry's order (for messages).
_LISTED_SUFFIXES = ", ".join(suffix for spec in TABLE_FORMAT_SPECS for suffix in spec.suffixes)
#: What a labels or prediction file upload may end with, as the file uploader takes it (the
#: last extension: ".csv.gz" is "gz"); the full suffix is checked by :func:`upload_entries`.
UPLOAD_TYPES: list[str] = list(dict.fromkeys(suffix.rpartition(".")[2] for spec in TABLE_FORMAT_SPECS
                                             for suffix in spec.suffixes))
#: The environment variable naming the folder that files on this machine are read under.
ROOT_VARIABLE = "ENSEMBLE_EXPLORER_ROOT"


def local_root() -> Path:
    """The folder under which the app reads files by path: ``$ENSEMBLE_EXPLORER_ROOT``, else
    the working directory (the folder the app was started in), with symlinks resolved.

    Raises
    ------
    EnsembleInputError
        When ``$ENSEMBLE_EXPLORER_ROOT`` names no folder.
    """
    configured = os.environ.get(ROOT_VARIABLE, "").strip()
    root = (Path(configured).expanduser() if configured else Path.cwd()).resolve()
    if not root.is_dir():
        raise EnsembleInputError(f"{ROOT_VARIABLE}={configured}: no such folder; files on this machine cannot be "
                                 "read until the app is started with it naming a folder")
    return root


def path_under_root(path: str | Path) -> Path:
    """``path`` (relative paths start at :func:`local_root`) resolved to its real location,
    symlinks followed; refused when that leaves the root.

    Raises
    ------
    EnsembleInputError
        Naming the path and the root.

    Examples
    --------
    With the app started in ``/home/me/data``:

    >>> path_under_root("predictions/rf.csv")  # doctest: +SKIP
    PosixPath('/home/me/data/predictions/rf.csv')
    >>> path_under_root("../.ssh/id_rsa")  # doctest: +SKIP
    EnsembleInputError: ../.ssh/id_rsa: outside /home/me/data, the only folder this app reads files from; ...
    """
    root = local_root()
    real = (root / Path(path).expanduser()).resolve()
    if not real.is_relative_to(root):
        raise EnsembleInputError(f"{path}: outside {root}, the only folder this app reads files from; start the "
                                 f"app with {ROOT_VARIABLE} set to a folder that holds it")
    return real


class Upload(Protocol):
    """What Streamlit's ``UploadedFile`` offers (and a test's stand-in)."""

    name: str

    def getvalue(self) -> bytes: ...


@dataclass(frozen=True)
class FileEntry:
    """One labels or prediction file: on disk (``path``) or in memory (``data``).

    ``name`` is the file name; it decides the format and, for a prediction file,
    the model's name (its stem).
    """

    name: str
    path: str | None = None
    data: bytes | None = field(default=None, repr=False)

    @cached_property
    def digest(self) -> str:
        h = hashlib.blake2b(digest_size=16)
        h.update(self.name.encode())
        if self.data is not None:
            h.update(self.data)
        else:
            st = Path(self.path).stat()
            h.update(f"{Path(self.path).resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
        return h.hexdigest()

    def reader(self) -> tuple[str, object] | str:
        """What :func:`ensemble_core.load_prediction_set` takes for this file."""
        return self.path if self.data is None else (self.name, io.BytesIO(self.data))


@dataclass(frozen=True)
class DataSource:
    """A labels file and one prediction file per model, with a title for the UI."""

    kind: Literal["demo", "upload", "folder"]
    title: str
    labels: FileEntry
    predictions: tuple[FileEntry, ...]
    demo: str | None = None

    @cached_property
    def key(self) -> str:
        """A content key (file digests; size and mtime for files on disk), computed once."""
        h = hashlib.blake2b(digest_size=16)
        h.update(self.labels.digest.encode())
        for entry in self.predictions:
            h.update(entry.digest.encode())
        return h.hexdigest()

    @property
    def model_names(self) -> tuple[str, ...]:
        """The loaded models' names (each prediction file's name without its suffix)."""
        return tuple(model_name(entry.name) for entry in self.predictions)

    def check_new_model(self, name: str, file: str) -> None:
        """Refuse a model to be added under a name already loaded, before any work is done on it."""
        if name in self.model_names:
            raise EnsembleInputError(
                f"{file}: a model named {name!r} is already loaded; rename the file to add it as another model"
            )

    def with_predictions(self, extra: list[FileEntry]) -> DataSource:
        """The same labels with more prediction files (a model added to the set).

        Raises
        ------
        EnsembleInputError
            When a new file gives the name of a model already loaded.
        """
        for entry in extra:
            self.check_new_model(model_name(entry.name), entry.name)
        kind = "upload" if self.kind == "demo" else self.kind
        title = self.title if self.kind != "demo" else f"{self.title} + your models"
        return replace(self, kind=kind, title=title, predictions=self.predictions + tuple(extra))


def load_source(source: DataSource) -> PredictionSet:
    """Read and validate a source's files into a prediction set, each model named by its
    entry's name (a file on this machine is read at its real location, a symlink's target,
    but named as it was listed).

    Raises
    ------
    EnsembleInputError
        Naming the file, column and row of the first problem.
    """
    names = source.model_names
    check_unique_model_names(names, [entry.name for entry in source.predictions])
    return load_prediction_set(read_labels(source), [entry.reader() for entry in source.predictions], names=names)


def demo_source(name: str, split: str = "test") -> DataSource:
    """A bundled demo's split (the test split, which the pages show; ``train`` and ``val`` are
    transfer sets for distillation)."""
    if name not in DEMOS:
        raise EnsembleInputError(f"unknown demo {name!r}; expected one of {', '.join(DEMOS)}")
    demo = DEMOS[name]
    if not demo.available(split):
        raise EnsembleInputError(f"the {name} demo is not built: its {split} files are missing under {demo.folder}")
    labels = demo.split_labels_path(split)
    return DataSource(
        "demo",
        demo.title if split == "test" else f"{demo.title} ({split} split)",
        FileEntry(labels.name, path=str(labels)),
        tuple(FileEntry(p.name, path=str(p)) for p in demo.prediction_paths(split)),
        demo=name,
    )


def available_demos() -> list[str]:
    """Names of the bundled demos whose files exist, in :data:`DEMOS` order."""
    return [name for name, demo in DEMOS.items() if demo.available()]


def _check_suffix(name: str, what: str) -> None:
    if not name.lower().endswith(TABLE_SUFFIXES):
        raise EnsembleInputError(f"{name}: {what} must be CSV or Parquet ({_LISTED_SUFFIXES})")


def upload_entries(uploads: list[Upload], what: str = "a prediction file") -> list[FileEntry]:
    """In-memory entries for uploaded files, with the format checked by name."""
    entries = []
    for up in uploads:
        _check_suffix(up.name, what)
        entries.append(FileEntry(up.name, data=up.getvalue()))
    return entries


def upload_source(labels: Upload | None, predictions: list[Upload]) -> DataSource:
    """A source from an uploaded labels file and prediction files."""
    if labels is None:
        raise EnsembleInputError("upload a labels file (CSV or Parquet with a 'label' column)")
    if not predictions:
        raise EnsembleInputError("upload at least one prediction file (one per model)")
    (lab,) = upload_entries([labels], "the labels file")
    return DataSource("upload", f"Your data: {labels.name}", lab, tuple(upload_entries(predictions)))


def folder_source(labels_path: str, predictions_folder: str) -> DataSource:
    """A source from files on this machine: a labels file and a folder of prediction files,
    both under :func:`local_root`.

    Every ``.csv``, ``.csv.gz``, ``.parquet`` and ``.pq`` file in the folder (not
    its subfolders) is one model, in name order. Files are read at their real location,
    which must be under the root too (a symlink in the folder that leads out is refused).
    """
    if not labels_path.strip():
        raise EnsembleInputError("give the path of a labels file")
    labels = Path(labels_path.strip()).expanduser()
    folder = Path(predictions_folder.strip()).expanduser()
    real_labels = path_under_root(labels)
    if not real_labels.is_file():
        raise EnsembleInputError(f"{labels}: {'not a regular file' if real_labels.exists() else 'no such file'}")
    _check_suffix(labels.name, "the labels file")
    real_folder = path_under_root(folder)
    if not real_folder.is_dir():
        raise EnsembleInputError(f"{folder}: no such folder")
    files = []
    for p in sorted(real_folder.iterdir()):
        if p.name.lower().endswith(TABLE_SUFFIXES) and p.is_file():
            real = path_under_root(folder / p.name)
            if real != real_labels:
                files.append((p.name, real))
    if not files:
        raise EnsembleInputError(f"{folder}: no prediction files ({_LISTED_SUFFIXES}) in this folder")
    return DataSource(
        "folder",
        f"Files in {folder}",
        FileEntry(labels.name, path=str(real_labels)),
        tuple(FileEntry(name, path=str(real)) for name, real in files),
    )


def read_labels(source: DataSource) -> LabelsFile:
    """The source's labels file, read again (for scoring models on its examples)."""
    lab = source.labels
    return LabelsFile(lab.path or lab.name, None if lab.data is None else io.BytesIO(lab.data))


def scored_entry(name: str, probas, labels: LabelsFile) -> FileEntry:
    """A model's scores on the labelled examples as an in-memory prediction file.

    Parameters
    ----------
    probas : ndarray of shape (n_samples, n_classes), in ``labels.classes`` order
    """
    import pandas as pd

    frame = pd.DataFrame(probas, columns=labels.keys)
    if labels.ids is not None:
        frame.insert(0, "id", labels.ids)
    return FileEntry(f"{name}.csv", data=frame.to_csv(index=False, float_format="%.8g").encode())
