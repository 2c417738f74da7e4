"""Slices: the ensemble against the best single model, slice by slice of one column (or the class),
and of other columns side by side."""

import pandas as pd
import streamlit as st

from dashboard import keys as K
from dashboard.actions import mirror, set_view, view
from dashboard.navigation import DISAGREEMENT
from dashboard.report import slice_columns, slice_rows_for, slicing_for
from dashboard.text import literal
from dashboard.ui import CHART_CONFIG, evaluated, page_link, percent, points_column, text_column, user_errors
from ensemble_core import figures
from ensemble_core.explore import STRATEGY_LABELS
from ensemble_core.report.slices import CLASS_SLICING, MAX_BINS

ss = st.session_state
#: The bins slider's top (the core accepts up to MAX_BINS; more than this is unreadable here).
BINS_SHOWN = min(12, MAX_BINS)
#: At most this many slicings are drawn side by side (the first and this many − 1 others).
SIDE_BY_SIDE = 3


def _column_label(column: str) -> str:
    return "the true class" if column == CLASS_SLICING else column


def _copy_column() -> None:
    set_view(slice_by=ss[K.WIDGET_SLICE_BY], slice=None)


def _copy_also() -> None:
    set_view(also_slice_by=tuple(ss[K.WIDGET_SLICE_ALSO]))


def _copy_bins() -> None:
    set_view(bins=int(ss[K.WIDGET_BINS]), slice=None)


def _chart_key(column: str, first: bool) -> str:
    return K.WIDGET_SLICE_CHART if first else f"{K.WIDGET_SLICE_CHART}::{column}"


def _on_slice_click(labels: tuple[str, ...], column: str, key: str) -> None:
    points = ss[key].selection.points
    # The Disagreement page then shows the slice's first example, not one from before.
    set_view(slice_by=column, slice=labels[int(points[0]["customdata"])] if points else None, example=None)


def _slices_table(rows: list[dict], compact: bool) -> None:
    table = pd.DataFrame(rows)
    shown = pd.DataFrame({
        "slice": table["slice"], "examples": table["n"], "ensemble": table["accuracy"],
        "best single": table["best_single_accuracy"], "gain": table["gain"] * 100,
        "gain low": table["gain_ci"].str[0] * 100, "gain high": table["gain_ci"].str[1] * 100,
        "fixes": table["fixes"], "breaks": table["breaks"], "p (Holm)": table["p_adjusted"],
        "worse": table["worse"],
    })
    if compact:  # side by side: the numbers a reader compares across columns
        shown = shown[["slice", "examples", "ensemble", "best single", "gain", "worse"]]
    st.dataframe(shown, hide_index=True, width="stretch", column_config={
        "ensemble": st.column_config.NumberColumn(format="%.4f"),
        "best single": st.column_config.NumberColumn(format="%.4f"),
        "gain": points_column(),
        "gain low": points_column(),
        "gain high": points_column(),
        "p (Holm)": st.column_config.NumberColumn(format="%.3g"),
    })


def _draw_slicing(slicing, rows: list[dict], *, first: bool, compact: bool) -> None:
    """One slicing's headline, gain chart (a click picks a slice) and table."""
    column = slicing.column
    worse = sum(r["worse"] for r in rows)
    st.markdown(f"**{len(rows)} slices** of {literal(_column_label(column))} ({slicing.kind}); "
                f"{worse} where the ensemble is significantly worse (Holm-adjusted McNemar, 5 %).")
    labels = tuple(r["slice"] for r in rows)
    table = pd.DataFrame(rows)
    key = _chart_key(column, first)
    st.plotly_chart(
        figures.slice_gain_figure(labels, table["gain"], table["gain_ci"].str[0], table["gain_ci"].str[1],
                                  table["worse"], title=f"Gain by slice of {_column_label(column)}"),
        key=key, on_select=lambda: _on_slice_click(labels, column, key), selection_mode="points",
        width="stretch", config=CHART_CONFIG,
    )
    _slices_table(rows, compact)


loaded, result = evaluated()
pset, ev = loaded.pset, loaded.evaluator
chosen = view()
columns = slice_columns(loaded)
column = chosen.slice_by if chosen.slice_by in columns else (text_column(loaded) or CLASS_SLICING)
st.caption(f"Ensemble: {STRATEGY_LABELS[result.strategy].lower()} of {pset.n_models} models (set on the Ensemble "
           f"page), against the best single model on all rows, {literal(ev.best_name_)}.")
left, mid, right = st.columns([2, 2, 1])
mirror(K.WIDGET_SLICE_BY, column)
left.selectbox("Slice the examples by", columns, format_func=_column_label, key=K.WIDGET_SLICE_BY,
               on_change=_copy_column,
               help="A content column of the labels file (numbers and text lengths in quantile bins, other values "
               "one slice each), or the true class.")
others = [c for c in columns if c != column]
also = [c for c in chosen.also_slice_by if c in others][:SIDE_BY_SIDE - 1]
mirror(K.WIDGET_SLICE_ALSO, also)
mid.multiselect("Side by side with", others, format_func=_column_label, key=K.WIDGET_SLICE_ALSO,
                on_change=_copy_also, max_selections=SIDE_BY_SIDE - 1, disabled=not others,
                help="Other slicings drawn next to the first, to compare where the ensemble helps; the downloaded "
                "report holds them too.")
slicings = []
with user_errors():
    slicings = [slicing_for(loaded, c, chosen.bins) for c in [column, *also]]
if not slicings:
    st.stop()
mirror(K.WIDGET_BINS, chosen.bins)
right.slider("Bins", 2, BINS_SHOWN, key=K.WIDGET_BINS, on_change=_copy_bins,
             disabled=not any(s.kind in ("numeric", "text") for s in slicings),
             help="Quantile bins (equal numbers of examples as far as ties allow) of a numeric column or of a "
             "text's length in words.")

tables = [slice_rows_for(loaded, result, s) for s in slicings]
if len(slicings) == 1:
    _draw_slicing(slicings[0], tables[0], first=True, compact=False)
else:
    for k, (place, slicing, rows) in enumerate(zip(st.columns(len(slicings)), slicings, tables)):
        with place:
            _draw_slicing(slicing, rows, first=k == 0, compact=True)
st.caption("Each point is the ensemble's accuracy minus the best single model's on that slice's examples, with "
           "its paired bootstrap 95 % interval; green where the whole interval is above zero, red where the "
           "ensemble is significantly worse. Click a slice to look at its examples on the Disagreement page.")
labels = tuple(r["slice"] for r in tables[0])
if chosen.slice is not None and chosen.slice in labels:
    pick = tables[0][labels.index(chosen.slice)]
    st.markdown(f"**Chosen slice: {literal(chosen.slice)}** ({pick['n']:,} examples; ensemble "
                f"{percent(pick['accuracy'])}, best single {percent(pick['best_single_accuracy'])}). "
                "The Disagreement page lists only its examples until it is cleared.")
    page_link(DISAGREEMENT, "Its examples on the Disagreement page")
    st.button("Clear the chosen slice", on_click=set_view, kwargs={"slice": None}, icon=":material/close:")
