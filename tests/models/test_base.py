"""base: files are read only when regular and within their limit; a model directory's
every entry is checked; limits are raised deliberately through their variable."""

from __future__ import annotations

import os

import pytest

from ensemble_core import EnsembleInputError
from ensemble_core.models.base import (
    MODEL_FILE_LIMIT,
    MiB,
    SizeLimit,
    directory_files,
    hash_files,
    open_regular,
    read_regular,
)


def test_a_regular_file_is_read_whole(tmp_path):
    (tmp_path / "m.onnx").write_bytes(b"abc")
    assert read_regular(tmp_path / "m.onnx", 3) == b"abc"
    with open_regular(tmp_path / "m.onnx", MODEL_FILE_LIMIT) as fh:
        assert fh.read() == b"abc"


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: os.mkfifo(p), "a FIFO, not a regular file"),
        (lambda p: p.mkdir(), "a directory, not a regular file"),
        (lambda p: p.symlink_to("/dev/null"), "/dev/null is a device or kernel file"),
        (lambda p: None, "no such file"),
    ],
    ids=["fifo", "directory", "link-to-device", "missing"],
)
def test_anything_but_a_regular_file_is_refused_without_blocking(tmp_path, make, message):
    path = tmp_path / "m.skops"
    make(path)
    with pytest.raises(EnsembleInputError, match=rf"m\.skops: .*{message}"):
        read_regular(path, MODEL_FILE_LIMIT)


def test_a_limit_is_raised_only_by_its_variable(tmp_path, monkeypatch):
    limit = SizeLimit(4, "EE_TEST_LIMIT_MB", "a test file")
    (tmp_path / "f").write_bytes(b"12345")
    with pytest.raises(EnsembleInputError, match=r"f: refused: 0\.0 MB is over the 0\.0 MB limit for a test file; "
                                                 r"if you trust the file, raise the limit with EE_TEST_LIMIT_MB="):
        read_regular(tmp_path / "f", limit)
    for ignored in ("", "lots", "-3", "0"):
        monkeypatch.setenv("EE_TEST_LIMIT_MB", ignored)
        assert limit.bytes == 4
    monkeypatch.setenv("EE_TEST_LIMIT_MB", "1")
    assert limit.bytes == MiB and read_regular(tmp_path / "f", limit) == b"12345"


def test_directory_files_lists_regular_files_and_links_that_stay_inside(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "weights.bin").write_bytes(b"w")
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "alias.json").symlink_to("config.json")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref")
    assert directory_files(tmp_path) == [tmp_path / "alias.json", tmp_path / "config.json",
                                         tmp_path / "sub" / "weights.bin"]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d, out: os.mkfifo(d / "tokenizer.json"), r"tokenizer\.json: refused: a FIFO inside a model directory"),
        (lambda d, out: os.mkfifo(d / ".cache"), r"\.cache: refused: a FIFO inside a model directory"),
        (lambda d, out: (d / "vocab.txt").symlink_to(out), r"vocab\.txt: refused: a symbolic link to .*outside\.txt"),
        (lambda d, out: (d / "up").symlink_to(".."), r"up: refused: a symbolic link to .*, outside the model"),
    ],
    ids=["fifo", "hidden-fifo", "link-out", "link-to-parent"],
)
def test_a_model_directory_with_a_bad_entry_is_refused(tmp_path, make, message):
    folder = tmp_path / "model"
    folder.mkdir()
    (tmp_path / "outside.txt").write_text("secret")
    make(folder, tmp_path / "outside.txt")
    with pytest.raises(EnsembleInputError, match=message):
        directory_files(folder)


def test_hash_files_refuses_a_file_swapped_for_a_fifo(tmp_path):
    path = tmp_path / "weights.bin"
    os.mkfifo(path)
    with pytest.raises(EnsembleInputError, match="a FIFO, not a regular file"):
        hash_files([path], tmp_path)


def test_every_registry_loader_kind_is_a_model_kind():
    # One spelling: a model's kind is the name of the registry loader that read it (the embedding-head
    # loader once said "embedding-head" where the registry says "embedding_head").
    from typing import get_args

    from ensemble_core.models.base import ModelKind
    from ensemble_core.registry import LOADER_KINDS

    assert set(get_args(ModelKind)) == set(LOADER_KINDS)
