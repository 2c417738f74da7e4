"""The sandbox itself sees what an attack would do."""

import os


def test_sandbox_sees_a_created_a_changed_and_a_removed_file(sandbox):
    (sandbox.files / "model.skops").write_bytes(b"x")
    sandbox.freeze()
    (sandbox.work / "marker").write_text("ran")
    (sandbox.home / ".bashrc").write_bytes(b"\0\0\0\0")
    (sandbox.files / "model.skops").unlink()
    assert sandbox.changes() == ["changed home/.bashrc", "created work/marker", "removed files/model.skops"]


def test_sandbox_ignores_the_cache_only_when_asked(sandbox):
    sandbox.freeze()
    sandbox.cache.mkdir()
    (sandbox.cache / "entry").write_bytes(b"x")
    assert sandbox.changes() == ["created cache", "created cache/entry"]
    assert sandbox.changes(ignore_cache=True) == []


def test_sandbox_lists_a_fifo_without_opening_it(sandbox):
    sandbox.freeze()
    os.mkfifo(sandbox.files / "pipe")
    assert sandbox.changes() == ["created files/pipe"]
