"""The user's own data kept on this machine while the app runs, so that reloading the page
(a new Streamlit session) brings it back.

Each session that loads its own data (uploads, files read by path, scored models) gets a
random key, written into its URL as ``own=`` (:attr:`dashboard.view.View.own`); the
source is kept here under that key. A new session finds it only with the key: nothing
lists the kept sources, and a key is 128 random bits. One :class:`KeptData` is shared by
every session (``st.cache_resource`` in :mod:`dashboard.caches`), so it locks around
every change. It holds at most :data:`KEPT_BYTES` of uploaded bytes, the least recently
used going first; files read by path are kept as their paths and read again. Nothing is
written to disk: when the app stops, the kept data is gone (no Streamlit here).
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import replace

from .sources import DataSource

#: The uploaded bytes kept for reloads, all sessions together.
KEPT_BYTES = 512 * 2**20


def new_key() -> str:
    """A fresh key for a session's own data (22 URL-safe characters, 128 random bits)."""
    return secrets.token_urlsafe(16)


def held_bytes(source: DataSource) -> int:
    """The bytes a source holds in memory (its uploaded or scored files; paths count as nothing)."""
    return sum(len(entry.data) for entry in (source.labels, *source.predictions) if entry.data is not None)


def fresh(source: DataSource) -> DataSource:
    """A copy without the cached content key, so files read by path are hashed again
    (changed files then read as the new data, not as the cached old one)."""
    return replace(source, labels=replace(source.labels),
                   predictions=tuple(replace(entry) for entry in source.predictions))


class KeptData:
    """Sources by key, least recently used first, bounded by the bytes they hold; thread-safe.

    Examples
    --------
    >>> from dashboard.sources import FileEntry
    >>> kept = KeptData(max_bytes=10)
    >>> mine = DataSource("upload", "Your data", FileEntry("y.csv", data=b"label\\na\\n"), ())
    >>> kept.put("k" * 22, mine), kept.get("k" * 22) == mine, kept.get("x" * 22)
    (True, True, None)
    """

    def __init__(self, max_bytes: int = KEPT_BYTES) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._sources: OrderedDict[str, tuple[DataSource, int]] = OrderedDict()

    def put(self, key: str, source: DataSource) -> bool:
        """Keep ``source`` under ``key`` (replacing what was there), dropping the least recently
        used others to stay within the bound. Returns False when it alone is over the bound
        (it is then not kept, and neither is what ``key`` held before)."""
        size = held_bytes(source)
        with self._lock:
            self._sources.pop(key, None)
            if size > self.max_bytes:
                return False
            self._sources[key] = (source, size)
            total = sum(s for _, s in self._sources.values())
            while total > self.max_bytes:
                _, (_, dropped) = self._sources.popitem(last=False)
                total -= dropped
            return True

    def get(self, key: str) -> DataSource | None:
        """The source kept under ``key`` (now the most recently used), or None."""
        with self._lock:
            item = self._sources.get(key)
            if item is None:
                return None
            self._sources.move_to_end(key)
            return item[0]
