"""Diversity: which models err together, and which pairs add most."""

import streamlit as st

from dashboard.actions import current
from dashboard.ui import CHART_CONFIG, points_column
from ensemble_core import figures
from ensemble_core.explore import pair_table

loaded = current()
pset = loaded.pset
if pset.n_models < 2:
    st.info("Diversity needs at least two models in the ensemble; include more on Data & models.",
            icon=":material/info:")
    st.stop()

div = loaded.diversity()
names = div.names
panels = [
    (div.disagreement, "Disagreement: share of examples with different labels", 0.0, None, "Blues",
     "Higher = more diverse."),
    (div.kappa, "Cohen's kappa between predicted labels", -1.0, 1.0, "RdBu_r",
     "1 = always agree beyond chance; lower = more diverse."),
    (div.q_statistic, "Yule's Q over right/wrong", -1.0, 1.0, "RdBu_r",
     "1 = they are right and wrong together; below 0 = one tends to be right when the other errs."),
    (div.double_fault, "Double fault: share both get wrong", 0.0, None, "Reds",
     "Lower = fewer shared mistakes; the diagonal is each model's error rate."),
]
for row in range(2):
    for column, (matrix, title, zmin, zmax, scale, caption) in zip(st.columns(2), panels[2 * row : 2 * row + 2]):
        top = float(max(matrix.max(), 1e-9)) if zmax is None else zmax
        column.plotly_chart(figures.diversity_heatmap(matrix, names, title=title, zmin=zmin, zmax=top,
                                                      colorscale=scale),
                            width="stretch", config=CHART_CONFIG)
        column.caption(caption)

st.subheader("Which pairs add most", divider="gray")
st.caption("Each pair averaged with equal weights, against the better of the two alone; the oracle gain is "
           "the share of examples only the weaker one gets right (the most any combination of the two could add).")
pairs = pair_table(loaded.evaluator, div)
pairs[["average_gain", "oracle_gain"]] *= 100  # in points, as every gain is shown
st.dataframe(
    pairs.style.format({"better_accuracy": "{:.2%}", "average_accuracy": "{:.2%}"}),
    hide_index=True,
    width="stretch",
    column_config={
        "better_accuracy": st.column_config.Column("better alone"),
        "average_accuracy": st.column_config.Column("pair averaged"),
        "average_gain": points_column("gain from averaging"),
        "oracle_gain": points_column("oracle gain"),
        "disagreement": st.column_config.NumberColumn(format="%.3f"),
        "error_correlation": st.column_config.NumberColumn("error correlation", format="%.3f"),
        "double_fault": st.column_config.NumberColumn("double fault", format="%.3f"),
    },
)
