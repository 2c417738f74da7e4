"""An on-disk cache of scored probabilities, safe against crashes and concurrent writers.

An entry is one file named by its key: a magic header, the SHA-256 of the
payload, then the array in NumPy's ``.npy`` format. It is written to a temporary
file in the same folder, flushed to disk, then renamed over the final name with
``os.replace`` (atomic on POSIX and Windows): a reader sees the old entry, the new
one, or none, never half of one. Two processes writing the same key each rename
a complete file; the last rename wins and both are valid. An entry that fails
its checksum or shape check (disk corruption, a foreign file) reads as a miss, and
so does one that is not a regular file (a FIFO would block the reader) or is larger
than its shape allows. Model descriptions are stored the same way (magic, checksum,
JSON) and must match :data:`MODEL_INFO_FIELDS`' schema. A temporary file that a
killed writer left behind is removed by the next write to its folder once it is a
day old.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import get_args

import numpy as np

from .._validation import EnsembleInputError
from .base import MiB, ModelKind, read_regular

#: Bump when scoring changes in a way that changes the numbers (pooling, softmax...).
SCORER_VERSION = 1
_MAGIC = b"EEPCACHE"
_INFO_MAGIC = b"EEMINFO1"
_DIGEST_SIZE = 32
#: Room for an entry's ``.npy`` header beyond its data.
_HEADER_ROOM = 4096
_INFO_LIMIT = 16 * MiB
#: Temporary files older than this are a killed writer's leftovers, never a live write.
STALE_TEMP_SECONDS = 24 * 3600
CACHE_ENV = "ENSEMBLE_EXPLORER_CACHE"


def _names(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


#: A model description's fields and the check each value must pass.
MODEL_INFO_FIELDS: dict[str, Callable[[object], bool]] = {
    "kind": lambda v: v in get_args(ModelKind),
    "classes": lambda v: _names(v) and len(v) > 0 and len(set(v)) == len(v),
    "input": lambda v: v in ("text", "features"),
    "feature_names": lambda v: v is None or _names(v),
    "n_features": lambda v: v is None or _count(v),
    "batch_size": _count,
}


def valid_model_info(info: object) -> bool:
    """Whether ``info`` has exactly :data:`MODEL_INFO_FIELDS`, each of the right type, and
    agrees with itself (feature names only for a features model, as many as its width)."""
    if not isinstance(info, dict) or set(info) != set(MODEL_INFO_FIELDS):
        return False
    if not all(check(info[field]) for field, check in MODEL_INFO_FIELDS.items()):
        return False
    names, width = info["feature_names"], info["n_features"]
    if names is not None and (info["input"] != "features" or (width is not None and len(names) != width)):
        return False
    return info["input"] == "features" or width is None


def default_cache_dir() -> Path:
    """``$ENSEMBLE_EXPLORER_CACHE``, else ``$XDG_CACHE_HOME/ensemble-explorer``, else ``~/.cache/ensemble-explorer``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ensemble-explorer"


class PredictionCache:
    """Probabilities on disk, keyed by everything that determines them.

    Parameters
    ----------
    root : folder for the entries (created on first write); default
        :func:`default_cache_dir`

    Attributes
    ----------
    hits, misses : int
        Lookups answered from disk, and not, since this object was made.
    stored : int
        Entries written since this object was made.

    Examples
    --------
    >>> cache = PredictionCache(tmp_path)  # doctest: +SKIP
    >>> probas = score_model(model, df, classes=labels.classes, cache=cache)  # doctest: +SKIP
    """

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self.hits = 0
        self.misses = 0
        self.stored = 0

    @staticmethod
    def key(
        *,
        model_hash: str,
        data_hash: str,
        columns: Sequence[str],
        classes: Sequence[str],
        input: str,
    ) -> str:
        """The entry's key: SHA-256 over the model's and data's content hashes, the
        columns read (in order), the dataset's class order, the input kind and
        :data:`SCORER_VERSION`."""
        fields = {
            "scorer": SCORER_VERSION,
            "model": model_hash,
            "data": data_hash,
            "columns": list(columns),
            "classes": list(classes),
            "input": input,
        }
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()

    def path(self, key: str) -> Path:
        """Where the entry for ``key`` lives."""
        return self.root / key[:2] / f"{key}.npyc"

    def get(self, key: str, shape: tuple[int, int]) -> np.ndarray | None:
        """The cached probabilities of shape ``shape`` (float32), or None on a miss.

        A missing, truncated, corrupt or wrongly shaped entry is a miss.
        """
        array = self._read(self.path(key), shape)
        if array is None:
            self.misses += 1
        else:
            self.hits += 1
        return array

    @staticmethod
    def _read(path: Path, shape: tuple[int, int]) -> np.ndarray | None:
        limit = len(_MAGIC) + _DIGEST_SIZE + _HEADER_ROOM + 4 * int(np.prod(shape))
        payload = _read_entry(path, _MAGIC, limit)
        if payload is None:
            return None
        try:
            array = np.load(io.BytesIO(payload), allow_pickle=False)
        except (ValueError, OSError, EOFError):
            return None
        if array.dtype != np.float32 or array.shape != tuple(shape):
            return None
        return array

    def put(self, key: str, probas: np.ndarray) -> None:
        """Store ``probas`` (float32, 2-D) under ``key``, atomically.

        Raises
        ------
        OSError
            If the folder cannot be written (the caller decides whether that matters).
        """
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(probas, dtype=np.float32), allow_pickle=False)
        payload = buffer.getvalue()
        _atomic_write(self.path(key), _MAGIC + hashlib.sha256(payload).digest() + payload)
        self.stored += 1

    def _info_path(self, content_hash: str) -> Path:
        return self.root / "models" / f"{content_hash}-v{SCORER_VERSION}.json"

    def get_model_info(self, content_hash: str) -> dict | None:
        """What an earlier load learnt about the model with this content hash (its
        classes, input, feature names), or None. Lets :func:`load_model` skip loading
        a model whose predictions are all cached.

        A missing, damaged, foreign or ill-formed entry (see :func:`valid_model_info`)
        is None: the model is then loaded and the entry written anew."""
        payload = _read_entry(self._info_path(content_hash), _INFO_MAGIC, _INFO_LIMIT)
        if payload is None:
            return None
        try:
            info = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        return info if valid_model_info(info) else None

    def put_model_info(self, content_hash: str, info: dict) -> None:
        """Store :meth:`get_model_info`'s answer, atomically.

        Raises
        ------
        ValueError
            If ``info`` is not a valid description (see :func:`valid_model_info`).
        OSError
            If the folder cannot be written.
        """
        if not valid_model_info(info):
            raise ValueError(f"not a valid model description: {info!r}")
        payload = json.dumps(info).encode()
        _atomic_write(self._info_path(content_hash), _INFO_MAGIC + hashlib.sha256(payload).digest() + payload)


def _read_entry(path: Path, magic: bytes, limit: int) -> bytes | None:
    """An entry's payload after its magic and checksum, or None for anything else: a
    missing file, one that is not a regular file (never opened in a way that blocks),
    one over ``limit`` bytes, a foreign or damaged one."""
    try:
        blob = read_regular(path, limit)
    except (EnsembleInputError, OSError):
        return None
    head = len(magic) + _DIGEST_SIZE
    if len(blob) < head or not blob.startswith(magic):
        return None
    payload = blob[head:]
    if hashlib.sha256(payload).digest() != blob[len(magic):head]:
        return None
    return payload


def _remove_stale_temporaries(folder: Path) -> None:
    """Delete the temporary files (``.*.tmp``) a killed writer left in ``folder`` over a
    day ago; a live writer's file is seconds old. Best effort: a failure is ignored."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if not (entry.name.startswith(".") and entry.name.endswith(".tmp")):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                os.unlink(entry.path)
        except OSError:
            continue


def _atomic_write(final: Path, content: bytes) -> None:
    """Write ``content`` to ``final`` so that readers see all of it or nothing."""
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(final.parent)
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name[:16]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException:
        # Also on KeyboardInterrupt: never leave the temporary file behind.
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(final.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable where the platform allows syncing a directory."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
