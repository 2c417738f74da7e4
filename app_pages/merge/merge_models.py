"""Merge models: can they be merged, the curve from one to the other in weight and output space, and a merge."""

import pandas as pd
import streamlit as st

from dashboard import keys as K
from dashboard.actions import current
from dashboard.merge import DEFAULT_ROWS, add_merged, checked, curve_for, demo_available, demo_notes, demo_run, merge_for, \
    merged_name, shared_start, user_run
from dashboard.navigation import ENSEMBLE
from dashboard.text import literal
from dashboard.ui import CHART_CONFIG, local_root_note, page_link, percent, signed_points, user_errors
from ensemble_core.merge.figures import interpolation_figure
from ensemble_core.registry import MERGE_METHOD_SPECS

ss = st.session_state
METHODS = {spec.name: spec for spec in MERGE_METHOD_SPECS if spec.model_kind == "transformers"}


#: Widgets whose choices are the run's model names: emptied when the models change, so they start
#: from their defaults (a kept choice the new models lack would leave them empty).
MODEL_WIDGETS = ("merge_a", "merge_b", "merge_members")


def _set_run(run) -> None:
    ss[K.MERGE_RUN] = run
    for key in MODEL_WIDGETS:
        ss.pop(key, None)


def _use_mine() -> None:
    with user_errors():
        _set_run(user_run(ss["merge_dirs"].splitlines(), ss["merge_labels"], ss["merge_text_column"],
                          ss["merge_rows"], ss["merge_base"]))


def _use_demo() -> None:
    _set_run(None)


run = ss.get(K.MERGE_RUN)
with st.expander("Your own models", expanded=run is not None, icon=":material/folder_open:"):
    with st.form("merge_inputs"):
        st.text_area("Model directories, one per line", key="merge_dirs", height=90,
                     help="Transformers sequence-classification directories (config.json, model.safetensors, "
                     "tokenizer files) with the same architecture, tensors and labels.")
        left, mid, right = st.columns([3, 1, 1])
        left.text_input("Labelled rows", key="merge_labels",
                        help="A CSV or Parquet file with a 'label' column and a text column. The curve uses the rows; "
                        "a merge is chosen (greedy soup) on their first half and measured on the second.")
        mid.text_input("Text column", key="merge_text_column", placeholder="text")
        right.number_input("Rows at most", 2, 1_000_000, DEFAULT_ROWS, step=100, key="merge_rows")
        st.text_input("Base model (optional)", key="merge_base",
                      help="The pre-trained directory the models were fine-tuned from: task arithmetic and TIES need it.")
        st.form_submit_button("Use these models", icon=":material/play_arrow:", on_click=_use_mine)
    local_root_note()
    if run is not None:
        st.button("Back to the demo", on_click=_use_demo, key="merge_demo")

if run is None:
    if not demo_available():
        st.info("The merge demo is not built here (python demo_data/build_merge_demo.py); give your own models above.",
                icon=":material/info:")
        st.stop()
    run = demo_run()
    st.markdown(f"**The demo**: tiny BERT sentiment classifiers, measured on the first {run.rows:,} reviews of the "
                "sentiment demo's validation split, which none of them was trained on.")
    st.dataframe(pd.DataFrame([{"model": n, "how it was made": d} for n, d in demo_notes()["models"].items()]),
                 hide_index=True, width="stretch")

st.subheader("Can they be merged?", divider="gray")
answer = None
with user_errors():
    answer = checked(run)
if answer is None:
    st.stop()
st.success(literal(answer), icon=":material/check_circle:")

names = run.names
st.subheader("From one model to the other", divider="gray")
st.markdown("At each α the weights are averaged, θ(α) = (1−α)·θ_A + α·θ_B, and that one model is scored; beside it, "
            "the outputs of both models averaged with the same α (which runs both).")
left, right = st.columns(2)
a = left.selectbox("Model A (α = 0)", names, index=0, key="merge_a")
b = right.selectbox("Model B (α = 1)", names, index=1, key="merge_b")
if a == b:
    st.info("Choose two different models.", icon=":material/info:")
else:
    shared = shared_start(run, a, b)
    if shared is True:
        st.caption(f"{literal(a)} and {literal(b)} were fine-tuned from one start: they should sit in one basin, "
                   "and averaging their weights should cost nothing.")
    elif shared is False:
        st.warning(f"{literal(a)} and {literal(b)} share no starting point: expect a barrier. That is the lesson "
                   "here — averaging weights works only for models tuned from one start.", icon=":material/school:")
    curve = None
    with user_errors():
        curve = curve_for(run, a, b)
    if curve is not None:
        st.plotly_chart(interpolation_figure(curve, (a, b)), width="stretch", config=CHART_CONFIG,
                        key="merge_curve")
        st.markdown(literal(curve.describe_barrier()))
        w, o = curve.weight_space, curve.output_space
        table = pd.DataFrame({"α": curve.alphas, "weights averaged: accuracy": w.accuracy,
                              "outputs averaged: accuracy": o.accuracy, "weights averaged: log loss": w.log_loss,
                              "outputs averaged: log loss": o.log_loss})
        with st.expander("The numbers"):
            st.dataframe(table, hide_index=True, width="stretch",
                         column_config={c: st.column_config.NumberColumn(format="%.4f") for c in table.columns})

st.subheader("Merge", divider="gray")
shared_names = set(demo_notes()["shared_start"]) if ss.get(K.MERGE_RUN) is None else set(names)
members = st.multiselect("Models to merge", names, default=[n for n in names if n in shared_names], key="merge_members")
method = st.selectbox("Method", list(METHODS), format_func=lambda m: METHODS[m].label, key="merge_method")
spec = METHODS[method]
st.caption(spec.help)
if spec.formula:
    st.latex(spec.formula)
weights = None
if spec.takes_weights and members:
    label = "weight" if method == "linear" else "λ"
    cols = st.columns(len(members))
    weights = tuple(float(col.number_input(f"{label}: {literal(n)}", 0.0 if method == "linear" else -5.0, 10.0, 1.0,
                                           step=0.1, key=f"merge_w::{method}::{n}"))
                    for col, n in zip(cols, members))
if spec.needs_base:
    st.caption("Base: " + (literal(run.base.rsplit("/", 1)[-1]) if run.base else "none given (name one above)"))
st.caption(f"Measured on the second half of the rows ({run.rows - run.rows // 2:,} at most)"
           + ("; the soup is chosen on the first half." if spec.needs_tune else "."))
if st.button("Merge", icon=":material/merge:", key="merge_go", disabled=len(members) < 2):
    ss["merge_asked"] = (run, tuple(members), method, weights)
if ss.get("merge_asked") == (run, tuple(members), method, weights):
    outcome = None
    with user_errors():
        outcome = merge_for(run, tuple(members), method, weights)
    if outcome is not None:
        c = outcome.comparison
        merged, best, ensemble = c.merged, c.best_single, c.output_ensemble
        cols = st.columns(3)
        cols[0].metric("Merged accuracy (one model)", percent(merged.accuracy),
                       f"{signed_points(merged.accuracy - best.accuracy)} vs {best.name}")
        cols[1].metric(f"Output ensemble ({ensemble.models_run} models)", percent(ensemble.accuracy),
                       f"{signed_points(ensemble.accuracy - best.accuracy)} vs {best.name}")
        cols[2].metric("Merged log loss", f"{merged.log_loss:.4f}", f"{merged.log_loss - best.log_loss:+.4f}",
                       delta_color="inverse")
        st.dataframe(pd.DataFrame([{"contender": r.name, "what": r.kind, "models run per prediction": r.models_run,
                                    "accuracy": r.accuracy, "log loss": r.log_loss} for r in c.rows]),
                     hide_index=True, width="stretch",
                     column_config={"accuracy": st.column_config.NumberColumn(format="%.4f"),
                                    "log loss": st.column_config.NumberColumn(format="%.4f")})
        soup = outcome.result.soup
        if soup is not None:
            st.caption("Greedy soup: kept " + literal(", ".join(members[i] for i in soup.kept)) + " of "
                       + literal(", ".join(members[i] for i in soup.order)) + " (in order of tune accuracy).")
        st.download_button("Download the merged model (zip)", outcome.archive, file_name=f"merged-{method}.zip",
                           mime="application/zip", icon=":material/download:", key="merge_download")
        st.caption("Unzip it and `ensemble-explorer score` loads it like any transformers directory.")
        loaded = current()
        name = merged_name(method)
        if loaded is None:
            st.caption("Load data on Data & models to add the merged model to the ensemble.")
        else:
            if st.button("Add to the ensemble", icon=":material/add_circle:", key="merge_add",
                         disabled=name in loaded.source.model_names) and add_merged(run, outcome, method):
                st.rerun()
            st.caption(f"Scores {literal(name)} on the {loaded.pset.n_samples:,} loaded rows "
                       f"({literal(loaded.source.title)}), as `score` would, and adds it as one more model. Those are "
                       "not the rows measured above: its numbers on the other pages are its own on the loaded rows."
                       + (" The greedy soup was chosen on the first half of the rows above; where those are loaded "
                          "rows, its numbers there are optimistic." if method == "greedy-soup" else ""))
            page_link(ENSEMBLE, "Combine it on the Ensemble page")
