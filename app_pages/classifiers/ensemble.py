"""Ensemble: strategy and weights in, live metrics, confusion matrices and the formula out."""

import json
from functools import partial

import streamlit as st

from dashboard import keys as K
from dashboard.actions import current, evaluate, mirror, set_view, view, weight_key
from dashboard.caches import cached_calibration
from dashboard.present import presentation
from dashboard.report import report_html, report_slicings
from dashboard.stacking import stacking_panel
from dashboard.text import literal
from dashboard.tuning import (
    apply_requested_suggestion,
    gain_sentence,
    landscape_panel,
    plain_headline,
    report_suggestion,
    suggest_controls,
    suggestion_panel,
)
from dashboard.ui import (
    BEST_MODELS_DIFFER,
    BEST_ON_ALL_ROWS,
    CHART_CONFIG,
    formula,
    fragment,
    metric_row,
    percent,
    refresh_sidebar_if_stale,
    signed_points,
    text_column,
    user_errors,
)
from dashboard.view import WEIGHT_MAX, WEIGHT_STEP, Cell
from ensemble_core import figures
from ensemble_core.explore import (
    STRATEGY_LABELS,
    cell_examples,
    ensemble_config,
    ensemble_predictions_frame,
    formula_pieces,
)
from ensemble_core.io import label_key
from ensemble_core.registry import META_LEARNER_SPECS, STRATEGIES, strategy

META_LABELS = {spec.name: spec.label for spec in META_LEARNER_SPECS}
ss = st.session_state


def _copy(widget_key: str, field: str) -> None:
    set_view(**{field: ss[widget_key]})


def _copy_weight(name: str) -> None:
    set_view(weights={name: float(ss[weight_key(name)])})


def _equal_weights(names: tuple[str, ...]) -> None:
    set_view(weights={n: 1.0 for n in names})


def _reset() -> None:
    start = ss[K.START_VIEW]
    set_view(strategy=start.strategy, meta=start.meta, calibrated=start.calibrated,
             weights={n: start.weight(n) for n, _ in view().weights})


def _on_cell_click(chart: str) -> None:
    points = ss[K.WIDGET_CELL_PREFIX + chart].selection.points
    set_view(cell=Cell(chart, *map(int, points[0]["customdata"])) if points else None)


@fragment
def ensemble_view() -> None:
    """Everything the weights drive: a slider move reruns only this."""
    apply_requested_suggestion(current())
    loaded = current()
    refresh_sidebar_if_stale(loaded)
    names = loaded.pset.names
    chosen = view()
    if chosen.presenting:
        with user_errors():
            presentation(loaded, evaluate(loaded))
        return
    stacking = not chosen.uses_weights
    controls, results = st.columns([1.5, 2.4], gap="large")
    with controls:
        mirror(K.WIDGET_STRATEGY, chosen.strategy)
        st.radio("Strategy", STRATEGIES, format_func=STRATEGY_LABELS.get, key=K.WIDGET_STRATEGY,
                 on_change=_copy, args=(K.WIDGET_STRATEGY, "strategy"), horizontal=True,
                 captions=None)
        st.caption(strategy(chosen.strategy).help)
        if stacking:
            mirror(K.WIDGET_META, chosen.meta)
            st.selectbox("Meta-learner", list(META_LABELS), format_func=META_LABELS.get, key=K.WIDGET_META,
                         on_change=_copy, args=(K.WIDGET_META, "meta"))
        mirror(K.WIDGET_CALIBRATED, chosen.calibrated)
        st.toggle("Calibrated members", key=K.WIDGET_CALIBRATED, on_change=_copy,
                  args=(K.WIDGET_CALIBRATED, "calibrated"),
                  help="Combine each model's probabilities after temperature scaling (one temperature per model, "
                  "cross-fitted: each example scaled with a temperature fitted without it). The predicted classes "
                  "of the models do not change; their confidence does.")
        st.markdown("**Weights**")
        if stacking:
            st.caption("Stacking ignores these weights: its meta-learner learns how much each model counts.")
        for name in names:
            key = weight_key(name)
            mirror(key, round(chosen.weight(name), 2))
            st.slider(literal(name), 0.0, WEIGHT_MAX, step=WEIGHT_STEP, key=key, format="%.1f",
                      on_change=_copy_weight, args=(name,), disabled=stacking)
        with st.container(horizontal=True):
            st.button("Equal", on_click=_equal_weights, args=(names,), disabled=stacking,
                      icon=":material/balance:", help="Give every model weight 1.")
            st.button("Reset", on_click=_reset, icon=":material/restart_alt:",
                      help="Back to the strategy and weights this session started with (a shared link's, or equal).")
        suggest_controls(loaded)

    with results:
        result = None
        with user_errors():
            result = evaluate(loaded)
        if result is None:
            return
        ev = loaded.evaluator
        m = result.metrics
        with metric_row():
            st.metric("Ensemble accuracy", percent(m.accuracy), "out-of-fold" if stacking else None,
                      delta_color="off", delta_arrow="off", width="content")
            st.metric(f"Gain over the {BEST_ON_ALL_ROWS}", signed_points(result.gain),
                      f"best: {literal(ev.best_name_)}, {percent(ev.best_accuracy_)}", delta_color="off",
                      delta_arrow="off", width="content",
                      help=f"The included model most often right on all the examples. {BEST_MODELS_DIFFER}")
            st.metric("Oracle headroom", signed_points(ev.oracle_accuracy_ - m.accuracy),
                      f"oracle: {percent(ev.oracle_accuracy_)}", delta_color="off", delta_arrow="off",
                      help=f"The oracle ({percent(ev.oracle_accuracy_)}) counts an example as right when any "
                      "included model is: what a perfect combiner could still gain.", width="content")
        st.markdown(literal(plain_headline(loaded, result)))
        st.markdown(f"**Is the gain real?** {literal(gain_sentence(loaded, result))}.",
                    help="95% bootstrap interval of the gain (2,000 resamples of the examples, paired) and McNemar's "
                    f"test of the ensemble against {literal(ev.best_name_)} on the same examples. Weights tuned "
                    "while looking at these examples make any gain look better than it will be on new ones; a "
                    "suggestion's held-out numbers do not.")
        with metric_row():
            st.metric("Macro-F1", f"{m.macro_f1:.4f}", width="content")
            st.metric("Log loss", "—" if m.log_loss is None else f"{m.log_loss:.4f}", width="content",
                      help="Hard voting gives vote shares, and labels-only models alone give no probabilities: "
                      "no log loss." if m.log_loss is None
                      else "Mean negative log-probability of the true class; lower is better.")
            st.metric("Fixes / breaks", f"{result.fixes} / {result.breaks}", width="content",
                      help=f"Examples the ensemble gets right and {literal(ev.best_name_)} wrong / the reverse.")
        for note in result.notes:
            st.info(literal(note[0].upper() + note[1:] + "."), icon=":material/info:")
        for warning in result.warnings:
            st.warning(literal(warning[0].upper() + warning[1:] + "."), icon=":material/warning:")
        st.markdown("**The formula, with the current weights**")
        formula(formula_pieces(result.strategy, names, result.weights, meta=chosen.meta))
        note = strategy(result.strategy).formula_note
        if note:
            st.caption(note)

    if stacking:
        stacking_panel(loaded, chosen.meta)
    suggestion_panel(loaded)
    landscape_panel(loaded)

    st.subheader("Confusion matrices", divider="gray")
    compare_options = list(names)
    if chosen.compare not in compare_options:
        set_view(compare=ev.best_name_)
    mirror(K.WIDGET_COMPARE, view().compare)
    compare = st.columns(3)[0].selectbox("Compare the ensemble with", compare_options, key=K.WIDGET_COMPARE,
                           on_change=_copy, args=(K.WIDGET_COMPARE, "compare"))
    model_cm = ev.model_metrics_[compare].confusion_matrix
    classes = loaded.pset.classes
    charts = {
        "ensemble": figures.confusion_figure(m.confusion_matrix, classes, title="Ensemble"),
        "model": figures.confusion_figure(model_cm, classes, title=compare),
        "difference": figures.confusion_figure(m.confusion_matrix - model_cm, classes,
                                               title=f"Ensemble − {compare}", difference=True),
    }
    with st.container(horizontal=True, gap="medium"):  # each at its own width, wrapping: cells never squeezed
        for chart, fig in charts.items():
            st.plotly_chart(fig, key=K.WIDGET_CELL_PREFIX + chart, on_select=partial(_on_cell_click, chart),
                            selection_mode="points", width="content", config=CHART_CONFIG)
    st.caption("Rows are true classes, columns predicted ones. In the difference, blue is good news (more right "
               "answers on the diagonal, fewer mistakes off it) and red is bad news; the numbers are the change in "
               "counts. Click a cell to list its examples.")
    cell = chosen.cell
    if cell is not None:
        chart, true_i, pred_i = cell.chart, cell.true, cell.pred
        by = {"ensemble": "ensemble", "model": "model", "difference": "either"}[chart]
        table = cell_examples(ev, result, true_i, pred_i, model=compare, by=by, text_column=text_column(loaded))
        who = {"ensemble": "the ensemble", "model": compare, "difference": f"the ensemble or {compare}"}[chart]
        st.markdown(f"**{len(table):,} examples of true class {literal(label_key(classes[true_i]))} that "
                    f"{literal(who)} predicts as {literal(label_key(classes[pred_i]))}**")
        st.dataframe(table.head(1000), width="stretch", hide_index=True,
                     column_config={"ensemble_confidence": st.column_config.NumberColumn(format="%.3f"),
                                    f"{compare}_confidence": st.column_config.NumberColumn(format="%.3f")})

    st.subheader("Share and export", divider="gray")
    st.caption("The address bar holds this view (data, strategy, weights, models): copy it to share the view. "
               "With your own data it also holds the key to it on this machine: whoever opens the link here sees "
               "that data; elsewhere the link waits for the same files. A config loads back on Data & models "
               "(Ensemble config).")
    full_pset = loaded.full.pset
    config = ensemble_config(result.strategy, names, dict(chosen.weights), meta=chosen.meta,
                             excluded=loaded.excluded,
                             labels_only_smoothing=full_pset.smoothing if full_pset.hard.any() else None)
    if loaded.calibrated:
        raw = loaded.as_loaded
        temperatures = cached_calibration(raw.key, raw.full.pset).temperatures
        config["temperatures"] = {n: float(t) for n, t in zip(raw.full.pset.names, temperatures) if n in names}
    left, mid, right = st.columns(3)
    left.download_button("Ensemble config (JSON)", json.dumps(config, indent=2), file_name="ensemble-config.json",
                         mime="application/json", icon=":material/data_object:", on_click="ignore")
    right.download_button(
        "Ensemble predictions (CSV)",
        lambda: ensemble_predictions_frame(ev, result).to_csv(index=False, float_format="%.6g"),
        file_name=f"ensemble-{result.strategy}-predictions.csv", mime="text/csv",
        icon=":material/download:", on_click="ignore",
    )
    mid.download_button(  # built on click only: a slider move does not pay for it
        "Download report",
        lambda: report_html(loaded, result,
                            report_slicings(loaded, chosen.slice_by, chosen.bins, chosen.also_slice_by),
                            report_suggestion(loaded)),
        file_name="ensemble-report.html",
        mime="text/html", icon=":material/description:", on_click="ignore", key="download_report",
        help="One self-contained HTML file for this view (no network needed; prints cleanly to PDF): the headline, "
        "members, confusion matrices, the slices of the Slices page's columns, fixes and breaks, calibration, the "
        "weight landscape (two or three models) and the last weight suggestion's held-out evidence. Its numbers "
        "are `ensemble-explorer evaluate --json`'s for the same data, strategy and weights (with "
        "`--temperature-scale` when members are temperature-scaled, `--optimize` for the suggestion).",
    )


# Outside the fragment: turning it on or off reruns the whole page (the sidebar is outside too).
mirror(K.WIDGET_PRESENTING, view().presenting)
st.toggle("Presentation mode", key=K.WIDGET_PRESENTING, on_change=_copy, args=(K.WIDGET_PRESENTING, "presenting"),
          help="For a demo: hides the controls, the sidebar and the jargon, and shows the headline numbers large, "
          "with plain sentences. The link keeps it (present=1).")
ensemble_view()
