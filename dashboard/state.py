"""Session state, cached loaders and the shareable URL.

The canonical choices (data source, included models, strategy, meta-learner,
weights, temperature-scaled members or not, compared model, selected example)
live in ``st.session_state`` under the keys in :mod:`dashboard.keys`. Every page
calls :func:`init_session` first; the first page of a session reads the URL (a
shared link) into that state, and every page writes the state back to the URL
with :func:`sync_url`.

Heavy objects are cached with ``st.cache_resource`` keyed by content-hash
strings: the prediction set by its source's file digests, the
:class:`~ensemble_core.EnsembleEvaluator` by that key and the included models,
the cross-fitted temperature scaling by the data's key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ensemble_core import (
    CalibrationResult,
    DiversityMatrices,
    EnsembleEvaluator,
    EnsembleResult,
    PredictionSet,
    cross_fit_temperatures,
    diversity_matrices,
)
from ensemble_core._validation import EnsembleInputError
from ensemble_core.combine import STRATEGIES
from ensemble_core.demo import DEMOS
from ensemble_core.stacking import META_LEARNERS

from . import keys as K
from .sources import DataSource, Upload, available_demos, demo_source, folder_source, load_source, upload_entries, upload_source
from .text import literal

DEFAULT_STRATEGY = "soft"
DEFAULT_META = "logistic"
DEFAULT_WEIGHT = 1.0
WEIGHT_MAX = 3.0
WEIGHT_STEP = 0.1
#: The k-fold split behind cross-fitted temperatures (and the dashboard's suggestions).
CALIBRATION_FOLDS = 5
CALIBRATION_SEED = 0


@st.cache_resource(max_entries=6, show_spinner="Reading and checking the files…")
def _cached_set(key: str, _source: DataSource) -> PredictionSet:
    """The source's prediction set; ``key`` is ``_source.key`` (a content hash)."""
    return load_source(_source)


@st.cache_resource(max_entries=16, show_spinner=False)
def _cached_evaluator(key: str, included: tuple[str, ...], _full: PredictionSet) -> EnsembleEvaluator:
    """The evaluator over the included models; weights-independent work happens here once."""
    pset = _full if included == _full.names else _full.select(list(included))
    return EnsembleEvaluator(pset)


@st.cache_resource(max_entries=16, show_spinner="Comparing every pair of models…")
def _cached_diversity(key: str, included: tuple[str, ...], _evaluator: EnsembleEvaluator) -> DiversityMatrices:
    return diversity_matrices(_evaluator.pset, _evaluator.labels_)


@st.cache_resource(max_entries=8, show_spinner="Temperature-scaling each model (cross-fitted)…")
def cached_calibration(key: str, _pset: PredictionSet) -> CalibrationResult:
    """Cross-fitted temperature scaling of every model of ``_pset`` (as loaded); ``key`` is its content key."""
    return cross_fit_temperatures(_pset.probas, _pset.y_true, hard=_pset.hard, folds=CALIBRATION_FOLDS,
                                  seed=CALIBRATION_SEED)


@st.cache_resource(max_entries=4, show_spinner=False)
def _cached_calibrated_set(key: str, _full: PredictionSet) -> PredictionSet:
    """The set with every model temperature-scaled, each example with a temperature fitted without it."""
    cal = cached_calibration(key, _full)
    return PredictionSet(cal.probas, _full.y_true, _full.classes, _full.names, hard=_full.hard, ids=_full.ids,
                         content=_full.content)


@dataclass(frozen=True, eq=False)
class Loaded:
    """What is loaded now: the source, an evaluator over all its models, and one
    over the models included in the ensemble.

    With temperature-scaled members on, both evaluators see the calibrated
    probabilities, ``key`` says so, and ``raw`` is the same view of the models as loaded.
    """

    source: DataSource
    key: str
    full: EnsembleEvaluator
    evaluator: EnsembleEvaluator
    raw: Loaded | None = None

    @property
    def calibrated(self) -> bool:
        return self.raw is not None

    @property
    def as_loaded(self) -> Loaded:
        """This view with the models' probabilities as loaded (itself when not calibrated)."""
        return self.raw or self

    @property
    def pset(self) -> PredictionSet:
        return self.evaluator.pset

    @property
    def excluded(self) -> list[str]:
        return [n for n in self.full.pset.names if n not in self.pset.names]

    def diversity(self) -> DiversityMatrices:
        return _cached_diversity(self.key, self.pset.names, self.evaluator)


def _ss():
    return st.session_state


def set_source(source: DataSource) -> PredictionSet:
    """Load a source (raises :class:`EnsembleInputError` on bad files) and make it current.

    All its models are included; weights of models already known keep their value.
    """
    pset = _cached_set(source.key, source)
    ss = _ss()
    ss[K.SOURCE] = source
    ss[K.INCLUDED] = list(pset.names)
    old = ss.get(K.WEIGHTS, {})
    ss[K.WEIGHTS] = {n: old.get(n, DEFAULT_WEIGHT) for n in pset.names}
    if ss.get(K.COMPARE) not in pset.names:
        ss[K.COMPARE] = None
    ss[K.EXAMPLE] = None
    ss[K.LOAD_ERROR] = None
    return pset


def load_and_report(make_source, *args, clears: tuple[str, ...] = ()) -> bool:
    """Build a source with ``make_source(*args)``, load it, and show any user error.

    Returns whether it worked (the page then reruns and shows the flash message);
    on failure the previously loaded data stays. On success the widgets named in
    ``clears`` (see :func:`upload_key`) empty; the other forms keep what they hold.
    """
    try:
        source = make_source(*args)
        pset = set_source(source)
    except EnsembleInputError as exc:
        st.error(literal(exc), icon=":material/error:")
        return False
    ss = _ss()
    ss[K.FLASH] = f"Loaded {pset.n_samples:,} examples, {pset.n_classes} classes and {pset.n_models} models."
    rounds = ss.get(K.UPLOAD_ROUND)
    if not isinstance(rounds, dict):  # absent, or a session from a version that kept one count
        rounds = ss[K.UPLOAD_ROUND] = {}
    for name in clears:
        rounds[name] = rounds.get(name, 0) + 1
    return True


def upload_key(name: str) -> str:
    """A key for a widget naming files to load (an uploader, a model path), new after
    each successful load from its form: it then empties, so pressing "Add" or "Score"
    again cannot add a model twice."""
    rounds = _ss().get(K.UPLOAD_ROUND)
    return f"{name}#{rounds.get(name, 0) if isinstance(rounds, dict) else 0}"


def load_uploads(labels: Upload | None, predictions: list[Upload]) -> bool:
    """Load an uploaded labels file and prediction files; errors shown in the page."""
    return load_and_report(upload_source, labels, predictions, clears=("up_labels", "up_predictions"))


def load_folder(labels_path: str, predictions_folder: str) -> bool:
    """Load a labels file and a folder of prediction files from this machine."""
    return load_and_report(folder_source, labels_path, predictions_folder)


def add_uploaded_predictions(predictions: list[Upload]) -> bool:
    """Add uploaded prediction files as more models of the loaded data."""
    source = _ss().get(K.SOURCE)

    def extended() -> DataSource:
        if source is None:
            raise EnsembleInputError("load a dataset first; prediction files are added to its labelled examples")
        if not predictions:
            raise EnsembleInputError("choose at least one prediction file to add")
        return source.with_predictions(upload_entries(predictions))

    return load_and_report(extended, clears=("up_extra",))


def current() -> Loaded | None:
    """The loaded data, or None when nothing is loaded."""
    ss = _ss()
    source = ss.get(K.SOURCE)
    if source is None:
        return None
    key = source.key
    full = _cached_set(key, source)
    included = tuple(n for n in full.names if n in set(ss.get(K.INCLUDED) or full.names)) or full.names
    loaded = Loaded(
        source=source,
        key=key,
        full=_cached_evaluator(key, full.names, full),
        evaluator=_cached_evaluator(key, included, full),
    )
    if not ss.get(K.CALIBRATED):
        return loaded
    calibrated = _cached_calibrated_set(key, full)
    cal_key = f"{key}|temperature-scaled"
    return Loaded(source=source, key=cal_key, full=_cached_evaluator(cal_key, full.names, calibrated),
                  evaluator=_cached_evaluator(cal_key, included, calibrated), raw=loaded)


def weights_for(loaded: Loaded) -> list[float]:
    """The raw weights of the included models, in the set's order."""
    weights = _ss()[K.WEIGHTS]
    return [float(weights.get(n, DEFAULT_WEIGHT)) for n in loaded.pset.names]


def evaluate(loaded: Loaded) -> EnsembleResult:
    """The ensemble with the current strategy, meta-learner and weights.

    Raises :class:`EnsembleInputError` (all weights zero, say); stacking's first
    evaluation per meta-learner fits it out-of-fold, under a spinner.
    """
    ss = _ss()
    strategy, meta = ss[K.STRATEGY], ss[K.META]
    if strategy == "stacking":
        with st.spinner(f"Fitting the {meta} meta-learner out-of-fold…", show_time=True):
            return loaded.evaluator.evaluate(strategy, weights_for(loaded), meta=meta)
    return loaded.evaluator.evaluate(strategy, weights_for(loaded), meta=meta)


def set_view(*, strategy: str | None = None, meta: str | None = None, weights: dict[str, float] | None = None,
             included: list[str] | None = None, calibrated: bool | None = None) -> None:
    """Change the canonical controls (used by buttons and the Learn page's steps)."""
    ss = _ss()
    if calibrated is not None:
        ss[K.CALIBRATED] = calibrated
    if strategy is not None:
        ss[K.STRATEGY] = strategy
    if meta is not None:
        ss[K.META] = meta
    if weights is not None:
        ss[K.WEIGHTS] = {**ss[K.WEIGHTS], **weights}
    if included is not None:
        ss[K.INCLUDED] = list(included)


def mirror(widget_key: str, value) -> None:
    """Set a widget's state from the canonical value before the widget is drawn."""
    ss = _ss()
    if widget_key not in ss or ss[widget_key] != value:
        ss[widget_key] = value


def weight_key(name: str) -> str:
    return K.WIDGET_WEIGHT_PREFIX + name


# The URL -------------------------------------------------------------------------

def _example_param(loaded: Loaded | None, row: int | None) -> str | None:
    if loaded is None or row is None or row >= loaded.pset.n_samples:
        return None
    ids = loaded.pset.ids
    return str(ids[row]) if ids is not None else str(row + 1)


def view_params(loaded: Loaded | None = None) -> dict[str, str | list[str]]:
    """The current view as query parameters: ``data`` (a demo), ``strategy``,
    ``meta`` (stacking), ``w`` (``name:weight``, repeated), ``off`` (excluded
    models, repeated), ``vs`` (compared model), ``example`` (id or row number),
    ``cal=1`` (temperature-scaled members)."""
    ss = _ss()
    source = ss.get(K.SOURCE)
    params: dict[str, str | list[str]] = {}
    if source is not None and source.kind == "demo":
        params["data"] = source.demo
    params["strategy"] = ss[K.STRATEGY]
    if ss[K.STRATEGY] == "stacking":
        params["meta"] = ss[K.META]
    if ss.get(K.CALIBRATED):
        params["cal"] = "1"
    if loaded is not None:
        params["w"] = [f"{n}:{ss[K.WEIGHTS].get(n, DEFAULT_WEIGHT):g}" for n in loaded.pset.names]
        if loaded.excluded:
            params["off"] = loaded.excluded
        if ss.get(K.COMPARE) in loaded.full.pset.names:
            params["vs"] = ss[K.COMPARE]
        example = _example_param(loaded, ss.get(K.EXAMPLE))
        if example is not None:
            params["example"] = example
    return params


def sync_url(loaded: Loaded | None) -> None:
    """Write the current view into the URL (only when it changed)."""
    want = {k: v if isinstance(v, list) else [v] for k, v in view_params(loaded).items()}
    have = {k: st.query_params.get_all(k) for k in st.query_params}
    if want != have:
        st.query_params.from_dict(want)


def _apply_url(notes: list[str]) -> None:
    """Apply a shared link's view parameters to the freshly loaded data."""
    qp = st.query_params
    ss = _ss()
    strategy = qp.get("strategy")
    if strategy is not None:
        if strategy in STRATEGIES:
            ss[K.STRATEGY] = strategy
        else:
            notes.append(f"unknown strategy {strategy!r} in the link; using {DEFAULT_STRATEGY}")
    meta = qp.get("meta")
    if meta is not None:
        if meta in META_LEARNERS:
            ss[K.META] = meta
        else:
            notes.append(f"unknown meta-learner {meta!r} in the link; using {DEFAULT_META}")
    cal = qp.get("cal")
    if cal is not None:
        if cal in ("0", "1"):
            ss[K.CALIBRATED] = cal == "1"
        else:
            notes.append(f"cal={cal!r} in the link is not 0 or 1; the models are used as loaded")
    loaded = current()
    if loaded is None:
        return
    names = loaded.full.pset.names
    for item in qp.get_all("w"):
        name, _, value = item.rpartition(":")
        try:
            weight = float(value)
        except ValueError:
            notes.append(f"weight {item!r} in the link is not name:number; ignored")
            continue
        if name not in names:
            notes.append(f"the link gives a weight for {name!r}, which is not loaded; ignored")
        elif not 0 <= weight <= WEIGHT_MAX:
            notes.append(f"weight {weight:g} for {name!r} in the link is outside 0–{WEIGHT_MAX:g}; ignored")
        else:
            ss[K.WEIGHTS][name] = round(weight / WEIGHT_STEP) * WEIGHT_STEP
    off = [n for n in qp.get_all("off") if n in names]
    if len(off) < len(names):
        ss[K.INCLUDED] = [n for n in names if n not in off]
    vs = qp.get("vs")
    if vs is not None and vs in names:
        ss[K.COMPARE] = vs
    example = qp.get("example")
    if example is not None:
        pset = loaded.full.pset
        if pset.ids is not None:
            hits = (pset.ids == example).nonzero()[0]
            ss[K.EXAMPLE] = int(hits[0]) if len(hits) else None
        elif example.isdigit() and 1 <= int(example) <= pset.n_samples:
            ss[K.EXAMPLE] = int(example) - 1
        if ss[K.EXAMPLE] is None:
            notes.append(f"example {example!r} from the link is not in the loaded data")


def snapshot() -> dict:
    """The controls as they are now (for the Reset button)."""
    ss = _ss()
    return {"strategy": ss[K.STRATEGY], "meta": ss[K.META], "weights": dict(ss[K.WEIGHTS]),
            "calibrated": bool(ss.get(K.CALIBRATED))}


def init_session() -> None:
    """Set up a new session: defaults, the data a shared link names (else the first
    available demo), then the link's view. Later calls do nothing."""
    ss = _ss()
    if ss.get(K.SESSION_READY):
        return
    ss[K.STRATEGY] = DEFAULT_STRATEGY
    ss[K.META] = DEFAULT_META
    ss[K.CALIBRATED] = False
    ss[K.WEIGHTS] = {}
    ss[K.INCLUDED] = None
    ss[K.COMPARE] = None
    ss[K.EXAMPLE] = None
    ss[K.LOAD_ERROR] = None
    notes: list[str] = []
    demos = available_demos()
    wanted = st.query_params.get("data")
    if wanted is not None and wanted not in demos:
        known = wanted in DEMOS
        notes.append(
            f"the link names the {wanted!r} demo, which is not built here" if known
            else f"the link names data {wanted!r}, which is not a bundled demo"
        )
    name = wanted if wanted in demos else (demos[0] if demos else None)
    if name is not None:
        try:
            set_source(demo_source(name))
        except EnsembleInputError as exc:
            ss[K.LOAD_ERROR] = str(exc)
    _apply_url(notes)
    ss[K.URL_NOTES] = notes
    ss[K.START_VIEW] = snapshot()
    ss[K.SESSION_READY] = True


def switch_demo(name: str) -> None:
    """Load a bundled demo (a button callback); errors are kept for the page to show."""
    try:
        set_source(demo_source(name))
    except EnsembleInputError as exc:
        _ss()[K.LOAD_ERROR] = str(exc)


def score_models(
    uploads: list[Upload],
    local_path: str,
    *,
    trust_pickle: bool = False,
    text_column: str | None = None,
    feature_columns: list[str] | None = None,
) -> bool:
    """Load model files (uploads: skops/ONNX; a local path under :func:`~.sources.local_root`:
    also transformers directories, and pickle only when trusted), score them on the loaded
    examples with a progress bar, and add their predictions as models. Errors shown in the page."""
    from ensemble_core.io import check_unique_model_names
    from ensemble_core.models import PredictionCache, load_model, load_model_bytes, model_name_for, score_model

    from .sources import path_under_root, read_labels, scored_entry

    source = _ss().get(K.SOURCE)

    def scored() -> DataSource:
        if source is None:
            raise EnsembleInputError("load a labelled dataset first; models are scored on its examples")
        # (label, model name, loader); the names are known from the file names, so a clash is
        # refused before any model is loaded or scored.
        loaders = [(up.name, Path(up.name).stem, lambda up=up: load_model_bytes(up.name, up.getvalue()))
                   for up in uploads]
        if local_path.strip():
            path = local_path.strip()
            real = path_under_root(path)
            # Read at its real location; a file keeps the name it was given (a symlink's, not its target's).
            name = model_name_for(real if real.is_dir() else path)
            loaders.append((path, name, lambda: load_model(real, trust_pickle=trust_pickle, name=name)))
        if not loaders:
            raise EnsembleInputError("choose a model file to upload or give a local model path")
        for label, name, _ in loaders:
            source.check_new_model(name, label)
        check_unique_model_names([name for _, name, _ in loaders], [label for label, _, _ in loaders])
        labels = read_labels(source)
        cache = PredictionCache()
        entries = []
        for i, (label, _, load) in enumerate(loaders):
            bar = st.progress(0.0, text=f"Loading {literal(label)} ({i + 1} of {len(loaders)})…")
            model = load()

            def progress(done: int, total: int, bar=bar, name=model.name) -> None:
                bar.progress(done / max(total, 1), text=f"Scoring {literal(name)}: {done:,} of {total:,} examples")

            probas = score_model(model, labels.content, classes=labels.classes, text_column=text_column,
                                 feature_columns=feature_columns or None, progress=progress, cache=cache)
            entries.append(scored_entry(model.name, probas, labels))
        return source.with_predictions(entries)

    return load_and_report(scored, clears=("up_models", "path_model"))
