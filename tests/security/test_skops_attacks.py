"""Crafted skops files (issue 10, findings 1, 2 and 4): each is refused in one line, in
milliseconds, by ``load_model``, ``load_model_bytes`` and ``ensemble-explorer score``, and
nothing anywhere is created or changed. (The app's two entry points: test_app_attacks.py.)"""

from __future__ import annotations

import re
import time

import crafted
import numpy as np
import pytest

from ensemble_core import EnsembleInputError
from ensemble_core.cli import main
from ensemble_core.models import load_model, load_model_bytes

#: A refusal takes milliseconds; this leaves room for a busy two-core machine.
SECONDS = 5


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
    sandbox.freeze()
    return request.param, targets


def assert_refused(attack: crafted.SkopsAttack, load) -> None:
    """``load()`` raises one line matching the attack's refusal, within :data:`SECONDS`."""
    started = time.perf_counter()
    with pytest.raises(EnsembleInputError) as refusal:
        load()
    assert time.perf_counter() - started < SECONDS
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


def test_the_score_command_exits_2_with_one_line(attack, sandbox, capsys):
    crafted_attack, targets = attack
    started = time.perf_counter()
    status = main(["score", "--model", str(targets.file), "--data", str(sandbox.files / "reviews.csv"),
                   "--out", str(sandbox.work / "predictions.csv")])
    assert time.perf_counter() - started < SECONDS
    out, err = capsys.readouterr()
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
