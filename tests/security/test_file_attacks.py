"""Model paths that are not regular files of a sane size (issue 10, finding 4): a FIFO, a
link to /dev/zero or into /proc, such entries inside a model directory, links out of it.
Each is refused in one line at once (never blocking, never reading a device) by
``load_model`` and ``ensemble-explorer score``; the zip bombs stay far below the memory
they would take. (The app's path box: test_app_attacks.py.)"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import crafted
import pytest

from ensemble_core import EnsembleInputError
from ensemble_core.cli import main
from ensemble_core.models import load_model
from ensemble_core.models.base import open_regular

SECONDS = 5
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=crafted.PATH_ATTACKS, ids=lambda attack: attack.name)
def path_attack(request, sandbox, fifo):
    """(model path, extra CLI arguments, refusal pattern), made in the frozen sandbox."""
    path = request.param.make(sandbox, fifo)
    (sandbox.files / "reviews.csv").write_text("text,label\na clever film,fresh\ndull,rotten\n")
    sandbox.freeze()
    return path, request.param.extra, request.param.refusal


def test_load_model_refuses_at_once(path_attack, sandbox):
    path, extra, refusal = path_attack
    started = time.perf_counter()
    with pytest.raises(EnsembleInputError) as refused:
        load_model(path, trust_pickle="--trust-pickle" in extra)
    assert time.perf_counter() - started < SECONDS
    assert "\n" not in str(refused.value) and re.search(refusal, str(refused.value)), refused.value
    sandbox.assert_untouched()


def test_the_score_command_refuses_at_once(path_attack, sandbox, capsys):
    path, extra, refusal = path_attack
    started = time.perf_counter()
    status = main(["score", "--model", str(path), "--data", str(sandbox.files / "reviews.csv"),
                   "--out", str(sandbox.work / "out.csv"), *extra])
    assert time.perf_counter() - started < SECONDS
    out, err = capsys.readouterr()
    assert status == 2 and out == "" and err.count("\n") == 1
    assert re.search(refusal, err), err
    sandbox.assert_untouched()


@pytest.mark.parametrize("path", ["/proc/self/status", "/sys/kernel/uevent_seqnum", "/dev/null"])
def test_pseudo_files_are_never_opened(path):
    if not os.path.exists(path):
        pytest.skip(f"{path} does not exist here")
    with pytest.raises(EnsembleInputError, match="is a device or kernel file"):
        open_regular(path, 1 << 20)


def test_a_file_over_the_limit_is_refused_before_it_is_read(sandbox, monkeypatch):
    big = sandbox.files / "big.onnx"
    with open(big, "wb") as fh:
        fh.truncate(3 << 20)  # sparse: three megabytes that take no disk
    monkeypatch.setenv("ENSEMBLE_EXPLORER_MAX_MODEL_MB", "2")
    with pytest.raises(EnsembleInputError, match=r"big\.onnx: refused: 3\.0 MB is over the 2\.0 MB limit for a "
                                                 r"model file .*ENSEMBLE_EXPLORER_MAX_MODEL_MB=MEGABYTES"):
        load_model(big)


def test_the_bombs_stay_far_below_the_memory_they_claim(sandbox):
    """A fresh process loads each bomb (1.5 GB schema.json, 4 GB .npy, a header declaring
    4 GB, a link to /dev/zero): every one is refused within seconds and the process's peak
    memory stays near what importing scikit-learn takes."""
    bombs = {"schema.skops": crafted.schema_bomb(), "npy.skops": crafted.npy_bomb(),
             "header.skops": crafted.npy_lying_header()}
    for name, data in bombs.items():
        (sandbox.files / name).write_bytes(data)
    (sandbox.files / "zero.skops").symlink_to("/dev/zero")
    script = textwrap.dedent(f"""
        import json, resource, time
        from ensemble_core import EnsembleInputError
        from ensemble_core.models import load_model
        import sklearn.ensemble, skops.io  # imported before the baseline is taken
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        seconds = {{}}
        for name in {sorted([*bombs, "zero.skops"])!r}:
            started = time.perf_counter()
            try:
                load_model({str(sandbox.files)!r} + "/" + name)
            except EnsembleInputError:
                seconds[name] = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"seconds": seconds, "baseline_mb": baseline / 1024, "peak_mb": peak / 1024}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert sorted(result["seconds"]) == sorted([*bombs, "zero.skops"])  # each refused
    assert max(result["seconds"].values()) < SECONDS
    assert result["peak_mb"] - result["baseline_mb"] < 100, result  # the bombs claim 1,500 to 4,000 MB
