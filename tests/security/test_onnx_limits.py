"""Hostile ONNX graphs (issue 10, finding 4): an endless loop, tens of GB asked for at run
time and at session creation, a session that takes forever to build, external data read
from the working directory. Each is built here with ``onnx.helper`` and given to every
entry point: ``load_model`` + ``score_model``, ``load_model_bytes`` (uploads), the
``score`` command and the app's Score tab (upload and path box). Each must end in one
line, a little after the configured limit, with this process's memory unchanged, no
worker process left behind and nothing written anywhere."""

from __future__ import annotations

import gc
import json
import os
import re
import resource
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from ensemble_core import EnsembleInputError  # noqa: E402
from ensemble_core.models import load_model, load_model_bytes, score_model  # noqa: E402
from ensemble_core.models.onnx_worker import MEMORY_ENV, SECONDS_ENV  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
#: The limits under test: small, so that the attacks end quickly.
SECONDS = 2.0
MEMORY_MB = 1024
#: Starting Python and onnxruntime in the worker, on a busy machine, on top of the limit.
SLACK_SECONDS = 10.0
CLASSES = ["fresh", "rotten"]
GB = 1 << 30

# --- crafted models: one string input "x" (texts), one float output (n, 2), classes in metadata


def _const(name: str, value) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value), name)


def _fill(value: float) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array([value], np.float32))


def _model(nodes: list, result: str, initializers: list = (), sparse: list = ()) -> bytes:
    """A text classifier whose probabilities are 0.5 + 0 × (``result`` reduced to a scalar):
    the attack's output feeds the answer, so onnxruntime cannot prune it away."""
    head = [
        helper.make_node("Shape", ["x"], ["n"]),
        helper.make_node("Concat", ["n", "two"], ["n_by_2"], axis=0),
        helper.make_node("ConstantOfShape", ["n_by_2"], ["half"], value=_fill(0.5)),
    ]
    tail = [
        helper.make_node("ReduceMin", [result], ["scalar"], keepdims=0),
        helper.make_node("Sub", ["scalar", "scalar"], ["zero"]),
        helper.make_node("Add", ["half", "zero"], ["probabilities"]),
    ]
    graph = helper.make_graph(
        head + nodes + tail, "attack",
        [helper.make_tensor_value_info("x", TensorProto.STRING, [None])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2])],
        initializer=[_const("two", np.array([2], np.int64)), *initializers], sparse_initializer=list(sparse),
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    proto.ir_version = 8
    helper.set_model_props(proto, {"classes": json.dumps(CLASSES)})
    return proto.SerializeToString()


def endless_loop() -> bytes:
    """A Loop whose condition stays true for 2**62 trips, carrying a value made from the input."""
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]), helper.make_node("Identity", ["v_in"], ["v_out"])],
        "forever",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_in", TensorProto.FLOAT, None)],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_out", TensorProto.FLOAT, None)],
    )
    return _model(
        [helper.make_node("Cast", ["n"], ["n_float"], to=TensorProto.FLOAT),
         helper.make_node("Loop", ["trips", "true", "n_float"], ["looped"], body=body)],
        "looped", [_const("trips", np.array(2**62, np.int64)), _const("true", np.array(True))],
    )


def huge_at_run_time(gigabytes: float = 40) -> bytes:
    """ConstantOfShape to ``gigabytes`` of floats, whatever the batch; the shape is
    computed from the batch (n × 0 + size), so it is not known before the model runs."""
    size = int(gigabytes * GB) // 4
    return _model(
        [helper.make_node("Mul", ["n", "nothing"], ["zeros"]),
         helper.make_node("Add", ["zeros", "size"], ["huge_shape"]),
         helper.make_node("ConstantOfShape", ["huge_shape"], ["huge"], value=_fill(1.0))],
        "huge", [_const("nothing", np.array([0], np.int64)), _const("size", np.array([size], np.int64))],
    )


def huge_at_session_creation(count: int = 20, gigabytes: float = 1.9) -> bytes:
    """Sparse initializers of one value each, which onnxruntime makes dense while building
    the session: ``count`` × 1.9 GB (each just under its 2 GB limit) from a file of 2 kB."""
    size = int(gigabytes * GB) // 4
    sparse, nodes, acc = [], [], "n_float"
    nodes.append(helper.make_node("Cast", ["n"], ["n_float"], to=TensorProto.FLOAT))
    for i in range(count):
        sparse.append(helper.make_sparse_tensor(_const(f"dense{i}", np.array([1.0], np.float32)),
                                                _const(f"dense{i}_at", np.array([i], np.int64)), [size]))
        nodes += [helper.make_node("ReduceMin", [f"dense{i}"], [f"min{i}"], keepdims=1),
                  helper.make_node("Add", [acc, f"min{i}"], [f"acc{i}"])]
        acc = f"acc{i}"
    return _model(nodes, acc, sparse=sparse)


def endless_session_creation(steps: int = 1000) -> bytes:
    """A chain of 4096 × 4096 matrix products of constants: onnxruntime's constant folding
    computes them while building the session (about 2 s each on one core)."""
    nodes = [helper.make_node("ConstantOfShape", ["square"], ["m0"], value=_fill(1e-3))]
    nodes += [helper.make_node("MatMul", [f"m{i}", "m0"], [f"m{i + 1}"]) for i in range(steps)]
    return _model(nodes, f"m{steps}", [_const("square", np.array([4096, 4096], np.int64))])


def external_data(location: str, length: int) -> bytes:
    """An initializer whose bytes are to be read from ``location``, relative to the model."""
    tensor = onnx.TensorProto(name="outside", data_type=TensorProto.UINT8, dims=[length],
                              data_location=TensorProto.EXTERNAL)
    for key, value in (("location", location), ("length", str(length))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return _model([helper.make_node("Cast", ["outside"], ["outside_float"], to=TensorProto.FLOAT)],
                  "outside_float", [tensor])


@dataclass(frozen=True)
class Attack:
    build: Callable[[], bytes]
    refusal: str  # a regular expression the one-line message matches
    runs_to_the_limit: bool  # stopped by the time limit (a worker lives until then)


ATTACKS = {
    "endless-loop": Attack(endless_loop, rf"ran longer than {SECONDS:g} s on one batch of [\d,]+ rows; refused", True),
    "endless-session-creation": Attack(endless_session_creation, rf"took longer than {SECONDS:g} s to load; refused",
                                       True),
    "40GB-at-run-time": Attack(huge_at_run_time, r"needed more than 1 GiB of memory on one batch of [\d,]+ rows; refused",
                               False),
    "38GB-at-session-creation": Attack(huge_at_session_creation, r"needed more than 1 GiB of memory to load; refused",
                                       False),
    "external-data": Attack(lambda: external_data("../work/secret.txt", 6),
                            r"refers to external data files; only self-contained \.onnx files are loaded", False),
}

# --- what every attack is checked for


def _worker_pids() -> set[int]:
    """This process's children that run the ONNX worker (read from /proc: no psutil)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and b"_onnx_child.py" in cmdline:
            pids.add(int(entry.name))
    return pids


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (an orphan is reaped by init, if init reaps)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@dataclass
class Outcome:
    seconds: float
    rss_growth: int  # bytes: this process's peak resident size, after - before
    traced_peak: int  # bytes: Python allocations' peak during the attack
    workers_seen: set[int]


def _attack(run: Callable[[], None]) -> Outcome:
    """Run ``run`` while sampling this process's ONNX workers; measure time and memory."""
    gc.collect()
    before_workers = _worker_pids()
    seen: set[int] = set()
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            seen.update(_worker_pids() - before_workers)
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    sampler.start()
    start = time.monotonic()
    try:
        run()
    finally:
        seconds = time.monotonic() - start
        done.set()
        sampler.join()
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
    gc.collect()
    assert _worker_pids() - before_workers == set(), "a worker process was left running"
    return Outcome(seconds, rss_growth, traced_peak, seen)


def _check(outcome: Outcome, attack: Attack, message: str) -> None:
    assert "\n" not in message
    assert outcome.seconds < SECONDS + SLACK_SECONDS
    # The attacks ask for 38-40 GB or run forever; this process keeps what it had.
    assert outcome.rss_growth < 256 << 20
    assert outcome.traced_peak < 64 << 20
    if attack.runs_to_the_limit:
        assert outcome.seconds >= SECONDS
        assert outcome.workers_seen, "the model ran in a worker process"
    assert not any(_running(pid) for pid in outcome.workers_seen)


@pytest.fixture
def limited(sandbox, monkeypatch):
    """The sandbox, with small ONNX limits, a labelled text file and a secret in the working folder;
    the app may read local paths anywhere in the sandbox."""
    monkeypatch.setenv(SECONDS_ENV, str(SECONDS))
    monkeypatch.setenv("ENSEMBLE_EXPLORER_ROOT", str(sandbox.root))
    monkeypatch.setenv(MEMORY_ENV, str(MEMORY_MB))
    reviews = pd.DataFrame({"id": [f"r{i}" for i in range(6)], "text": ["good", "bad", "fine"] * 2,
                            "label": CLASSES * 3})
    reviews.to_csv(sandbox.files / "reviews.csv", index=False)
    (sandbox.work / "secret.txt").write_text("secret")
    return sandbox


def _write(box, name: str, attack: Attack) -> Path:
    path = box.files / f"{name}.onnx"
    path.write_bytes(attack.build())
    return path


def _refusal(run: Callable[[], None]) -> tuple[Outcome, str]:
    messages = []

    def attempt() -> None:
        with pytest.raises(EnsembleInputError) as info:
            run()
        messages.append(str(info.value))

    return _attack(attempt), messages[0]


@pytest.mark.parametrize("name", ATTACKS)
def test_load_model_and_score_model_refuse_in_one_line(limited, name):
    attack = ATTACKS[name]
    path = _write(limited, name, attack)
    reviews = pd.read_csv(limited.files / "reviews.csv")
    limited.freeze()
    outcome, message = _refusal(lambda: score_model(load_model(path), reviews, classes=CLASSES))
    assert message.startswith(f"{path}: ")
    assert re.search(attack.refusal, message), message
    _check(outcome, attack, message)
    limited.assert_untouched()


def test_the_memory_cap_is_what_refuses(limited, monkeypatch):
    """1.5 GB at run time: more than the 1 GiB cap under test, well within what a machine
    gives; the same model runs once the cap is raised deliberately."""
    path = limited.files / "one_and_a_half_gb.onnx"
    path.write_bytes(huge_at_run_time(gigabytes=1.5))
    with pytest.raises(EnsembleInputError, match=r"needed more than 1 GiB of memory on one batch of 2 rows"):
        load_model(path).predict_proba(["good", "bad"])
    monkeypatch.setenv(MEMORY_ENV, "3072")
    monkeypatch.setenv(SECONDS_ENV, "60")  # writing and reading 1.5 GB, on a busy machine
    np.testing.assert_allclose(load_model(path).predict_proba(["good", "bad"]), 0.5)


@pytest.mark.parametrize("name", ATTACKS)
def test_uploads_refuse_in_one_line(limited, name):
    attack = ATTACKS[name]
    data = attack.build()
    reviews = pd.read_csv(limited.files / "reviews.csv")
    limited.freeze()
    outcome, message = _refusal(lambda: score_model(load_model_bytes(f"{name}.onnx", data), reviews, classes=CLASSES))
    assert message.startswith(f"{name}.onnx: ") and re.search(attack.refusal, message), message
    _check(outcome, attack, message)
    limited.assert_untouched()


@pytest.mark.parametrize("name", ATTACKS)
def test_the_score_command_exits_2_with_one_line(limited, name, capsys):
    from ensemble_core.cli import main

    attack = ATTACKS[name]
    path = _write(limited, name, attack)
    limited.freeze()
    statuses = []
    outcome = _attack(lambda: statuses.append(main(["score", "--model", str(path), "--data",
                                                    str(limited.files / "reviews.csv"), "--out", "out.csv"])))
    captured = capsys.readouterr()
    assert statuses == [2] and captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and re.search(attack.refusal, lines[0]), captured.err
    _check(outcome, attack, lines[0])
    # A model that loads is described in the prediction cache (its classes, its input)
    # before it runs; nothing else is written, and no prediction is cached.
    limited.assert_untouched(ignore_cache=True)
    assert not list(limited.cache.glob("**/*.npy")) and not (limited.work / "out.csv").exists()


def _score_tab():
    """The Data & models page, on the sentiment demo the session starts with."""
    from streamlit.testing.v1 import AppTest

    from dashboard.navigation import DATA

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page(DATA.path).run()
    assert not at.exception and not at.error
    return at


def _press_score(at) -> None:
    at.button(key="FormSubmitter:score_form-Score and add").click().run(timeout=60)


@pytest.mark.parametrize("how", ["upload", "path box"])
@pytest.mark.parametrize("name", ATTACKS)
def test_the_app_shows_one_error_box_and_finishes(limited, name, how, shown):
    """The Score tab on the sentiment demo (classes fresh/rotten): the page finishes, shows one
    error box, and the session keeps its models."""
    attack = ATTACKS[name]
    path = _write(limited, name, attack)
    at = _score_tab()
    models_before = at.session_state["source"].model_names
    if how == "upload":
        at.file_uploader(key="up_models#0").upload(path.name, path.read_bytes())
    else:
        at.text_input(key="path_model#0").input(str(path))
    limited.freeze()
    outcome = _attack(lambda: _press_score(at))
    assert not at.exception
    assert len(at.error) == 1, [e.value for e in at.error]
    message = shown(at.error[0].value)
    assert re.search(attack.refusal, message), message
    _check(outcome, attack, message)
    assert at.session_state["source"].model_names == models_before
    limited.assert_untouched(ignore_cache=True)


def test_a_killed_caller_leaves_no_endless_worker(limited):
    """The caller dies (SIGKILL) while its worker runs the endless loop: nothing can stop the
    loop from outside any more, so the worker notices it is orphaned and exits."""
    path = _write(limited, "endless-loop", ATTACKS["endless-loop"])
    code = (
        "import sys, threading, time\n"
        "from ensemble_core.models import load_model\n"
        "model = load_model(sys.argv[1])\n"
        "threading.Thread(target=model.predict_proba, args=(['a'],), daemon=True).start()\n"
        "print(model._predict._worker.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    limited.freeze()
    caller = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, cwd=ROOT,
                              env={**os.environ, SECONDS_ENV: "600"})
    try:
        pid = int(caller.stdout.readline())
        time.sleep(0.5)
        assert _running(pid), "the worker runs the loop"
    finally:
        caller.kill()
        caller.wait()
        caller.stdout.close()
    deadline = time.monotonic() + 10
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(pid)
    limited.assert_untouched()
