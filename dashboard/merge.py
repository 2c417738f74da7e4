"""The Merge page's shared work: which models and rows, the checked inputs, the curves and
merges already computed in this session, and the merged model as a zip to download.

The demo's models (``demo_data/merge``) are the app's own files and are read where the app is
installed; a user's directories and labels file are read by path under
:func:`~dashboard.sources.local_root`. Scored points are also kept in the prediction cache on
disk (keyed by both models' content and α), so a curve computed before comes back at once.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ensemble_core import EnsembleInputError
from ensemble_core.demo import DEMO_ROOT

from . import keys as K
from .lm import _stamp
from .sources import path_under_root

#: The merge demo, built by ``demo_data/build_merge_demo.py``.
DEMO_FOLDER = DEMO_ROOT / "merge"
#: The rows the demo is measured on: the sentiment demo's validation split (its models never saw it).
DEMO_LABELS = DEMO_ROOT / "sentiment" / "val.csv"
#: Rows scored at most unless the user asks for more: 11 points of the curve in seconds on a CPU.
DEFAULT_ROWS = 400


@dataclass(frozen=True)
class MergeRun:
    """What the page works on: model directories and the base (real paths), the labelled rows
    and their text column, and how many of the rows are used."""

    models: tuple[str, ...]
    labels: str
    text_column: str | None
    rows: int
    base: str | None = None

    @property
    def names(self) -> list[str]:
        return [Path(m).name for m in self.models]

    @property
    def key(self) -> tuple:
        """Changes when a model, the base or the labels file is saved again."""
        paths = (*self.models, self.labels, *([self.base] if self.base else []))
        return (self, tuple(_stamp(Path(p)) for p in paths))


def demo_available() -> bool:
    return (DEMO_FOLDER / "models.json").is_file()


def demo_notes() -> dict:
    """``models`` (name → how it was made) and ``shared_start`` (the names fine-tuned from one start)."""
    return json.loads((DEMO_FOLDER / "models.json").read_text(encoding="utf-8"))


def demo_run(rows: int = DEFAULT_ROWS) -> MergeRun:
    """The demo: every model but the base, the base for task arithmetic, the validation reviews."""
    notes = demo_notes()
    models = tuple(str(DEMO_FOLDER / name) for name in notes["models"] if name != "base")
    return MergeRun(models, str(DEMO_LABELS), "text", int(rows), base=str(DEMO_FOLDER / "base"))


def user_run(model_paths: list[str], labels: str, text_column: str, rows: int, base: str = "") -> MergeRun:
    """The run for paths a user typed, each resolved under the local root (refused outside it).

    Raises
    ------
    EnsembleInputError
        Fewer than two models, no labels file, or a path outside the root.
    """
    paths = [p.strip() for p in model_paths if p.strip()]
    if len(paths) < 2:
        raise EnsembleInputError(f"give at least two model directories to merge; got {len(paths)}")
    if not labels.strip():
        raise EnsembleInputError("give a labelled file (CSV or Parquet with 'label' and a text column) to measure on")
    return MergeRun(tuple(str(path_under_root(p)) for p in paths), str(path_under_root(labels.strip())),
                    text_column.strip() or None, int(rows),
                    base=str(path_under_root(base.strip())) if base.strip() else None)


def shared_start(run: MergeRun, a: str, b: str) -> bool | None:
    """Whether the demo says ``a`` and ``b`` were fine-tuned from one start (None: not the demo)."""
    if Path(run.models[0]).parent != DEMO_FOLDER:
        return None
    shared = set(demo_notes()["shared_start"])
    return a in shared and b in shared


@st.cache_resource(max_entries=4, show_spinner=False)
def _labels(path: str, stamp: str):
    from ensemble_core.io import LabelsFile

    labels = LabelsFile(path)
    if labels.y_true is None:
        raise EnsembleInputError(f"{Path(path).name}: has no 'label' column; merged models are measured on labels")
    return labels


def rows_for(run: MergeRun):
    """The labelled rows used: the first ``run.rows`` of the file, as a
    :class:`~ensemble_core.merge.methods.LabelledSplit`."""
    from ensemble_core.merge.methods import LabelledSplit

    labels = _labels(run.labels, _stamp(Path(run.labels)))
    n = min(run.rows, len(labels.content))
    return LabelledSplit(labels.content.iloc[:n].reset_index(drop=True), labels.classes, labels.y_true[:n],
                         run.text_column)


def halves(run: MergeRun):
    """(tune, held-out): the first and second half of the rows used. A greedy soup is chosen on
    the first; every merge is measured on the second."""
    from ensemble_core.merge.methods import LabelledSplit

    rows = rows_for(run)
    cut = len(rows.y_true) // 2
    if cut < 1:
        raise EnsembleInputError("too few labelled rows to split into a tune and a held-out half; use at least 2")
    return tuple(LabelledSplit(rows.content.iloc[s].reset_index(drop=True), rows.classes, rows.y_true[s],
                               rows.text_column) for s in (slice(0, cut), slice(cut, None)))


def checked(run: MergeRun) -> str:
    """The compatibility check's answer in words.

    Raises
    ------
    EnsembleInputError
        One line naming the first mismatch.
    """
    from ensemble_core.merge.checks import describe_compatible, read_merge_inputs

    memo = st.session_state.setdefault(K.MERGE_CHECKED, {})
    if run.key not in memo:
        memo[run.key] = describe_compatible(read_merge_inputs(list(run.models), base=run.base),
                                            has_base=run.base is not None)
    return memo[run.key]


def curve_for(run: MergeRun, a: str, b: str):
    """The interpolation curve of models ``a`` and ``b`` (names) on the rows used, computed once per
    session, with a progress bar the first time."""
    from ensemble_core.merge.interpolate import interpolation_curve
    from ensemble_core.models.cache import PredictionCache

    memo = st.session_state.setdefault(K.MERGE_CURVES, {})
    key = (run.key, a, b)
    if key not in memo:
        rows = rows_for(run)
        folders = dict(zip(run.names, run.models))
        bar = st.progress(0.0, text="Scoring the curve…")

        def progress(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=f"Scoring the curve: {done:,} of {total:,} rows (all points)")

        curve = interpolation_curve(folders[a], folders[b], rows.content, classes=rows.classes, y_true=rows.y_true,
                                    text_column=rows.text_column, progress=progress, cache=PredictionCache())
        bar.empty()
        memo[key] = curve
    return memo[key]


@dataclass(frozen=True)
class MergeOutcome:
    """A merge done on the page: what the core returned, the comparison on held-out rows, the
    merged directory as zip bytes."""

    result: object
    comparison: object
    archive: bytes = b""


def merge_for(run: MergeRun, members: tuple[str, ...], method: str, weights: tuple[float, ...] | None) -> MergeOutcome:
    """Merge the run's models named ``members`` with ``method`` into a scratch folder, measure it
    on the held-out half against them, and zip it; kept per session for each (run, members,
    method, weights)."""
    from ensemble_core.merge.compare import compare_merged
    from ensemble_core.merge.methods import merge_models
    from ensemble_core.models.cache import PredictionCache
    from ensemble_core.registry import merge_method

    memo = st.session_state.setdefault(K.MERGE_OUTCOMES, {})
    key = (run.key, members, method, weights)
    if key not in memo:
        folders = dict(zip(run.names, run.models))
        models = [folders[m] for m in members]
        spec = merge_method(method)
        if spec.needs_base and run.base is None:
            raise EnsembleInputError(f"{spec.label} needs a base: the pre-trained model the others were tuned from")
        tune, heldout = halves(run)
        cache = PredictionCache()
        with tempfile.TemporaryDirectory(prefix="merge-page-") as scratch:
            out = Path(scratch) / merged_name(method)
            with st.spinner(f"Merging ({spec.label.lower()}) and measuring…", show_time=True):
                result = merge_models(method, models, out, weights=None if weights is None else list(weights),
                                      base=run.base if spec.needs_base else None, tune=tune, cache=cache)
                comparison = compare_merged(out, models, heldout, cache=cache)
            memo[key] = MergeOutcome(result, comparison, zip_folder(out))
    return memo[key]


def zip_folder(folder: Path) -> bytes:
    """Every file under ``folder`` in a zip, named relative to it (what ``score`` loads once unpacked)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(path, f"{folder.name}/{path.relative_to(folder)}")
    return buffer.getvalue()


def merged_name(method: str) -> str:
    """The explorer's name for a model merged with ``method`` (also its folder's name in the zip).

    >>> merged_name("uniform-soup")
    'merged-uniform-soup'
    """
    return f"merged-{method}"


def add_merged(run: MergeRun, outcome: MergeOutcome, method: str) -> bool:
    """Score the merged model on the loaded data's rows (as ``score`` would) and add it to the loaded
    models, the seam :func:`~dashboard.build.add_lab_members` and Distill use. The page's own rows are
    not the loaded ones in general, so its predictions there are not reused. Errors are shown in the page.
    """
    from ensemble_core.models import load_model, score_model

    from .actions import load_and_report
    from .sources import read_labels, scored_entry

    source = st.session_state.get(K.SOURCE)
    name, text = merged_name(method), run.text_column or "text"

    def extended():
        if source is None:
            raise EnsembleInputError("load data first: the merged model is scored on the loaded rows")
        source.check_new_model(name, "the merged model")
        labels = read_labels(source)
        if labels.content is None or text not in labels.content.columns:
            raise EnsembleInputError(f"the loaded data has no {text!r} column to score the merged model on; "
                                     "load the rows it should classify")
        with tempfile.TemporaryDirectory(prefix="merge-add-") as scratch:
            with zipfile.ZipFile(io.BytesIO(outcome.archive)) as archive:
                archive.extractall(scratch)
            with st.spinner(f"Scoring {name} on the {len(labels.content):,} loaded rows…", show_time=True):
                probas = score_model(load_model(Path(scratch) / name, name=name), labels.content,
                                     classes=labels.classes, text_column=text)
        return source.with_predictions([scored_entry(name, probas, labels)])

    return load_and_report(extended)
