"""Start: what the tool is, pick a bundled demo or your own data, what is loaded now."""

import streamlit as st

from dashboard import keys as K
from dashboard.actions import current, evaluate, switch_demo, use_own_data, view
from dashboard.navigation import DATA, DISAGREEMENT, DIVERSITY, ENSEMBLE, LEARN
from dashboard.sources import available_demos
from dashboard.tuning import plain_headline
from dashboard.text import literal
from dashboard.ui import metric_row, page_link, percent, user_errors
from ensemble_core.demo import DEMOS
from ensemble_core.explore import STRATEGY_LABELS

loaded = current()
if st.session_state.get(K.LOAD_ERROR):
    st.error(literal(st.session_state[K.LOAD_ERROR]), icon=":material/error:")

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
    st.markdown("**Your data**")
    own = st.session_state.get(K.OWN_SOURCE)
    if own is None:
        st.caption("A labelled CSV/Parquet file and one prediction file per model (or the models themselves).")
    else:
        # Kept when a demo is picked, so trying a demo never throws the user's files away.
        kept = ("Kept on this machine while the app runs, also across a reload of the page."
                if st.session_state.get(K.OWN_KEPT) else "Too large to keep across a reload of the page.")
        st.caption(f"{literal(own.title)}: {len(own.predictions)} models. {kept}")
        active = loaded is not None and loaded.source.key == own.key
        st.button("Loaded" if active else "Use your data", key="own_data", on_click=use_own_data,
                  disabled=active, type="secondary" if active else "primary",
                  icon=":material/check:" if active else ":material/folder_open:")
    # Short: the column is a third of the page, and a longer label was cut at 1024 px (issue 12 item 9).
    page_link(DATA, "Load your files", help=f"Opens {DATA.title}: a labels file and one prediction file or model "
              "per model.")

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
        with metric_row():
            st.metric("Best single model", percent(full.best_accuracy_), literal(full.best_name_), delta_color="off",
                      delta_arrow="off", width="content")
            st.metric(
                f"Ensemble ({STRATEGY_LABELS[view().strategy].lower()})",
                percent(result.metrics.accuracy),
                f"{100 * result.gain:+.2f} pts over the best", width="content",
            )
            st.metric("Oracle", percent(loaded.evaluator.oracle_accuracy_),
                      "some model is right", delta_color="off", delta_arrow="off", width="content",
                      help="Share of examples at least one included model gets right: a ceiling for any combination.")
            st.metric("Models disagree on", percent(loaded.evaluator.disagreement_rate_, 1), "of examples",
                      delta_color="off", delta_arrow="off", width="content")
        st.markdown(literal(plain_headline(loaded, result)))

st.header("3 · Explore", divider="gray")
tour = st.columns(4)
for column, (entry, text) in zip(tour, [
    (ENSEMBLE, "Pick a strategy, move the weights, read the confusion matrices."),
    (DISAGREEMENT, "The examples the models argue about, one by one."),
    (DIVERSITY, "Which models err together, and which pairs add most."),
    (LEARN, "A guided walk: voting, averaging, stacking."),
]):
    with column.container(border=True):
        page_link(entry)
        st.caption(text)
