"""An on-disk cache of scored probabilities, safe against crashes and concurrent writers.

An entry is one file named by its key: a magic header, the SHA-256 of the
payload, then the array in NumPy's ``.npy`` format. It is written to a temporary
file in the same folder, flushed to disk, then renamed over the final name with
``os.replace`` (atomic on POSIX and Windows): a reader sees the old entry, the new
one, or none, never half of one. Two processes writing the same key each rename
a complete file; the last rename wins and both are valid. An entry that fails
its checksum or shape check (disk corruption, a foreign file) reads as a miss.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

#: Bump when scoring changes in a way that changes the numbers (pooling, softmax...).
SCORER_VERSION = 1
_MAGIC = b"EEPCACHE"
_DIGEST_SIZE = 32
CACHE_ENV = "ENSEMBLE_EXPLORER_CACHE"


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
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        head = len(_MAGIC) + _DIGEST_SIZE
        if len(blob) < head or not blob.startswith(_MAGIC):
            return None
        payload = blob[head:]
        if hashlib.sha256(payload).digest() != blob[len(_MAGIC):head]:
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
        a model whose predictions are all cached."""
        try:
            info = json.loads(self._info_path(content_hash).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return info if isinstance(info, dict) else None

    def put_model_info(self, content_hash: str, info: dict) -> None:
        """Store :meth:`get_model_info`'s answer, atomically.

        Raises
        ------
        OSError
            If the folder cannot be written.
        """
        _atomic_write(self._info_path(content_hash), json.dumps(info).encode())


def _atomic_write(final: Path, content: bytes) -> None:
    """Write ``content`` to ``final`` so that readers see all of it or nothing."""
    final.parent.mkdir(parents=True, exist_ok=True)
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
