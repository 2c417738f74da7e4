"""Compress: prune or int8-quantise a saved student (or another linear/MLP scikit-learn pipeline) and compare
each compressed model with the original, the ensemble and its members on the loaded rows (deploy.compress)."""

from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import keys as K
from dashboard.actions import current, view
from dashboard.deploy import member_costs, output_folder, run_button
from dashboard.sources import path_under_root, read_labels
from dashboard.text import literal
from dashboard.ui import MISSING, evaluated, local_root_note, number_or_dash, user_errors
from ensemble_core.demo import DEMOS
from ensemble_core.deploy.compress import CompressionSetting, compare_compressions
from ensemble_core.registry import COMPRESSION_SPECS

ss = st.session_state
PATH = "path"  # the model choice "a .skops file on this machine"
#: The sparsities offered for pruning, and the one chosen at first.
SPARSITIES = (0.25, 0.5, 0.75, 0.9)
DEFAULT_SPARSITY = 0.5

loaded, ensemble = evaluated()
candidates: dict[str, str] = {}  # label -> path
distilled = ss.get(K.DISTILL_JOB)
if distilled is not None and not distilled.running and distilled.result is not None:
    candidates["the student from the Distill page"] = distilled.result.student_path
demo = DEMOS.get(loaded.source.demo or "")
if demo is not None:
    for path in sorted(demo.models_folder.glob("*.skops")):
        candidates[f"the demo's {path.stem}"] = str(path)
pick = st.selectbox("Model to compress", [*candidates, PATH], key=K.WIDGET_COMPRESS_MODEL,
                    format_func=lambda c: "a .skops file on this machine" if c == PATH else c,
                    help="A scikit-learn pipeline ending in logistic regression or an MLP (what Distill saves).")
model_path = None
with user_errors():
    if pick == PATH:
        typed = st.text_input("Path of the .skops model", key="path_compress_model")
        local_root_note()
        model_path = str(path_under_root(typed)) if typed.strip() else None
    else:
        model_path = candidates[pick]
if model_path is None:
    st.stop()

specs = {s.name: s for s in COMPRESSION_SPECS}
left, right = st.columns(2)
methods = left.multiselect("Methods", list(specs), default=list(specs), key=K.WIDGET_COMPRESS_METHODS,
                           format_func=lambda m: specs[m].label, help=" ".join(f"{s.label}: {s.help}"
                                                                               for s in specs.values()))
sparsities = right.multiselect("Pruning sparsities", SPARSITIES, default=[DEFAULT_SPARSITY], key=K.WIDGET_SPARSITIES,
                               format_func=lambda s: f"{s:.0%}", disabled="prune" not in methods)
settings = [CompressionSetting(m) for m in methods if m != "prune"]
settings += [CompressionSetting("prune", s) for s in sorted(sparsities)] if "prune" in methods else []

params = (loaded.key, model_path, tuple(settings))


def _make():
    labels = read_labels(loaded.source)
    out_dir = output_folder("compressed")

    def work(progress, should_stop):
        return compare_compressions(model_path, settings, labels=labels, out_dir=out_dir, progress=progress,
                                    should_stop=should_stop)

    return f"Compressing {Path(model_path).name}", work


_, result = run_button(K.COMPRESS_JOB, params, label="Compress", icon=":material/compress:", noun="models scored",
                       make=_make)
original, compressed = result
rows = [original, *compressed]
st.dataframe(pd.DataFrame({
    "model": [r.name for r in rows],
    "accuracy": [r.accuracy for r in rows],
    "agreement with the original": [r.agreement for r in rows],
    "ms per 1,000": [r.ms_per_1000 for r in rows],
    "size (bytes)": [r.size_bytes for r in rows],
    "size / original": [r.size_bytes / original.size_bytes for r in rows],
}), hide_index=True, width="stretch", column_config={
    "accuracy": st.column_config.NumberColumn(format="%.4f"),
    "agreement with the original": st.column_config.NumberColumn(format="%.4f"),
    "ms per 1,000": st.column_config.NumberColumn(format="%.3g"),
    "size / original": st.column_config.NumberColumn(format="%.2f"),
})
st.caption(f"On the {loaded.pset.n_samples:,} loaded rows, scored through the same loaders as `score`; the ms are "
           f"measured here in one call each (noisy on a busy machine). Saved in {literal(Path(rows[-1].path).parent)}.")

st.markdown("**For comparison: the ensemble and its members on the same rows**")
names = loaded.pset.names
costs = member_costs(loaded, names)
accuracy = loaded.evaluator.correct_.mean(axis=1)
v = view()
st.dataframe(pd.DataFrame({
    "model": [f"ensemble ({v.strategy})", *names],
    "accuracy": [ensemble.metrics.accuracy, *accuracy],
    "ms per 1,000": number_or_dash([sum(c.ms_per_1000 for c in costs) if all(costs) else None,
                                    *[c.ms_per_1000 if c else None for c in costs]], 3),
    "size (bytes)": [MISSING] + [MISSING if c is None or c.size_bytes is None else f"{c.size_bytes:,}"
                                 for c in costs],
}), hide_index=True, width="stretch", column_config={"accuracy": st.column_config.NumberColumn(format="%.4f")})
