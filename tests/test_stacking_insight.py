"""What the meta-learner learned: checked against scikit-learn's own coef_ and permutation_importance."""

import json

import numpy as np
import pytest

from ensemble_core._folds import kfold_test_indices
from ensemble_core.decision import decide
from ensemble_core.stacking import cross_fit_stacking, stacking_features
from ensemble_core.stacking_insight import explain_stacking, permutation_seed


def _problem(n_classes: int, n: int = 200, seed: int = 0):
    """Three models: one good, one middling, one that knows nothing."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, size=n)
    probas = []
    for skill in (3.0, 1.0, 0.0):
        logits = rng.normal(size=(n, n_classes))
        logits[np.arange(n), y] += skill
        p = np.exp(logits)
        probas.append(p / p.sum(axis=1, keepdims=True))
    return np.stack(probas).astype(np.float32), y, np.array([f"c{k}" for k in range(n_classes)])


def test_binary_importance_is_scikit_learns_permutation_importance_fold_by_fold():
    """Two classes: one input per model, so each fold's numbers are scikit-learn's; the folds are
    added up over all rows (each fold's mean weighted by its rows)."""
    from sklearn.inspection import permutation_importance
    from sklearn.linear_model import LogisticRegression

    probas, y, classes = _problem(2)
    folds, seed, repeats = 4, 3, 4
    got = explain_stacking(probas, y, classes, ("good", "mid", "noise"), folds=folds, seed=seed, n_repeats=repeats)
    X = stacking_features(probas)
    expected = {"accuracy": np.zeros((3, repeats)), "neg_log_loss": np.zeros((3, repeats))}
    for test in kfold_test_indices(y, folds, seed):
        train = np.setdiff1d(np.arange(y.size), test)
        est = LogisticRegression(max_iter=1000).fit(X[train], y[train])
        for scoring in expected:
            r = permutation_importance(est, X[test], y[test], scoring=scoring, n_repeats=repeats, random_state=seed)
            expected[scoring] += r.importances * test.size / y.size
    np.testing.assert_allclose(got.accuracy_drop, expected["accuracy"].mean(axis=1), atol=1e-12)
    np.testing.assert_allclose(got.accuracy_drop_std, expected["accuracy"].std(axis=1), atol=1e-12)
    np.testing.assert_allclose(got.log_loss_increase, expected["neg_log_loss"].mean(axis=1), rtol=1e-5, atol=1e-7)
    assert got.accuracy_drop[0] > got.accuracy_drop[1] > abs(got.accuracy_drop[2])
    assert got.log_loss_increase[0] > got.log_loss_increase[2]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_logistic_coefficients_are_scikit_learns_coef_on_all_rows(n_classes):
    from sklearn.linear_model import LogisticRegression

    probas, y, classes = _problem(n_classes, seed=1)
    got = explain_stacking(probas, y, classes, ("good", "mid", "noise"), folds=3, n_repeats=1)
    coef = LogisticRegression(max_iter=1000).fit(stacking_features(probas), y).coef_
    np.testing.assert_allclose(got.coefficients.reshape(coef.shape), coef, rtol=1e-6)
    trust = got.trust()
    assert trust.shape == (3, 1 if n_classes == 2 else 3)
    if n_classes == 2:  # the log-odds of c1 on each model's probability of c1
        assert got.score_classes == got.input_classes == ("c1",)
        np.testing.assert_allclose(trust[:, 0], coef[0])
    else:  # class k's score on each model's probability of k: coef_[k, m * 3 + k]
        assert got.score_classes == got.input_classes == tuple(classes)
        np.testing.assert_allclose(trust, [[coef[k, m * 3 + k] for k in range(3)] for m in range(3)])
    assert trust[0].min() > trust[2].max()  # the good model is trusted for every class, the noise for none


def test_the_baseline_is_stackings_out_of_fold_score_and_a_shuffled_model_costs_its_share():
    """The same folds and fits as stacking; with several classes a model's columns are shuffled together."""
    probas, y, classes = _problem(3, seed=2)
    got = explain_stacking(probas, y, classes, ("good", "mid", "noise"), meta="gbm", folds=3, seed=5, n_repeats=2)
    oof = cross_fit_stacking(probas, y, classes, meta="gbm", folds=3, seed=5)
    assert got.accuracy == pytest.approx(float(np.mean(decide(oof) == y)))
    assert got.coefficients is None and got.trust() is None and got.meta == "gbm"
    assert got.accuracy_drop[0] > 0.1 and got.log_loss_increase[0] > got.log_loss_increase[2]


def test_shuffles_follow_scikit_learns_random_stream():
    from sklearn.utils import check_random_state

    assert permutation_seed(7) == check_random_state(7).randint(np.iinfo(np.int32).max + 1)


def test_to_dict_is_json_with_models_and_classes_by_name():
    probas, y, classes = _problem(3, seed=3)
    out = json.loads(json.dumps(explain_stacking(probas, y, classes, ("a", "b", "c"), folds=3, n_repeats=1).to_dict()))
    assert set(out["permutation_importance"]) == {"a", "b", "c"}
    assert set(out["coefficients"]) == {"c0", "c1", "c2"} and set(out["coefficients"]["c0"]["a"]) == {"c0", "c1", "c2"}
