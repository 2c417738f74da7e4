"""What changes a session: the view, the loaded data, and the URL that shares them.

The session holds two things a page reads: the :class:`~dashboard.view.View` (what the
user chose) under :data:`~dashboard.keys.VIEW` and the :class:`~dashboard.sources.DataSource`
(what is loaded) under :data:`~dashboard.keys.SOURCE`. Everything here that changes
either goes through :func:`set_view` or :func:`set_source`; the data changing re-validates
the view (:func:`~dashboard.view.valid_for`), so a page never sees a choice the data lacks.
The URL is read once, when the session starts (:func:`init_session`), and written after
every run (:func:`sync_url`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import streamlit as st

from ensemble_core import EnsembleInputError, EnsembleResult
from ensemble_core._validation import problems_of

from . import keys as K
from .caches import Loaded, loaded_for, prediction_set
from .sources import DataSource, Upload, available_demos, demo_source, folder_source, upload_source
from .text import literal, literal_problems
from .view import View, from_query, to_query, valid_for


def _ss():
    return st.session_state


def view() -> View:
    """What the user has chosen now (the defaults before the session is set up)."""
    return _ss().get(K.VIEW, View())


def set_view(**changes) -> None:
    """Change the view (used by widget callbacks, buttons and the Learn page's steps);
    ``weights`` are merged into the current ones, the other fields replaced."""
    current_view = view()
    weights = changes.pop("weights", None)
    if weights is not None:
        current_view = current_view.with_weights(weights)
    _ss()[K.VIEW] = replace(current_view, **changes)


def _use_source(source: DataSource, wanted: View) -> list[str]:
    """Make ``source`` current with ``wanted`` validated for its data: every model gets a
    weight (its own, else the default), in the data's order. Returns the validation's notes."""
    pset = prediction_set(source)
    valid, notes = valid_for(replace(wanted, data=source.demo), pset)
    ss = _ss()
    ss[K.SOURCE] = source
    ss[K.VIEW] = replace(valid, weights=tuple(zip(pset.names, valid.weights_for(pset.names))))
    ss[K.VIEW_KEY] = source.key
    ss[K.LOAD_ERROR] = None
    return notes


def set_source(source: DataSource) -> None:
    """Load a source (raises :class:`EnsembleInputError` on bad files) and make it current.

    All its models are included and no example or cell is selected; weights of models
    already known keep their value, and so does the compared model if it is still loaded.
    """
    _use_source(source, replace(view(), off=(), example=None, cell=None))


def current() -> Loaded | None:
    """The loaded data for the current view, or None when nothing is loaded."""
    ss = _ss()
    source = ss.get(K.SOURCE)
    if source is None:
        return None
    if ss.get(K.VIEW_KEY) != source.key:  # the source was swapped without set_source
        _use_source(source, view())
    return loaded_for(source, view())


def init_session(params: Mapping[str, str | Sequence[str]]) -> None:
    """Set up a new session from its URL's query ``params``: the view a shared link
    names, the demo it names (else the first one built), and a note for each part of
    the link that could not be used. Later calls do nothing."""
    ss = _ss()
    if ss.get(K.SESSION_READY):
        return
    wanted, notes = from_query(params)
    ss[K.VIEW] = replace(wanted, data=None)
    ss[K.LOAD_ERROR] = None
    demos = available_demos()
    if wanted.data is not None and wanted.data not in demos:
        notes.append(f"the link names the {wanted.data!r} demo, which is not built here")
    name = wanted.data if wanted.data in demos else (demos[0] if demos else None)
    if name is not None:
        try:
            notes += _use_source(demo_source(name), wanted)
        except EnsembleInputError as exc:
            ss[K.LOAD_ERROR] = str(exc)
    ss[K.URL_NOTES] = notes
    ss[K.START_VIEW] = view()
    ss[K.SESSION_READY] = True


def sync_url() -> None:
    """Write the current view into the URL (only when it changed)."""
    want = {k: v if isinstance(v, list) else [v] for k, v in to_query(view()).items()}
    have = {k: st.query_params.get_all(k) for k in st.query_params}
    if want != have:
        st.query_params.from_dict(want)


def evaluate(loaded: Loaded) -> EnsembleResult:
    """The ensemble with the view's strategy, meta-learner and weights.

    Raises :class:`EnsembleInputError` (all weights zero, say); stacking's first
    evaluation per meta-learner fits it out-of-fold, under a spinner.
    """
    v = view()
    if not v.uses_weights:  # stacking: its meta-learner is fitted on first use
        # No weights: the page says once, by the sliders, that stacking ignores them.
        with st.spinner(f"Fitting the {v.meta} meta-learner out-of-fold…", show_time=True):
            return loaded.evaluator.evaluate(v.strategy, None, meta=v.meta)
    return loaded.evaluator.evaluate(v.strategy, v.weights_for(loaded.pset.names), meta=v.meta)


def mirror(widget_key: str, value) -> None:
    """Set a widget's state from the view before the widget is drawn (Streamlit drops a
    widget's state on pages where it is not drawn, so the view is the one that lasts)."""
    ss = _ss()
    if widget_key not in ss or ss[widget_key] != value:
        ss[widget_key] = value


def weight_key(name: str) -> str:
    return K.WIDGET_WEIGHT_PREFIX + name


# Loading data ------------------------------------------------------------------------

def load_and_report(make_source: Callable[..., DataSource], *args, clears: tuple[str, ...] = ()) -> bool:
    """Build a source with ``make_source(*args)``, load it, and show any user error.

    Returns whether it worked (the page then reruns and shows the flash message);
    on failure the previously loaded data stays. On success the widgets named in
    ``clears`` (see :func:`upload_key`) empty; the other forms keep what they hold.
    """
    try:
        source = make_source(*args)
        set_source(source)
    except EnsembleInputError as exc:  # several bad files: one line each
        st.error(literal_problems(problems_of(exc)), icon=":material/error:")
        return False
    pset = prediction_set(source)
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
        return source.with_uploads(predictions)

    return load_and_report(extended, clears=("up_extra",))


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
