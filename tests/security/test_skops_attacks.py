"""Crafted skops files (issue 10, findings 1, 2 and 4): each is refused in one line, in
milliseconds, by ``load_model``, ``load_model_bytes`` and ``ensemble-explorer score``, and
nothing anywhere is created or changed. (The app's two entry points: test_app_attacks.py.)"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
import tracemalloc

import crafted
import numpy as np
import pytest

from ensemble_core import EnsembleInputError
from ensemble_core.cli import main
from ensemble_core.models import load_model, load_model_bytes

#: A refusal takes milliseconds; this leaves room for a busy two-core machine.
SECONDS = 5
#: What a refusal may allocate (Python and NumPy allocations, traced): the crafted files
#: asked for 1.2 GB and more.
PEAK_BYTES = 64 << 20
#: A command run in a subprocess (an attack that would crash or hang it) gets this long,
#: and this much address space, the interpreter and scikit-learn included.
SUBPROCESS_SECONDS = 60
SUBPROCESS_MEMORY = 3 << 30


@pytest.fixture(params=crafted.SKOPS_ATTACKS, ids=lambda attack: attack.name)
def attack(request, sandbox) -> tuple[crafted.SkopsAttack, crafted.Targets]:
    """The crafted file written to the sandbox (aimed at its ``~/.bashrc``, its working
    folder...), with reviews to score, and the sandbox frozen."""
    targets = crafted.Targets(
        file=sandbox.files / f"{request.param.name}.skops", marker=sandbox.work / "PWNED",
        victim=sandbox.home / ".bashrc", folder=sandbox.files / "downloads",
    )
    targets.file.write_bytes(request.param.build(targets))
    reviews = "\n".join(f"{t},{label}" for t, label in zip(crafted.TEXTS, crafted.LABELS))
    (sandbox.files / "reviews.csv").write_text(f"text,label\n{reviews}\n")
    (sandbox.files / "features.csv").write_text(crafted.features_csv())
    sandbox.freeze()
    return request.param, targets


def assert_refused(attack: crafted.SkopsAttack, load) -> None:
    """``load()`` raises one line matching the attack's refusal, within :data:`SECONDS`."""
    started = time.perf_counter()
    tracemalloc.start()
    try:
        with pytest.raises(EnsembleInputError) as refusal:
            load()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < SECONDS
    assert peak < PEAK_BYTES, f"{peak / 2**20:,.0f} MB"
    message = str(refusal.value)
    assert "\n" not in message
    assert re.search(attack.refusal, message), message


def test_load_model_refuses(attack, sandbox):
    crafted_attack, targets = attack
    assert_refused(crafted_attack, lambda: load_model(targets.file))
    sandbox.assert_untouched()


def test_load_model_with_a_cache_refuses_and_caches_nothing(attack, sandbox):
    from ensemble_core.models import PredictionCache

    crafted_attack, targets = attack
    assert_refused(crafted_attack, lambda: load_model(targets.file, cache=PredictionCache()))
    sandbox.assert_untouched()


def test_an_upload_is_refused(attack, sandbox):
    crafted_attack, targets = attack
    data = targets.file.read_bytes()
    assert_refused(crafted_attack, lambda: load_model_bytes(targets.file.name, data))
    sandbox.assert_untouched()


def _score_arguments(attack: crafted.SkopsAttack, targets: crafted.Targets, sandbox) -> list[str]:
    data = ["--data", str(sandbox.files / "features.csv"), "--feature-columns", *crafted.FEATURES] \
        if attack.features else ["--data", str(sandbox.files / "reviews.csv")]
    return ["score", "--model", str(targets.file), *data, "--out", str(sandbox.work / "predictions.csv")]


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (SUBPROCESS_MEMORY, SUBPROCESS_MEMORY))


def _score_in_a_subprocess(arguments: list[str], sandbox) -> tuple[int, str, str]:
    """``ensemble-explorer`` run apart, bounded: a regression that crashes (segfault), hangs
    or exhausts memory fails the test instead of taking pytest down."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    try:
        done = subprocess.run([sys.executable, "-m", "ensemble_core.cli", *arguments], capture_output=True,
                              text=True, timeout=SUBPROCESS_SECONDS, cwd=sandbox.work, env=env,
                              preexec_fn=_limited)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after {SUBPROCESS_SECONDS} s")
    return done.returncode, done.stdout, done.stderr


def test_the_score_command_exits_2_with_one_line(attack, sandbox, capsys):
    crafted_attack, targets = attack
    started = time.perf_counter()
    arguments = _score_arguments(crafted_attack, targets, sandbox)
    if crafted_attack.runs_away:
        status, out, err = _score_in_a_subprocess(arguments, sandbox)
    else:
        status = main(arguments)
        out, err = capsys.readouterr()
    assert time.perf_counter() - started < (SUBPROCESS_SECONDS if crafted_attack.runs_away else SECONDS)
    assert status == 2 and out == ""
    assert err.startswith("ensemble-explorer: error: ") and err.count("\n") == 1
    assert re.search(crafted_attack.refusal, err), err
    sandbox.assert_untouched()


# --- The crafted files are live: without the allow-list they do what they were made for. ---

def _trusting_load(data: bytes):
    """What the loader did before: trust every type the file names (they were all classes
    defined in NumPy or scikit-learn) and load."""
    import skops.io as sio

    return sio.loads(data, trusted=sio.get_untrusted_types(data=data))


def test_the_npzfile_file_runs_code_when_its_types_are_trusted(sandbox):
    path, marker = sandbox.files / "rce.skops", sandbox.work / "PWNED"
    path.write_bytes(crafted.npzfile_rce(path, marker))
    sandbox.freeze()
    model = _trusting_load(path.read_bytes())
    with pytest.raises(TypeError):  # the pickle has run by the time the call fails
        model.predict_proba(crafted.TEXTS)
    assert sandbox.changes() == ["created work/PWNED"]
    npz = model.steps[0][1].kw_args
    npz.fid = None  # it holds the path as its "file" and could not close it when collected
    npz.close()


def test_the_memmap_file_empties_bashrc_when_its_types_are_trusted(sandbox):
    path = sandbox.files / "memmap.skops"
    path.write_bytes(crafted.memmap_truncate(sandbox.home / ".bashrc"))
    sandbox.freeze()
    _trusting_load(path.read_bytes())
    assert sandbox.changes() == ["changed home/.bashrc"]
    assert (sandbox.home / ".bashrc").read_bytes() == b"\0\0\0\0"


def test_a_partial_of_an_allowed_function_loads(tmp_path):
    """The wrapper is not the danger: what it wraps is checked like any other node."""
    import functools

    from ensemble_core.models.skops_loader import load_skops

    pipeline = load_skops("partial.skops", crafted.partial_of_allowed(tmp_path / "victim"))
    func = pipeline.steps[0][1].func
    assert isinstance(func, functools.partial) and func.func is np.log1p


def test_a_file_does_not_choose_how_many_jobs_scoring_starts(tmp_path):
    """Finding 6 of review 10: n_jobs from the file (a million: a thread per tree) is reset."""
    from sklearn.ensemble import RandomForestClassifier

    from ensemble_core.models.skops_loader import load_skops

    path = tmp_path / "forest.skops"
    path.write_bytes(crafted.forest_many_jobs())
    for forest in (load_skops(path), load_skops("upload.skops", data=path.read_bytes())):
        assert isinstance(forest, RandomForestClassifier) and forest.n_jobs is None
        assert all(tree.n_jobs is None for tree in forest.estimators_ if hasattr(tree, "n_jobs"))
    model = load_model(path)
    assert model.predict_proba(np.eye(4)).shape == (4, 2)
