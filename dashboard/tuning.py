"""The Ensemble page's tuning tools: suggested weights and the way back, the weight
landscape, the gain over the best model in words, and calibration before/after.

Heavy results are cached (:mod:`dashboard.caches`), keyed by the data's content hash,
the included models and the options: a suggestion (nested cross-validation), the 2- and
3-model landscape grid (the same for every slider position: only its markers move) and
the cross-fitted temperatures. What a slider drives stays cheap: the gain's bootstrap
draws multinomial counts (under a millisecond at 100,000 examples), and per-weight
sweeps are recomputed on every move only on data small enough for that to be quick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import pandas as pd
import streamlit as st

from ensemble_core import (
    EnsembleResult,
    GainStatistics,
    WeightSuggestion,
    WeightSweeps,
    describe_gain,
    gain_statistics,
    weight_sweeps,
)
from ensemble_core import landscape_figures as lf
from ensemble_core import plain, registry
from ensemble_core.labels_only import has_log_loss
from ensemble_core.registry import METHOD_SPECS, SUGGESTED_STRATEGY

from . import keys as K
from .actions import mirror, set_view, view
from .caches import FOLDS, SEED, Loaded, cached_calibration, cached_landscape, cached_suggestion
from .text import literal
from .ui import (
    BEST_MODELS_DIFFER,
    BEST_ON_ALL_ROWS,
    BEST_PER_FOLD,
    CHART_CONFIG,
    MISSING,
    metric_row,
    model_colours,
    number_or_dash,
    percent,
    user_errors,
)
from .view import WEIGHT_MAX, WEIGHT_STEP

METHOD_LABELS = {spec.name: spec.label for spec in METHOD_SPECS}
METHOD_HELP = " ".join(f"{spec.label}: {spec.help}" for spec in METHOD_SPECS)
SWEEP_RESOLUTION = 20
#: Sweeps follow every slider move up to this many (model, example) pairs. A sweep costs
#: about 1.3 µs per pair (measured: 1.3 s for 10 models × 100,000 examples), so this
#: keeps a move's sweep near 0.1 s; above it the sweep is computed when asked.
LIVE_SWEEP_PAIRS = 100_000
LANDSCAPE_METRICS = {"accuracy": "Accuracy", "log_loss": "Log loss"}


@dataclass(frozen=True, eq=False)
class AppliedSuggestion:
    """The last suggestion put on the sliders: for which data (the models as loaded) and
    models, how (``calibrate``: for temperature-scaled members), and the slider values."""

    data_key: str
    included: tuple[str, ...]
    method: str
    calibrate: bool
    slider_weights: dict[str, float]


def slider_weights(names: tuple[str, ...], weights) -> dict[str, float]:
    """Suggested weights (summing to 1) as slider positions: the largest at the
    sliders' maximum, every one rounded to the sliders' step (only ratios matter)."""
    top = max(float(w) for w in weights)
    steps = WEIGHT_MAX / WEIGHT_STEP
    return {n: round(round(float(w) / top * steps) * WEIGHT_STEP, 10) for n, w in zip(names, weights)}


def grid_point_sliders(names: tuple[str, ...], weights, resolution: int) -> dict[str, float]:
    """A landscape grid point (weights in steps of ``1/resolution``, summing to 1) as slider
    positions: exactly its ratios, the largest as high as the sliders go, where the sliders'
    steps allow; else rounded as :func:`slider_weights` rounds a suggestion.

    >>> grid_point_sliders(("a", "b", "c"), [0.34, 0.34, 0.32], 50)
    {'a': 1.7, 'b': 1.7, 'c': 1.6}
    >>> grid_point_sliders(("a", "b", "c"), [0.5, 0.5, 0.0], 50)
    {'a': 3.0, 'b': 3.0, 'c': 0.0}
    >>> grid_point_sliders(("a", "b", "c"), [0.02, 0.02, 0.96], 50)  # 1:1:48 needs 48 steps; there are 30
    {'a': 0.1, 'b': 0.1, 'c': 3.0}
    """
    counts = [round(float(w) * resolution) for w in weights]
    common = math.gcd(*counts)
    steps = round(WEIGHT_MAX / WEIGHT_STEP)
    if common == 0 or max(counts) // common > steps:
        return slider_weights(names, weights)
    scale = steps // (max(counts) // common)
    return {n: round(c // common * scale * WEIGHT_STEP, 10) for n, c in zip(names, counts)}


def _on_landscape_click(names: tuple[str, ...], resolution: int) -> None:
    """A click on a ternary landscape's point (or mark): the sliders go there."""
    points = st.session_state[K.WIDGET_LANDSCAPE_CHART].selection.points
    picked = next((p["customdata"] for p in points if len(p.get("customdata") or ()) == len(names)), None)
    if picked is not None:
        set_view(weights=grid_point_sliders(names, picked, resolution))


def suggestion_for(loaded: Loaded, method: str, calibrate: bool) -> WeightSuggestion:
    """The (cached) suggestion for the included models as loaded; with ``calibrate`` the core
    fits the temperatures itself, inside the nested cross-validation."""
    raw = loaded.as_loaded
    return cached_suggestion(raw.key, raw.pset.names, method, calibrate, raw.pset)


def current_suggestion(loaded: Loaded) -> tuple[AppliedSuggestion, WeightSuggestion] | None:
    """The last applied suggestion and its evidence, if it was made for the data and models shown now."""
    applied = st.session_state.get(K.SUGGESTED)
    if applied is None or applied.data_key != loaded.as_loaded.key or applied.included != loaded.pset.names:
        return None
    return applied, suggestion_for(loaded, applied.method, applied.calibrate)


def report_suggestion(loaded: Loaded) -> WeightSuggestion | None:
    """The suggestion the report shows: the last one made for the data and models shown now, if any."""
    found = current_suggestion(loaded)
    return None if found is None else found[1]


def request_suggestion() -> None:
    """The "Suggest weights" button: the Ensemble view computes and applies it before drawing the sliders."""
    st.session_state[K.SUGGEST_REQUEST] = True


def apply_requested_suggestion(loaded: Loaded) -> None:
    """If "Suggest weights" was pressed: compute the suggestion (cached), remember the
    view to go back to, and put the suggested weights (soft voting) on the sliders, with
    temperature-scaled members on exactly when the suggestion was made for them.

    Runs before the sliders are drawn, so they show the new values; the URL follows
    because it is written from the same state at the end of the run.
    """
    ss = st.session_state
    if not ss.pop(K.SUGGEST_REQUEST, False):
        return
    method, calibrate = view().method, view().calibrate_suggestion
    suggestion = None
    with user_errors(), st.spinner(f"Choosing weights ({METHOD_LABELS[method].lower()}) and checking them by "
                                   f"{FOLDS}-fold nested cross-validation…", show_time=True):
        suggestion = suggestion_for(loaded, method, calibrate)
    if suggestion is None:
        return
    applied = AppliedSuggestion(loaded.as_loaded.key, loaded.pset.names, method, calibrate,
                                slider_weights(suggestion.names, suggestion.weights))
    previous = current_suggestion(loaded)
    # Suggesting again without touching the sliders keeps the way back to the user's own weights.
    now = view()
    on_a_suggestion = (previous is not None and now.strategy == SUGGESTED_STRATEGY and now.calibrated == previous[0].calibrate
                       and all(now.weight(n) == w for n, w in previous[0].slider_weights.items()))
    if not (on_a_suggestion and ss.get(K.BEFORE_SUGGESTION)):
        ss[K.BEFORE_SUGGESTION] = now
    ss[K.SUGGESTED] = applied
    set_view(strategy=SUGGESTED_STRATEGY, weights=applied.slider_weights, calibrated=calibrate)


def restore_weights() -> None:
    """The "Restore my weights" button: the strategy, weights and calibration from before the suggestion."""
    before = st.session_state.pop(K.BEFORE_SUGGESTION, None)
    if before:
        set_view(strategy=before.strategy, meta=before.meta, weights=dict(before.weights),
                 calibrated=before.calibrated)


def _copy_to_view(widget_key: str, field: str) -> None:
    set_view(**{field: st.session_state[widget_key]})


def suggest_controls(loaded: Loaded) -> None:
    """Method, calibration, "Suggest weights" and (after one) "Restore my weights"."""
    ss = st.session_state
    st.markdown("**Suggest weights**")
    mirror(K.WIDGET_SUGGEST_METHOD, view().method)
    st.selectbox("Method", list(METHOD_LABELS), format_func=METHOD_LABELS.get, key=K.WIDGET_SUGGEST_METHOD,
                 help=METHOD_HELP, on_change=_copy_to_view, args=(K.WIDGET_SUGGEST_METHOD, "method"))
    mirror(K.WIDGET_SUGGEST_CALIBRATE, view().calibrate_suggestion)
    st.checkbox("Calibrate models first", key=K.WIDGET_SUGGEST_CALIBRATE,
                on_change=_copy_to_view, args=(K.WIDGET_SUGGEST_CALIBRATE, "calibrate_suggestion"),
                help="Temperature scaling: fit one temperature per model before choosing weights (inside the "
                "cross-validation), and "
                "combine temperature-scaled members when the weights are applied. The evidence below then shows "
                "each model's reliability before and after.")
    too_few = loaded.pset.n_models < 2
    st.button("Suggest weights", key="suggest_weights", on_click=request_suggestion, type="primary",
              icon=":material/auto_fix_high:", width="stretch", disabled=too_few,
              help="Choose soft-voting weights on your labelled examples, check them by nested "
              f"{FOLDS}-fold cross-validation, and move the sliders there.")
    can_restore = ss.get(K.BEFORE_SUGGESTION) is not None and current_suggestion(loaded) is not None
    st.button("Restore my weights", key="restore_weights", on_click=restore_weights, disabled=not can_restore,
              icon=":material/undo:", width="stretch",
              help="Back to the strategy and weights you had before the suggestion.")


def _gain_statistics(loaded: Loaded, result: EnsembleResult) -> GainStatistics:
    ev = loaded.evaluator
    return gain_statistics(result.y_pred == loaded.pset.y_true, ev.correct_[ev.best_index_], seed=SEED)


def gain_sentence(loaded: Loaded, result: EnsembleResult) -> str:
    """The gain over the best single model with its bootstrap interval and McNemar's p, in words,
    after what it means in plain words (:func:`ensemble_core.plain.gain_reading`)."""
    stats = _gain_statistics(loaded, result)
    baseline = loaded.evaluator.best_name_
    return f"{plain.gain_reading(stats, baseline=baseline)} In numbers: {describe_gain(stats, baseline=baseline)}"


def plain_headline(loaded: Loaded, result: EnsembleResult) -> str:
    """The headline numbers in plain words (:mod:`ensemble_core.plain`): what combining fixes and
    breaks against the best single model, and what a perfect combiner could still get."""
    ev, pset = loaded.evaluator, loaded.pset
    return " ".join([
        plain.headline(n_models=pset.n_models, n_samples=pset.n_samples, accuracy=result.metrics.accuracy,
                       best_name=ev.best_name_, best_accuracy=ev.best_accuracy_, fixes=result.fixes,
                       breaks=result.breaks),
        plain.headroom_reading(n_samples=pset.n_samples, accuracy=result.metrics.accuracy,
                               oracle_accuracy=ev.oracle_accuracy_),
    ])


def _evidence_table(s: WeightSuggestion) -> pd.DataFrame:
    rows = [
        ("Suggested weights", s.heldout),
        ("Equal weights (soft vote)", s.uniform),
        (BEST_PER_FOLD[0].upper() + BEST_PER_FOLD[1:], s.best_single),
        ("Suggested weights on the rows they were fitted on (optimistic)", s.in_sample),
    ]
    return pd.DataFrame({"combination": [r[0] for r in rows], "accuracy": [r[1].accuracy for r in rows],
                         "log loss": number_or_dash(r[1].log_loss for r in rows)})


def _log_loss_change(s: WeightSuggestion, other, against: str) -> str | None:
    """The suggestion's held-out log loss minus ``other``'s, in words; None where either has none
    (labels-only models have no log loss: :mod:`ensemble_core.labels_only`)."""
    if s.heldout.log_loss is None or other.log_loss is None:
        return None
    return f"{s.heldout.log_loss - other.log_loss:+.4f}{against}"


def suggestion_panel(loaded: Loaded) -> None:
    """What the last suggestion expects on new data, its weights, and how it was chosen."""
    found = current_suggestion(loaded)
    if found is None:
        return
    applied, s = found
    st.subheader("Suggested weights: what to expect", divider="gray")
    calibrated = " on temperature-scaled models" if applied.calibrate else ""
    st.markdown(
        f"**{METHOD_LABELS[s.method]}**{calibrated}. Held-out numbers: {s.folds}-fold nested cross-validation, "
        "each fold scored with weights chosen without it, so the expected gain is not flattered by tuning."
    )
    picked = ", ".join(dict.fromkeys(s.best_single_names))
    with metric_row():
        st.metric("Held-out log loss", number_or_dash([s.heldout.log_loss])[0],
                  _log_loss_change(s, s.uniform, " vs equal weights"), delta_color="inverse", width="content")
        st.metric("Held-out accuracy", percent(s.heldout.accuracy),
                  f"{100 * (s.heldout.accuracy - s.uniform.accuracy):+.2f} pts vs equal weights", width="content")
        st.metric(f"Vs the {BEST_PER_FOLD}", _log_loss_change(s, s.best_single, " log loss") or MISSING,
                  f"{100 * (s.heldout.accuracy - s.best_single.accuracy):+.2f} pts accuracy", width="content",
                  help="Picked in each fold on the other folds, as the weights are."
                  + (" It gives labels only, so there is no log loss to compare." if s.best_single.log_loss is None
                     else ""))
    st.caption(f"The headline's {BEST_ON_ALL_ROWS} is {literal(loaded.evaluator.best_name_)}; here the "
               f"{BEST_PER_FOLD} was {literal(picked)}. {BEST_MODELS_DIFFER}")
    worse_than = [name for name, other in [("equal weights", s.uniform), (f"the {BEST_PER_FOLD}", s.best_single)]
                  if None not in (s.heldout.log_loss, other.log_loss) and s.heldout.log_loss > other.log_loss]
    if worse_than:
        st.warning(f"On held-out examples the suggestion has a higher log loss than {' and than '.join(worse_than)}: "
                   "on this data it does not generalise, and the simpler choice is the safer one.",
                   icon=":material/warning:")
    left, right = st.columns([1.4, 1])
    left.dataframe(_evidence_table(s), hide_index=True, width="stretch",
                   column_config={"accuracy": st.column_config.NumberColumn(format="percent"),
                                  "log loss": st.column_config.TextColumn(
                                      help="A dash where there is none: labels-only models have no log loss.")})
    weights = pd.DataFrame({"model": s.names, "suggested share": s.weights,
                            "slider": [applied.slider_weights[n] for n in s.names]})
    if s.temperatures is not None:
        weights["temperature"] = s.temperatures
    right.dataframe(weights, hide_index=True, width="stretch",
                    column_config={"suggested share": st.column_config.NumberColumn(format="%.3f"),
                                   "temperature": st.column_config.NumberColumn(format="%.2f")})
    st.caption(
        f"The sliders hold the shares scaled so the largest is {WEIGHT_MAX:g}, rounded to steps of {WEIGHT_STEP:g}; "
        "the live numbers above are for those slider weights on all examples (in-sample)."
        + _calibration_note(applied.calibrate, loaded.calibrated)
    )
    if s.path:
        st.plotly_chart(lf.selection_path_figure(s.path, s.names, n_kept=s.n_kept), key="selection_path",
                        width="stretch", config=CHART_CONFIG)
        st.caption(f"Selection on all examples, one model added per round; the weights are the shares of the "
                   f"first {s.n_kept} picks (the best prefix).")
    if applied.calibrate:
        with st.expander("Calibration: each model's reliability before and after temperature scaling",
                         icon=":material/show_chart:", expanded=True):
            reliability_panel(loaded, widget_key="w_reliability_suggest")


def _calibration_note(for_calibrated: bool, calibrated_now: bool) -> str:
    if for_calibrated and calibrated_now:
        return (" The weights were chosen for temperature-scaled models, and the sliders now combine those "
                "(each example scaled with temperatures fitted without it).")
    if for_calibrated:
        return (" The weights were chosen for temperature-scaled models, but temperature-scaled members are off "
                "now: the sliders combine the models as loaded.")
    if calibrated_now:
        return (" The weights were chosen for the models as loaded, but temperature-scaled members are on now: "
                "the sliders combine calibrated models.")
    return ""


def _sweeps(loaded: Loaded, strategy: str, weights: list[float]) -> WeightSweeps | None:
    """Per-weight sweeps around the current point: live on small data, on request on large data."""
    pset = loaded.pset
    if pset.n_models * pset.n_samples <= LIVE_SWEEP_PAIRS:
        return weight_sweeps(pset.probas, pset.y_true, weights, strategy=strategy, resolution=SWEEP_RESOLUTION,
                             names=pset.names, with_log_loss=has_log_loss(pset))
    ss = st.session_state
    params = (loaded.key, pset.names, strategy, tuple(weights))
    stored = ss.get(K.SWEEPS)
    if stored is not None and stored[0] == params:
        return stored[1]
    st.caption(f"With {pset.n_samples:,} examples × {pset.n_models} models a sweep takes about a second, so it "
               "is computed when you ask rather than on every slider move.")
    if not st.button("Sweep each weight around the current point", key="sweep_now", icon=":material/query_stats:"):
        return None
    with st.spinner("Sweeping each weight…", show_time=True):
        sweeps = weight_sweeps(pset.probas, pset.y_true, weights, strategy=strategy, resolution=SWEEP_RESOLUTION,
                               names=pset.names, with_log_loss=has_log_loss(pset))
    ss[K.SWEEPS] = (params, sweeps)
    return sweeps


def landscape_panel(loaded: Loaded) -> None:
    """Accuracy (and log loss) over the weights around the sliders' point: a line for two
    models, a ternary heatmap for three, per-weight sweeps for more."""
    strategy = view().strategy
    names = loaded.pset.names
    st.subheader("The landscape around your weights", divider="gray")
    if not view().uses_weights:
        st.caption("Stacking learns its own combination: there is no weight landscape.")
        return
    if len(names) < 2:
        st.caption("Include at least two models to see how the ensemble changes with their weights.")
        return
    weights = view().weights_for(names)
    found = current_suggestion(loaded)
    # The suggestion is for soft voting of the members it was made for; marked elsewhere it would mislead.
    suggested = (list(found[1].weights)
                 if found is not None and strategy == SUGGESTED_STRATEGY and found[0].calibrate == loaded.calibrated
                 else None)
    metric = "accuracy"
    clicks = {}
    # A log-loss landscape exists for soft voting, unless every model is labels-only (no log loss).
    if len(names) != 2 and registry.strategy(strategy).pools_probabilities and has_log_loss(loaded.pset):
        metric = st.radio("Colour by", list(LANDSCAPE_METRICS), format_func=LANDSCAPE_METRICS.get,
                          key=K.WIDGET_LANDSCAPE_METRIC, horizontal=True)
    if len(names) <= 3:
        with st.spinner("Computing the landscape over every weighting…"):
            land = cached_landscape(loaded.key, names, strategy, loaded.pset)
        if len(names) == 2:
            fig = lf.line_figure(land, current=weights[0] / sum(weights),
                                 suggested=None if suggested is None else suggested[0])
            note = (f"Accuracy{' and log loss' if land.log_loss is not None else ''} as the weight moves from "
                    f"{literal(names[1])} (left) to {literal(names[0])} (right); the solid line is the sliders' point.")
        else:
            fig = lf.ternary_figure(land, metric=metric, current=weights, suggested=suggested)
            clicks = {"on_select": partial(_on_landscape_click, names, land.resolution), "selection_mode": "points"}
            note = (f"Every weighting of the three models in steps of 1/{land.resolution}; the circle is the "
                    "sliders' point, the diamond the best on the grid"
                    + (", the star the suggestion" if suggested is not None else "")
                    + ". Click a point (or the diamond) to move the sliders there, as near as their steps allow.")
    else:
        sweeps = _sweeps(loaded, strategy, weights)
        if sweeps is None:
            return
        fig = lf.sweep_figure(sweeps, metric=metric, colours=model_colours(loaded))
        note = ("Each curve moves one model's weight from 0 to 1 while the others keep their shares; all curves "
                "pass through the sliders' point (the dots).")
    st.plotly_chart(fig, key=K.WIDGET_LANDSCAPE_CHART, width="stretch", config=CHART_CONFIG, **clicks)
    st.caption(note + " Computed on all labelled examples (in-sample).")


def reliability_panel(loaded: Loaded, *, widget_key: str, included_only: bool = True) -> None:
    """Temperatures, ECE before/after (cross-fitted) and one model's reliability diagram,
    for the included models (or all), as loaded."""
    raw = loaded.as_loaded
    pset = raw.full.pset
    cal = cached_calibration(raw.key, pset)
    shown = set(loaded.pset.names if included_only else pset.names)
    soft = [m for m in range(pset.n_models) if not pset.hard[m] and pset.names[m] in shown]
    if not soft:
        st.caption("Every model gives labels only: there is no confidence to calibrate.")
        return
    st.dataframe(
        pd.DataFrame({"model": [pset.names[m] for m in soft], "temperature": cal.temperatures[soft],
                      "ECE before": cal.ece_before[soft], "ECE after": cal.ece_after[soft]}),
        hide_index=True, width="stretch",
        column_config={c: st.column_config.NumberColumn(format="%.3f")
                       for c in ("temperature", "ECE before", "ECE after")},
    )
    worst = max(soft, key=lambda m: cal.ece_before[m])
    model = st.selectbox("Reliability diagram of", soft, index=soft.index(worst), format_func=pset.names.__getitem__,
                         key=widget_key)
    st.plotly_chart(lf.reliability_figure(cal, pset.names, model), key=f"{widget_key}::figure", width="stretch",
                    config=CHART_CONFIG)
    st.caption(f"T > 1 softens an over-confident model, T < 1 sharpens a timid one; the predicted class never "
               f"changes. 'After' is cross-fitted ({FOLDS} folds): each example is calibrated with a temperature "
               "fitted without it.")
