"""LoadedModel: what every loader returns, and the helpers the loaders share.

Heavy libraries (torch, transformers, onnxruntime) are imported inside the
loaders, never here, so importing :mod:`ensemble_core` stays fast.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np

from .._threads import usable_cores
from .._lazy import Lazy  # noqa: F401 - the loaders' lazy holder, importable from here as before
from .._validation import EnsembleInputError
from ..io import label_key

#: The registry's loader names (``registry.LOADER_KINDS``; a test keeps the two the same).
ModelKind = Literal["skops", "onnx", "transformers", "embedding_head", "pickle"]
InputKind = Literal["text", "features"]

#: Rows per batch when the caller gives none: small for neural networks (memory,
#: and frequent progress), large for scikit-learn and ONNX (per-call overhead).
TORCH_BATCH_SIZE = 32
TABULAR_BATCH_SIZE = 2048
#: Upper bound on the threads torch and onnxruntime use; more rarely helps for
#: models this size and starves whatever else runs on the machine.
MAX_THREADS = 4


def thread_count() -> int:
    """Threads for inference: the CPUs this process may use, bounded by :data:`MAX_THREADS`."""
    return max(1, min(MAX_THREADS, usable_cores()))


@dataclass(frozen=True)
class LoadedModel:
    """A classifier loaded from a file, ready to score a dataset.

    Attributes
    ----------
    name : str
        Shown in messages and used as the default prediction file name.
    kind : {"skops", "onnx", "transformers", "embedding_head", "pickle"}
    classes : tuple of str
        The model's classes as :func:`ensemble_core.io.label_key` strings, in the
        order of its probability columns.
    input : {"text", "features"}
        What one example is: a string, or a row of numbers.
    feature_names : tuple of str or None
        For ``input == "features"``: the columns the model was fitted on, when it
        records them (scikit-learn's ``feature_names_in_``).
    n_features : int or None
        For ``input == "features"``: how many numbers one example has, when known.
    content_hash : str
        SHA-256 of the model's file(s); keys the prediction cache.
    source : str
        The path (or upload name) the model came from.
    batch_size : int
        Default rows per batch for :func:`ensemble_core.models.score_model`.
    """

    name: str
    kind: ModelKind
    classes: tuple[str, ...]
    input: InputKind
    feature_names: tuple[str, ...] | None
    content_hash: str
    source: str
    n_features: int | None = None
    batch_size: int = TABULAR_BATCH_SIZE
    _predict: Callable[[object], np.ndarray] = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    def predict_proba(self, batch: Sequence[str] | np.ndarray) -> np.ndarray:
        """Class probabilities for one batch, in the model's class order.

        Parameters
        ----------
        batch : list of str (``input == "text"``) or ndarray of shape (n, n_features)

        Returns
        -------
        ndarray of shape (n, len(classes))
        """
        n = len(batch)
        out = np.asarray(self._predict(batch))
        if out.shape != (n, len(self.classes)):
            raise EnsembleInputError(
                f"{self.source}: the model returned probabilities of shape {out.shape}, "
                f"expected ({n}, {len(self.classes)}) for {n} examples and classes {', '.join(self.classes)}"
            )
        return out


# --- Files: regular, bounded, never a device, a FIFO or a kernel pseudo-file -----------------

MiB = 1 << 20
GiB = 1 << 30


@dataclass(frozen=True)
class SizeLimit:
    """An upper bound on how much a loader reads, raised deliberately with an environment variable.

    Attributes
    ----------
    default : int
        Bytes allowed when ``env`` is not set.
    env : str
        The variable that raises (or lowers) it, in MiB.
    what : str
        What is bounded, for messages ("a model file").
    """

    default: int
    env: str
    what: str

    @property
    def bytes(self) -> int:
        """The limit now: ``$env`` MiB when set to a positive whole number, else ``default``."""
        value = os.environ.get(self.env, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value) * MiB
        return self.default

    def refuse(self, source: object, size: int) -> EnsembleInputError:
        """The one-line refusal of ``size`` bytes from ``source``."""
        return EnsembleInputError(
            f"{source}: refused: {_megabytes(size)} is over the {_megabytes(self.bytes)} limit for {self.what}; "
            f"if you trust the file, raise the limit with {self.env}=MEGABYTES"
        )


def _megabytes(size: int) -> str:
    return f"{size / MiB:,.1f} MB" if size < 10 * MiB else f"{size / MiB:,.0f} MB"


#: Every limit in one place. A model file is read whole into memory (and a skops file's
#: arrays unpacked beside it), so it gets less than one file of a transformers directory,
#: which torch maps from disk: 8 GiB takes the 5 GB shards ``save_pretrained`` writes.
MODEL_FILE_LIMIT = SizeLimit(1 * GiB, "ENSEMBLE_EXPLORER_MAX_MODEL_MB", "a model file (.skops, .onnx, pickle)")
UNPACKED_LIMIT = SizeLimit(2 * GiB, "ENSEMBLE_EXPLORER_MAX_UNPACKED_MB", "a .skops file's contents, uncompressed")
#: schema.json is parsed into Python objects about 4x its size (the demo's 12.6 MB TF-IDF
#: vocabulary took 52 MB); 256 MiB takes a vocabulary of about two million n-grams.
SCHEMA_LIMIT = SizeLimit(256 * MiB, "ENSEMBLE_EXPLORER_MAX_SCHEMA_MB", "a .skops file's schema.json")
DIRECTORY_FILE_LIMIT = SizeLimit(8 * GiB, "ENSEMBLE_EXPLORER_MAX_WEIGHTS_MB", "one file of a model directory")
#: config.json, ensemble_model.json: a few kilobytes in every real model.
JSON_FILE_LIMIT = SizeLimit(16 * MiB, "ENSEMBLE_EXPLORER_MAX_JSON_MB", "a model's JSON description")

#: Where kernel and device files live: never a model, and reading them can block or never end.
PSEUDO_FILE_ROOTS = ("/proc", "/sys", "/dev")

_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a directory", stat.S_IFLNK: "a symbolic link"}


def _kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


@cache
def _pseudo_devices() -> frozenset[int]:
    """The device ids of the pseudo file systems, so one mounted elsewhere is also refused."""
    devices = set()
    for root in PSEUDO_FILE_ROOTS[:2]:  # /dev is an ordinary tmpfs on some systems
        try:
            devices.add(os.stat(root).st_dev)
        except OSError:
            pass
    return frozenset(devices)


def _pseudo_path(real: str) -> bool:
    return any(real == root or real.startswith(root + os.sep) for root in PSEUDO_FILE_ROOTS)


def open_regular(path: str | Path, limit: SizeLimit | int) -> BinaryIO:
    """Open a file for reading only if it is a regular file of at most ``limit`` bytes.

    Never blocks and never reads a device: the path is resolved first and refused under
    ``/proc``, ``/sys`` or ``/dev`` (a symbolic link to ``/dev/zero`` included), then opened
    with ``O_NONBLOCK`` (opening a FIFO with no writer would wait forever) and checked with
    ``fstat`` on the open descriptor, so what is checked is what is read.

    Raises
    ------
    EnsembleInputError
        If the file is missing, not a regular file (a FIFO, socket, device, directory),
        a kernel pseudo-file, or larger than ``limit``.
    """
    real = os.path.realpath(path)
    if _pseudo_path(real):
        raise EnsembleInputError(f"{path}: refused: {real} is a device or kernel file, not a model file")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise EnsembleInputError(f"{path}: no such file") from None
    except OSError as exc:
        raise EnsembleInputError(f"{path}: cannot open: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise EnsembleInputError(f"{path}: refused: {_kind(info.st_mode)}, not a regular file")
        if info.st_dev in _pseudo_devices():
            raise EnsembleInputError(f"{path}: refused: a kernel pseudo-file, not a model file")
        size_limit = limit.bytes if isinstance(limit, SizeLimit) else limit
        if info.st_size > size_limit:
            raise (limit.refuse(path, info.st_size) if isinstance(limit, SizeLimit)
                   else EnsembleInputError(f"{path}: refused: {info.st_size:,} bytes, expected at most {limit:,}"))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


_CHUNK = 1 << 20


def read_regular(path: str | Path, limit: SizeLimit | int) -> bytes:
    """The whole content of a regular file of at most ``limit`` bytes (see :func:`open_regular`),
    read bounded: a file that grows past the limit while being read is refused too."""
    size_limit = limit.bytes if isinstance(limit, SizeLimit) else limit
    with open_regular(path, limit) as fh:
        # read(n) allocates n bytes up front: ask for the size the file has, not for the limit.
        expected = os.fstat(fh.fileno()).st_size
        data = fh.read(min(expected, size_limit) + 1)
        if len(data) > expected:  # it grew since: read on in chunks, never past the limit
            parts, total = [data], len(data)
            while total <= size_limit and (chunk := fh.read(min(_CHUNK, size_limit + 1 - total))):
                parts.append(chunk)
                total += len(chunk)
            data = b"".join(parts)
    if len(data) > size_limit:
        raise (limit.refuse(path, len(data)) if isinstance(limit, SizeLimit)
               else EnsembleInputError(f"{path}: refused: more than {limit:,} bytes"))
    return data



def hash_files(paths: Iterable[Path], root: Path | None = None) -> str:
    """SHA-256 over files' relative names and contents, in the given order.

    Each file must be a regular file within :data:`DIRECTORY_FILE_LIMIT` (see :func:`open_regular`).
    """
    digest = hashlib.sha256()
    limit = DIRECTORY_FILE_LIMIT.bytes
    for path in paths:
        name = path.relative_to(root).as_posix() if root is not None else path.name
        digest.update(name.encode() + b"\0")
        read = 0
        with open_regular(path, DIRECTORY_FILE_LIMIT) as fh:
            while chunk := fh.read(_CHUNK):
                read += len(chunk)
                if read > limit:
                    raise DIRECTORY_FILE_LIMIT.refuse(path, read)
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` resolves to ``folder`` or somewhere under it (symbolic links followed)."""
    real, root = os.path.realpath(path), os.path.realpath(folder)
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def directory_files(folder: Path) -> list[Path]:
    """Every regular file under ``folder``, sorted, hidden entries (``.git``...) skipped, after
    checking every entry, hidden ones included.

    transformers opens the files a directory holds by name: a FIFO named ``tokenizer.json``
    would hang it, a link to ``/dev/zero`` exhaust memory, and a link to a file elsewhere
    would read outside the folder the user named.

    Raises
    ------
    EnsembleInputError
        On an entry that is not a regular file or directory (a FIFO, socket, device), a
        symbolic link that resolves outside ``folder``, or a file over
        :data:`DIRECTORY_FILE_LIMIT`.
    """
    folder = Path(folder)
    if _pseudo_path(os.path.realpath(folder)):
        raise EnsembleInputError(f"{folder}: refused: a device or kernel directory, not a model directory")
    files, limit = [], DIRECTORY_FILE_LIMIT.bytes
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            try:
                info = path.lstat()
                if stat.S_ISLNK(info.st_mode):
                    if not inside(path, folder):
                        raise EnsembleInputError(
                            f"{path}: refused: a symbolic link to {os.path.realpath(path)}, outside the model "
                            "directory; copy the file into the directory instead"
                        )
                    info = path.stat()
            except OSError as exc:
                raise EnsembleInputError(f"{path}: cannot read: {exc.strerror or exc}") from None
            if stat.S_ISDIR(info.st_mode):
                continue
            if not stat.S_ISREG(info.st_mode):
                raise EnsembleInputError(f"{path}: refused: {_kind(info.st_mode)} inside a model directory")
            if info.st_size > limit:
                raise DIRECTORY_FILE_LIMIT.refuse(path, info.st_size)
            if not any(part.startswith(".") for part in path.relative_to(folder).parts):
                files.append(path)
    return sorted(files)


def class_keys(source: str | Path, classes: Iterable[object]) -> tuple[str, ...]:
    """The model's classes as ``label_key`` strings; duplicates are refused."""
    keys = tuple(label_key(c) for c in classes)
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise EnsembleInputError(f"{source}: the model's classes name {dup!r} more than once")
    if not keys:
        raise EnsembleInputError(f"{source}: the model has no classes")
    return keys
