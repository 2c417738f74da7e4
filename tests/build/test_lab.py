"""The Build lab's curves equal scikit-learn fitted at each size directly, with the same seed."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_wine

from ensemble_core import EnsembleInputError
from ensemble_core.build.lab import MAX_MEMBERS, growth_curve, make_ensemble


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))[:700]
    return X[order[:400]], y[order[:400]], X[order[400:]], y[order[400:]]


@pytest.fixture(scope="module")
def iris():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    return X[::2], y[::2], X[1::2], y[1::2]


@pytest.mark.parametrize("method, base", [("bagging", "tree"), ("bagging", "logistic"), ("subspaces", "tree"),
                                          ("forest", "tree"), ("adaboost", "tree"), ("gbm", "tree")])
def test_each_size_equals_sklearn_fitted_with_that_many_members(request, method, base):
    # logistic regression on digits takes seconds a member: iris keeps the test fast
    Xtr, ytr, Xte, yte = request.getfixturevalue("iris" if base == "logistic" else "digits")
    n = 4
    curve = growth_curve(method, Xtr, ytr, Xte, yte, base=base, n_members=n, seed=3)
    assert curve.sizes.tolist() == list(range(1, n + 1))
    for k in (1, 2, n):  # the last is the full ensemble
        direct = make_ensemble(method, base, k, seed=3).fit(Xtr, ytr)
        assert curve.test_accuracy[k - 1] == np.mean(direct.predict(Xte) == yte), k
        assert curve.train_accuracy[k - 1] == np.mean(direct.predict(Xtr) == ytr), k
    assert np.allclose(curve.test_probas, direct.predict_proba(Xte))


def test_diversity_is_the_mean_pairwise_disagreement_of_the_first_members(digits):
    Xtr, ytr, Xte, yte = digits
    curve = growth_curve("bagging", Xtr, ytr, Xte, yte, n_members=5, seed=1)
    labels = curve.member_test_labels
    assert np.isnan(curve.diversity[0])
    for k in range(2, 6):
        pairs = [np.mean(labels[i] != labels[j]) for i in range(k) for j in range(i)]
        assert curve.diversity[k - 1] == pytest.approx(np.mean(pairs), abs=1e-12)
    # the members' labels are the classes they predict
    members = make_ensemble("bagging", "tree", 5, seed=1).fit(Xtr, ytr).estimators_
    assert (labels[0] == members[0].predict(Xte)).all()


def test_a_member_that_missed_a_class_keeps_the_columns_aligned():
    X, y = load_wine(return_X_y=True)
    y = np.where(np.arange(len(y)) < 3, 2, np.minimum(y, 1))  # class 2 on 3 rows only: bootstraps miss it
    curve = growth_curve("bagging", X, y, X, y, n_members=8, seed=0)
    direct = make_ensemble("bagging", "tree", 8, seed=0).fit(X, y)
    assert np.allclose(curve.test_probas, direct.predict_proba(X))


def test_the_single_base_learner_is_the_reference(digits):
    from sklearn.tree import DecisionTreeClassifier

    Xtr, ytr, Xte, yte = digits
    curve = growth_curve("bagging", Xtr, ytr, Xte, yte, n_members=2, seed=4)
    tree = DecisionTreeClassifier(random_state=4).fit(Xtr, ytr)
    assert curve.base_test_accuracy == np.mean(tree.predict(Xte) == yte)
    assert curve.base_train_accuracy == 1.0  # a fully grown tree


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"method": "stacking"}, "unknown build method 'stacking'; expected one of bagging, subspaces, forest"),
        ({"base": "svm"}, "unknown base learner 'svm'; expected one of tree, logistic"),
        ({"method": "forest", "base": "logistic"}, "forest grows trees of its own; choose base 'tree'"),
        ({"n_members": 0}, f"members must be a whole number from 1 to {MAX_MEMBERS}; got 0"),
        ({"n_members": MAX_MEMBERS + 1}, "members must be a whole number"),
        ({"y": np.zeros(40, int)}, "the training rows hold one class only"),
    ],
    ids=["method", "base", "forest-base", "zero", "too-many", "one-class"],
)
def test_bad_choices_are_refused_in_one_line(kwargs, message):
    X = np.random.default_rng(0).random((40, 3))
    y = kwargs.pop("y", np.arange(40) % 2)
    args = {"method": "bagging", "base": "tree", "n_members": 3, **kwargs}
    with pytest.raises(EnsembleInputError, match=message):
        growth_curve(args.pop("method"), X, y, X, y, **args)


@pytest.mark.parametrize("method", ["bagging", "subspaces", "forest", "adaboost"])
def test_member_probabilities_are_each_fitted_members_own(digits, method):
    Xtr, ytr, Xte, yte = digits
    curve = growth_curve(method, Xtr, ytr, Xte, yte, n_members=3, seed=2)
    model = make_ensemble(method, "tree", 3, seed=2).fit(Xtr, ytr)
    features = getattr(model, "estimators_features_", [slice(None)] * 3)
    assert curve.member_test_probas.shape == (3, len(yte), 10)
    for k, member in enumerate(model.estimators_):
        columns = np.searchsorted(model.classes_, member.classes_)
        np.testing.assert_allclose(curve.member_test_probas[k][:, columns], member.predict_proba(Xte[:, features[k]]))
    if method != "adaboost":  # averaging the members is the ensemble
        np.testing.assert_allclose(curve.member_test_probas.mean(axis=0), curve.test_probas)


def test_gradient_boosting_has_no_member_probabilities(digits):
    curve = growth_curve("gbm", *digits, n_members=2, seed=0)
    assert curve.member_test_probas is None


@pytest.mark.parametrize("method", ["bagging", "subspaces", "forest", "adaboost", "gbm"])
def test_a_stop_callback_stops_the_growth_after_the_current_member(digits, method):
    Xtr, ytr, Xte, yte = digits
    asked = []

    def stop_after_three(built: int) -> bool:
        asked.append(built)
        return built >= 3

    stopped = growth_curve(method, Xtr, ytr, Xte, yte, n_members=8, seed=4, should_stop=stop_after_three)
    assert asked == [1, 2, 3]  # asked between members, and no member fitted after the answer
    assert stopped.sizes.tolist() == [1, 2, 3]
    # what was built is what scikit-learn builds with three members, seed for seed
    direct = growth_curve(method, Xtr, ytr, Xte, yte, n_members=3, seed=4)
    np.testing.assert_array_equal(stopped.test_accuracy, direct.test_accuracy)
    np.testing.assert_array_equal(stopped.train_accuracy, direct.train_accuracy)
    np.testing.assert_allclose(stopped.test_probas, direct.test_probas)


@pytest.mark.parametrize("method", ["bagging", "forest", "adaboost", "gbm"])
def test_growing_member_by_member_never_stopped_is_one_fit(digits, method):
    Xtr, ytr, Xte, yte = digits
    asked = []
    grown = growth_curve(method, Xtr, ytr, Xte, yte, n_members=5, seed=1, should_stop=lambda k: asked.append(k))
    assert asked == [1, 2, 3, 4]  # never after the last member
    direct = growth_curve(method, Xtr, ytr, Xte, yte, n_members=5, seed=1)
    np.testing.assert_array_equal(grown.test_accuracy, direct.test_accuracy)
    np.testing.assert_allclose(grown.test_probas, direct.test_probas)
    if direct.member_test_labels is not None:
        np.testing.assert_array_equal(grown.member_test_labels, direct.member_test_labels)
