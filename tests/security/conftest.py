"""The attack tests' sandbox: a home, a working folder and a cache whose every file is
recorded before an attack and compared after it, so a test can assert that loading a
crafted file created, changed or removed nothing anywhere it could reach."""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def _snapshot(root: Path) -> dict[str, tuple[str, str]]:
    """Every entry under ``root``: relative path -> (kind, content digest or link target)."""
    entries: dict[str, tuple[str, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                entries[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                entries[rel] = ("dir", "")
            elif path.is_file():
                entries[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
            else:  # FIFOs and the like: never opened here (opening a FIFO blocks)
                entries[rel] = ("special", "")
    return entries


@dataclass
class Sandbox:
    """Where an attack runs. ``home`` holds a victim ``.bashrc``; ``work`` is the current
    directory; ``cache`` is ``$ENSEMBLE_EXPLORER_CACHE``; ``files`` is where a test puts
    its crafted files. Call :meth:`freeze` once the crafted files are in place, then
    :meth:`assert_untouched` after the attack."""

    root: Path
    home: Path
    work: Path
    cache: Path
    files: Path
    _before: dict[str, tuple[str, str]] | None = field(default=None, repr=False)

    def freeze(self) -> None:
        self._before = _snapshot(self.root)

    def changes(self, *, ignore_cache: bool = False) -> list[str]:
        """What differs from the frozen snapshot, as readable lines."""
        assert self._before is not None, "call freeze() before the attack"
        after = _snapshot(self.root)
        if ignore_cache:
            top = self.cache.relative_to(self.root).as_posix()
            keep = lambda d: {k: v for k, v in d.items() if k != top and not k.startswith(top + "/")}  # noqa: E731
            before, after = keep(self._before), keep(after)
        else:
            before = self._before
        lines = [f"created {k}" for k in after.keys() - before.keys()]
        lines += [f"removed {k}" for k in before.keys() - after.keys()]
        lines += [f"changed {k}" for k in before.keys() & after.keys() if before[k] != after[k]]
        return sorted(lines)

    def assert_untouched(self, *, ignore_cache: bool = False) -> None:
        """Nothing created, changed or removed (optionally: except inside the prediction cache)."""
        assert self.changes(ignore_cache=ignore_cache) == []


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """A fresh sandbox with ``HOME``, the working directory and the cache inside it."""
    box = Sandbox(tmp_path, tmp_path / "home", tmp_path / "work", tmp_path / "cache", tmp_path / "files")
    for folder in (box.home, box.work, box.files):
        folder.mkdir()
    (box.home / ".bashrc").write_text("# the victim's shell start-up file\n")
    monkeypatch.setenv("HOME", str(box.home))
    monkeypatch.setenv("ENSEMBLE_EXPLORER_CACHE", str(box.cache))
    monkeypatch.chdir(box.work)
    return box


#: How long a FIFO may block code under test before the fixture releases it.
FIFO_RELEASE_SECONDS = 5


@pytest.fixture
def fifo():
    """``fifo(path)`` makes a FIFO and returns its path. Should code under test block opening
    it, a helper opens the write end after :data:`FIFO_RELEASE_SECONDS` and closes it, so the
    test fails on time instead of hanging the suite."""
    made: list[Path] = []
    done = threading.Event()

    def release() -> None:
        while not done.wait(FIFO_RELEASE_SECONDS):
            for path in made:
                try:
                    os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
                except OSError:
                    pass  # no reader waiting: nothing to release

    threading.Thread(target=release, daemon=True).start()

    def make(path: Path) -> Path:
        os.mkfifo(path)
        made.append(path)
        return path

    yield make
    done.set()
