"""The Ensemble page's stacking panel: what the meta-learner learned, per model (and, for
logistic regression, per model and class)."""

from __future__ import annotations

import streamlit as st

from ensemble_core import figures

from .caches import FOLDS, Loaded, cached_stacking_insight
from .text import literal
from .ui import CHART_CONFIG, user_errors

#: Up to this many examples the panel is computed as soon as stacking is shown; above it on
#: request (it refits stacking's folds and predicts each fold's rows 5 times per model).
LIVE_INSIGHT_ROWS = 20_000


def stacking_panel(loaded: Loaded, meta: str) -> None:
    """Cross-fitted permutation importance of each model for the ``meta`` meta-learner, and a
    logistic meta-learner's coefficients per model and class."""
    pset = loaded.pset
    st.subheader("What the meta-learner learned", divider="gray")
    if pset.n_models < 2:
        st.caption("With one model there is nothing to weigh against another.")
        return
    if pset.n_samples > LIVE_INSIGHT_ROWS and not st.toggle(
            "Show what the meta-learner learned", key="stacking_insight_on",
            help=f"Refits the meta-learner on each of the {FOLDS} folds and predicts each fold's "
            f"{pset.n_samples // FOLDS:,} rows 5 times per model: about as long as stacking took, and more."):
        return
    insight = None
    with user_errors(), st.spinner("Shuffling each model's inputs on rows the meta-learner did not see…",
                                   show_time=True):
        insight = cached_stacking_insight(loaded.key, pset.names, meta, pset)
    if insight is None:
        return
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("**How much it relies on each model**")
        st.plotly_chart(
            figures.stacking_importance_figure(insight.names, insight.accuracy_drop, insight.accuracy_drop_std,
                                               insight.log_loss_increase, insight.log_loss_increase_std),
            key="stacking_importance", width="stretch", config=CHART_CONFIG)
        st.caption(f"Permutation importance, cross-fitted ({insight.folds} folds): on each fold's rows, which its "
                   "meta-learner never saw, one model's probabilities are shuffled across the rows "
                   f"({insight.n_repeats} times) and the stacked accuracy and log loss measured again. A model "
                   "whose loss is near zero adds little the others do not already say.")
    with right:
        trust = insight.trust()
        if trust is None:
            st.markdown("**Per class**")
            st.caption(f"The {literal(meta)} meta-learner has no coefficient per model and class; pick logistic "
                       "regression to see which model it trusts for which class.")
            return
        st.markdown("**Which model it trusts for which class**")
        st.plotly_chart(figures.stacking_trust_figure(trust, insight.names, insight.score_classes),
                        key="stacking_trust", width="stretch", config=CHART_CONFIG)
        if len(insight.classes) == 2:
            reading = (f"the weight of each model's probability of {literal(insight.score_classes[0])} in the "
                       "meta-learner's log-odds of that class")
        else:
            reading = "the weight of each model's probability of a class in the meta-learner's score for that class"
        st.caption(f"Logistic regression fitted on all labelled examples: {reading}. Higher: it follows that model "
                   "more when the model says that class; near zero or below: it discounts it.")
