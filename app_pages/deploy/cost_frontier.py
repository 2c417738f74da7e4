"""Cost frontier: each model's cost (measured or entered), every subset's soft-vote accuracy against
its total cost, and the Pareto front; a point opens its subset on the Ensemble page."""

import pandas as pd
import streamlit as st

from dashboard import keys as K
from dashboard.actions import current, mirror, set_view, view
from dashboard.caches import cached_frontier
from dashboard.navigation import ENSEMBLE
from dashboard.text import literal
from dashboard.ui import CHART_CONFIG, percent, user_errors
from ensemble_core.deploy.costs import ModelCost, model_cost
from ensemble_core.deploy.figures import frontier_figure

ss = st.session_state
#: The cost of a model with no sidecar, until the user enters one (ms per 1,000 examples).
DEFAULT_COST = 1.0
#: Cost inputs per row.
PER_ROW = 4


def _open(models: tuple[str, ...], names: tuple[str, ...]) -> None:
    """Put the subset ``models`` in the ensemble (soft vote, the frontier's rule) and go to the Ensemble page."""
    set_view(off=tuple(n for n in names if n not in models), strategy="soft")
    ss[K.OPEN_ENSEMBLE] = True


def _on_point_click(subsets: list[tuple[str, ...]], names: tuple[str, ...]) -> None:
    points = ss[K.WIDGET_FRONTIER_CHART].selection.points
    if points:
        _open(subsets[int(points[0]["customdata"])], names)


def _copy_cost(name: str) -> None:
    ss.setdefault(K.ENTERED_COSTS, {})[name] = float(ss[K.WIDGET_COST_PREFIX + name])


if ss.pop(K.OPEN_ENSEMBLE, False):
    st.switch_page(ENSEMBLE.path)

loaded = current()
pset = loaded.full.pset
names = pset.names
files = dict(zip(loaded.source.model_names, loaded.source.predictions))
entered = ss.setdefault(K.ENTERED_COSTS, {})
costs: list[ModelCost] = []
with user_errors():
    for name in names:
        entry = files.get(name)
        costs.append(model_cost(name, entry.path if entry is not None else None, entered)
                     or ModelCost(name, DEFAULT_COST, "entered"))
if len(costs) != len(names):
    st.stop()


def _source(cost: ModelCost) -> str:
    if cost.source == "measured":
        return "measured"
    return "entered" if cost.name in entered else f"not measured: {DEFAULT_COST:g} until entered"


st.markdown("**What each model costs**, in milliseconds per 1,000 examples: measured where `score` wrote a "
            "`NAME.cost.json` beside the prediction file, otherwise entered here (a number you type wins over a "
            "measured one).")
for start in range(0, len(names), PER_ROW):
    for column, cost in zip(st.columns(PER_ROW), costs[start:start + PER_ROW]):
        key = K.WIDGET_COST_PREFIX + cost.name
        mirror(key, float(cost.ms_per_1000))
        column.number_input(f"{literal(cost.name)} ({_source(cost)})", min_value=0.0, step=1.0, format="%.4g",
                            key=key, on_change=_copy_cost, args=(cost.name,))
st.dataframe(pd.DataFrame({
    "model": [c.name for c in costs], "ms per 1,000": [c.ms_per_1000 for c in costs],
    "source": [_source(c) for c in costs], "batch size": [c.batch_size for c in costs],
    "size on disk (bytes)": [c.size_bytes for c in costs], "peak memory (bytes)": [c.peak_memory_bytes for c in costs],
    "machine": [c.machine for c in costs],
}), hide_index=True, width="stretch")
if entered:
    st.button("Forget the entered costs", on_click=ss.pop, args=(K.ENTERED_COSTS,), icon=":material/undo:")

frontier = None
with user_errors():
    frontier = cached_frontier(loaded.key, names, tuple(view().weights_for(names)),
                               tuple(c.ms_per_1000 for c in costs), pset)
if frontier is None:
    st.stop()
subsets = [p.models for p in frontier.points]
st.caption(f"{len(frontier.points):,} subsets ({frontier.method}"
           + (f"; {frontier.skipped} with every weight 0 left out" if frontier.skipped else "")
           + "), each a soft vote with the Ensemble page's weights renormalised over the subset, whatever the "
           "strategy there. On the front: no other subset is as accurate for no more cost. Click a point to open "
           "its subset on the Ensemble page.")
st.plotly_chart(frontier_figure(frontier), key=K.WIDGET_FRONTIER_CHART,
                on_select=lambda: _on_point_click(subsets, names), selection_mode="points", width="stretch",
                config=CHART_CONFIG)
front = frontier.pareto
st.markdown(f"**The Pareto front: {len(front)} subsets**")
st.dataframe(pd.DataFrame({
    "models": [", ".join(p.models) for p in front], "size": [len(p.models) for p in front],
    "accuracy": [p.accuracy for p in front], "cost (ms per 1,000)": [p.cost for p in front],
}), hide_index=True, width="stretch", column_config={"accuracy": st.column_config.NumberColumn(format="%.4f")})
by_models = {p.models: p for p in front}
pick = st.selectbox("A subset of the front", list(by_models), key=K.WIDGET_FRONTIER_PICK,
                    format_func=lambda m: f"{' + '.join(m)}: {percent(by_models[m].accuracy)}, "
                    f"{by_models[m].cost:.4g} ms per 1,000")
st.button("Open this subset on the Ensemble page", on_click=_open, args=(pick, names), icon=":material/tune:")
