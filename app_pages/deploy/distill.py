"""Distill: one student trained on the ensemble's outputs over a transfer set, compared on the loaded rows
with the ensemble, each member and the same student trained on the labels alone (deploy.distill)."""

import pandas as pd
import streamlit as st

from dashboard import keys as K
from dashboard.actions import current, load_and_report, view
from dashboard.deploy import TRANSFER_SPLITS, demo_transfer_set, folder_transfer_set, has_demo_split, \
    member_costs, output_folder, run_button
from dashboard.sources import read_labels, scored_entry
from dashboard.text import literal
from dashboard.ui import MISSING, local_root_note, number_or_dash, percent, user_errors
from ensemble_core.deploy import DEFAULT_ALPHA, DEFAULT_TEMPERATURE
from ensemble_core.deploy.distill import StudentSettings, distill
from ensemble_core.explore import STRATEGY_LABELS
from ensemble_core.registry import STUDENT_SPECS

ss = st.session_state
FILES = "files"  # the transfer-set choice "files on this machine"
EPOCHS = 30

loaded = current()
held_out = loaded.as_loaded.pset  # the included models as loaded: the transfer set's predictions are not rescaled
v = view()
content = held_out.content
text_columns = [c for c in (content.columns if content is not None else []) if content[c].dtype == object]
numeric = [c for c in (content.columns if content is not None else []) if c not in text_columns]
students = [s for s in STUDENT_SPECS if (s.input == "text" and text_columns) or (s.input == "features" and numeric)]
if not students:
    st.info("A student reads each example's content (a text column, or numeric feature columns) and the loaded "
            "labels file has none. Load a labels file with content columns.", icon=":material/info:")
    st.stop()

choices = [s for s in TRANSFER_SPLITS if has_demo_split(loaded, s)] + [FILES]
transfer_choice = st.radio(
    "Transfer set (what the student learns from)", choices, key=K.WIDGET_TRANSFER, horizontal=True,
    format_func=lambda c: "files on this machine" if c == FILES else f"the demo's {TRANSFER_SPLITS[c]}")
transfer = None
with user_errors():
    if transfer_choice == FILES:
        left, right = st.columns(2)
        transfer = folder_transfer_set(left.text_input("Transfer labels file (with the content columns)",
                                                       key="path_transfer_labels"),
                                       right.text_input("Its predictions folder (one file per member, same names)",
                                                        key="path_transfer_predictions"))
    else:
        transfer = demo_transfer_set(loaded.source.demo, transfer_choice)
if transfer_choice == FILES:
    local_root_note()
if transfer is None:
    st.stop()
if transfer_choice == "train":
    st.caption("The members were fitted on these rows, so the ensemble is surer there than on new rows: the "
               "student learns from over-confident targets. The validation split is the other choice.")

labels = {s.name: s.label for s in students}
c1, c2, c3, c4 = st.columns([1.6, 1, 1, 0.8])
kind = c1.selectbox("Student", list(labels), format_func=labels.get, key=K.WIDGET_STUDENT,
                    help=" ".join(f"{s.label}: {s.help}" for s in students))
alpha = c2.slider("λ (share of the soft term)", 0.0, 1.0, DEFAULT_ALPHA, 0.05, key=K.WIDGET_ALPHA,
                  help=f"0: the labels alone; 1: the ensemble's probabilities alone. Default {DEFAULT_ALPHA:g}.")
temperature = c3.slider("Temperature T", 0.5, 10.0, DEFAULT_TEMPERATURE, 0.5, key=K.WIDGET_TEMPERATURE,
                        help=f"Softens both distributions in the soft term. Default {DEFAULT_TEMPERATURE:g}.")
epochs = c4.number_input("Epochs", 1, 2000, EPOCHS, key=K.WIDGET_EPOCHS)
spec = next(s for s in students if s.name == kind)
columns = {"text_column": text_columns[0] if "text" not in text_columns else "text"} if spec.input == "text" \
    else {"feature_columns": numeric}
names = held_out.names
weights = tuple(v.weights_for(names))
teacher = f"{STRATEGY_LABELS[v.strategy]}" + ("" if v.uses_weights else f" ({v.meta})")
st.caption(f"Teacher: the ensemble as set on the Ensemble page — {literal(teacher)} of {len(names)} models "
           f"({literal(', '.join(names))}) — on {transfer.n_samples:,} transfer rows. Held out: the "
           f"{held_out.n_samples:,} loaded rows"
           + (" (members as loaded: temperature scaling is not applied here)" if loaded.calibrated else "") + ".")

settings = None
with user_errors():
    settings = StudentSettings(kind=kind, alpha=alpha, temperature=temperature, epochs=int(epochs))
# What a shown report was made for; the transfer set by content (files on this machine can change).
params = (loaded.key, names, weights, v.strategy, v.meta, transfer.fingerprint(), settings)


def _make():
    costs = member_costs(loaded, names)
    out = output_folder("student") / (f"student_{kind}.skops" if spec.saves == "skops" else f"student_{kind}")

    def work(progress, should_stop):
        return distill(transfer, held_out, settings=settings, out=out, strategy=v.strategy, weights=weights,
                       meta=v.meta, member_costs=costs, progress=progress, should_stop=should_stop, **columns)

    return f"Training the {spec.label.lower()} and its λ = 0 twin", work


job, report = run_button(K.DISTILL_JOB, params, label="Distill", icon=":material/science:", noun="epochs",
                         make=_make, disabled=settings is None)
rows = [report.ensemble, report.student, report.hard_label_student, *report.members]
m1, m2, m3, m4 = st.columns(4)
m1.metric("Student accuracy", percent(report.student.accuracy))
m2.metric("Ensemble accuracy", percent(report.ensemble.accuracy))
m3.metric("Distillation's gain over λ = 0",
          f"{100 * (report.student.accuracy - report.hard_label_student.accuracy):+.2f} pts")
m4.metric("Agreement with the ensemble", MISSING if report.student.agreement is None
          else percent(report.student.agreement))
st.dataframe(pd.DataFrame({
    "model": [r.name for r in rows],
    "accuracy": [r.accuracy for r in rows],
    "log loss": number_or_dash([r.log_loss for r in rows]),
    "agreement with the ensemble": number_or_dash([r.agreement for r in rows]),
    "ms per 1,000": number_or_dash([r.ms_per_1000 for r in rows], 3),
    "size (bytes)": [MISSING if r.size_bytes is None else f"{r.size_bytes:,}" for r in rows],
    "cost": [r.cost_source or "unknown" for r in rows],
}), hide_index=True, width="stretch", column_config={"accuracy": st.column_config.NumberColumn(format="%.4f")})
for note in report.notes:
    st.caption(literal(note) + " (type the costs on the Cost frontier page).")
st.caption(f"Trained in {job.seconds:.1f} s. Every number is on the {held_out.n_samples:,} loaded rows, which no "
           "training step saw; the students' costs are measured here, the members' are their sidecars' or typed.")


def _add_student() -> None:
    from ensemble_core.models import load_model, score_model

    source = loaded.source

    def added():
        model = load_model(report.student_path, name=f"student_{kind}")
        source.check_new_model(model.name, report.student_path)
        lab = read_labels(source)
        probas = score_model(model, lab.content, classes=lab.classes, **columns)
        return source.with_predictions([scored_entry(model.name, probas, lab)])

    load_and_report(added)


left, right = st.columns(2)
if spec.saves == "skops":
    with open(report.student_path, "rb") as student_file:
        left.download_button("Download the student (.skops)", student_file.read(),
                             file_name=f"student_{kind}.skops", icon=":material/download:")
right.button("Add the student to the models", on_click=_add_student, icon=":material/add:",
             help="Scores it on the loaded rows (as 'score' would) and adds it as one more model.")
st.caption(f"Saved at {literal(report.student_path)}"
           + ("" if spec.saves == "skops" else " (a transformers folder)") + "; `ensemble-explorer score` loads it.")
