"""Slices: every row in one slice, the numbers of each slice as computed on its rows alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ensemble_core import EnsembleInputError
from ensemble_core.report.slices import (
    MAX_CATEGORIES,
    MISSING,
    OTHER,
    holm_adjust,
    slice_by_class,
    slice_table,
    slice_values,
)
from ensemble_core.significance import bootstrap_gain_ci, mcnemar_test


def test_numeric_column_in_quantile_bins_by_hand():
    s = slice_values(pd.Series([8, 1, 2, 3, 4, 5, 6, 7], name="x"), bins=4)
    # quantiles of 1..8 at 0, .25, .5, .75, 1: 1, 2.75, 4.5, 6.25, 8
    assert s.kind == "numeric"
    assert s.labels == ("[1, 2.75)", "[2.75, 4.5)", "[4.5, 6.25)", "[6.25, 8]")
    assert s.codes.tolist() == [3, 0, 0, 1, 1, 2, 2, 3]


def test_tied_quantiles_merge_and_a_constant_column_is_one_slice():
    s = slice_values(pd.Series([0, 0, 0, 0, 0, 0, 1, 2]), name="x", bins=4)
    assert len(set(s.labels)) == len(s.labels) == 2
    assert s.codes.tolist() == [0] * 6 + [1, 1]
    one = slice_values(pd.Series([3.0] * 5), name="x")
    assert one.labels == ("3",) and one.codes.tolist() == [0] * 5


def test_missing_values_are_a_slice_of_their_own():
    s = slice_values(pd.Series([1.0, None, 3.0, np.nan]), name="x", bins=2)
    assert s.labels[-1] == MISSING
    assert s.codes[[1, 3]].tolist() == [len(s.labels) - 1] * 2
    c = slice_values(pd.Series(["a", None, "b"]), name="g")
    assert c.labels == ("a", "b", MISSING) and c.codes.tolist() == [0, 2, 1]


def test_a_non_finite_number_is_refused_naming_column_and_row():
    with pytest.raises(EnsembleInputError, match=r"column 'age': row 3: inf is not a finite number"):
        slice_values(pd.Series([1.0, 2.0, np.inf]), name="age")


def test_text_is_sliced_by_length_in_words():
    text = pd.Series(["one two three", "a b c d e f", "x y z w", "just some more words here ok", None])
    s = slice_values(text, name="text", bins=2)
    assert s.kind == "text"
    assert all(label.endswith(" words") for label in s.labels[:-1]) and s.labels[-1] == MISSING
    words = np.array([3, 6, 4, 6])
    assert (s.codes[:4] == (words >= np.median(words)).astype(int)).all()


def test_short_strings_and_booleans_are_categories():
    assert slice_values(pd.Series(["red", "blue", "red"]), name="c").labels == ("blue", "red")
    b = slice_values(pd.Series([True, False, True]), name="b")
    assert b.kind == "category" and b.labels == ("False", "True") and b.codes.tolist() == [1, 0, 1]


def test_many_categories_keep_the_most_frequent_and_group_the_rest():
    values = [f"v{i:02d}" for i in range(40) for _ in range(40 - i)]  # v00 the most frequent
    s = slice_values(pd.Series(values), name="c")
    assert len(s.labels) == MAX_CATEGORIES and s.labels[-1] == OTHER
    kept = {f"v{i:02d}" for i in range(MAX_CATEGORIES - 1)}
    assert set(s.labels[:-1]) == kept
    other = np.array([v not in kept for v in values])
    assert (s.codes[other] == MAX_CATEGORIES - 1).all() and (s.codes[~other] < MAX_CATEGORIES - 1).all()


@pytest.mark.parametrize("bins", [1, 0, 51, True, 2.5, "4"])
def test_bins_out_of_range_are_refused(bins):
    with pytest.raises(EnsembleInputError, match="--bins must be a whole number from 2 to 50"):
        slice_values(pd.Series([1, 2, 3]), name="x", bins=bins)


def test_unknown_kind_is_refused():
    with pytest.raises(EnsembleInputError, match="unknown slice kind 'date'"):
        slice_values(pd.Series([1, 2]), name="x", kind="date")


def test_slice_by_class_leaves_out_absent_classes():
    s = slice_by_class(np.array([0, 2, 2, 0]), np.array(["cat", "dog", "fox"], dtype=object))
    assert s.labels == ("cat", "fox") and s.codes.tolist() == [0, 1, 1, 0]


def test_holm_by_hand():
    # sorted 0.01, 0.02, 0.04, 0.30 with m = 4: 0.04, 0.06, 0.08, 0.30 (already increasing)
    assert np.allclose(holm_adjust(np.array([0.30, 0.01, 0.04, 0.02])), [0.30, 0.04, 0.08, 0.06])
    # a step that would decrease keeps the running maximum; capped at 1
    assert np.allclose(holm_adjust(np.array([0.02, 0.021, 0.9])), [0.06, 0.06, 0.9])
    assert holm_adjust(np.array([0.6, 0.5])).tolist() == [1.0, 1.0]


def test_each_slice_equals_the_numbers_on_its_rows_alone():
    rng = np.random.default_rng(1)
    n = 600
    best = rng.random(n) < 0.7
    ens = np.where(rng.random(n) < 0.2, ~best, best)
    group = pd.Series(rng.choice(["a", "b", "c"], n), name="g")
    s = slice_values(group)
    table = slice_table(ens, best, s, seed=3)
    assert [r.slice for r in table] == ["a", "b", "c"]
    for r in table:
        rows = (group == r.slice).to_numpy()
        assert r.n == rows.sum()
        assert r.accuracy == ens[rows].mean() and r.best_single_accuracy == best[rows].mean()
        assert r.gain == pytest.approx(ens[rows].mean() - best[rows].mean(), abs=1e-15)
        assert r.gain_ci == bootstrap_gain_ci(ens[rows], best[rows], seed=3)
        m = mcnemar_test(ens[rows], best[rows])
        assert (r.fixes, r.breaks, r.p_value) == (m.b, m.c, m.p_value)


def test_a_slice_where_the_ensemble_is_clearly_worse_is_flagged_and_a_better_one_not():
    n = 400
    best = np.ones(n, bool)
    ens = np.ones(n, bool)
    ens[:60] = False  # slice "bad": 60 of 100 rows broken
    ens[300:302] = False  # slice "fine": 2 breaks, not significant
    group = pd.Series(["bad"] * 100 + ["fine"] * 300)
    table = {r.slice: r for r in slice_table(ens, best, slice_values(group, name="g"))}
    assert table["bad"].worse and table["bad"].p_adjusted < 0.05
    assert not table["fine"].worse
    helped = slice_table(best, ens, slice_values(group, name="g"))  # the same counts, the other way round
    assert not any(r.worse for r in helped)


def test_rows_that_do_not_match_are_refused():
    s = slice_values(pd.Series(["a", "b"]), name="g")
    with pytest.raises(EnsembleInputError, match="slicing 'g' covers 2 rows; the predictions have 3"):
        slice_table(np.ones(3, bool), np.ones(3, bool), s)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 200),
    seed=st.integers(0, 2**16),
    bins=st.integers(2, 8),
    kind=st.sampled_from(["numeric", "category", "text"]),
)
def test_slices_partition_the_rows_and_add_up(n, seed, bins, kind):
    rng = np.random.default_rng(seed)
    if kind == "numeric":
        values = pd.Series(np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 5, n).astype(float)))
    elif kind == "category":
        values = pd.Series(rng.choice(["x", "y", None], n))
    else:
        values = pd.Series([" ".join(["w"] * int(k)) for k in rng.integers(3, 12, n)])
    s = slice_values(values, name="v", kind=kind, bins=bins)
    assert s.codes.shape == (n,) and s.codes.min() >= 0 and s.codes.max() < len(s.labels)
    ens, best = rng.random(n) < 0.5, rng.random(n) < 0.5
    table = slice_table(ens, best, s, n_resamples=50)
    assert sum(r.n for r in table) == n
    assert sum(r.fixes for r in table) == np.count_nonzero(ens & ~best)
    assert sum(r.breaks for r in table) == np.count_nonzero(~ens & best)
    assert all(r.p_adjusted >= r.p_value for r in table)
