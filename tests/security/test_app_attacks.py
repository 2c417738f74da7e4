"""The app's two ways in for a model (issue 10): the Score tab's upload and its "model on
this machine" box. Every crafted file and path is refused with its one-line message in
the page, quickly, the app keeps running, and nothing is created or changed."""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

import crafted
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.navigation import DATA

APP = str(Path(__file__).resolve().parents[2] / "app.py")
SECONDS = 5
#: The path box's refusal of a path that leads outside ENSEMBLE_EXPLORER_ROOT.
OUTSIDE_ROOT = r": outside .*, the only folder this app reads files from"
#: The first run of a session imports scikit-learn and plotly and loads the demo.
TIMEOUT = 120


@pytest.fixture(autouse=True)
def _restore_main_module():
    """AppTest leaves the app script as ``sys.modules["__main__"]``; put the real one back
    (a later ``spawn`` process would re-run the script)."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@pytest.fixture
def app_sandbox(sandbox, monkeypatch):
    """The sandbox, as the root the app may read local paths under."""
    monkeypatch.setenv("ENSEMBLE_EXPLORER_ROOT", str(sandbox.root))
    return sandbox


def _targets(box, attack: crafted.SkopsAttack) -> crafted.Targets:
    return crafted.Targets(file=box.files / f"{attack.name}.skops", marker=box.work / "PWNED",
                           victim=box.home / ".bashrc", folder=box.files / "downloads")


def _upload_each(uploads: list[tuple[str, bytes]]) -> None:
    """Score each upload on its own, as the Score tab does, timing each."""
    import io
    import time

    import streamlit as st

    from dashboard.actions import init_session, score_models

    class Upload(io.BytesIO):
        def __init__(self, name, data):
            super().__init__(data)
            self.name = name

    init_session({})
    results, seconds = [], []
    for name, data in uploads:
        started = time.perf_counter()
        results.append(score_models([Upload(name, data)], ""))
        seconds.append(time.perf_counter() - started)
    st.session_state["results"], st.session_state["seconds"] = results, seconds


def test_every_crafted_upload_is_refused_in_the_page(app_sandbox, shown):
    box = app_sandbox
    uploads = []
    for attack in crafted.SKOPS_ATTACKS:
        targets = _targets(box, attack)
        uploads.append((targets.file.name, attack.build(targets)))
    box.freeze()
    at = AppTest.from_function(_upload_each, args=(uploads,), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert at.session_state["results"] == [False] * len(uploads)
    assert max(at.session_state["seconds"]) < SECONDS
    errors = [shown(e.value) for e in at.error]
    assert len(errors) == len(uploads)
    for attack, message in zip(crafted.SKOPS_ATTACKS, errors):
        assert "\n" not in message and re.search(attack.refusal, message), (attack.name, message)
    box.assert_untouched()


def test_every_crafted_path_is_refused_in_the_path_box(app_sandbox, fifo, shown):
    box = app_sandbox
    cases = []
    for attack in crafted.SKOPS_ATTACKS:
        targets = _targets(box, attack)
        targets.file.write_bytes(attack.build(targets))
        cases.append((attack.name, targets.file, (), attack.refusal))
    for attack in crafted.PATH_ATTACKS:
        # Each path attack in its own folder: several make a folder of the same name.
        own = box.files / attack.name
        own.mkdir()
        made = attack.make(dataclasses.replace(box, files=own), fifo)
        # A link that leads out of the root the app reads under is refused before any loader sees it.
        leaves_root = not made.resolve().is_relative_to(box.root.resolve())
        refusal = OUTSIDE_ROOT if leaves_root else attack.refusal
        cases.append((attack.name, made, attack.extra, refusal))
    box.freeze()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page(DATA.path).run()
    for name, path, extra, refusal in cases:
        at.text_input(key="path_model#0").input(str(path))
        trust = at.checkbox(key="trust_pickle")
        trust.check() if "--trust-pickle" in extra else trust.uncheck()
        at.button(key="FormSubmitter:score_form-Score and add").click().run(timeout=SECONDS * 4)
        assert not at.exception, name
        errors = [shown(e.value) for e in at.error]
        assert len(errors) == 1 and "\n" not in errors[0] and re.search(refusal, errors[0]), (name, errors)
    box.assert_untouched()
