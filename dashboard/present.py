"""The Ensemble page's presentation mode: for a demo to people who do not read confidence
intervals. Controls, sidebar and jargon are hidden; the headline numbers are large and the
result is said in plain sentences (:mod:`ensemble_core.plain`), every number read
from the ``evaluate --json`` summary of the view (:func:`dashboard.report.summary_for`)."""

from __future__ import annotations

import streamlit as st

from ensemble_core import EnsembleResult
from ensemble_core.report.html import headline_sentence
from ensemble_core.registry import strategy
from ensemble_core.plain import plain_sentences

from .caches import Loaded
from .report import summary_for
from .text import literal

#: A constant style sheet (nothing from a user's file): projector-sized type, no sidebar or toolbar.
PRESENTATION_CSS = """<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"] {
  display: none; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * { font-size: 4.5rem !important; line-height: 1.15; }
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * { font-size: 1.5rem !important; }
[data-testid="stMarkdownContainer"] p { font-size: 1.6rem; line-height: 1.45; }
</style>"""


def presentation(loaded: Loaded, result: EnsembleResult) -> None:
    """The large numbers and plain sentences of the current view (the controls stay as they were)."""
    summary = summary_for(loaded, result)
    best = summary["best_single"]
    st.html(PRESENTATION_CSS)
    st.header(literal(headline_sentence(summary)), anchor=False)
    cols = st.columns(3)
    cols[0].metric("Combined", f"{100 * summary['accuracy']:.1f}%")
    cols[1].metric(f"Best single model: {literal(best['name'])}", f"{100 * best['accuracy']:.1f}%")
    cols[2].metric("Difference", f"{100 * summary['gain_over_best']:+.1f} points")
    for sentence in plain_sentences(summary):
        st.markdown(literal(sentence))
    st.caption(literal(f"Right answers on {summary['n_samples']:,} labelled examples; the combination: "
                       f"{len(summary['names'])} models, {strategy(summary['strategy']).label.lower()}."))
