"""What changes a session: the view, the loaded data, and the URL that shares them.

The session holds two things a page reads: the :class:`~dashboard.view.View` (what the
user chose) under :data:`~dashboard.keys.VIEW` and the :class:`~dashboard.sources.DataSource`
(what is loaded) under :data:`~dashboard.keys.SOURCE`. Everything here that changes
either goes through :func:`set_view` or :func:`set_source`; the data changing re-validates
the view (:func:`~dashboard.view.valid_for`), so a page never sees a choice the data lacks.
The URL is read once, when the session starts (:func:`init_session`), and written after
every run (:func:`sync_url`).

The user's own data (uploads, files read by path, scored models) is kept on this machine
under a key in the URL (:mod:`dashboard.kept`): a reload brings it back, and after a demo
is picked it stays one click away ("Use your data" on Start). A shared link made on
someone's own data that is not here loads nothing and says so; its view waits until files
with its models' names are loaded (:data:`~dashboard.keys.LINK_WAITING`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import streamlit as st

from ensemble_core import EnsembleInputError, EnsembleResult
from ensemble_core.config import parse_config

from . import keys as K
from .caches import FOLDS, SEED, Loaded, kept_data, loaded_for, prediction_set
from .kept import KEPT_BYTES, fresh, new_key
from .sources import DataSource, Upload, available_demos, demo_source, folder_source, upload_entries, upload_source
from .text import literal
from .view import WEIGHT_MAX, View, from_query, snap_weight, to_query, valid_for


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
    ss = _ss()
    if source.kind != "demo":
        ss[K.OWN_SOURCE] = source
        ss[K.OWN_KEY] = ss.get(K.OWN_KEY) or new_key()
        ss[K.OWN_KEPT] = kept_data().put(ss[K.OWN_KEY], source)
    valid, notes = valid_for(replace(wanted, data=source.demo, own=ss.get(K.OWN_KEY)), pset)
    ss[K.SOURCE] = source
    ss[K.VIEW] = replace(valid, weights=tuple(zip(pset.names, valid.weights_for(pset.names))))
    ss[K.VIEW_KEY] = source.key
    ss[K.LOAD_ERROR] = None
    return notes


def link_models(link: View) -> list[str]:
    """The models a shared link's view weighs (a link names every model of its data)."""
    return [name for name, _ in link.weights]


def waiting_link_note(link: View) -> str:
    """What a session says when a shared link's data is not on this machine."""
    models = link_models(link)
    return ("it was made on data its author loaded themselves (uploaded or read from their machine), and that "
            "data is not on this machine (or the app has restarted since), so nothing is loaded. Load the same "
            "files on Data & models and the link's settings apply to them"
            + (f" (weights for {', '.join(models)}, matched by model name)" if models else ""))


def set_source(source: DataSource, wanted: View | None = None) -> list[str]:
    """Load a source (raises :class:`EnsembleInputError` on bad files) and make it current.

    With no ``wanted`` view, all its models are included and no example or cell is
    selected; weights of models already known keep their value, and so does the compared
    model if it is still loaded. When a shared link's view is waiting for its data and
    ``source`` is the user's own with every model the link weighs, the link's view is
    used instead. Returns what to tell the user (as markdown).
    """
    ss = _ss()
    waiting = ss.get(K.LINK_WAITING)
    if waiting is not None and source.kind != "demo" and set(link_models(waiting)) <= set(source.model_names):
        notes = _use_source(source, waiting)
        ss[K.LINK_WAITING] = None
        return ["The shared link's settings now apply to these files (strategy, left-out models and weights for "
                f"{literal(', '.join(link_models(waiting)))}, matched by model name)."
                + "".join(f" Not applied: {literal(note)}." for note in notes)]
    if wanted is None:
        # A waiting link's weights are for its own models, not for same-named ones of other data.
        base = View() if waiting is not None and ss.get(K.SOURCE) is None else view()
        wanted = replace(base, off=(), example=None, cell=None)
    _use_source(source, wanted)
    if source.kind != "demo" and not ss.get(K.OWN_KEPT):
        return [f"These files are too large to keep for a reload (this machine keeps {KEPT_BYTES // 2**20} MB of "
                "uploads): reloading the page will drop them."]
    return []


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
    ss[K.VIEW] = replace(wanted, data=None, own=None)
    ss[K.LOAD_ERROR] = None
    own = None if wanted.own is None else kept_data().get(wanted.own)
    if own is not None:  # a reload, or a link opened where its data is kept: the key is in the URL
        own = fresh(own)  # files read by path are hashed again
        ss[K.OWN_KEY], ss[K.OWN_SOURCE], ss[K.OWN_KEPT] = wanted.own, own, True
    demos = available_demos()
    if wanted.data is not None and wanted.data not in demos:
        notes.append(f"the link names the {wanted.data!r} demo, which is not built here")
    if wanted.data is None and own is not None:
        try:
            notes += _use_source(own, wanted)
        except EnsembleInputError as exc:
            ss[K.LOAD_ERROR] = f"Your data could not be read again: {exc}"
    elif not params.get("data") and (wanted.own is not None or not _default_demo_has(link_models(wanted), demos)):
        # Made on its author's own data (a link on a demo names the demo; an older link on own data has no
        # key but weighs models the default demo lacks): load nothing rather than another dataset, and keep
        # the link's view (and so the URL) until files with its models are loaded.
        ss[K.LINK_WAITING] = wanted
        ss[K.VIEW] = wanted
        notes.append(waiting_link_note(wanted))
    else:
        if wanted.own is not None and own is None:
            notes.append("its author had also loaded data of their own, which is not on this machine")
        name = wanted.data if wanted.data in demos else (demos[0] if demos else None)
        if name is not None:
            try:
                notes += _use_source(demo_source(name), wanted)
            except EnsembleInputError as exc:
                ss[K.LOAD_ERROR] = str(exc)
    ss[K.URL_NOTES] = notes
    ss[K.START_VIEW] = view()
    ss[K.SESSION_READY] = True


def _default_demo_has(models: list[str], demos: list[str]) -> bool:
    """Whether the demo a session starts on has every one of ``models`` (read from its file names)."""
    if not models:
        return True
    try:
        return bool(demos) and set(models) <= set(demo_source(demos[0]).model_names)
    except EnsembleInputError:
        return False


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
    weights = v.weights_for(loaded.pset.names)
    if not v.uses_weights:  # stacking: its meta-learner is fitted on first use
        with st.spinner(f"Fitting the {v.meta} meta-learner out-of-fold…", show_time=True):
            return loaded.evaluator.evaluate(v.strategy, weights, meta=v.meta)
    return loaded.evaluator.evaluate(v.strategy, weights, meta=v.meta)


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
        messages = set_source(source)
    except EnsembleInputError as exc:
        st.error(literal(exc), icon=":material/error:")
        return False
    pset = prediction_set(source)
    ss = _ss()
    ss[K.FLASH] = " ".join([f"Loaded {pset.n_samples:,} examples, {pset.n_classes} classes and {pset.n_models} "
                            "models.", *messages])
    _clear(clears)
    return True


def _clear(widgets: tuple[str, ...]) -> None:
    """Empty the file widgets named (see :func:`upload_key`) on the next run."""
    ss = _ss()
    rounds = ss.get(K.UPLOAD_ROUND)
    if not isinstance(rounds, dict):  # absent, or a session from a version that kept one count
        rounds = ss[K.UPLOAD_ROUND] = {}
    for name in widgets:
        rounds[name] = rounds.get(name, 0) + 1


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


def switch_demo(name: str) -> None:
    """Load a bundled demo (a button callback); errors are kept for the page to show. The
    user's own data, if it was loaded, stays one click away (:func:`use_own_data`), with its view."""
    ss = _ss()
    before = ss.get(K.SOURCE)
    mine = before is not None and before.kind != "demo"
    if mine:
        ss[K.OWN_VIEW] = view()
    try:
        set_source(demo_source(name))
    except EnsembleInputError as exc:
        ss[K.LOAD_ERROR] = str(exc)
        return
    if mine:
        ss[K.FLASH] = (f"Switched to the {literal(ss[K.SOURCE].title)} demo. Your data ({literal(before.title)}) "
                       "is kept: **Use your data** on Start brings it back with its settings.")


def use_own_data() -> None:
    """Make the user's own data current again, with the view it had (a button callback)."""
    ss = _ss()
    source = ss.get(K.OWN_SOURCE)
    if source is None:
        return
    wanted = ss.get(K.OWN_VIEW) or replace(view(), off=(), example=None, cell=None)
    try:
        set_source(source, wanted)
    except EnsembleInputError as exc:
        ss[K.LOAD_ERROR] = f"Your data could not be read again: {exc}"
        return
    ss[K.LOAD_ERROR] = None
    ss[K.FLASH] = f"Back to your data: {literal(source.title)}."


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


def apply_config(data: bytes | str, name: str) -> list[str]:
    """Set the view from an ensemble config (the JSON the Ensemble page exports, read by
    :func:`ensemble_core.config.parse_config`) for the loaded data: its strategy, weights,
    meta-learner, left-out models and temperature scaling. Returns notes on what the page
    does differently (weights brought onto the sliders' scale; the page's own folds, seed
    and cross-fitted temperatures).

    Raises
    ------
    EnsembleInputError
        One line naming ``name``: not JSON, a bad value, or models that do not fit the loaded data.
    """
    config = parse_config(data, source=name)
    loaded = current()
    if loaded is None:
        raise EnsembleInputError(f"{name}: load the data it was made for first; a config names models, not data")
    names = loaded.full.pset.names
    config.check_models(names, source=name)
    notes: list[str] = []
    changes: dict = {"strategy": config.strategy, "off": tuple(n for n in names if n not in config.models),
                     "calibrated": config.temperatures is not None, "example": None, "cell": None}
    if config.meta is not None:
        changes["meta"] = config.meta
    if config.weights is not None:
        top = max(config.weights.values())
        # Only the weights' ratios count (they are normalised), so a scale beyond the sliders' is brought onto it.
        scale = WEIGHT_MAX / top if top > WEIGHT_MAX else 1.0
        weights = {n: snap_weight(w * scale) for n, w in config.weights.items()}
        if any(abs(weights[n] - w * scale) > 1e-9 for n, w in config.weights.items()):
            notes.append("weights rounded to the sliders' steps" + (f" after scaling by {scale:.3g} (only their "
                         "ratios count)" if scale != 1.0 else ""))
        elif scale != 1.0:
            notes.append(f"weights scaled by {scale:.3g} to fit the sliders (only their ratios count)")
        changes["weights"] = weights
    if (config.folds or FOLDS) != FOLDS or (config.seed or SEED) != SEED:
        notes.append(f"the page fits stacking with {FOLDS} folds and seed {SEED}; the config's "
                     f"{config.folds or FOLDS} folds and seed {config.seed or SEED} apply in "
                     "`ensemble-explorer evaluate --config`")
    if config.temperatures is not None:
        notes.append("the page temperature-scales the members with its own cross-fitted temperatures, not the "
                     "config's")
    set_view(**changes)
    _clear(("up_config",))
    return notes
