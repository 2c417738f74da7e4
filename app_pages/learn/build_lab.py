"""Build lab: grow bagged, subspace, forest and boosted ensembles on a demo's training split."""

import pandas as pd
import streamlit as st

from dashboard import keys as K
from dashboard.actions import current
from dashboard.build import ADD_MEMBERS_MAX, BV_MEMBERS, BV_ROUNDS, LEANED_ON, LabJob, add_lab_members, \
    bias_variance_too_slow, cached_bias_variance, cached_boosting_weights, lab_data, lab_model_names, \
    members_cap, start_lab_job
from dashboard.navigation import ENSEMBLE
from ensemble_core.build.boosting import leaned_on
from dashboard.text import literal
from dashboard.ui import CHART_CONFIG, page_link, percent, user_errors
from ensemble_core import figures
from ensemble_core.registry import BASE_LEARNER_SPECS, BUILD_METHOD_SPECS, build_method

METHOD_LABELS = {s.name: s.label for s in BUILD_METHOD_SPECS}
BASE_LABELS = {s.name: s.label for s in BASE_LEARNER_SPECS}
ss = st.session_state
ss.setdefault("lab_members", 50)

loaded = current()
demo = loaded.source.demo
if demo is None:
    st.info("The lab learns from a bundled demo's training split and measures on its test split (the rows the "
            "other pages show). Pick a demo on the Start page to use it.", icon=":material/info:")
    st.stop()
data = None
with user_errors():
    data = lab_data(demo)
if data is None:
    st.stop()
st.caption(f"Learns from the demo's training split ({len(data.y_train):,} rows) and measures on its test split "
           f"({len(data.y_test):,} rows, the examples the other pages show); features: "
           f"{'TF-IDF of ' if data.features.kind == 'tfidf' else ''}{literal(data.features.source)}.")

left, mid, right = st.columns([1.3, 1.3, 2])
method = left.selectbox("Method", list(METHOD_LABELS), format_func=METHOD_LABELS.get, key="lab_method")
spec = build_method(method)
base = mid.selectbox("Base learner", list(BASE_LABELS), format_func=BASE_LABELS.get, key="lab_base",
                     disabled=not spec.takes_base,
                     help=None if spec.takes_base else f"{spec.label} grows trees of its own.")
base = base if spec.takes_base else "tree"
top = members_cap(base, data.features)
if ss.get("lab_members", 0) > top:
    ss["lab_members"] = top
members = right.slider("Members", 1, top, key="lab_members",
                       help=f"At most {top} with this base learner, so that the lab answers within seconds.")
st.caption(literal(spec.help) + " " + literal(BASE_LABELS[base] + ": " +
                                                next(s.help for s in BASE_LEARNER_SPECS if s.name == base)))
if st.button("Build", icon=":material/construction:", type="primary", key="lab_build"):
    before = ss.get(K.LAB_JOB)
    if before is not None:
        before.stop.set()  # a run still training gives way to the new one
    with user_errors():
        ss[K.LAB_JOB] = start_lab_job((demo, method, base, members))


@st.fragment(run_every=0.5)
def training(job: LabJob) -> None:
    """Progress and a Stop button while the job trains; the whole page reruns when it ends."""
    if not job.running:
        st.rerun()
    st.progress(job.built / job.run[3], text=f"Fitting {METHOD_LABELS[job.run[1]].lower()}: {job.built} of "
                f"{job.run[3]} members built" + (", stopping after this one…" if job.stop.is_set() else "…"))
    st.button("Stop", icon=":material/stop_circle:", key="lab_stop", on_click=job.stop.set,
              disabled=job.stop.is_set(), help="Stop after the member being fitted; the members built so far "
              "are kept and shown.")


job = ss.get(K.LAB_JOB)
run = curve = None
if job is not None and job.run[0] == demo:
    if job.running:
        training(job)
    elif job.error is not None:
        with user_errors():
            raise job.error
    else:
        curve, run = job.curve, job.shown_run
if curve is not None:
    if job.stop.is_set() and run[3] < job.run[3]:
        st.info(f"Stopped after {run[3]} of {job.run[3]} members: the curve shows the members built (the same "
                f"as building {run[3]}).", icon=":material/stop_circle:")
    st.plotly_chart(figures.growth_figure(
        curve.sizes, curve.train_accuracy, curve.test_accuracy, curve.base_train_accuracy,
        curve.base_test_accuracy, curve.diversity,
        title=f"{METHOD_LABELS[run[1]]} of {BASE_LABELS[run[2]].lower()}s"), width="stretch", config=CHART_CONFIG)
    cols = st.columns(4)
    cols[0].metric("Held-out accuracy", percent(float(curve.test_accuracy[-1])), f"{run[3]} members",
                   delta_color="off", delta_arrow="off")
    cols[1].metric("One base learner", percent(curve.base_test_accuracy))
    cols[2].metric("Gain", f"{100 * (float(curve.test_accuracy[-1]) - curve.base_test_accuracy):+.2f} pts")
    cols[3].metric("Train accuracy", percent(float(curve.train_accuracy[-1])))
    st.caption(f"Trained in {job.seconds:.1f} s (0 when it was already computed). Diversity is the mean "
               "pairwise disagreement of the first k members' held-out predictions: the more members "
               "differ, the more averaging them can fix.")
    with st.container(border=True):
        st.markdown("**Add these members to the explorer**: their predictions on the test split join the "
                    "loaded models, so the Ensemble, Disagreement and Diversity pages show them beside the "
                    "trained ones.")
        has_members = curve.member_test_probas is not None
        left, right = st.columns([2, 1], vertical_alignment="bottom")
        singles = left.number_input(
            "Single members to add besides the whole ensemble", 0,
            min(run[3], ADD_MEMBERS_MAX) if has_members else 0, min(3, run[3]) if has_members else 0,
            key="lab_add_singles", disabled=not has_members,
            help=("Each becomes a model of its own (averaging k of them on the Ensemble page gives the "
                  "curve's point at k)." if has_members else
                  "Gradient boosting's members are regression trees without class probabilities of their own."))
        names = lab_model_names(run[1], run[2], run[3], singles)
        if right.button("Add to the explorer", icon=":material/add_circle:", key="lab_add",
                        disabled=set(names) <= set(loaded.pset.names)) and add_lab_members(run, curve, singles):
            st.rerun()
        st.caption(f"Adds {literal(', '.join(names))}.")
        page_link(ENSEMBLE, "Combine them on the Ensemble page")


if curve is not None and run[1] == "adaboost":
    st.subheader("Which examples boosting leans on", divider="gray")
    weights = None
    with user_errors(), st.spinner("Replaying AdaBoost's rounds…"):
        weights = cached_boosting_weights(run[0], run[2], run[3])
    if weights is not None:
        top = leaned_on(weights, LEANED_ON)
        rounds = weights.shape[0]
        st.markdown(f"Every training example starts at weight 1/{weights.shape[1]:,}; after each round, those the "
                    "new member got wrong weigh more, so the next member works on them. The "
                    f"{len(top)} examples weighing most before the last round:")
        st.dataframe(pd.DataFrame({
            "example": [data.train_names[r] for r in top], "class": [str(data.classes[data.y_train[r]]) for r in top],
            "text": [data.train_text[r][:200] for r in top],
            "× uniform, round 1": weights[0, top] * weights.shape[1],
            f"× uniform, round {(rounds + 1) // 2}": weights[(rounds - 1) // 2, top] * weights.shape[1],
            f"× uniform, round {rounds}": weights[-1, top] * weights.shape[1],
        }), hide_index=True, width="stretch", column_config={
            c: st.column_config.NumberColumn(format="%.1f") for c in ("× uniform, round 1",
                                                                      f"× uniform, round {(rounds + 1) // 2}",
                                                                      f"× uniform, round {rounds}")})
        st.caption("Training examples (the explorer's other pages show the test split): their weights relative "
                   "to the uniform start.")

st.subheader("Bias and variance", divider="gray")
st.markdown(f"Each learner is trained on {BV_ROUNDS} bootstrap resamples of the training rows; on every held-out "
            "row, its *main prediction* is the class it predicts most often. **Bias**: the share of rows where "
            "the main prediction is wrong. **Net variance**: what the resamples' disagreement adds to the loss "
            "(Domingos, *A unified bias-variance decomposition*, ICML 2000). Bagging should lower variance; "
            "boosting, bias.")
slow = bias_variance_too_slow(data.features)
if slow:
    st.caption(literal(slow))
if st.button(f"Decompose: {BASE_LABELS[base].lower()} alone, bagged and boosted ({BV_MEMBERS} members)",
             icon=":material/stacked_bar_chart:", key="lab_bv_button", disabled=bool(slow)):
    ss[K.LAB_BV] = (demo, base)
asked = ss.get(K.LAB_BV)
if asked is not None and asked[0] == demo:
    with user_errors(), st.spinner("Training on each resample…", show_time=True):
        parts = cached_bias_variance(*asked)
        names = list(parts)
        st.plotly_chart(figures.bias_variance_figure(names, [p.bias for p in parts.values()],
                                                     [p.net_variance for p in parts.values()]), width="stretch",
                        config=CHART_CONFIG)
        st.dataframe(pd.DataFrame({"learner": names, "loss": [p.loss for p in parts.values()],
                                   "bias": [p.bias for p in parts.values()],
                                   "variance": [p.variance for p in parts.values()],
                                   "net variance": [p.net_variance for p in parts.values()]}),
                     hide_index=True, width="stretch",
                     column_config={c: st.column_config.NumberColumn(format="%.4f")
                                    for c in ("loss", "bias", "variance", "net variance")})
