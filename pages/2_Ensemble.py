"""Ensemble: strategy and weights in, live metrics, confusion matrices and the formula out."""

import json
from functools import partial

import streamlit as st

from dashboard import keys as K
from dashboard.state import (
    WEIGHT_MAX,
    WEIGHT_STEP,
    cached_calibration,
    current,
    evaluate,
    mirror,
    set_view,
    sync_url,
    weight_key,
)
from dashboard.text import literal
from dashboard.tuning import (
    apply_requested_suggestion,
    gain_sentence,
    landscape_panel,
    suggest_controls,
    suggestion_panel,
)
from dashboard.ui import (
    percent,
    refresh_sidebar_if_stale,
    require_data,
    setup_page,
    signed_points,
    text_column,
    user_errors,
)
from ensemble_core import figures
from ensemble_core.combine import STRATEGIES
from ensemble_core.explore import (
    STRATEGY_LABELS,
    cell_examples,
    ensemble_config,
    ensemble_predictions_frame,
    formula_latex,
)
from ensemble_core.io import label_key
from ensemble_core.stacking import META_LEARNERS

STRATEGY_HELP = {
    "hard": "Each model votes for its top class; the weights count the votes.",
    "soft": "The weighted average of the models' probabilities.",
    "geometric": "The weighted average of log-probabilities (a product of probabilities), renormalised: "
    "a model that is sure a class is impossible can veto it.",
    "stacking": "A meta-learner learns how to combine the models' probabilities; every number is out-of-fold.",
}
META_LABELS = {"logistic": "Logistic regression", "gbm": "Gradient boosting", "mlp": "Small neural network (MLP)"}

loaded = require_data(
    setup_page(
        "Ensemble",
        "Choose how the models are combined and how much each one counts; the metrics, confusion "
        "matrices and formula follow every move.",
        icon=":material/tune:",
    )
)
ss = st.session_state


def _copy(widget_key: str, canonical_key: str) -> None:
    ss[canonical_key] = ss[widget_key]


def _copy_weight(name: str) -> None:
    ss[K.WEIGHTS] = {**ss[K.WEIGHTS], name: float(ss[weight_key(name)])}


def _equal_weights(names: tuple[str, ...]) -> None:
    set_view(weights={n: 1.0 for n in names})


def _reset() -> None:
    start = ss[K.START_VIEW]
    set_view(strategy=start["strategy"], meta=start["meta"], calibrated=start["calibrated"],
             weights={n: start["weights"].get(n, 1.0) for n in ss[K.WEIGHTS]})


def _on_cell_click(chart: str) -> None:
    points = ss[f"cm::{chart}"].selection.points
    ss["cell"] = (chart, *map(int, points[0]["customdata"])) if points else None


@st.fragment
def ensemble_view() -> None:
    """Everything the weights drive: a slider move reruns only this."""
    apply_requested_suggestion(current())
    loaded = current()
    refresh_sidebar_if_stale(loaded)
    names = loaded.pset.names
    stacking = ss[K.STRATEGY] == "stacking"
    controls, results = st.columns([1.25, 2.4], gap="large")
    with controls:
        mirror(K.WIDGET_STRATEGY, ss[K.STRATEGY])
        st.radio("Strategy", STRATEGIES, format_func=STRATEGY_LABELS.get, key=K.WIDGET_STRATEGY,
                 on_change=_copy, args=(K.WIDGET_STRATEGY, K.STRATEGY), horizontal=True,
                 captions=None)
        st.caption(STRATEGY_HELP[ss[K.STRATEGY]])
        if stacking:
            mirror(K.WIDGET_META, ss[K.META])
            st.selectbox("Meta-learner", META_LEARNERS, format_func=META_LABELS.get, key=K.WIDGET_META,
                         on_change=_copy, args=(K.WIDGET_META, K.META))
        mirror(K.WIDGET_CALIBRATED, bool(ss[K.CALIBRATED]))
        st.toggle("Temperature-scaled members", key=K.WIDGET_CALIBRATED, on_change=_copy,
                  args=(K.WIDGET_CALIBRATED, K.CALIBRATED),
                  help="Combine each model's probabilities after temperature scaling (one temperature per model, "
                  "cross-fitted: each example scaled with a temperature fitted without it). The predicted classes "
                  "of the models do not change; their confidence does.")
        st.markdown("**Weights**")
        if stacking:
            st.caption("Stacking ignores these weights: its meta-learner learns how much each model counts.")
        for name in names:
            key = weight_key(name)
            mirror(key, round(float(ss[K.WEIGHTS][name]), 2))
            st.slider(literal(name), 0.0, WEIGHT_MAX, step=WEIGHT_STEP, key=key, format="%.1f",
                      on_change=_copy_weight, args=(name,), disabled=stacking)
        left, right = st.columns(2)
        left.button("Equal", on_click=_equal_weights, args=(names,), disabled=stacking,
                    icon=":material/balance:", width="stretch", help="Give every model weight 1.")
        right.button("Reset", on_click=_reset, icon=":material/restart_alt:", width="stretch",
                     help="Back to the strategy and weights this session started with (a shared link's, or equal).")
        suggest_controls(loaded)

    with results:
        result = None
        with user_errors():
            result = evaluate(loaded)
        if result is None:
            sync_url(loaded)
            return
        ev = loaded.evaluator
        m = result.metrics
        cols = st.columns(3)
        cols[0].metric("Ensemble accuracy", percent(m.accuracy), "out-of-fold" if stacking else None,
                       delta_color="off", delta_arrow="off")
        cols[1].metric("Gain over the best model", signed_points(result.gain),
                       f"best: {literal(ev.best_name_)}, {percent(ev.best_accuracy_)}", delta_color="off",
                       delta_arrow="off")
        cols[2].metric("Oracle headroom", signed_points(ev.oracle_accuracy_ - m.accuracy),
                       f"oracle: {percent(ev.oracle_accuracy_)}", delta_color="off", delta_arrow="off",
                       help=f"The oracle ({percent(ev.oracle_accuracy_)}) counts an example as right when any "
                       "included model is: what a perfect combiner could still gain.")
        st.markdown(f"**Is the gain real?** {literal(gain_sentence(loaded, result))}.",
                    help="95% bootstrap interval of the gain (2,000 resamples of the examples, paired) and McNemar's "
                    f"test of the ensemble against {literal(ev.best_name_)} on the same examples. Weights tuned "
                    "while looking at these examples make any gain look better than it will be on new ones; a "
                    "suggestion's held-out numbers do not.")
        cols = st.columns(3)
        cols[0].metric("Macro-F1", f"{m.macro_f1:.4f}")
        cols[1].metric("Log loss", "—" if m.log_loss is None else f"{m.log_loss:.4f}",
                       help="Hard voting gives vote shares, not probabilities: no log loss." if m.log_loss is None
                       else "Mean negative log-probability of the true class; lower is better.")
        cols[2].metric("Fixes / breaks", f"{result.fixes} / {result.breaks}",
                       help=f"Examples the ensemble gets right and {literal(ev.best_name_)} wrong / the reverse.")
        for note in result.notes:
            st.info(literal(note[0].upper() + note[1:] + "."), icon=":material/info:")
        st.markdown("**The formula, with the current weights**")
        st.latex(formula_latex(result.strategy, names, result.weights, meta=ss[K.META]))
        if result.strategy == "geometric":
            st.caption("Z(x) renormalises the weighted product so the probabilities sum to 1.")

    suggestion_panel(loaded)
    landscape_panel(loaded)

    st.subheader("Confusion matrices", divider="gray")
    compare_options = list(names)
    if ss.get(K.COMPARE) not in compare_options:
        ss[K.COMPARE] = ev.best_name_
    mirror(K.WIDGET_COMPARE, ss[K.COMPARE])
    compare = st.columns(3)[0].selectbox("Compare the ensemble with", compare_options, key=K.WIDGET_COMPARE,
                           on_change=_copy, args=(K.WIDGET_COMPARE, K.COMPARE))
    model_cm = ev.model_metrics_[compare].confusion_matrix
    classes = loaded.pset.classes
    charts = {
        "ensemble": figures.confusion_figure(m.confusion_matrix, classes, title="Ensemble"),
        "model": figures.confusion_figure(model_cm, classes, title=compare),
        "difference": figures.confusion_figure(m.confusion_matrix - model_cm, classes,
                                               title=f"Ensemble − {compare}", difference=True),
    }
    for column, (chart, fig) in zip(st.columns(3), charts.items()):
        column.plotly_chart(fig, key=f"cm::{chart}", on_select=partial(_on_cell_click, chart),
                            selection_mode="points", width="stretch", config={"displayModeBar": False})
    st.caption("Rows are true classes, columns predicted ones. In the difference, red cells are counts the "
               "ensemble has more of than the model, blue ones fewer. Click a cell to list its examples.")
    cell = ss.get("cell")
    if cell is not None:
        chart, true_i, pred_i = cell
        by = {"ensemble": "ensemble", "model": "model", "difference": "either"}[chart]
        table = cell_examples(ev, result, true_i, pred_i, model=compare, by=by, text_column=text_column(loaded))
        who = {"ensemble": "the ensemble", "model": compare, "difference": f"the ensemble or {compare}"}[chart]
        st.markdown(f"**{len(table):,} examples of true class {literal(label_key(classes[true_i]))} that "
                    f"{literal(who)} predicts as {literal(label_key(classes[pred_i]))}**")
        st.dataframe(table.head(1000), width="stretch", hide_index=True,
                     column_config={"ensemble_confidence": st.column_config.NumberColumn(format="%.3f"),
                                    f"{compare}_confidence": st.column_config.NumberColumn(format="%.3f")})

    st.subheader("Share and export", divider="gray")
    st.caption("The address bar holds this view (data, strategy, weights, models): copy it to share the view.")
    config = ensemble_config(result.strategy, names, ss[K.WEIGHTS], meta=ss[K.META], excluded=loaded.excluded)
    if loaded.calibrated:
        raw = loaded.as_loaded
        temperatures = cached_calibration(raw.key, raw.full.pset).temperatures
        config["temperatures"] = {n: float(t) for n, t in zip(raw.full.pset.names, temperatures) if n in names}
    left, right = st.columns(2)
    left.download_button("Ensemble config (JSON)", json.dumps(config, indent=2), file_name="ensemble-config.json",
                         mime="application/json", icon=":material/data_object:", on_click="ignore")
    right.download_button(
        "Ensemble predictions (CSV)",
        lambda: ensemble_predictions_frame(ev, result).to_csv(index=False, float_format="%.6g"),
        file_name=f"ensemble-{result.strategy}-predictions.csv", mime="text/csv",
        icon=":material/download:", on_click="ignore",
    )
    sync_url(loaded)


ensemble_view()
