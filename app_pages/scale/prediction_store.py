"""Prediction store: what a store holds and which engine fills it, scoring models into it on the
local engine with progress, the whole store's numbers streamed, and opening it in the explorer."""

import importlib.util

import pandas as pd
import streamlit as st

from dashboard import keys as K
from dashboard.actions import load_folder
from dashboard.navigation import ENSEMBLE
from dashboard.scale import evaluate_store, score_into_store, store_here
from dashboard.text import literal
from dashboard.ui import local_root_note, user_errors
from ensemble_core import registry
from ensemble_core.scale.store import DEFAULT_SHARD_ROWS

ss = st.session_state
ss.setdefault(K.WIDGET_STORE_FOLDER, "store")
ss.setdefault(K.WIDGET_STORE_SHARD_ROWS, DEFAULT_SHARD_ROWS)


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
left, right = st.columns(2)
if left.button("Exact numbers, streamed", icon=":material/functions:", disabled=not contents or not contents.models,
               help="The soft vote with equal weights over every row, read 65,536 rows at a time: memory stays "
               "one batch whatever the store's size (evaluate --stream)."):
    with user_errors(), st.spinner("Reading the store batch by batch…", show_time=True):
        ss[K.STORE_STREAMED] = (folder, labels, evaluate_store(labels, contents))
if right.button("Open in the explorer", icon=":material/tune:", disabled=not contents or not contents.models,
                help="Loads every model's probabilities into memory and opens the Ensemble page."):
    if load_folder(labels, folder):
        st.switch_page(ENSEMBLE.path)
if contents is not None and contents.memory_bytes > 2**30:
    st.caption(f"Opening loads {_mib(contents.memory_bytes)} of probabilities; for a store larger than memory, "
               "use the streamed numbers.")
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
