"""Prediction store: what a store holds and which engine fills it, scoring models into it on the
local engine with progress, the whole store's numbers streamed, and opening it in the explorer."""

import importlib.util

import pandas as pd
import streamlit as st

from dashboard import keys as K
from dashboard.actions import load_and_report, load_folder
from dashboard.navigation import ENSEMBLE
from dashboard.scale import evaluate_store, sample_rows_for, score_into_store, store_here, store_sample_source
from dashboard.text import literal
from dashboard.ui import local_root_note, user_errors
from ensemble_core import registry
from ensemble_core.scale.budget import MB, default_budget_bytes
from ensemble_core.scale.store import DEFAULT_SHARD_ROWS

ss = st.session_state
ss.setdefault(K.WIDGET_STORE_FOLDER, "store")
ss.setdefault(K.WIDGET_STORE_SHARD_ROWS, DEFAULT_SHARD_ROWS)
ss.setdefault(K.WIDGET_STORE_BUDGET_MB, float(round(default_budget_bytes() / MB)))


def _mib(n: int) -> str:
    return f"{n / 2**10:,.1f} KiB" if n < 2**20 else f"{n / 2**20:,.1f} MiB"


local_root_note()
folder = st.text_input("Store folder", key=K.WIDGET_STORE_FOLDER)
contents = None
with user_errors():
    contents = store_here(folder)

st.subheader("What is in the store")
if contents is None:
    st.info("Nothing is stored here yet: score models into this folder below, or run `ensemble-explorer score` "
            "with `--out` naming it.", icon=":material/info:")
else:
    rows = contents.n_rows
    left, middle, right = st.columns(3)
    left.metric("Models", f"{len(contents.models)}")
    middle.metric("Rows", "—" if rows is None else f"{rows:,}",
                  help=None if rows is not None or not contents.models else "The models' files differ in rows.")
    right.metric("In memory when opened", _mib(contents.memory_bytes),
                 help="Every model's probabilities as float32: what opening the store in the explorer loads.")
    if contents.models:
        st.dataframe(pd.DataFrame({
            "model": [m.name for m in contents.models], "rows": [m.n_rows for m in contents.models],
            "classes": [", ".join(m.classes) for m in contents.models],
            "ids": ["yes" if m.has_ids else "no" for m in contents.models],
            "on disk": [_mib(m.size_bytes) for m in contents.models],
        }), hide_index=True, width="stretch")
    if contents.unfinished:
        st.markdown("**Unfinished runs**: a rerun with the same model, data and options scores only the "
                    "shards still missing.")
        st.dataframe(pd.DataFrame({
            "model": [r.name for r in contents.unfinished], "shards done": [r.shards_done for r in contents.unfinished],
            "fingerprint": [r.fingerprint for r in contents.unfinished],
        }), hide_index=True, width="stretch")

st.subheader("Engines")
st.dataframe(pd.DataFrame({
    "engine": [e.name for e in registry.ENGINE_SPECS], "runs on": [e.label for e in registry.ENGINE_SPECS],
    "what it does": [e.help for e in registry.ENGINE_SPECS],
    "installed": ["yes" if not e.module or importlib.util.find_spec(e.module) else
                  f"no: pip install 'ensemble-explorer[{e.extra}]'" for e in registry.ENGINE_SPECS],
}), hide_index=True, width="stretch")
st.caption("This page scores on the local engine, in the app's process. On Ray (every core here, or a cluster), "
           "from a shell: `ensemble-explorer score --engine ray [--address HOST:PORT] --model M1 --model M2 "
           "--data DATA --out STORE`; the store it writes shows here.")

st.subheader("Score models into the store")
with st.form("store_score_form", border=False):
    models = st.text_area("Models on this machine, one path a line (skops, ONNX, transformers directories)",
                          key=K.WIDGET_STORE_MODELS, placeholder="models/lr.skops\nmodels/bert")
    data = st.text_input("Data file (CSV or Parquet; with a label column the store keeps its classes)",
                         key=K.WIDGET_STORE_DATA, placeholder="data/test.csv")
    left, right = st.columns(2)
    text_column = left.text_input("Text column (text models; empty: automatic)", key=K.WIDGET_STORE_TEXT_COLUMN)
    shard_rows = right.number_input("Rows per shard (the unit of progress and of resuming)", min_value=1,
                                    step=1000, key=K.WIDGET_STORE_SHARD_ROWS)
    score = st.form_submit_button("Score on the local engine", icon=":material/play_arrow:")
if score:
    bar = st.progress(0.0, text="Starting…")
    n_models = max(1, len([line for line in models.splitlines() if line.strip()]))

    def progress(name: str, index: int, done: int, total: int) -> None:
        bar.progress(min(1.0, (index + done / max(total, 1)) / n_models),
                     text=f"{literal(name)} ({index + 1} of {n_models}): {done:,} of {total:,} rows")

    result = None
    with user_errors():
        result = score_into_store(models, data, folder, text_column=text_column.strip() or None,
                                  shard_rows=int(shard_rows), progress=progress)
    if result is not None:
        ss[K.FLASH] = (f"Scored {len(result.files)} models over {result.n_rows:,} rows "
                       f"({sum(result.scored)} shards scored, {len(result.files) * result.n_shards - sum(result.scored)} "
                       "found done).")
        st.rerun()

st.subheader("Evaluate or open it")
labels = st.text_input("Labels file the store was scored on", key=K.WIDGET_STORE_LABELS,
                       placeholder="data/test.csv")
budget_mb = st.number_input(
    "Memory budget for opening (MB)", min_value=0.001, step=100.0, format="%g", key=K.WIDGET_STORE_BUDGET_MB,
    help=f"A store whose probabilities (as float32) exceed this opens on a stratified sample (by label) of at most "
    f"{registry.STORE_SAMPLE_ROWS:,} examples for the sliders (default {registry.MEMORY_BUDGET_FRACTION:.0%} of "
    "this machine's RAM, as `evaluate --memory-budget`).")
sample_rows = None if contents is None else sample_rows_for(contents, budget_mb)
left, right = st.columns(2)
if left.button("Exact numbers, streamed", icon=":material/functions:", disabled=not contents or not contents.models,
               help="The soft vote with equal weights over every row, read 65,536 rows at a time: memory stays "
               "one batch whatever the store's size (evaluate --stream)."):
    with user_errors(), st.spinner("Reading the store batch by batch…", show_time=True):
        ss[K.STORE_STREAMED] = (folder, labels, evaluate_store(labels, contents))
if right.button("Open in the explorer" if sample_rows is None else "Open a sample in the explorer",
                icon=":material/tune:", disabled=not contents or not contents.models,
                help="Loads every model's probabilities into memory and opens the Ensemble page." if sample_rows is None
                else f"Loads a stratified sample (by label) of {sample_rows:,} examples and opens the Ensemble page."):
    if sample_rows is None:
        opened = load_folder(labels, folder)
    else:
        with st.spinner("Drawing the sample batch by batch…", show_time=True):
            opened = load_and_report(store_sample_source, labels, contents, sample_rows)
        if opened:
            ss[K.FLASH] += (f" A stratified sample (by label): {sample_rows:,} of {contents.n_rows:,} examples, "
                            "for the sliders; the exact numbers of every row: **Exact numbers, streamed** on the "
                            "Prediction store page.")
    if opened:
        st.switch_page(ENSEMBLE.path)
if sample_rows is not None:
    st.caption(f"The store's {_mib(contents.memory_bytes)} of probabilities exceed the memory budget: it opens on a "
               f"stratified sample of {sample_rows:,} of {contents.n_rows:,} examples (their id and label only); "
               "the streamed numbers are every row's.")
streamed = ss.get(K.STORE_STREAMED)
if streamed is not None and streamed[:2] == (folder, labels):
    result = streamed[2]
    rows = [*zip(result.names, result.models), ("ensemble (soft vote)", result.ensemble)]
    st.dataframe(pd.DataFrame({
        "model": [name for name, _ in rows], "accuracy": [m.accuracy for _, m in rows],
        "macro-F1": [m.macro_f1 for _, m in rows], "log loss": [m.log_loss for _, m in rows],
        "Brier": [m.brier for _, m in rows], "ECE": [m.ece for _, m in rows],
    }), hide_index=True, width="stretch")
    st.caption(f"{result.n_rows:,} examples; best single model {literal(result.best_name)}: the ensemble fixes "
               f"{result.fixes:,} of its errors and breaks {result.breaks:,}; oracle accuracy "
               f"{result.oracle_accuracy:.4f}, the models disagree on {result.disagreement_rate:.2%} of examples.")
