"""ensemble_core.explore: the dashboard's tables, filters, formula and exports."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix

from ensemble_core import EnsembleEvaluator, EnsembleInputError, PredictionSet, load_prediction_set
from ensemble_core import explore


@pytest.fixture(scope="module")
def evaluator():
    rng = np.random.default_rng(3)
    n, k = 300, 3
    y = rng.integers(0, k, n)
    probas = rng.dirichlet(np.ones(k), size=(4, n)).astype(np.float32)
    # Model "good" is mostly right and confident; "weak" is the raw Dirichlet noise.
    probas[0] = 0.1 / (k - 1)
    probas[0, np.arange(n), y] = 0.9
    flip = rng.random(n) < 0.1
    probas[0, flip] = np.roll(probas[0, flip], 1, axis=1)
    hard = np.zeros_like(probas[1])
    hard[np.arange(n), probas[1].argmax(1)] = 1
    probas[1] = hard
    pset = PredictionSet(probas, y, np.array(["a", "b", "c"]), ("good", "labels", "weak1", "weak2"),
                         hard=np.array([False, True, False, False]), ids=np.array([f"r{i}" for i in range(n)]),
                         content=pd.DataFrame({"text": [f"t{i}" for i in range(n)]}))
    return EnsembleEvaluator(pset)


def test_model_table_matches_sklearn(evaluator):
    table = explore.model_table(evaluator)
    pset = evaluator.pset
    assert list(table["model"]) == list(pset.names)
    for m, row in table.iterrows():
        assert row["accuracy"] == pytest.approx(accuracy_score(pset.y_true, pset.probas[m].argmax(1)))
    assert table.loc[1, "output"] == "labels only" and np.isnan(table.loc[1, "log_loss"])


def test_model_warnings_flag_weak_and_not_labels_only_calibration(evaluator):
    warnings = explore.model_warnings(evaluator, weak_margin=0.05, ece_limit=0.05)
    assert not any("labels is badly calibrated" in w for w in warnings)
    assert explore.model_warnings(evaluator, weak_margin=1.0, ece_limit=1.0) == []
    strict = explore.model_warnings(evaluator, weak_margin=-1.0, ece_limit=1.0)
    assert len(strict) == evaluator.pset.n_models  # every model is "weaker" than others − (−1)


def test_example_masks_follow_their_definitions(evaluator):
    res = evaluator.evaluate("soft")
    y = evaluator.pset.y_true
    best = evaluator.correct_[evaluator.best_index_]
    ens = res.y_pred == y
    assert explore.example_mask(evaluator, res, "fixes").sum() == res.fixes
    assert explore.example_mask(evaluator, res, "breaks").sum() == res.breaks
    assert np.array_equal(explore.example_mask(evaluator, res, "fixes"), ens & ~best)
    assert np.array_equal(explore.example_mask(evaluator, res, "all_wrong"), ~evaluator.correct_.any(0))
    split = explore.example_mask(evaluator, res, "split")
    assert split.mean() == pytest.approx(evaluator.disagreement_rate_)
    with pytest.raises(EnsembleInputError, match="unknown example filter 'nope'"):
        explore.example_mask(evaluator, res, "nope")


def test_examples_table_filters_and_sorts(evaluator):
    res = evaluator.evaluate("soft")
    table = explore.examples_table(evaluator, res, kind="split", true_classes=["b"], predicted_classes=["a", "c"])
    assert set(table["true"]) <= {"b"} and set(table["ensemble"]) <= {"a", "c"}
    assert np.all(np.diff(table["vote_entropy"].to_numpy()) <= 1e-12)
    assert len(explore.examples_table(evaluator, res)) == evaluator.pset.n_samples


@pytest.mark.parametrize("by", ["ensemble", "model", "either"])
def test_cell_examples_match_confusion_counts(evaluator, by):
    res = evaluator.evaluate("hard")
    y = evaluator.pset.y_true
    model_pred = evaluator.labels_[0]
    cm_ens = confusion_matrix(y, res.y_pred, labels=[0, 1, 2])
    cm_model = confusion_matrix(y, model_pred, labels=[0, 1, 2])
    for i in range(3):
        for j in range(3):
            cell = explore.cell_examples(evaluator, res, i, j, model="good", by=by, text_column="text")
            if by == "ensemble":
                assert len(cell) == cm_ens[i, j]
            elif by == "model":
                assert len(cell) == cm_model[i, j]
            else:
                both = np.sum((y == i) & (res.y_pred == j) & (model_pred == j))
                assert len(cell) == cm_ens[i, j] + cm_model[i, j] - both
            assert list(cell.columns) == ["id", "true", "ensemble", "ensemble_confidence", "good",
                                          "good_confidence", "text"]
            assert (cell["text"] == [f"t{r}" for r in cell.index]).all()


def test_cell_examples_needs_model_to_compare(evaluator):
    with pytest.raises(EnsembleInputError, match="needs a model"):
        explore.cell_examples(evaluator, evaluator.evaluate("soft"), 0, 0, by="model")


def test_pair_table_gains(evaluator):
    from ensemble_core import diversity_matrices

    pairs = explore.pair_table(evaluator, diversity_matrices(evaluator.pset))
    assert len(pairs) == 6
    pset = evaluator.pset
    row = pairs[pairs["pair"] == "good + weak1"].iloc[0]
    avg = (pset.probas[0] + pset.probas[2]).argmax(1)
    acc = evaluator.correct_.mean(1)
    assert row["average_accuracy"] == pytest.approx(accuracy_score(pset.y_true, avg))
    assert row["average_gain"] == pytest.approx(row["average_accuracy"] - max(acc[0], acc[2]))
    assert row["oracle_gain"] >= 0
    assert pairs["average_gain"].is_monotonic_decreasing


@pytest.mark.parametrize("strategy", ["hard", "soft", "geometric", "stacking"])
def test_formula_shows_each_weight_and_escapes_names(strategy):
    names = ["rf_1", "50%", "knn"]
    w = np.array([0.5, 0.3, 0.2])
    tex = explore.formula_latex(strategy, names, None if strategy == "stacking" else w, meta="logistic")
    assert r"\text{rf\_1}" in tex and r"\text{50\%}" in tex
    if strategy != "stacking":
        for value in ("0.50", "0.30", "0.20"):
            assert value in tex
    else:
        assert r"g_{\text{logistic}}" in tex
    assert tex.startswith(r"\begin{aligned}") and tex.endswith(r"\end{aligned}")


def test_formula_wraps_long_sums():
    tex = explore.formula_latex("soft", [f"m{i}" for i in range(7)], np.full(7, 1 / 7))
    assert tex.count(r"\\") == 2  # three lines of at most three terms


@pytest.mark.parametrize("strategy", ["hard", "soft", "geometric", "stacking"])
def test_formula_pieces_cut_the_formula_between_terms(strategy):
    """Each piece renders alone (balanced braces; a \\big( closed in the same row), one piece per
    model, so a page can wrap the rule at any width; the terms are the aligned block's."""
    names = [f"model_{i}" for i in range(6)]
    w = None if strategy == "stacking" else np.full(6, 1 / 6)
    rows = explore.formula_pieces(strategy, names, w, meta="logistic")
    tex = explore.formula_latex(strategy, names, w, meta="logistic")
    for piece in (p for row in rows for p in row):
        assert piece.count("{") == piece.count("}") and "&" not in piece and r"\\" not in piece
    last = rows[-1]
    assert sum(r"\text{model\_" in p for p in last) == 6  # one model a piece
    flat = " ".join(p for row in rows for p in row)
    for name in names:
        assert flat.count(rf"\text{{{name.replace('_', chr(92) + '_')}}}") == tex.count(
            rf"\text{{{name.replace('_', chr(92) + '_')}}}") == 1
    if strategy == "geometric":
        assert last[-1] == r"{} - \log Z(x)" and tex.endswith(r" - \log Z(x)\end{aligned}")


def test_ensemble_config_is_json_ready():
    cfg = explore.ensemble_config("soft", ["a", "b"], {"a": 2.0, "b": 0.5, "c": 1.0}, excluded=["c"])
    assert json.loads(json.dumps(cfg)) == {"strategy": "soft", "models": ["a", "b"],
                                           "weights": {"a": 2.0, "b": 0.5}, "excluded": ["c"]}
    stack = explore.ensemble_config("stacking", ["a"], {"a": 1.0}, meta="mlp", folds=3, seed=4)
    assert stack["weights"] is None and (stack["meta"], stack["folds"], stack["seed"]) == ("mlp", 3, 4)


def test_predictions_export_reloads_as_a_prediction_file(evaluator, tmp_path):
    res = evaluator.evaluate("soft", [1, 1, 0, 2])
    frame = explore.ensemble_predictions_frame(evaluator, res)
    assert (frame["prediction"] == evaluator.pset.classes[res.y_pred]).all()
    labels = tmp_path / "labels.csv"
    frame[["id", "label"]].to_csv(labels, index=False)
    pred = tmp_path / "ensemble.csv"
    frame[["id", "a", "b", "c"]].to_csv(pred, index=False)
    back = load_prediction_set(labels, [pred])
    np.testing.assert_allclose(back.probas[0], res.probas, atol=1e-6)


@pytest.mark.parametrize("strategy", ["soft", "hard"])
def test_example_probabilities_and_overview_points(evaluator, strategy):
    result = evaluator.evaluate(strategy)
    stack, names = explore.example_probabilities(evaluator, result, 7)
    np.testing.assert_array_equal(stack[:4], evaluator.pset.probas[:, 7])
    np.testing.assert_array_equal(stack[4], result.probas[7])
    # The labels-only model's row is the label-smoothed one every combination reads, and says so.
    assert names[:4] == ["good", "labels (labels only, ε = 0.1)", "weak1", "weak2"]
    assert names[4] == ("ensemble (vote shares)" if strategy == "hard" else "ensemble")

    share_right, confidence, right = explore.overview_points(evaluator, result)
    y = evaluator.pset.y_true
    np.testing.assert_array_equal(right, result.y_pred == y)
    np.testing.assert_allclose(share_right, (evaluator.pset.probas.argmax(axis=2) == y).mean(axis=0))
    np.testing.assert_allclose(confidence, result.probas.max(axis=1))  # the predicted class is the top one


def test_the_stacking_formula_names_a_meta_learner_given_as_a_classifier():
    from sklearn.linear_model import LogisticRegression

    tex = explore.formula_latex("stacking", ["rf", "knn"], None, meta=LogisticRegression())
    assert r"g_{\text{LogisticRegression}}" in tex and r"p_{\text{knn}}(x)" in tex
