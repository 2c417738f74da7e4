"""Learn: a guided walk through voting, averaging and stacking on the loaded data."""

import streamlit as st

from dashboard.actions import current, set_view
from dashboard.navigation import BUILD_LAB, DISTILL, ENSEMBLE, LANGUAGE_MODELS, MERGE
from dashboard.text import literal
from dashboard.ui import (
    BEST_ON_ALL_ROWS,
    CHART_CONFIG,
    model_colours,
    number_or_dash,
    page_link,
    percent,
    points_column,
    signed_points,
    user_errors,
)
from ensemble_core import figures
from ensemble_core.build.why import independence_gap, jury_curve, voting_split
from ensemble_core.explore import example_probabilities
from ensemble_core.io import label_key
from ensemble_core.labels_only import is_labels_only
from ensemble_core.registry import strategy

#: Above this many examples, stacking is fitted only when asked (it takes a while).
STACKING_AUTO_LIMIT = 20_000

loaded = current()
ev, pset = loaded.evaluator, loaded.pset
names = pset.names
equal = {n: 1.0 for n in names}
acc = {n: ev.model_metrics_[n].accuracy for n in names}
weakest = min(names, key=acc.get)
labels_only = [n for n, hard in zip(names, is_labels_only(pset)) if hard]


def step(number: int, title: str) -> st.delta_generator.DeltaGenerator:
    box = st.container(border=True)
    box.subheader(f"{number} · {title}")
    return box


def strategy_step(number: int, name: str, tagline: str) -> st.delta_generator.DeltaGenerator:
    """A step about one strategy: its label, help and formula as the registry declares them."""
    spec = strategy(name)
    box = step(number, f"{spec.label}: {tagline}")
    box.markdown(spec.help)
    box.latex(spec.formula)
    return box


def set_controls(label: str, **view) -> None:
    """A step's button: set the live controls and say so (a toast: the controls are on the Ensemble page)."""
    set_view(**view)
    st.toast(f"Controls set: {label.removeprefix('Set the controls: ')}. The Ensemble page now uses them.",
             icon=":material/tune:")


def try_button(box, label: str, key: str, **view) -> None:
    box.button(label, key=key, on_click=set_controls, args=(label,), kwargs=view, icon=":material/tune:")


def outcome(box, result, label: str) -> None:
    cols = box.columns(3)
    cols[0].metric(label, percent(result.metrics.accuracy))
    cols[1].metric(f"Gain over the {BEST_ON_ALL_ROWS}", signed_points(result.gain))
    cols[2].metric("Fixes / breaks", f"{result.fixes} / {result.breaks}")
    # Keyed by the step: two strategies can fix and break the same examples (an identical chart).
    box.plotly_chart(figures.fixes_breaks_figure(result.fixes, result.breaks, best=ev.best_name_), width="stretch",
                     config=CHART_CONFIG, key=f"learn_outcome::{label}")


with user_errors():
    hard = ev.evaluate("hard", list(equal.values()))
    soft = ev.evaluate("soft", list(equal.values()))
    geo = ev.evaluate("geometric", list(equal.values()))
    reweighted = ev.evaluate("soft", [0.0 if n == weakest else 1.0 for n in names]) if len(names) > 1 else soft

    box = step(1, "The members, and the ceiling")
    box.markdown(
        f"{len(names)} models. The best alone is **{literal(ev.best_name_)}** at {percent(ev.best_accuracy_)}. "
        f"The *oracle*, which counts an example as right when **any** model is, reaches "
        f"{percent(ev.oracle_accuracy_)}: no way of combining these models can do better, and the gap "
        f"({signed_points(ev.oracle_accuracy_ - ev.best_accuracy_)}) is what combining could gain at most. "
        f"The models disagree on {percent(ev.disagreement_rate_, 1)} of the examples; without disagreement, "
        "there is nothing to gain."
    )
    box.plotly_chart(figures.model_accuracy_figure(names, [acc[n] for n in names], ensemble=soft.metrics.accuracy,
                                                   oracle=ev.oracle_accuracy_, colours=model_colours(loaded)),
                     width="stretch", config=CHART_CONFIG)

    box = strategy_step(2, "hard", "one model, one vote")
    box.markdown(
        "The class with most votes wins (a tie goes to the class that sorts first). It ignores how sure "
        "each model is: a 51 % guess counts as much as a 99 % certainty."
    )
    outcome(box, hard, "Hard vote accuracy")
    try_button(box, "Set the controls: hard vote, equal weights", "learn_hard", strategy="hard", weights=equal)

    box = strategy_step(3, "soft", "confidence counts")
    change = soft.metrics.accuracy - hard.metrics.accuracy
    box.markdown(
        "The top class of the average wins. A model that is sure can outvote two that "
        f"hesitate. Here that changes accuracy by {signed_points(change)} against hard voting. Averaging also "
        f"gives probabilities, so it has a log loss ({number_or_dash([soft.metrics.log_loss], 3)[0]}); a badly "
        "calibrated member can pull it off course."
    )
    outcome(box, soft, "Soft average accuracy")
    row = voting_split(pset.y_true, hard.y_pred, soft.y_pred, soft.probas)
    if row is None:
        box.caption("On these examples hard and soft voting never pick different classes.")
    else:
        hard_i, soft_i, true_i = int(hard.y_pred[row]), int(soft.y_pred[row]), int(pset.y_true[row])
        cls = [literal(label_key(c)) for c in pset.classes]
        example = pset.ids[row] if pset.ids is not None else f"row {row + 1}"
        box.markdown(
            f"**A worked example** where they differ: {literal(example)} (true class **{cls[true_i]}**). The hard "
            f"vote picks **{cls[hard_i]}** ({percent(hard.probas[row, hard_i])} of the votes); the soft average "
            f"picks **{cls[soft_i]}** (average probability {percent(soft.probas[row, soft_i])}). "
            + ("Confidence outvoted the majority, rightly." if soft_i == true_i else
               "Here the majority was right." if hard_i == true_i else "Neither is right here.")
        )
        stack, rows = example_probabilities(ev, soft, row)
        box.plotly_chart(figures.example_probabilities_figure(stack, [*rows[:-1], "soft average"], pset.classes,
                                                              true_index=true_i), width="stretch",
                         config=CHART_CONFIG)
    try_button(box, "Set the controls: soft average, equal weights", "learn_soft", strategy="soft", weights=equal)

    box = step(4, "Weights: trust some models more")
    if len(names) > 1:
        box.markdown(
            f"The weakest model is **{literal(weakest)}** ({percent(acc[weakest])}). Giving it weight 0 leaves it "
            f"out of the average: accuracy {percent(reweighted.metrics.accuracy)} "
            f"({signed_points(reweighted.metrics.accuracy - soft.metrics.accuracy)} against equal weights). "
            "A weak model can still help when its mistakes differ from the others' — the Diversity page shows "
            "which do. Weights tuned on the same examples you score them on flatter the result; tune on a "
            "validation split."
        )
        outcome(box, reweighted, f"Soft average without {literal(weakest)}")
        try_button(box, f"Set the controls: soft average, {literal(weakest)} at weight 0", "learn_weights",
                   strategy="soft", weights={**equal, weakest: 0.0})
    else:
        box.markdown("With one model there is nothing to weigh; include more on Data & models.")

    box = strategy_step(5, "geometric", "a model can veto")
    box.markdown(
        "A class that any model thinks nearly impossible stays unlikely, so the ensemble is more cautious "
        "than the plain average. "
        f"Here: {signed_points(geo.metrics.accuracy - soft.metrics.accuracy)} against soft averaging."
    )
    if labels_only:
        box.markdown(
            f"{literal(', '.join(labels_only))} {'gives' if len(labels_only) == 1 else 'give'} labels only. A bare "
            "one-hot row has zeros, so in the geometric mean it would veto every class it did not pick and the "
            "ensemble would simply be that model; here it enters label-smoothed "
            f"(ε = {pset.smoothing:g}), so the other models can outvote it."
        )
    for note in geo.warnings:
        box.warning(literal(note[0].upper() + note[1:] + "."), icon=":material/warning:")
    outcome(box, geo, "Geometric mean accuracy")
    try_button(box, "Set the controls: geometric mean, equal weights", "learn_geo", strategy="geometric",
               weights=equal)

    box = strategy_step(6, "stacking", "learn how to combine")
    box.markdown(
        "The *meta-learner* takes every model's probabilities as input and learns which model to trust "
        "for which class. It must never be scored on the examples it learned from, so "
        "the examples are split into 5 folds and each fold is predicted by a meta-learner fitted on the other "
        "four: every number below is **out-of-fold**. Stacking ignores the weight sliders."
    )
    run_stacking = pset.n_samples <= STACKING_AUTO_LIMIT or box.button("Fit the meta-learner", key="learn_fit")
    if run_stacking:
        with st.spinner("Fitting logistic regression out-of-fold…"):
            stacked = ev.evaluate("stacking", meta="logistic")
        outcome(box, stacked, "Stacking accuracy (out-of-fold)")
    try_button(box, "Set the controls: stacking with logistic regression", "learn_stack", strategy="stacking",
               meta="logistic")

    box = step(7, "Why ensembles work: independent mistakes")
    if len(names) > 1:
        gap = independence_gap(ev.correct_)
        mean_acc = gap.mean_accuracy
        sizes = list(range(1, 26, 2))
        box.markdown(
            f"Condorcet's jury theorem: if voters are each right more often than not and **err independently**, a "
            f"majority of more of them is right more often. Independent voters each {percent(mean_acc)} right "
            f"(the models' mean accuracy) would follow the curve. The {len(names)} loaded models' strict majority "
            f"is right on **{percent(gap.actual)}** of the examples; with independent errors it would be "
            f"{percent(gap.independent)}. Their errors correlate ({gap.mean_error_correlation:.2f} on average, "
            "pair by pair): the more alike their mistakes, the less a vote can fix."
        )
        box.plotly_chart(figures.jury_figure(sizes, jury_curve(mean_acc, sizes), mean_acc, actual=gap.actual,
                                             n_models=len(names)), width="stretch", config=CHART_CONFIG)
        with box:
            page_link(BUILD_LAB, "Build lab: grow an ensemble and watch it happen", ":material/construction:")
    else:
        box.markdown("Load two or more models to compare their real majority with independent voters.")

    st.subheader("All together", divider="gray")
    summary = {"hard vote": hard, "soft average": soft, f"soft average without {weakest}": reweighted,
               "geometric mean": geo}
    if run_stacking:
        summary["stacking (logistic, out-of-fold)"] = stacked
    st.dataframe(
        {"strategy": list(summary), "accuracy": [r.metrics.accuracy for r in summary.values()],
         "gain over best": [100 * r.gain for r in summary.values()],
         "log loss": number_or_dash(r.metrics.log_loss for r in summary.values())},
        hide_index=True,
        column_config={"accuracy": st.column_config.NumberColumn(format="percent"),
                       "gain over best": points_column(),
                       "log loss": st.column_config.TextColumn(help="A dash for the hard vote (vote shares are not "
                                                               "probabilities) and for labels-only models alone.")},
    )
    page_link(ENSEMBLE, "Open the Ensemble page with the controls you set")

#: The closing section: the families beyond combining outputs, each in plain words with a link to its page.
BEYOND = (
    (DISTILL, "Distillation: one model that learned from the ensemble",
     "An ensemble runs every member for each prediction. Distillation trains one small student on the "
     "ensemble's probabilities as well as the labels, so it keeps some of the ensemble's gain at one model's "
     "cost; the page compares it with the same student trained on the labels alone."),
    (MERGE, "Merging: average the weights, not the outputs",
     "Models fine-tuned from one start can be averaged parameter by parameter into one model (a model soup). "
     "It costs one model to run, and it works only when the models share a start: the page shows the barrier "
     "when they do not."),
    (LANGUAGE_MODELS, "Language-model fusion: combine next-word guesses",
     "The same pooling ideas apply to language models: average each model's next-token probabilities, or "
     "their logarithms (like the geometric mean above). The page measures the pool on your text, with a "
     "weight per model."),
)
st.subheader("Beyond combining outputs", divider="gray")
for column, (entry, title, text) in zip(st.columns(len(BEYOND)), BEYOND):
    with column:
        st.markdown(f"**{title}**")
        st.markdown(text)
        page_link(entry, f"Open {entry.title}")
