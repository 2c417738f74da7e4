"""AdaBoost's row weights, recomputed: the very weights scikit-learn trained each round with."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import AdaBoostClassifier
from sklearn.tree import DecisionTreeClassifier

from ensemble_core.build.boosting import adaboost_sample_weights, weighted_errors


def test_recomputed_weights_give_sklearns_own_weighted_errors():
    X, y = load_digits(return_X_y=True)
    X, y = X[:500], y[:500]
    model = AdaBoostClassifier(DecisionTreeClassifier(max_depth=2), n_estimators=12, random_state=0).fit(X, y)
    w = adaboost_sample_weights(model, X, y)
    assert w.shape == (len(model.estimators_), len(y))
    assert np.allclose(w[0], 1 / len(y)) and np.allclose(w.sum(axis=1), 1)
    assert np.allclose(weighted_errors(model, X, y, w), model.estimator_errors_[: len(model.estimators_)], rtol=1e-9)
    # and the member of round t is what a tree fitted with those weights becomes
    t = 5
    again = DecisionTreeClassifier(max_depth=2, random_state=model.estimators_[t].random_state).fit(
        X, y, sample_weight=w[t])
    assert (again.predict(X) == model.estimators_[t].predict(X)).all()


def test_rows_the_members_get_wrong_gain_weight():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300], y[:300]
    model = AdaBoostClassifier(DecisionTreeClassifier(max_depth=1), n_estimators=4, random_state=1).fit(X, y)
    w = adaboost_sample_weights(model, X, y)
    wrong = model.estimators_[0].predict(X) != y
    assert w[1][wrong].min() > w[1][~wrong].max()
