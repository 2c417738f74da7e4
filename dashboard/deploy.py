"""What the Deploy pages share: each model's cost (the one rule, :func:`~ensemble_core.deploy.costs.model_cost`,
with the costs typed on the Cost frontier page), where a transfer set comes from, where the pages save what
they make, and the panel that watches a background run (:mod:`dashboard.jobs`) and stops it."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from ensemble_core import EnsembleInputError, PredictionSet
from ensemble_core.demo import DEMOS
from ensemble_core.deploy.costs import ModelCost, model_cost

from . import jobs
from . import keys as K
from .caches import Loaded, prediction_set
from .jobs import Job, Work
from .sources import demo_source, folder_source

#: How often a running job's panel redraws (seconds).
POLL_SECONDS = 0.5
#: The demo split used as the transfer set by default, and the others offered (the held-out split is ``test``).
TRANSFER_SPLITS = {
    "train": "train split: the members' in-sample predictions on the rows they were fitted on",
    "val": "validation split: predictions on rows no member saw (smaller)",
}


def member_costs(loaded: Loaded, names: tuple[str, ...]) -> list[ModelCost | None]:
    """Each model's cost by the one rule (typed on the Cost frontier page, else its sidecar), None where unknown."""
    files = dict(zip(loaded.source.model_names, loaded.source.predictions))
    entered = st.session_state.get(K.ENTERED_COSTS) or {}
    costs = []
    for name in names:
        entry = files.get(name)
        costs.append(model_cost(name, entry.path if entry is not None else None, entered))
    return costs


def demo_transfer_set(demo: str, split: str) -> PredictionSet:
    """A bundled demo's ``split`` with its members' predictions (read once, cached)."""
    return prediction_set(demo_source(demo, split))


def folder_transfer_set(labels_path: str, predictions_folder: str) -> PredictionSet:
    """A transfer set from files on this machine (under the local root), read once and cached."""
    if not labels_path.strip() or not predictions_folder.strip():
        raise EnsembleInputError("give the transfer set's labels file and its predictions folder")
    return prediction_set(folder_source(labels_path, predictions_folder))


def has_demo_split(loaded: Loaded, split: str) -> bool:
    demo = DEMOS.get(loaded.source.demo or "")
    return demo is not None and demo.available(split)


def output_folder(kind: str) -> Path:
    """A new folder for what one run saves (a student, compressed models), under the system's temporary folder."""
    return Path(tempfile.mkdtemp(prefix=f"ensemble-explorer-{kind}-"))


def watch(job: Job, *, noun: str, stop_key: str) -> None:
    """While ``job`` runs: its progress and a Stop button, redrawn every :data:`POLL_SECONDS`; the
    whole page reruns when it ends (to draw the result)."""

    @st.fragment(run_every=POLL_SECONDS)
    def live() -> None:
        if not job.running:
            st.rerun()
        if job.stop_requested:
            text = f"Stopping {noun} at the next step…"
        else:
            text = f"{job.label}: {job.done} of {job.total or '…'} {noun} ({job.seconds:.0f} s)"
        st.progress(job.fraction, text=text)
        st.button("Stop", key=stop_key, on_click=job.stop, disabled=job.stop_requested, icon=":material/stop:")

    live()


def ended(job: Job, *, noun: str) -> object | None:
    """What an ended ``job`` left: its result, or None after a message (stopped, or a user error)."""
    result = job.outcome()
    if job.stopped is not None:
        st.warning(f"Stopped after {job.stopped.done} of {job.stopped.total} {noun}; nothing was kept.",
                   icon=":material/stop_circle:")
    elif job.error is not None:
        from .text import literal

        st.error(literal(job.error), icon=":material/error:")
    return result


def run_button(key: str, params: tuple, *, label: str, icon: str, noun: str,
               make: Callable[[], tuple[str, Work]], disabled: bool = False) -> tuple[Job, Any]:
    """The button that starts a background run, the panel that watches it, and its result.

    ``make()`` (called when the button is pressed) gives the run's title and its work; the
    job is kept under ``key`` with ``params`` (what it was made for: a job made for other
    params is dropped once it has ended). Returns (the ended job, its result); otherwise
    (nothing run yet, still running, stopped, a user error) the page stops here.
    """
    ss = st.session_state
    job = ss.get(key)
    if job is not None and job.params != params and not job.running:
        job = None
    if st.button(label, type="primary", icon=icon, disabled=disabled or (job is not None and job.running)):
        title, work = make()
        job = ss[key] = jobs.start(title, work, params)
    if job is None:
        st.stop()
    if job.running:
        watch(job, noun=noun, stop_key=f"{key}_stop")
        st.stop()
    result = ended(job, noun=noun)
    if result is None:
        st.stop()
    return job, result
