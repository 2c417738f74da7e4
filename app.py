"""Start: what the tool is, pick a bundled demo or your own data, what is loaded now."""

import streamlit as st

from dashboard import keys as K
from dashboard.sources import available_demos
from dashboard.state import evaluate, switch_demo, sync_url
from dashboard.text import literal
from dashboard.ui import page_link, percent, setup_page, user_errors
from ensemble_core.demo import DEMOS
from ensemble_core.explore import STRATEGY_LABELS

loaded = setup_page(
    "ensemble-explorer",
    "Combine several classifiers' predictions by voting, averaging or stacking, move a weight per model, "
    "and see at once what the ensemble gets right, what it breaks, and where the models disagree. "
    "Everything is computed from your labelled examples; nothing leaves this machine.",
    icon=":material/hub:",
)
ss = st.session_state
for note in ss.get(K.URL_NOTES, []):
    st.warning(f"Shared link: {literal(note)}.", icon=":material/link_off:")
if ss.get(K.LOAD_ERROR):
    st.error(literal(ss[K.LOAD_ERROR]), icon=":material/error:")

st.header("1 · Pick your data", divider="gray")
built = available_demos()
columns = st.columns(len(DEMOS) + 1)
for column, (name, demo) in zip(columns, DEMOS.items()):
    with column.container(border=True):
        st.markdown(f"**{demo.title}**")
        st.caption(demo.description)
        active = loaded is not None and loaded.source.demo == name
        if name not in built:
            st.caption("Not built in this copy yet.")
        st.button(
            "Loaded" if active else "Use this demo",
            key=f"demo::{name}",
            on_click=switch_demo,
            args=(name,),
            disabled=active or name not in built,
            type="secondary" if active else "primary",
            icon=":material/check:" if active else ":material/play_arrow:",
        )
with columns[-1].container(border=True):
    st.markdown("**Your own data**")
    st.caption("A labelled CSV/Parquet file and one prediction file per model (or the models themselves).")
    page_link("pages/1_Data_and_models.py", "Load files on Data & models", ":material/upload_file:")

st.header("2 · What is loaded now", divider="gray")
if loaded is None:
    st.info("Nothing is loaded yet: pick a demo above or load your own files.", icon=":material/info:")
else:
    full = loaded.full
    pset = full.pset
    st.markdown(
        f"**{literal(loaded.source.title)}**: {pset.n_samples:,} labelled examples, {pset.n_classes} classes "
        f"({literal(', '.join(map(str, pset.classes[:12])))}{', …' if pset.n_classes > 12 else ''}), "
        f"{pset.n_models} models ({literal(', '.join(pset.names))})."
    )
    with user_errors():
        result = evaluate(loaded)
        cols = st.columns(4)
        cols[0].metric("Best single model", percent(full.best_accuracy_), literal(full.best_name_), delta_color="off",
                       delta_arrow="off")
        cols[1].metric(
            f"Ensemble ({STRATEGY_LABELS[ss[K.STRATEGY]].lower()})",
            percent(result.metrics.accuracy),
            f"{100 * result.gain:+.2f} pts over the best",
        )
        cols[2].metric("Oracle", percent(loaded.evaluator.oracle_accuracy_),
                       "some model is right", delta_color="off", delta_arrow="off",
                       help="Share of examples at least one included model gets right: a ceiling for any combination.")
        cols[3].metric("Models disagree on", percent(loaded.evaluator.disagreement_rate_, 1), "of examples",
                       delta_color="off", delta_arrow="off")

st.header("3 · Explore", divider="gray")
tour = st.columns(4)
for column, (page, label, icon, text) in zip(tour, [
    ("pages/2_Ensemble.py", "Ensemble", ":material/tune:", "Pick a strategy, move the weights, read the confusion matrices."),
    ("pages/3_Disagreement.py", "Disagreement", ":material/call_split:", "The examples the models argue about, one by one."),
    ("pages/4_Diversity.py", "Diversity", ":material/grid_view:", "Which models err together, and which pairs add most."),
    ("pages/5_Learn.py", "Learn", ":material/school:", "A guided walk: voting, averaging, stacking."),
]):
    with column.container(border=True):
        page_link(page, label, icon)
        st.caption(text)

sync_url(loaded)
