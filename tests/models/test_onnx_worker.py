"""The ONNX worker process: limits from the environment, one request at a time from many
threads, killed when its model is collected or its process exits, a dead or misbehaving
worker reported in one line. (The hostile models themselves: tests/security.)"""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from ensemble_core import EnsembleInputError
from ensemble_core.models import load_model
from ensemble_core.models import onnx as onnx_loader
from ensemble_core.models import onnx_worker
from ensemble_core.models.onnx_worker import MEMORY_ENV, SECONDS_ENV, OnnxLimits, OnnxWorker

ROOT = Path(__file__).resolve().parents[2]
DIGITS_ONNX = ROOT / "demo_data" / "digits" / "models" / "logreg.onnx"


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def worker_pids(monkeypatch) -> list[int]:
    """The pids of the workers ``load_onnx`` starts during the test, in order."""
    pids: list[int] = []

    class Recorded(OnnxWorker):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            pids.append(self.pid)

    monkeypatch.setattr(onnx_loader, "OnnxWorker", Recorded)
    return pids


def test_default_limits_and_environment_overrides():
    assert OnnxLimits.from_env({}) == OnnxLimits(seconds=60.0, memory_mb=4096)
    assert OnnxLimits.from_env({SECONDS_ENV: "2.5", MEMORY_ENV: " 512 "}) == OnnxLimits(2.5, 512)


@pytest.mark.parametrize("env, value, match", [
    (SECONDS_ENV, "soon", "ENSEMBLE_EXPLORER_ONNX_SECONDS must be a number of seconds > 0; got 'soon'"),
    (SECONDS_ENV, "0", "ENSEMBLE_EXPLORER_ONNX_SECONDS must be a number of seconds > 0; got '0'"),
    (MEMORY_ENV, "4G", "ENSEMBLE_EXPLORER_ONNX_MEMORY_MB must be a number of MiB > 0; got '4G'"),
    (MEMORY_ENV, "-1", "ENSEMBLE_EXPLORER_ONNX_MEMORY_MB must be a number of MiB > 0; got '-1'"),
], ids=["seconds-text", "seconds-zero", "memory-unit", "memory-negative"])
def test_bad_limits_in_the_environment_name_the_variable(env, value, match):
    with pytest.raises(EnsembleInputError, match=match):
        OnnxLimits.from_env({env: value})


def test_onnxruntime_never_runs_in_the_calling_process():
    code = textwrap.dedent(f"""
        import sys
        import numpy as np
        from ensemble_core.models import load_model
        model = load_model({str(DIGITS_ONNX)!r})
        assert model.predict_proba(np.zeros((3, 64))).shape == (3, 10)
        print(sorted(m for m in ("onnxruntime", "onnx") if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_many_threads_share_one_model(wine, wine_onnx):
    df, pipe = wine
    features = df.drop(columns="label")
    model = load_model(wine_onnx["zipmap"])
    batches = [features.iloc[i::8] for i in range(8)] * 4
    expected = [pipe.predict_proba(b) for b in batches]
    results: list = [None] * len(batches)

    def score(i: int) -> None:
        results[i] = model.predict_proba(batches[i].to_numpy())

    threads = [threading.Thread(target=score, args=(i,)) for i in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_the_worker_ends_with_its_model(worker_pids):
    model = load_model(DIGITS_ONNX)
    model.predict_proba(np.zeros((2, 64)))
    (pid,) = worker_pids
    assert _running(pid)
    del model
    gc.collect()
    assert not (Path("/proc") / str(pid)).exists()


def test_a_refused_model_leaves_no_worker(worker_pids, tmp_path):
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"definitely not protobuf")
    with pytest.raises(EnsembleInputError, match="not a valid ONNX model"):
        load_model(path)
    (pid,) = worker_pids
    assert not (Path("/proc") / str(pid)).exists()


def test_the_worker_ends_with_its_process():
    code = textwrap.dedent(f"""
        from ensemble_core.models import load_model
        model = load_model({str(DIGITS_ONNX)!r})
        print(model._predict._worker.pid, flush=True)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    pid = int(out.stdout)
    assert not _running(pid)


def test_a_dead_worker_is_one_line_then_a_request_to_load_again(worker_pids):
    model = load_model(DIGITS_ONNX)
    (pid,) = worker_pids
    subprocess.run(["kill", "-KILL", str(pid)], check=True)
    with pytest.raises(EnsembleInputError, match=r"logreg\.onnx: the ONNX worker process stopped \(killed by SIGKILL\) "
                                                 r"on one batch of 3 rows; refused$"):
        model.predict_proba(np.zeros((3, 64)))
    with pytest.raises(EnsembleInputError, match="and its worker process was stopped; load the model again$"):
        model.predict_proba(np.zeros((3, 64)))


def test_a_memory_cap_too_small_for_python_says_which_limit(monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "16")
    with pytest.raises(EnsembleInputError, match=r"while starting; refused \(memory limit 16 MiB, set by "
                                                 r"ENSEMBLE_EXPLORER_ONNX_MEMORY_MB\)$"):
        load_model(DIGITS_ONNX)


@pytest.fixture
def fake_child(tmp_path, monkeypatch):
    """``fake_child(reply_code)``: the next worker runs this Python instead of the real
    child: it says it is ready, then runs ``reply_code`` for every request (with ``out``,
    its protocol stream, and ``pack``)."""

    def make(reply_code: str) -> None:
        script = tmp_path / "fake_child.py"
        script.write_text(textwrap.dedent(f"""
            import os, sys, time
            sys.path.insert(0, {str(ROOT)!r})
            from ensemble_core.models._onnx_child import pack
            out = os.fdopen(1, "wb", buffering=0)
            for chunk in pack({{"ok": True}}):
                out.write(chunk)
            while sys.stdin.buffer.read(1):
        """) + textwrap.indent(textwrap.dedent(reply_code), "    "))
        monkeypatch.setattr(onnx_worker, "_CHILD", str(script))

    return make


def test_an_oversized_answer_is_refused_before_it_is_read(fake_child):
    # Announces 10 GB of output, sends its header, then waits: the parent must not wait or read.
    fake_child("""
        header = b'{"ok": true, "blobs": [10000000000]}'
        out.write(len(header).to_bytes(8, "big") + header)
        time.sleep(60)
    """)
    worker = OnnxWorker("fake.onnx", OnnxLimits(seconds=30))
    start = time.monotonic()
    with pytest.raises(EnsembleInputError, match=r"fake\.onnx: the ONNX worker process broke the protocol "
                                                 r"\(10,000,000,000 bytes of output where at most 800 fit\)"):
        worker.request({"op": "predict"}, [b"x"], task=onnx_worker.Task.batch(10), max_blob_bytes=800)
    assert time.monotonic() - start < 10
    assert not _running(worker.pid)


def test_a_garbled_answer_is_refused(fake_child):
    fake_child("""
        out.write(b"\\x00" * 7 + b"\\x05" + b"nope!")
    """)
    worker = OnnxWorker("fake.onnx", OnnxLimits(seconds=30))
    with pytest.raises(EnsembleInputError, match=r"broke the protocol \(an unreadable reply header\) on one batch"):
        worker.request({"op": "predict"}, [], task=onnx_worker.Task.batch(1), max_blob_bytes=100)
