"""The one k-fold rule: scikit-learn's stratified allocation, rare classes spread over the folds."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ensemble_core import EnsembleInputError
from ensemble_core._folds import fold_of_each_row, kfold_test_indices


def _sklearn_tests(y, folds, seed):
    from sklearn.model_selection import StratifiedKFold

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "The least populated class ... less than n_splits"
        return [test for _, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(y, y)]


labels = st.integers(2, 6).flatmap(
    lambda folds: st.tuples(
        st.just(folds),
        st.lists(st.integers(0, 4), min_size=folds, max_size=60),
        st.integers(0, 2**31 - 1),
    )
)


@settings(max_examples=200, deadline=None)
@given(labels)
def test_equals_stratified_kfold_wherever_scikit_learn_accepts_the_labels(case):
    folds, y, seed = case
    y = np.array(y)
    if np.bincount(y).max() < folds:
        return  # scikit-learn refuses these labels: see the next test
    for ours, theirs in zip(kfold_test_indices(y, folds, seed), _sklearn_tests(y, folds, seed), strict=True):
        np.testing.assert_array_equal(ours, theirs)


@settings(max_examples=200, deadline=None)
@given(labels)
def test_folds_partition_the_rows_and_spread_every_class(case):
    folds, y, seed = case
    y = np.array(y)
    tests = kfold_test_indices(y, folds, seed)
    assert len(tests) == folds and all(t.size for t in tests)
    np.testing.assert_array_equal(np.sort(np.concatenate(tests)), np.arange(y.size))
    assert all(np.all(np.diff(t) > 0) for t in tests)
    sizes = [t.size for t in tests]
    assert max(sizes) - min(sizes) <= 1
    for c in np.unique(y):  # each class's share of each fold is within one row of the others
        per_fold = [np.count_nonzero(y[t] == c) for t in tests]
        assert max(per_fold) - min(per_fold) <= 1


def test_a_class_rarer_than_the_folds_has_each_row_in_another_fold():
    y = np.array([0] * 30 + [1] * 3 + [2] * 2)
    fold = fold_of_each_row(y, 5, seed=4)
    assert len(set(fold[y == 1])) == 3 and len(set(fold[y == 2])) == 2


def test_every_class_rarer_than_the_folds_is_still_stratified():
    """scikit-learn refuses these labels; the same round robin spreads them."""
    y = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    fold = fold_of_each_row(y, 4, seed=0)
    for c in range(4):
        assert fold[y == c][0] != fold[y == c][1]
    np.testing.assert_array_equal(np.bincount(fold), [2, 2, 2, 2])


def test_the_seed_decides_and_labels_may_be_any_small_integers():
    y = np.arange(40) % 3
    a, b = fold_of_each_row(y, 4, 1), fold_of_each_row(y, 4, 2)
    np.testing.assert_array_equal(a, fold_of_each_row(y.astype(np.int8), 4, 1))
    assert not np.array_equal(a, b)


@pytest.mark.parametrize(
    "y, folds, match",
    [(np.arange(10) % 2, 1, "folds must be at least 2; got 1"),
     (np.arange(3) % 2, 5, "5-fold cross-validation needs at least 5 examples; got 3")],
    ids=["one-fold", "too-few-rows"],
)
def test_impossible_splits_are_refused(y, folds, match):
    with pytest.raises(EnsembleInputError, match=match):
        kfold_test_indices(y, folds, 0)
