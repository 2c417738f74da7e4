"""Domingos' decomposition: exact on small cases by hand, and what bagging and boosting do to it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ensemble_core import EnsembleInputError
from ensemble_core.build.bias_variance import bias_variance, domingos_decomposition


def test_three_class_case_by_hand():
    # 4 resamples × 3 rows, true classes 0, 1, 2
    preds = np.array([[0, 2, 1],
                      [0, 2, 1],
                      [1, 1, 1],
                      [0, 2, 2]])
    d = domingos_decomposition(preds, np.array([0, 1, 2]), n_classes=3)
    # row 0: main 0 (unbiased), V = 1/4, loss 1/4
    # row 1: main 2 (biased), V = 1/4, right once: P(pred = y) = 1/4, loss 3/4
    # row 2: main 1 (biased), V = 1/4, right once: 1/4, loss 3/4
    assert d.loss == pytest.approx((0.25 + 0.75 + 0.75) / 3)
    assert d.bias == pytest.approx(2 / 3)
    assert d.variance == pytest.approx(0.25)
    assert d.unbiased_variance == pytest.approx(0.25 / 3)
    assert d.biased_variance == pytest.approx(0.5 / 3)
    assert d.loss == pytest.approx(d.bias + d.unbiased_variance - d.biased_variance)


def test_a_tie_for_the_main_prediction_goes_to_the_class_that_sorts_first():
    d = domingos_decomposition(np.array([[1], [0]]), np.array([1]), n_classes=2)
    assert d.bias == 1.0  # main prediction 0 (tie), the truth is 1


@settings(max_examples=80, deadline=None)
@given(rounds=st.integers(2, 9), n=st.integers(1, 30), k=st.integers(2, 5), seed=st.integers(0, 10**6))
def test_the_decomposition_is_exact(rounds, n, k, seed):
    rng = np.random.default_rng(seed)
    preds, y = rng.integers(0, k, (rounds, n)), rng.integers(0, k, n)
    d = domingos_decomposition(preds, y, n_classes=k)
    assert d.loss == pytest.approx(np.mean(preds != y[None, :]))
    assert d.loss == pytest.approx(d.bias + d.unbiased_variance - d.biased_variance)
    assert d.net_variance == pytest.approx(d.loss - d.bias)
    assert 0 <= d.biased_variance <= d.variance + 1e-12


def test_bagging_lowers_variance_and_boosting_lowers_bias_on_digits():
    from sklearn.datasets import load_digits
    from sklearn.ensemble import AdaBoostClassifier, BaggingClassifier
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_digits(return_X_y=True)
    Xtr, ytr, Xte, yte = X[:600], y[:600], X[1200:1500], y[1200:1500]
    tree = bias_variance(lambda r: DecisionTreeClassifier(random_state=r), Xtr, ytr, Xte, yte, n_classes=10, rounds=6)
    bagged = bias_variance(lambda r: BaggingClassifier(DecisionTreeClassifier(), n_estimators=15, random_state=r),
                           Xtr, ytr, Xte, yte, n_classes=10, rounds=6)
    stump = bias_variance(lambda r: DecisionTreeClassifier(max_depth=2, random_state=r), Xtr, ytr, Xte, yte,
                          n_classes=10, rounds=6)
    boosted = bias_variance(lambda r: AdaBoostClassifier(DecisionTreeClassifier(max_depth=2), n_estimators=30,
                                                         random_state=r), Xtr, ytr, Xte, yte, n_classes=10, rounds=6)
    assert bagged.variance < tree.variance
    assert boosted.bias < stump.bias


@pytest.mark.parametrize("rounds", [1, 101, True])
def test_rounds_out_of_range_are_refused(rounds):
    with pytest.raises(EnsembleInputError, match="rounds must be a whole number from 2 to 100"):
        bias_variance(lambda r: None, np.zeros((4, 1)), np.zeros(4), np.zeros((4, 1)), np.zeros(4), n_classes=2,
                      rounds=rounds)
