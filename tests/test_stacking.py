"""Stacking reports only out-of-fold numbers; the fitted stacker saves and loads safely."""

from __future__ import annotations

import re

import numpy as np
import pytest

from ensemble_core import EnsembleEvaluator, EnsembleInputError, PredictionSet, StackingModel, fit_stacker
from ensemble_core.models.loading import load_stacker
from ensemble_core._folds import kfold_test_indices
from ensemble_core.stacking import cross_fit_stacking, stacking_features
from tests.conftest import random_probas


def test_noise_models_stay_at_chance():
    """Many pure-noise models: a leaky stacker would fit the noise and look good."""
    rng = np.random.default_rng(0)
    n, n_models = 600, 30
    probas = random_probas(rng, n_models, n, 2)
    y = rng.integers(0, 2, size=n)
    for meta in ("logistic", "gbm"):
        oof = cross_fit_stacking(probas, y, np.array(["a", "b"]), meta=meta, folds=5, seed=0)
        acc = np.mean(oof.argmax(axis=1) == y)
        # chance is 0.5; 3.5 standard errors at n=600 is about 0.07
        assert acc < 0.57, f"{meta}: out-of-fold accuracy {acc:.3f} on noise"
    # The same meta-learner scored on its own training rows does look good: the check bites.
    est = fit_stacker(probas, y, np.array(["a", "b"]), tuple(map(str, range(n_models))), meta="gbm")
    assert np.mean(est.predict_proba(probas).argmax(axis=1) == y) > 0.75


def test_stacking_learns_to_trust_the_informative_model():
    rng = np.random.default_rng(1)
    n = 800
    y = rng.integers(0, 3, size=n)
    good = np.full((n, 3), 0.1)
    good[np.arange(n), y] = 0.8
    flip = rng.random(n) < 0.15
    good[flip] = np.roll(good[flip], 1, axis=1)
    probas = np.stack([good, *random_probas(rng, 4, n, 3)]).astype(np.float32)
    pset = PredictionSet(probas, y, np.array(["x", "y", "z"]), ("good", "n1", "n2", "n3", "n4"))
    result = EnsembleEvaluator(pset).evaluate("stacking")
    assert result.metrics.accuracy > 0.8
    assert result.weights is None
    assert any("out-of-fold" in note for note in result.notes)


@pytest.mark.parametrize("meta", ["logistic", "gbm", "mlp"])
def test_each_meta_learner_gives_a_distribution(meta):
    rng = np.random.default_rng(2)
    probas = random_probas(rng, 3, 200, 3)
    y = rng.integers(0, 3, size=200)
    oof = cross_fit_stacking(probas, y, np.arange(3), meta=meta, folds=3, seed=0)
    assert oof.shape == (200, 3)
    np.testing.assert_allclose(oof.sum(axis=1), 1.0, atol=1e-5)


def test_cross_fitting_is_reproducible_with_a_seed():
    rng = np.random.default_rng(3)
    probas = random_probas(rng, 3, 150, 2)
    y = rng.integers(0, 2, size=150)
    a = cross_fit_stacking(probas, y, np.arange(2), meta="gbm", seed=7)
    b = cross_fit_stacking(probas, y, np.arange(2), meta="gbm", seed=7)
    np.testing.assert_array_equal(a, b)


def test_binary_features_are_one_column_per_model():
    probas = np.zeros((3, 5, 2))
    probas[..., 1] = np.arange(3)[:, None]
    assert stacking_features(probas).shape == (5, 3)
    assert stacking_features(np.zeros((3, 5, 4))).shape == (5, 12)


@pytest.mark.parametrize(
    "y, folds, match",
    [
        (np.zeros(20, int), 5, "at least two classes.*only 'a'"),
        (np.array([0] * 19 + [1]), 5, "two classes of at least 2 examples each.*class 'b' has 1$"),
        (np.array([0, 1] * 10), 1, "at least 2 folds"),
    ],
    ids=["single-class", "a-class-of-one-row", "one-fold"],
)
def test_unstackable_labels_are_rejected(y, folds, match):
    probas = random_probas(np.random.default_rng(0), 2, len(y), 2)
    with pytest.raises(EnsembleInputError, match=match):
        cross_fit_stacking(probas, y, np.array(["a", "b"]), folds=folds)


def test_unknown_meta_learner():
    ps = PredictionSet(random_probas(np.random.default_rng(0), 2, 20, 2), np.array([0, 1] * 10), np.arange(2), ("a", "b"))
    with pytest.raises(EnsembleInputError, match="unknown meta-learner 'xgb'"):
        EnsembleEvaluator(ps).evaluate("stacking", meta="xgb")


def test_weights_are_ignored_by_stacking_and_it_says_so():
    ps = PredictionSet(random_probas(np.random.default_rng(0), 2, 40, 2), np.array([0, 1] * 20), np.arange(2), ("a", "b"))
    ev = EnsembleEvaluator(ps)
    with_w = ev.evaluate("stacking", [3, 1])
    np.testing.assert_array_equal(with_w.probas, ev.evaluate("stacking").probas)
    assert any("ignores the weights" in note for note in with_w.notes)


def test_saved_stacker_loads_and_predicts_the_same(tmp_path):
    rng = np.random.default_rng(4)
    probas = random_probas(rng, 3, 100, 3)
    y = rng.integers(0, 3, size=100)
    stacker = fit_stacker(probas, y, np.array(["a", "b", "c"]), ("m1", "m2", "m3"))
    stacker.save(tmp_path / "meta.skops")
    loaded = load_stacker(tmp_path / "meta.skops")
    assert loaded.names == ("m1", "m2", "m3") and loaded.classes == ("a", "b", "c")
    np.testing.assert_allclose(loaded.predict_proba(probas), stacker.predict_proba(probas), rtol=1e-6)
    with pytest.raises(EnsembleInputError, match="fitted on 3 models"):
        loaded.predict_proba(probas[:2])


def test_fitted_rows_match_on_every_models_probabilities_or_on_id(tmp_path):
    rng = np.random.default_rng(5)
    probas = random_probas(rng, 3, 60, 3)
    y = np.arange(60) % 3
    ids = np.array([f"r{i}" for i in range(60)])
    stacker = fit_stacker(probas, y, np.array(["a", "b", "c"]), ("m1", "m2", "m3"), ids=ids)
    assert stacker.fitted_rows(probas, ids).all()
    order = rng.permutation(60)
    assert stacker.fitted_rows(probas[:, order], ids[order]).all()  # the same rows, shuffled
    assert stacker.fitted_rows(probas).all()  # without their ids
    assert stacker.fitted_rows(probas[:, 40:][:, ::-1]).all()  # a subset, reversed, no ids
    assert stacker.fitted_rows(probas, np.array([f"new{i}" for i in range(60)])).all()  # renamed
    changed = probas.copy()
    changed[2, 7] = changed[2, 7, ::-1]  # one model, one row
    assert np.flatnonzero(~stacker.fitted_rows(changed)).tolist() == [7]
    assert stacker.fitted_rows(changed, ids).all()  # its id is a training row's
    stacker.save(tmp_path / "meta.skops")
    loaded = load_stacker(tmp_path / "meta.skops")
    np.testing.assert_array_equal(loaded.input_fingerprints, stacker.input_fingerprints)
    np.testing.assert_array_equal(loaded.id_fingerprints, stacker.id_fingerprints)
    assert loaded.fitted_rows(probas[:, order]).all()


def test_other_rows_do_not_match():
    rng = np.random.default_rng(6)
    probas = random_probas(rng, 2, 40, 2)
    stacker = fit_stacker(probas, np.arange(40) % 2, np.array(["a", "b"]), ("m1", "m2"))
    assert stacker.id_fingerprints is None
    assert not stacker.fitted_rows(random_probas(rng, 2, 40, 2), np.array([f"r{i}" for i in range(40)])).any()


def test_a_stacker_keeps_its_temperatures(tmp_path):
    rng = np.random.default_rng(8)
    probas = random_probas(rng, 2, 40, 2)
    stacker = fit_stacker(probas, np.arange(40) % 2, np.array(["a", "b"]), ("m1", "m2"), temperatures=[0.5, 2.0])
    stacker.save(tmp_path / "t.skops")
    loaded = load_stacker(tmp_path / "t.skops")
    assert loaded.temperatures == (0.5, 2.0)
    from ensemble_core.calibration import apply_temperatures

    np.testing.assert_array_equal(loaded.scale(probas), apply_temperatures(probas, np.array([0.5, 2.0])))
    assert fit_stacker(probas, np.arange(40) % 2, np.array(["a", "b"]), ("m1", "m2")).scale(probas) is probas


def test_a_stacker_saved_without_fingerprints_cannot_tell(tmp_path):
    import skops.io as sio

    stacker = fit_stacker(random_probas(np.random.default_rng(7), 2, 20, 2), np.arange(20) % 2, np.array(["a", "b"]), ("m1", "m2"))
    sio.dump({"estimator": stacker.estimator, "classes": ["a", "b"], "names": ["m1", "m2"], "meta": "logistic"}, tmp_path / "old.skops")
    assert load_stacker(tmp_path / "old.skops").fitted_rows(np.zeros((2, 3, 2))) is None


@pytest.mark.parametrize(
    "names, match",
    [
        (["m3", "m1", "m2"], None),
        (["m1", "m2"], r"fitted on models m1, m2, m3; no prediction file for 'm3' \("),
        (["m1", "m2", "m3", "m4"], r"; 'm4' is not among them \("),
        (["m1", "x", "y"], r"no prediction file for 'm2', 'm3'; 'x', 'y' are not among them"),
    ],
    ids=["reordered", "missing", "extra", "both"],
)
def test_model_order_matches_by_name(names, match):
    stacker = StackingModel(None, ("a", "b"), ("m1", "m2", "m3"), "logistic")
    if match is None:
        assert stacker.model_order(names) == [1, 2, 0]
    else:
        with pytest.raises(EnsembleInputError, match=match):
            stacker.model_order(names)


def test_a_scikit_learn_classifier_instance_is_a_meta_learner_like_its_registry_name():
    """As StackingClassifier's final_estimator: cloned (the instance stays unfitted), same numbers."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    probas, y, classes = random_probas(rng, 3, 90, 3), rng.integers(0, 3, 90), np.array(["a", "b", "c"])
    mine = LogisticRegression(max_iter=1000)
    by_instance = cross_fit_stacking(probas, y, classes, meta=mine, folds=3, seed=1)
    by_name = cross_fit_stacking(probas, y, classes, meta="logistic", folds=3, seed=1)
    np.testing.assert_array_equal(by_instance, by_name)
    assert not hasattr(mine, "coef_")
    assert fit_stacker(probas, y, classes, ("m1", "m2", "m3"), meta=mine).meta == "LogisticRegression"


@pytest.mark.parametrize(
    "meta, what",
    [("LinearRegression", "LinearRegression"), ("SVC", "SVC"), ("text", "str")],
    ids=["regressor", "no-predict-proba", "unknown-name"],
)
def test_a_meta_learner_that_cannot_give_probabilities_is_refused(meta, what):
    from sklearn.linear_model import LinearRegression
    from sklearn.svm import SVC

    from ensemble_core.stacking import make_meta_learner

    given = {"LinearRegression": LinearRegression(), "SVC": SVC(), "text": "forest"}[meta]
    message = ("unknown meta-learner 'forest'" if meta == "text"
               else f"a scikit-learn classifier with predict_proba; got {what}")
    with pytest.raises(EnsembleInputError, match=re.escape(message)):
        make_meta_learner(given)
def _reference_meta(meta: str, seed: int):
    """The built-in meta-learners as scikit-learn builds them (the numbers they give are pinned)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    return {
        "logistic": lambda: LogisticRegression(max_iter=1000),
        "gbm": lambda: HistGradientBoostingClassifier(max_iter=30, learning_rate=0.3, max_depth=3, max_bins=32,
                                                random_state=seed),
        "mlp": lambda: MLPClassifier(hidden_layer_sizes=(32,), max_iter=200, early_stopping=True, random_state=seed),
    }[meta]()


def _reference_stacking(probas, y, meta, folds, seed):
    """Stacking as a plain loop: scikit-learn's shuffled StratifiedKFold, one meta-learner per fold."""
    from sklearn.model_selection import StratifiedKFold

    X = stacking_features(probas)
    oof = np.zeros((X.shape[0], probas.shape[2]), np.float32)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        est = _reference_meta(meta, seed).fit(X[train], y[train])
        oof[np.ix_(test, est.classes_)] = est.predict_proba(X[test])
    return oof


@pytest.mark.parametrize(
    "meta, n_classes, folds, seed",
    [("logistic", 2, 5, 0), ("logistic", 4, 3, 11), ("gbm", 2, 3, 2), ("mlp", 3, 4, 5)],
)
def test_out_of_fold_probabilities_equal_a_plain_stratified_loop(meta, n_classes, folds, seed):
    """Pins the numbers: the cross-fitting loop (its folds, its threads) changes none of them."""
    rng = np.random.default_rng(seed)
    probas = random_probas(rng, 3, 240, n_classes)
    y = rng.integers(0, n_classes, size=240)
    got = cross_fit_stacking(probas, y, np.arange(n_classes), meta=meta, folds=folds, seed=seed)
    np.testing.assert_array_equal(got, _reference_stacking(probas, y, meta, folds, seed))


def test_a_class_rarer_than_the_folds_is_learned_by_every_folds_meta_learner():
    """It used to be refused ("stacking with 5 folds needs at least 5 examples of each class").
    Its rows now lie in different folds, so each fold's meta-learner is trained on the other one."""
    rng = np.random.default_rng(12)
    y = np.array([0] * 60 + [1] * 60 + [2] * 2)
    probas = random_probas(rng, 3, y.size, 3)
    probas[0, y == 2] = [0.05, 0.05, 0.9]
    oof = cross_fit_stacking(probas, y, np.array(["a", "b", "c"]), folds=5, seed=1)
    assert np.all(oof[:, 2] > 0)  # a meta-learner that never saw 'c' gives it exactly 0
    X, expected = stacking_features(probas), np.zeros_like(oof)
    for test in kfold_test_indices(y, 5, 1):
        train = np.setdiff1d(np.arange(y.size), test)
        est = _reference_meta("logistic", 1).fit(X[train], y[train])
        expected[test] = est.predict_proba(X[test])
    np.testing.assert_array_equal(oof, expected)


def test_a_class_without_labelled_rows_gets_probability_zero():
    rng = np.random.default_rng(13)
    y = rng.integers(0, 2, size=100)
    probas = random_probas(rng, 2, 100, 3)
    oof = cross_fit_stacking(probas, y, np.array(["a", "b", "never"]), folds=5)
    assert np.all(oof[:, 2] == 0) and np.allclose(oof.sum(axis=1), 1)


def test_a_meta_learner_that_refuses_a_folds_rows_says_so_in_one_line():
    """Gradient boosting stops early on more than 10,000 rows: its stratified validation split
    needs two rows of each class, and a class of two rows has one in each training split."""
    rng = np.random.default_rng(14)
    y = np.array([0] * 6500 + [1] * 6500 + [2] * 2)
    probas = random_probas(rng, 2, y.size, 3)
    with pytest.raises(EnsembleInputError, match=(r"^stacking: the gbm meta-learner cannot be fitted on one fold's "
                                                  r"training rows \(104\d\d rows; class 'c' has 1 of them\): .*too few")) as err:
        cross_fit_stacking(probas, y, np.array(["a", "b", "c"]), meta="gbm", folds=5)
    assert "\n" not in str(err.value)


def test_the_gbm_meta_learner_grows_few_small_trees_on_small_data():
    """Regression (issue 12): with scikit-learn's defaults it grew 100 rounds of up to 31-leaf trees, one per
    class, and 5-fold stacking of 1,600 rows × 10 classes took 17 s; the cost is per tree and per split."""
    from ensemble_core.stacking import make_meta_learner

    rng = np.random.default_rng(15)
    y = np.repeat(np.arange(10), 32)
    X = stacking_features(random_probas(rng, 5, y.size, 10))
    est = make_meta_learner("gbm").fit(X, y)
    assert est.n_iter_ * len(est.classes_) <= 300  # trees
    assert est.get_params()["max_depth"] <= 3 and est.get_params()["max_bins"] <= 32  # splits and bins per tree
