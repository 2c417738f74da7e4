"""What the dashboard shows, computed without any UI: the model table and its
warnings, example filters, confusion-cell listings, pair gains, the formula with
the current weights, and the exports.

Every function takes an :class:`~ensemble_core.EnsembleEvaluator` (and an
:class:`~ensemble_core.EnsembleResult` where weights matter) and returns plain
data, so pages only read widgets, call these, and draw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from . import registry
from ._validation import EnsembleInputError
from .decision import decide
from .disagreement import DiversityMatrices, example_disagreement
from .ensemble import EnsembleEvaluator, EnsembleResult
from .io import label_key
from .labels_only import is_labels_only
from .stacking import meta_learner_name

#: A member whose accuracy is this far (absolute) below the other members' median is flagged.
WEAK_MARGIN = 0.10
#: A member with probabilities whose expected calibration error exceeds this is flagged.
ECE_LIMIT = 0.10

ExampleFilter = Literal["all", "fixes", "breaks", "all_wrong", "split", "ensemble_wrong"]
EXAMPLE_FILTERS: dict[str, str] = {
    "all": "All examples",
    "split": "Models split (not unanimous)",
    "fixes": "Ensemble fixes (right where the best model is wrong)",
    "breaks": "Ensemble breaks (wrong where the best model is right)",
    "ensemble_wrong": "Ensemble wrong",
    "all_wrong": "All models wrong",
}

STRATEGY_LABELS: dict[str, str] = {
    "hard": "Hard vote",
    "soft": "Soft average",
    "geometric": "Geometric mean",
    "stacking": "Stacking",
}


def model_table(evaluator: EnsembleEvaluator) -> pd.DataFrame:
    """One row per model: its kind and metrics, in the set's model order.

    Returns
    -------
    DataFrame with columns ``model``, ``output`` ("probabilities" or "labels only"),
    ``accuracy``, ``macro_f1``, ``log_loss`` (NaN for labels-only models), ``brier``, ``ece``.
    """
    pset = evaluator.pset
    rows = []
    for m, name in enumerate(pset.names):
        met = evaluator.model_metrics_[name]
        rows.append(
            {
                "model": name,
                "output": "labels only" if pset.hard[m] else "probabilities",
                "accuracy": met.accuracy,
                "macro_f1": met.macro_f1,
                "log_loss": np.nan if met.log_loss is None else met.log_loss,
                "brier": met.brier,
                "ece": met.ece,
            }
        )
    return pd.DataFrame(rows)


def model_warnings(
    evaluator: EnsembleEvaluator, *, weak_margin: float = WEAK_MARGIN, ece_limit: float = ECE_LIMIT
) -> list[str]:
    """Sentences about members that may hurt the ensemble.

    A member is *much weaker* when its accuracy is more than ``weak_margin`` below
    the median accuracy of the other members, and *badly calibrated* when it gives
    probabilities and its ECE exceeds ``ece_limit`` (labels-only models have no
    confidence to calibrate).
    """
    pset = evaluator.pset
    acc = np.array([evaluator.model_metrics_[n].accuracy for n in pset.names])
    out = []
    for m, name in enumerate(pset.names):
        met = evaluator.model_metrics_[name]
        if pset.n_models > 1:
            others = float(np.median(np.delete(acc, m)))
            if acc[m] < others - weak_margin:
                out.append(
                    f"{name} is much weaker than the rest: accuracy {acc[m]:.1%} against the others' "
                    f"median {others:.1%}. A low weight or excluding it may help the ensemble."
                )
        if not pset.hard[m] and met.ece > ece_limit:
            out.append(
                f"{name} is badly calibrated: expected calibration error {met.ece:.3f} (above {ece_limit:g}); "
                "its confidence does not match how often it is right, which skews soft and geometric averaging."
            )
    return out


def example_mask(evaluator: EnsembleEvaluator, result: EnsembleResult, kind: str) -> np.ndarray:
    """Which examples pass one of :data:`EXAMPLE_FILTERS`, shape (n_samples,), bool.

    Fixes and breaks are relative to the best single model, as in
    :attr:`EnsembleResult.fixes`.
    """
    n = evaluator.pset.n_samples
    ens_right = result.y_pred == evaluator.pset.y_true
    best_right = evaluator.correct_[evaluator.best_index_]
    if kind == "all":
        return np.ones(n, dtype=bool)
    if kind == "fixes":
        return ens_right & ~best_right
    if kind == "breaks":
        return ~ens_right & best_right
    if kind == "ensemble_wrong":
        return ~ens_right
    if kind == "all_wrong":
        return ~evaluator.correct_.any(axis=0)
    if kind == "split":
        return (evaluator.labels_ != evaluator.labels_[:1]).any(axis=0)
    raise EnsembleInputError(f"unknown example filter {kind!r}; expected one of {', '.join(EXAMPLE_FILTERS)}")


def examples_table(
    evaluator: EnsembleEvaluator,
    result: EnsembleResult,
    *,
    kind: str = "all",
    true_classes: Sequence | None = None,
    predicted_classes: Sequence | None = None,
) -> pd.DataFrame:
    """The examples passing a filter, most disagreed-on first.

    Sorted by vote entropy, then by the spread of the true class's probability
    over models (both descending). The index is the example's row number (0-based)
    in the prediction set. Columns as :func:`~ensemble_core.example_disagreement`.

    Parameters
    ----------
    kind : one of :data:`EXAMPLE_FILTERS`
    true_classes, predicted_classes : optional class labels to keep (by true label,
        by the ensemble's predicted label); None or empty keeps all.
    """
    pset = evaluator.pset
    mask = example_mask(evaluator, result, kind)
    keys = np.array([label_key(c) for c in pset.classes])
    if true_classes:
        mask &= np.isin(keys[pset.y_true], [label_key(c) for c in true_classes])
    if predicted_classes:
        mask &= np.isin(keys[result.y_pred], [label_key(c) for c in predicted_classes])
    table = example_disagreement(pset, evaluator.labels_, result.y_pred, result.probas)
    table = table[mask]
    return table.sort_values(
        ["vote_entropy", "true_proba_spread"], ascending=False, kind="stable"
    )


def example_probabilities(
    evaluator: EnsembleEvaluator, result: EnsembleResult, row: int
) -> tuple[np.ndarray, list[str]]:
    """One example's probabilities, every model's and then the ensemble's.

    Returns
    -------
    probas : ndarray of shape (n_models + 1, n_classes)
    names : the row labels; a labels-only model's says its row is label-smoothed (as it enters
        every combination), the ensemble's when it holds vote shares (hard voting)
    """
    pset = evaluator.pset
    stack = np.vstack([pset.probas[:, row, :], result.probas[row][None, :]])
    names = [f"{n} (labels only, ε = {pset.smoothing:g})" if hard else n
             for n, hard in zip(pset.names, is_labels_only(pset))]
    return stack, [*names, "ensemble" + ("" if result.has_probas else " (vote shares)")]


def overview_points(evaluator: EnsembleEvaluator, result: EnsembleResult) -> tuple[np.ndarray, ...]:
    """For the every-example scatter: the share of models right, the ensemble's
    confidence in its prediction, and whether it is right; each of shape (n_samples,)."""
    n = evaluator.pset.n_samples
    return (evaluator.correct_.mean(axis=0), result.probas[np.arange(n), result.y_pred],
            result.y_pred == evaluator.pset.y_true)


def cell_examples(
    evaluator: EnsembleEvaluator,
    result: EnsembleResult,
    true_index: int,
    predicted_index: int,
    *,
    model: str | None = None,
    by: Literal["ensemble", "model", "either"] = "ensemble",
    text_column: str | None = None,
) -> pd.DataFrame:
    """The examples in one confusion-matrix cell.

    Rows whose true class is ``true_index`` and whose prediction is
    ``predicted_index``: the ensemble's (``by="ensemble"``), ``model``'s
    (``by="model"``), or either's (``by="either"``, for a cell of the difference
    matrix). The index is the example's row. Columns: ``id`` (when present),
    ``true``, ``ensemble`` and its confidence, ``model``'s label and confidence
    when given, and ``text_column`` of the content when given.
    """
    pset = evaluator.pset
    y = pset.y_true
    if by != "ensemble" and model is None:
        raise EnsembleInputError(f"by={by!r} needs a model to compare with")
    ens_in = result.y_pred == predicted_index
    model_in = evaluator.labels_[pset.names.index(model)] == predicted_index if model is not None else ens_in
    in_cell = (y == true_index) & {"ensemble": ens_in, "model": model_in, "either": ens_in | model_in}[by]
    table = example_disagreement(pset, evaluator.labels_, result.y_pred, result.probas)
    cols = ["id"] if pset.ids is not None else []
    cols += ["true", "ensemble", "ensemble_confidence"]
    if model is not None:
        cols += [model, f"{model}_confidence"]
    table = table.loc[in_cell, cols]
    if text_column is not None and pset.content is not None and text_column in pset.content.columns:
        table[text_column] = pset.content[text_column].to_numpy()[in_cell]
    return table


def pair_table(evaluator: EnsembleEvaluator, diversity: DiversityMatrices) -> pd.DataFrame:
    """Every pair of models and what combining the two adds.

    Returns
    -------
    DataFrame, one row per unordered pair, sorted by ``average_gain`` then
    ``oracle_gain`` (descending), with columns ``pair``, ``better_accuracy`` (the
    better member's), ``average_accuracy`` (equal-weight soft average of the two),
    ``average_gain`` (that minus the better member's), ``oracle_gain`` (share of
    examples one of the two gets right, minus the better member's accuracy),
    ``disagreement``, ``error_correlation`` and ``double_fault``.
    """
    pset = evaluator.pset
    correct = evaluator.correct_
    acc = correct.mean(axis=1)
    rows = []
    for a in range(pset.n_models):
        for b in range(a + 1, pset.n_models):
            avg = decide(0.5 * (pset.probas[a] + pset.probas[b]))  # the equal-weight soft vote's rule
            better = max(acc[a], acc[b])
            avg_acc = float(np.mean(avg == pset.y_true))
            rows.append(
                {
                    "pair": f"{pset.names[a]} + {pset.names[b]}",
                    "better_accuracy": better,
                    "average_accuracy": avg_acc,
                    "average_gain": avg_acc - better,
                    "oracle_gain": float(np.mean(correct[a] | correct[b])) - better,
                    "disagreement": diversity.disagreement[a, b],
                    "error_correlation": diversity.error_correlation[a, b],
                    "double_fault": diversity.double_fault[a, b],
                }
            )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return table.sort_values(["average_gain", "oracle_gain"], ascending=False, kind="stable").reset_index(drop=True)


def _tex_name(name: str) -> str:
    """A model name inside ``\\text{}``, with LaTeX's special characters escaped."""
    special = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "^": r"\^{}",
               "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "~": r"\~{}"}
    return r"\text{" + "".join(special.get(ch, ch) for ch in name) + "}"


@dataclass(frozen=True)
class Equation:
    """One equation of a combination rule, in LaTeX: ``lhs = opening term₁ joiner term₂ … closing``.

    ``joiner`` is ``"+"`` (a sum) or ``","`` (a function's arguments). The rule is drawn
    either as one ``aligned`` block (:func:`formula_latex`) or as pieces that each render
    alone, so that a page can let them wrap to its width (:func:`formula_pieces`).
    """

    lhs: str
    terms: tuple[str, ...]
    joiner: str = "+"
    opening: str = ""
    closing: str = ""
    #: A last term after the sum, on its own (``- \\log Z(x)``).
    tail: str = ""


def _aligned(equations: Sequence[Equation], *, per_line: int = 3) -> str:
    """An ``aligned`` block, each equation's terms wrapped every ``per_line``."""
    out = []
    for eq in equations:
        inside, wrap = (", ", r", \\ &\quad ") if eq.joiner == "," else (f" {eq.joiner} ", rf" \\ &\quad {eq.joiner} ")
        chunks = [inside.join(eq.terms[i : i + per_line]) for i in range(0, len(eq.terms), per_line)]
        out.append(eq.lhs + " &= " + eq.opening + wrap.join(chunks) + eq.closing + eq.tail)
    return r"\begin{aligned}" + r" \\ ".join(out) + r"\end{aligned}"


def _equations(strategy: str, names: Sequence[str], weights: np.ndarray | None, meta) -> list[Equation]:
    try:
        spec = registry.strategy(strategy)
    except KeyError:
        raise EnsembleInputError(f"unknown strategy {strategy!r}") from None
    if spec.uses_weights and weights is None:
        raise EnsembleInputError(f"strategy {strategy!r} needs weights")
    return spec.latex()(names, weights, meta=meta)


def formula_latex(
    strategy: str, names: Sequence[str], weights: np.ndarray | None, *, meta: str = "logistic"
) -> str:
    """The ensemble's combination rule with the current (normalised) weights, as LaTeX.

    Each strategy's own function writes its equations (its ``latex_path`` in
    :data:`~ensemble_core.registry.STRATEGY_SPECS`: :func:`hard_latex`, :func:`soft_latex`,
    :func:`geometric_latex`, :func:`stacking_latex`); this draws them as one ``aligned``
    block, three terms a line.

    Parameters
    ----------
    strategy : a name in :data:`~ensemble_core.registry.STRATEGIES`
    names : model names
    weights : normalised weights of shape (n_models,), or None for stacking

    Examples
    --------
    >>> print(formula_latex("soft", ["rf", "knn"], np.array([0.75, 0.25])))
    \\begin{aligned}p(c \\mid x) &= 0.75\\,p_{\\text{rf}}(c \\mid x) + 0.25\\,p_{\\text{knn}}(c \\mid x)\\end{aligned}
    """
    return _aligned(_equations(strategy, names, weights, meta))


def formula_pieces(
    strategy: str, names: Sequence[str], weights: np.ndarray | None, *, meta: str = "logistic"
) -> list[list[str]]:
    r"""The same rule as :func:`formula_latex`, cut into pieces that each render alone: per
    equation, ``lhs = term₁``, then ``{} + term₂``, … (or ``term₂,`` for a function's arguments).
    Laid side by side in a wrapping row, they break between terms at any width; a display
    formula cannot (it is cut or scrolls).

    Examples
    --------
    >>> print(*formula_pieces("soft", ["rf", "knn"], np.array([0.75, 0.25]))[0], sep="\n")
    p(c \mid x) = 0.75\,p_{\text{rf}}(c \mid x)
    {} + 0.25\,p_{\text{knn}}(c \mid x)
    >>> print(*formula_pieces("stacking", ["rf", "knn"], None)[0], sep="\n")
    p(c \mid x) = g_{\text{logistic}}\big(p_{\text{rf}}(x),\;
    p_{\text{knn}}(x)\big)_c
    """
    rows = []
    for eq in _equations(strategy, names, weights, meta):
        if eq.joiner == ",":
            pieces = [t + r",\;" for t in eq.terms[:-1]] + [eq.terms[-1]]
        else:
            pieces = [eq.terms[0]] + [f"{{}} {eq.joiner} {t}" for t in eq.terms[1:]]  # {}: a binary +
        pieces[0] = f"{eq.lhs} = {eq.opening}{pieces[0]}"
        pieces[-1] += eq.closing
        rows.append(pieces + ([f"{{}}{eq.tail}"] if eq.tail else []))
    return rows


def stacking_latex(names: Sequence[str], weights: None = None, *, meta: str = "logistic") -> list[Equation]:
    """Stacking's rule: the meta-learner ``g`` over every model's probabilities."""
    args = tuple(rf"p_{{{_tex_name(n)}}}(x)" for n in names)
    name = _tex_name(meta_learner_name(meta))
    return [Equation(r"p(c \mid x)", args, ",", opening=rf"g_{{{name}}}\big(", closing=r"\big)_c")]


def hard_latex(names: Sequence[str], weights: np.ndarray, *, meta: str = "logistic") -> list[Equation]:
    """Hard voting's rule: the weighted count of votes, and its top class."""
    terms = tuple(rf"{w:.2f}\,[\hat y_{{{_tex_name(n)}}}(x) = c]" for n, w in zip(names, weights))
    return [Equation(r"\hat y(x)", (r"\arg\max_c \, \mathrm{votes}(c)",)), Equation(r"\mathrm{votes}(c)", terms)]


def soft_latex(names: Sequence[str], weights: np.ndarray, *, meta: str = "logistic") -> list[Equation]:
    """Soft voting's rule: the weighted average of probabilities."""
    terms = tuple(rf"{w:.2f}\,p_{{{_tex_name(n)}}}(c \mid x)" for n, w in zip(names, weights))
    return [Equation(rf"p(c \mid x)", terms)]


def geometric_latex(names: Sequence[str], weights: np.ndarray, *, meta: str = "logistic") -> list[Equation]:
    """Geometric voting's rule: the log-linear pool; Z(x) renormalises the product over the classes."""
    terms = tuple(rf"{w:.2f}\,\log p_{{{_tex_name(n)}}}(c \mid x)" for n, w in zip(names, weights))
    return [Equation(r"\log p(c \mid x)", terms, tail=r" - \log Z(x)")]


def ensemble_config(
    strategy: str,
    names: Sequence[str],
    weights: Mapping[str, float],
    *,
    meta: str = "logistic",
    folds: int = 5,
    seed: int = 0,
    excluded: Sequence[str] = (),
    labels_only_smoothing: float | None = None,
) -> dict:
    """The ensemble's configuration as a JSON-ready dict.

    ``weights`` are the user's raw weights by model name (only the included
    models'); stacking records its meta-learner, folds and seed instead, and says
    that weights are ignored. ``labels_only_smoothing`` (given when labels-only models
    are loaded) is the ε their rows were label-smoothed with.
    """
    config: dict = {"strategy": strategy, "models": list(names)}
    if not registry.strategy(strategy).uses_weights:
        config.update({"meta": meta, "folds": folds, "seed": seed, "weights": None,
                       "note": "stacking ignores weights; metrics are out-of-fold"})
    else:
        config["weights"] = {n: float(weights[n]) for n in names}
    if excluded:
        config["excluded"] = list(excluded)
    if labels_only_smoothing is not None:
        config["labels_only_smoothing"] = float(labels_only_smoothing)
    return config


def ensemble_predictions_frame(evaluator: EnsembleEvaluator, result: EnsembleResult) -> pd.DataFrame:
    """The ensemble's per-example predictions, ready to write as CSV.

    Columns: ``id`` (when the set has ids), ``label`` (true), ``prediction``,
    ``correct``, then one column per class with the ensemble's probability (vote
    share for hard voting).
    """
    pset = evaluator.pset
    classes = np.asarray(pset.classes, dtype=object)
    cols: dict[str, object] = {}
    if pset.ids is not None:
        cols["id"] = pset.ids
    cols["label"] = classes[pset.y_true]
    cols["prediction"] = classes[result.y_pred]
    cols["correct"] = result.y_pred == pset.y_true
    for c, key in enumerate(label_key(k) for k in pset.classes):
        cols[key] = result.probas[:, c]
    return pd.DataFrame(cols)
