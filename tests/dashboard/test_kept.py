"""dashboard.kept: the users' own data kept for reloads, bounded and shared by threads."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dashboard.kept import KeptData, fresh, held_bytes, new_key
from dashboard.sources import DataSource, FileEntry
from dashboard.view import OWN_KEY


def _source(size: int, name: str = "m") -> DataSource:
    return DataSource("upload", f"Your data: {name}", FileEntry("labels.csv", data=b"l" * size),
                      (FileEntry(f"{name}.csv", data=b"p" * size),))


def test_keys_are_random_and_fit_the_url_form():
    keys = {new_key() for _ in range(200)}
    assert len(keys) == 200
    assert all(OWN_KEY.fullmatch(k) for k in keys)


def test_a_key_gets_only_its_own_source():
    kept = KeptData(max_bytes=1000)
    mine, theirs = _source(10, "mine"), _source(10, "theirs")
    kept.put("a" * 22, mine)
    kept.put("b" * 22, theirs)
    assert kept.get("a" * 22) is mine and kept.get("b" * 22) is theirs
    assert kept.get("c" * 22) is None


def test_the_least_recently_used_goes_first_to_stay_within_the_bound():
    kept = KeptData(max_bytes=100)  # each source below holds 40 bytes
    kept.put("one", _source(20))
    kept.put("two", _source(20))
    assert kept.get("one") is not None  # now "two" is the least recently used
    kept.put("three", _source(20))
    assert kept.get("two") is None
    assert kept.get("one") is not None and kept.get("three") is not None


def test_a_source_over_the_bound_is_not_kept_and_replaces_nothing_silently():
    kept = KeptData(max_bytes=100)
    kept.put("k", _source(10))
    assert kept.put("k", _source(60)) is False
    assert kept.get("k") is None, "a reload must not bring back older data under the same key"


def test_files_read_by_path_count_as_nothing_and_are_hashed_again(tmp_path: Path):
    labels = tmp_path / "labels.csv"
    labels.write_text("label\na\n")
    source = DataSource("folder", "Files", FileEntry("labels.csv", path=str(labels)), ())
    assert held_bytes(source) == 0
    before = source.key
    labels.write_text("label\nb\nb\n")
    assert source.key == before, "the key is computed once"
    assert fresh(source).key != before and fresh(source) == source


def test_sessions_keeping_data_at_once_stay_within_the_bound():
    kept = KeptData(max_bytes=2_000)
    errors = []

    def session(i: int) -> None:
        try:
            for j in range(50):
                key = f"{i}-{j}"
                kept.put(key, _source(25, key))
                got = kept.get(key)
                assert got is None or got.title.endswith(key)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(size for _, size in kept._sources.values()) <= 2_000


@pytest.mark.parametrize("size", [0, 1])
def test_held_bytes_counts_labels_and_predictions(size):
    assert held_bytes(_source(size)) == 2 * size
