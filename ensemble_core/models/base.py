"""LoadedModel: what every loader returns, and the helpers the loaders share.

Heavy libraries (torch, transformers, onnxruntime) are imported inside the
loaders, never here, so importing :mod:`ensemble_core` stays fast.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from .._validation import EnsembleInputError
from ..io import label_key

ModelKind = Literal["skops", "onnx", "transformers", "embedding-head", "pickle"]
InputKind = Literal["text", "features"]

#: Rows per batch when the caller gives none: small for neural networks (memory,
#: and frequent progress), large for scikit-learn and ONNX (per-call overhead).
TORCH_BATCH_SIZE = 32
TABULAR_BATCH_SIZE = 2048
#: Upper bound on the threads torch and onnxruntime use; more rarely helps for
#: models this size and starves whatever else runs on the machine.
MAX_THREADS = 4


def thread_count() -> int:
    """Threads for inference: the CPU count, bounded by :data:`MAX_THREADS`."""
    return max(1, min(MAX_THREADS, os.cpu_count() or 1))


@dataclass(frozen=True)
class LoadedModel:
    """A classifier loaded from a file, ready to score a dataset.

    Attributes
    ----------
    name : str
        Shown in messages and used as the default prediction file name.
    kind : {"skops", "onnx", "transformers", "embedding-head", "pickle"}
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


class Lazy:
    """Build an expensive object (a torch model) on first use, once, thread-safely.

    Loading a transformer takes seconds; deferring it means a cache hit never pays.
    """

    def __init__(self, build: Callable[[], object]) -> None:
        self._build = build
        self._value: object = None
        self._lock = threading.Lock()

    def get(self) -> object:
        with self._lock:
            if self._value is None:
                self._value = self._build()
            return self._value


_CHUNK = 1 << 20


def hash_files(paths: Iterable[Path], root: Path | None = None) -> str:
    """SHA-256 over files' relative names and contents, in the given order."""
    digest = hashlib.sha256()
    for path in paths:
        name = path.relative_to(root).as_posix() if root is not None else path.name
        digest.update(name.encode() + b"\0")
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def directory_files(folder: Path) -> list[Path]:
    """Every regular file under ``folder``, sorted, hidden entries (``.git``...) skipped."""
    files = []
    for path in sorted(folder.rglob("*")):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if path.is_file():
            files.append(path)
    return files


def class_keys(source: str | Path, classes: Iterable[object]) -> tuple[str, ...]:
    """The model's classes as ``label_key`` strings; duplicates are refused."""
    keys = tuple(label_key(c) for c in classes)
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise EnsembleInputError(f"{source}: the model's classes name {dup!r} more than once")
    if not keys:
        raise EnsembleInputError(f"{source}: the model has no classes")
    return keys
