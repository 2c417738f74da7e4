"""Disagreement: the examples the models argue about, filterable, one by one."""

import streamlit as st

from dashboard.actions import set_view, view
from dashboard.report import slice_mask
from dashboard.text import literal
from dashboard.ui import CHART_CONFIG, evaluated, image_columns, percent, text_column, user_errors
from dashboard.view import example_name, example_row
from ensemble_core import figures
from ensemble_core.explore import (
    EXAMPLE_FILTERS,
    STRATEGY_LABELS,
    example_probabilities,
    examples_table,
    overview_points,
)
from ensemble_core.io import label_key

#: Rows shown in the table; the filters narrow it down.
MAX_ROWS = 2000

loaded, result = evaluated()

ev, pset = loaded.evaluator, loaded.pset
st.caption(f"Ensemble: {STRATEGY_LABELS[result.strategy].lower()} of {pset.n_models} models "
           f"(set on the Ensemble page), accuracy {percent(result.metrics.accuracy)}. "
           f"Fixes and breaks compare it with the best single model, {literal(ev.best_name_)}.")



def _filters_changed() -> None:
    """A filter moved: the example shown may no longer be listed, so the first listed one is shown."""
    set_view(example=None)


classes = [label_key(c) for c in pset.classes]
left, mid, right = st.columns([2, 1.5, 1.5])
kind = left.selectbox("Show", list(EXAMPLE_FILTERS), format_func=EXAMPLE_FILTERS.get, index=1, key="dis_filter",
                      on_change=_filters_changed)
true_sel = mid.multiselect("True class", classes, key="dis_true", placeholder="any", on_change=_filters_changed)
pred_sel = right.multiselect("Ensemble's prediction", classes, key="dis_pred", placeholder="any",
                             on_change=_filters_changed)

with user_errors():
    table = examples_table(ev, result, kind=kind, true_classes=true_sel, predicted_classes=pred_sel)
    chosen = view()
    if chosen.slice_by is not None and chosen.slice is not None:
        column = "the true class" if chosen.slice_by == "label" else chosen.slice_by
        mask = slice_mask(loaded, chosen.slice_by, chosen.bins, chosen.slice)
        if mask is None:
            st.info(f"The slice {literal(chosen.slice)} chosen on the Slices page is not a slice of "
                    f"{literal(column)} here; showing every slice.", icon=":material/info:")
        else:
            table = table[mask[table.index.to_numpy()]]
            left, right = st.columns([4, 1])
            left.markdown(f"Only the slice **{literal(chosen.slice)}** of {literal(column)} (chosen on the "
                          "Slices page).")
            right.button("Show every slice", on_click=set_view, kwargs={"slice": None, "example": None},
                         icon=":material/close:")
    st.markdown(f"**{len(table):,} examples** match" + (f" (showing the first {MAX_ROWS:,})" if len(table) > MAX_ROWS else ""))
    shown = table.head(MAX_ROWS)
    model_cols = list(pset.names)
    columns = (["id"] if pset.ids is not None else []) + ["true", "ensemble", "ensemble_confidence", "n_correct",
                                                           "vote_entropy", *model_cols]
    event = st.dataframe(
        shown[columns],
        hide_index=True,
        width="stretch",
        height=320,
        on_select="rerun",
        selection_mode="single-row",
        # A new table (other filters) starts without a selection: a row picked in the old one means nothing here.
        key="dis_table::" + repr((kind, true_sel, pred_sel, chosen.slice_by, chosen.slice, chosen.bins)),
        column_config={
            "ensemble_confidence": st.column_config.ProgressColumn("ensemble confidence", min_value=0, max_value=1,
                                                                   format="%.2f"),
            "n_correct": st.column_config.NumberColumn("models right", help=f"Of {pset.n_models}"),
            "vote_entropy": st.column_config.NumberColumn("vote entropy", format="%.2f",
                                                          help="0 when all models agree; higher = more split."),
        },
    )
    picked = event.selection.rows
    if picked:
        set_view(example=example_name(pset, int(shown.index[picked[0]])))
    elif view().example is None and len(shown):
        set_view(example=example_name(pset, int(shown.index[0])))

row = example_row(loaded.full.pset, view().example)
if row is not None:
    st.subheader("The example", divider="gray")
    label = pset.ids[row] if pset.ids is not None else f"row {row + 1}"
    y_i = int(pset.y_true[row])
    verdict = "right" if result.y_pred[row] == y_i else "wrong"
    st.markdown(f"**{literal(label)}**: true class **{literal(classes[y_i])}**; the ensemble says "
                f"**{literal(classes[result.y_pred[row]])}** ({verdict}); {int(ev.correct_[:, row].sum())} of "
                f"{pset.n_models} models are right.")
    content_col, proba_col = st.columns([1, 2.2], gap="large")
    with content_col:
        text = text_column(loaded)
        image = image_columns(loaded)
        if text is not None:
            st.markdown("> " + literal(pset.content[text].iloc[row]).replace("\n", "\n> "))
        elif image is not None:
            cols, shape = image
            st.plotly_chart(figures.digit_figure(pset.content.loc[row, cols].to_numpy(), shape,
                                                 title=f"{label} (true {classes[y_i]})"),
                            config=CHART_CONFIG)
        elif pset.content is not None and len(pset.content.columns):
            st.dataframe(pset.content.iloc[[row]].T.rename(columns={row: "value"}), width="stretch")
        else:
            st.caption("The labels file has no content columns to show for this example.")
    with proba_col:
        stack, rows = example_probabilities(ev, result, row)
        st.plotly_chart(figures.example_probabilities_figure(stack, rows, pset.classes, true_index=y_i),
                        width="stretch", config=CHART_CONFIG)

with st.expander("Overview: every example at once", icon=":material/scatter_plot:"):
    st.plotly_chart(
        figures.disagreement_scatter(*overview_points(ev, result)),
        width="stretch", config=CHART_CONFIG,
    )
    st.caption("Bottom right: the ensemble is unsure although most models are right. "
               "Red points on the right are the ensemble's breaks; blue points on the left its rescues.")
