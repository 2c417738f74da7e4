"""PredictionCache: round trip, crash safety, corruption as a miss, concurrent writers."""

from __future__ import annotations

import multiprocessing
import os

import numpy as np
import pytest

from ensemble_core.models import PredictionCache
from ensemble_core.models.cache import default_cache_dir

KEY = PredictionCache.key(model_hash="m" * 64, data_hash="d" * 64, columns=["text"], classes=["a", "b"], input="text")


def _probas(n: int = 50, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet([1, 1], size=n).astype(np.float32)


def test_round_trip(tmp_path):
    cache = PredictionCache(tmp_path)
    assert cache.get(KEY, (50, 2)) is None
    cache.put(KEY, _probas())
    np.testing.assert_array_equal(cache.get(KEY, (50, 2)), _probas())
    assert (cache.hits, cache.misses) == (1, 1)


@pytest.mark.parametrize(
    "field, value",
    [("model_hash", "x" * 64), ("data_hash", "y" * 64), ("columns", ["review"]), ("classes", ["b", "a"]),
     ("input", "features")],
)
def test_every_field_changes_the_key(field, value):
    fields = dict(model_hash="m" * 64, data_hash="d" * 64, columns=["text"], classes=["a", "b"], input="text")
    fields[field] = value
    assert PredictionCache.key(**fields) != KEY


def test_wrong_shape_is_a_miss(tmp_path):
    cache = PredictionCache(tmp_path)
    cache.put(KEY, _probas())
    assert cache.get(KEY, (49, 2)) is None


class _Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing may swallow it."""


def test_crash_between_write_and_rename_leaves_no_entry(tmp_path, monkeypatch):
    cache = PredictionCache(tmp_path)

    def crash(src, dst):
        raise _Crash

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(_Crash):
        cache.put(KEY, _probas())
    monkeypatch.undo()
    assert cache.get(KEY, (50, 2)) is None
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # the temporary file is gone too


def _die_before_rename(root: str) -> None:
    os.replace = lambda src, dst: os._exit(3)  # the process ends with the temporary file written
    PredictionCache(root).put(KEY, _probas())


def test_hard_kill_between_write_and_rename_is_never_read_back(tmp_path):
    proc = multiprocessing.get_context("spawn").Process(target=_die_before_rename, args=(str(tmp_path),))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 3
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers and all(p.name.endswith(".tmp") for p in leftovers)  # written, never renamed
    cache = PredictionCache(tmp_path)
    assert cache.get(KEY, (50, 2)) is None
    cache.put(KEY, _probas())  # a later writer is not disturbed by the leftover
    np.testing.assert_array_equal(cache.get(KEY, (50, 2)), _probas())


@pytest.mark.parametrize(
    "damage",
    [lambda b: b[: len(b) // 2], lambda b: b[:-1] + bytes([b[-1] ^ 1]), lambda b: b"", lambda b: b"junk" * 20],
    ids=["truncated", "bit-flip", "empty", "foreign"],
)
def test_corrupt_entry_is_a_miss(tmp_path, damage):
    cache = PredictionCache(tmp_path)
    cache.put(KEY, _probas())
    path = cache.path(KEY)
    path.write_bytes(damage(path.read_bytes()))
    assert cache.get(KEY, (50, 2)) is None


def _write_many(root: str, seed: int, n: int) -> None:
    cache = PredictionCache(root)
    for _ in range(n):
        cache.put(KEY, _probas(2000, seed))


def test_concurrent_writers_of_one_key_both_leave_a_valid_entry(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(str(tmp_path), seed, 30)) for seed in (1, 2)]
    for p in procs:
        p.start()
    cache = PredictionCache(tmp_path)
    while any(p.is_alive() for p in procs):
        got = cache.get(KEY, (2000, 2))
        if got is not None:  # a reader racing the writers sees one whole entry or none
            assert any(np.array_equal(got, _probas(2000, s)) for s in (1, 2))
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    final = cache.get(KEY, (2000, 2))
    assert final is not None
    assert any(np.array_equal(final, _probas(2000, s)) for s in (1, 2))
    assert [p.name for p in tmp_path.rglob("*.tmp")] == []


def test_default_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ENSEMBLE_EXPLORER_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    assert PredictionCache().root == tmp_path / "c"
    monkeypatch.delenv("ENSEMBLE_EXPLORER_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "ensemble-explorer"


# --- Model descriptions: checksummed and schema-checked like predictions. ---

INFO = {"kind": "skops", "classes": ["fresh", "rotten"], "input": "text", "feature_names": None,
        "n_features": None, "batch_size": 2048}


def test_a_model_description_round_trips(tmp_path):
    cache = PredictionCache(tmp_path)
    assert cache.get_model_info("h" * 64) is None
    cache.put_model_info("h" * 64, INFO)
    assert cache.get_model_info("h" * 64) == INFO


@pytest.mark.parametrize(
    "change",
    [
        {"classes": []}, {"classes": ["a", "a"]}, {"classes": [1, 2]}, {"kind": "zip"}, {"input": "image"},
        {"feature_names": ["x"]}, {"n_features": 0}, {"n_features": True}, {"batch_size": 0},
        {"batch_size": "2048"}, {"extra": 1},
    ],
    ids=lambda change: "-".join(f"{k}={v!r}" for k, v in change.items()),
)
def test_an_ill_formed_description_is_neither_written_nor_read(tmp_path, change):
    import hashlib
    import json

    from ensemble_core.models.cache import _INFO_MAGIC

    cache = PredictionCache(tmp_path)
    info = {**INFO, **change}
    with pytest.raises(ValueError, match="not a valid model description"):
        cache.put_model_info("h" * 64, info)
    # Written anyway (by another version, by hand), with a valid checksum: still a miss.
    payload = json.dumps(info).encode()
    path = cache._info_path("h" * 64)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_INFO_MAGIC + hashlib.sha256(payload).digest() + payload)
    assert cache.get_model_info("h" * 64) is None


@pytest.mark.parametrize(
    "content",
    [b"", b"not json", b'{"kind": "skops"}', b"EEMINFO1" + b"\0" * 32 + b"{}"],
    ids=["empty", "garbage", "older-plain-json", "bad-checksum"],
)
def test_a_damaged_or_foreign_description_is_a_miss(tmp_path, content):
    cache = PredictionCache(tmp_path)
    path = cache._info_path("h" * 64)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert cache.get_model_info("h" * 64) is None


def test_a_fifo_entry_is_a_miss_at_once(tmp_path):
    cache = PredictionCache(tmp_path)
    for path in (cache.path(KEY), cache._info_path("h" * 64)):
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)
    assert cache.get(KEY, (50, 2)) is None and cache.get_model_info("h" * 64) is None
    cache.put(KEY, _probas())  # replaces the FIFO
    np.testing.assert_array_equal(cache.get(KEY, (50, 2)), _probas())


def test_an_entry_larger_than_its_shape_allows_is_a_miss_unread(tmp_path):
    cache = PredictionCache(tmp_path)
    cache.put(KEY, _probas(n=5000))
    assert cache.get(KEY, (50, 2)) is None  # refused by size before its 40 kB are read


def test_stale_temporary_files_go_on_the_next_write_in_their_folder(tmp_path):
    import time

    cache = PredictionCache(tmp_path)
    folder = cache.path(KEY).parent
    folder.mkdir(parents=True)
    old, fresh, other = folder / ".abc.123.tmp", folder / ".def.456.tmp", folder / "notes.tmp"
    for path in (old, fresh, other):
        path.write_bytes(b"x" * 100)
    day_and_a_bit = time.time() - 25 * 3600
    os.utime(old, (day_and_a_bit, day_and_a_bit))
    os.utime(other, (day_and_a_bit, day_and_a_bit))
    cache.put(KEY, _probas())
    assert not old.exists() and fresh.exists() and other.exists()
