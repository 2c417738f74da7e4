"""Data & models: load a labelled dataset and prediction files, check each model,
choose the ensemble's members."""

import streamlit as st

from dashboard import keys as K
from dashboard.actions import (
    add_uploaded_predictions,
    apply_config,
    current,
    link_models,
    load_folder,
    load_uploads,
    mirror,
    score_models,
    set_view,
    upload_key,
    view,
)
from dashboard.sources import UPLOAD_TYPES
from dashboard.text import literal
from dashboard.tuning import reliability_panel
from dashboard.ui import CHART_CONFIG, labels_only_note, local_root_note, model_colours, number_or_dash, user_errors
from ensemble_core import figures
from ensemble_core.explore import model_table, model_warnings
from ensemble_core.labels_only import is_labels_only
from ensemble_core.metrics import calibration_curve
from ensemble_core.registry import LABELS_ONLY_SMOOTHING, LABELS_ONLY_SMOOTHING_RANGE, LOADER_SPECS

#: Model files an upload may be: those that cannot run code when loaded.
MODEL_UPLOAD_TYPES = [suffix.lstrip(".") for spec in LOADER_SPECS if not spec.needs_trust for suffix in spec.suffixes]

loaded = current()
waiting = st.session_state.get(K.LINK_WAITING)
if waiting is not None:
    models = link_models(waiting)
    st.info("A shared link is waiting for its data: load files " + (
        f"with the models {literal(', '.join(models))} " if models else "") + "and its settings apply to them.",
        icon=":material/link:")

st.header("Load data", divider="gray")
upload_tab, add_tab, score_tab, disk_tab, config_tab, format_tab = st.tabs(
    ["Upload files", "Add models to the loaded data", "Score model files", "Files on this machine",
     "Ensemble config", "File formats"]
)
with upload_tab:
    with st.form("upload_form", border=False):
        left, right = st.columns(2)
        labels_file = left.file_uploader(
            "Labelled dataset (CSV or Parquet with a `label` column)", type=UPLOAD_TYPES, key=upload_key("up_labels")
        )
        prediction_files = right.file_uploader(
            "Prediction files, one per model", type=UPLOAD_TYPES, accept_multiple_files=True,
            key=upload_key("up_predictions"),
        )
        submitted = st.form_submit_button("Load these files", type="primary", icon=":material/upload:")
    if submitted:
        if load_uploads(labels_file, prediction_files):
            st.rerun()
with add_tab:
    st.caption(
        "Prediction files for the examples already loaded (same rows, or matching `id`s). "
        "Each file becomes one more model, named by its file name."
    )
    with st.form("add_form", border=False):
        extra_files = st.file_uploader(
            "More prediction files", type=UPLOAD_TYPES, accept_multiple_files=True, key=upload_key("up_extra")
        )
        added = st.form_submit_button("Add to the loaded data", icon=":material/add:")
    if added:
        if add_uploaded_predictions(extra_files):
            st.rerun()
with score_tab:
    st.caption(
        "Run trained models on the loaded examples and add their predictions. Uploads: scikit-learn models "
        "saved with skops (`.skops`, checked against an allow-list) or ONNX (`.onnx`); pickle uploads are "
        "refused. A local path may also be a transformers model directory (safetensors, no remote code)."
    )
    local_root_note()
    columns = [] if loaded is None else list(loaded.full.pset.content.columns)
    with st.form("score_form", border=False):
        model_files = st.file_uploader("Model files", type=MODEL_UPLOAD_TYPES, accept_multiple_files=True,
                                       key=upload_key("up_models"))
        model_path = st.text_input("Or a model on this machine (file or transformers directory)",
                                   key=upload_key("path_model"))
        trust = st.checkbox("I made or trust this local pickle/joblib file (it can run any code)", key="trust_pickle")
        left, right = st.columns(2)
        text_col = left.selectbox("Text column (text models)", ["(automatic)", *columns], key="score_text")
        feature_cols = right.multiselect("Feature columns (default: the model's own names)", columns,
                                         key="score_features")
        score = st.form_submit_button("Score and add", icon=":material/play_arrow:")
    if score and score_models(model_files, model_path, trust_pickle=trust,
                              text_column=None if text_col == "(automatic)" else text_col,
                              feature_columns=feature_cols):
        st.rerun()
with disk_tab:
    st.caption(
        "For large files: read them where they are. Every CSV/Parquet file in the folder is one model."
    )
    local_root_note()
    with st.form("folder_form", border=False):
        labels_path = st.text_input("Labels file path", key="path_labels", placeholder="/data/test.csv")
        folder_path = st.text_input("Folder of prediction files", key="path_predictions",
                                    placeholder="/data/predictions")
        read = st.form_submit_button("Read these files", icon=":material/folder_open:")
    if read:
        if load_folder(labels_path, folder_path):
            st.rerun()
with config_tab:
    st.caption("An ensemble config exported on the Ensemble page (JSON), for the data loaded now: it sets the "
               "strategy, the weights, the meta-learner and the models left out.")
    with st.form("config_form", border=False):
        config_file = st.file_uploader("Config file", type=["json"], key=upload_key("up_config"))
        config_text = st.text_area("Or paste it", key="config_text", height=120,
                                   placeholder='{"strategy": "soft", "models": ["forest", "knn"], ...}')
        apply = st.form_submit_button("Apply config", icon=":material/data_object:")
    if apply:
        notes = None
        with user_errors():
            if config_file is not None:
                notes = apply_config(config_file.getvalue(), config_file.name)
            elif config_text.strip():
                notes = apply_config(config_text, "the pasted config")
            else:
                st.error("Choose a config file or paste one.", icon=":material/error:")
        if notes is not None:
            st.session_state[K.FLASH] = "Applied the config." + "".join(f" Note: {literal(n)}." for n in notes)
            st.rerun()
with format_tab:
    st.markdown(
        """
**Labels file**: a `label` column (text or integers), an optional `id` column, and any other
columns (review text, pixel values) shown as the example's content.

**Prediction file**, one per model, named after the model: an optional `id` column, then
either one probability column per class, named exactly by the class label, or a single
`prediction` column of hard labels.

```
id,fresh,rotten          id,prediction
r1,0.91,0.09             r1,fresh
r2,0.22,0.78             r2,rotten
```
Rows align by `id` when both files have it, else by row order. Anything wrong is reported with
the file, column and row.
"""
    )

st.header("Models", divider="gray")
if loaded is None:
    st.info("Load data above, or pick a demo on the Start page.", icon=":material/info:")
    st.stop()

full = loaded.as_loaded.full
pset = full.pset
st.markdown(
    f"**{literal(loaded.source.title)}**: {pset.n_samples:,} examples, {pset.n_classes} classes, "
    f"{pset.n_models} models. "
    "Metrics are each model's own, on all labelled examples."
)
if loaded.calibrated:
    st.info("The ensemble combines temperature-scaled members (switched on the Ensemble page); this page shows "
            "the models as loaded.", icon=":material/thermostat:")
table = model_table(full)
table["log_loss"] = number_or_dash(table["log_loss"], 3)
# Text, not a checkbox: a checkbox in a read-only table looks clickable and does nothing (the pills below choose).
table.insert(0, "in ensemble", ["yes" if n in loaded.pset.names else "left out" for n in table["model"]])
st.dataframe(
    table.style.format({"accuracy": "{:.2%}"}, na_rep="—"),
    hide_index=True,
    width="stretch",
    column_config={
        "in ensemble": st.column_config.TextColumn("in ensemble", help="Choose with the models' pills below."),
        "macro_f1": st.column_config.NumberColumn("macro-F1", format="%.3f"),
        "log_loss": st.column_config.TextColumn("log loss", help="A dash for labels-only models."),
        "brier": st.column_config.NumberColumn("Brier", format="%.3f"),
        "ece": st.column_config.NumberColumn("ECE", format="%.3f", help="Expected calibration error (10 bins)."),
    },
)
for warning in model_warnings(full):
    st.warning(literal(warning), icon=":material/warning:")
if is_labels_only(pset).any():
    labels_only_note(loaded)
    low, high = LABELS_ONLY_SMOOTHING_RANGE
    mirror(K.WIDGET_SMOOTHING, view().smoothing)
    st.number_input(
        "Label smoothing ε of labels-only models", min_value=low, max_value=high, step=0.01, format="%.2f",
        key=K.WIDGET_SMOOTHING, on_change=lambda: set_view(smoothing=round(float(st.session_state[K.WIDGET_SMOOTHING]), 4)),
        help="A labels-only model enters every combination as its one-hot row label-smoothed with ε: 1 − ε + ε/K "
        "on its label, ε/K on each other class. 0 keeps the bare one-hot row, which vetoes every other class in the "
        f"geometric mean; larger ε lets the other models count more. Default {LABELS_ONLY_SMOOTHING:g}.",
    )


def _on_members_change() -> None:
    chosen = st.session_state[K.WIDGET_INCLUDED]
    if chosen:
        set_view(off=tuple(n for n in pset.names if n not in chosen))


mirror(K.WIDGET_INCLUDED, list(loaded.pset.names))
members = st.pills(
    "Models in the ensemble (click to include or leave out)",
    options=list(pset.names),
    format_func=literal,
    selection_mode="multi",
    key=K.WIDGET_INCLUDED,
    on_change=_on_members_change,
)
if not members:
    st.error("Keep at least one model in the ensemble; the last one stays in.", icon=":material/error:")

with st.expander("Calibration of each model", icon=":material/show_chart:"):
    curves = {}
    for m, name in enumerate(pset.names):
        if not pset.hard[m]:
            conf, acc, _ = calibration_curve(pset.y_true, pset.probas[m])
            curves[name] = (conf, acc)
    if curves:
        st.plotly_chart(figures.calibration_figure(curves, colours=model_colours(loaded)), width="stretch",
                        config=CHART_CONFIG)
    else:
        st.caption("Every model gives labels only: there is no confidence to calibrate.")
    if curves and st.toggle("Temperature scaling: each model before and after", key="w_data_temperature",
                            help="Fit one temperature per model, cross-fitted, and compare its reliability "
                            "diagram and ECE before and after."):
        reliability_panel(loaded, widget_key="w_reliability_data", included_only=False)
