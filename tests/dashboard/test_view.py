"""dashboard.view without Streamlit: the view's URL form and its validation against data."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.view import (
    CHARTS,
    DEFAULT_META,
    OWN_KEY,
    DEFAULT_METHOD,
    WEIGHT_MAX,
    Cell,
    View,
    example_name,
    example_row,
    from_query,
    snap_weight,
    to_query,
    valid_for,
)
from ensemble_core import PredictionSet
from ensemble_core.demo import DEMOS
from ensemble_core.registry import META_LEARNERS, METHODS, STRATEGIES

names = st.text(max_size=12)
grid_weights = st.integers(0, round(WEIGHT_MAX * 10)).map(lambda k: snap_weight(k / 10))
views = st.builds(
    View,
    data=st.none() | st.sampled_from(list(DEMOS)),
    own=st.none() | st.from_regex(OWN_KEY, fullmatch=True),
    strategy=st.sampled_from(STRATEGIES),
    meta=st.sampled_from(META_LEARNERS),
    weights=st.dictionaries(names, grid_weights, max_size=5).map(lambda d: tuple(d.items())),
    off=st.lists(names, max_size=4).map(tuple),
    compare=st.none() | names.filter(bool),
    example=st.none() | names.filter(bool),
    cell=st.none() | st.builds(Cell, st.sampled_from(CHARTS), st.integers(0, 50), st.integers(0, 50)),
    calibrated=st.booleans(),
    method=st.sampled_from(METHODS),
    calibrate_suggestion=st.booleans(),
    bins=st.integers(2, 50),
    smoothing=st.integers(0, 5000).map(lambda k: k / 10_000),  # what the Data page stores: 4 decimals
).flatmap(lambda v: st.tuples(st.none() | names.filter(bool), names.filter(bool) | st.none()).map(
    lambda s: replace(v, slice_by=s[0], slice=s[1] if s[0] is not None else None)))


@given(views)
def test_a_view_survives_its_url(view):
    assert from_query(to_query(view)) == (view, [])


@given(views)
def test_the_url_holds_strings_only(view):
    for value in to_query(view).values():
        assert isinstance(value, str) or all(isinstance(v, str) for v in value)


def test_an_empty_link_gives_the_defaults():
    view, notes = from_query({})
    assert view == View() and notes == []
    assert (view.strategy, view.meta, view.method) == ("soft", DEFAULT_META, DEFAULT_METHOD)


def test_a_link_as_the_app_wrote_it_before_the_view_existed():
    query = {"data": "digits", "strategy": "hard", "w": ["naive_bayes:0", "knn:2.5"], "off": ["forest"],
             "vs": "mlp", "example": "digit0843", "cal": "1"}
    view, notes = from_query(query)
    assert notes == []
    assert view == View(data="digits", strategy="hard", weights=(("naive_bayes", 0.0), ("knn", 2.5)),
                        off=("forest",), compare="mlp", example="digit0843", calibrated=True)
    assert to_query(view) == query


@pytest.mark.parametrize(
    ("query", "note"),
    [
        ({"strategy": "magic"}, "unknown strategy 'magic' in the link; using soft"),
        ({"meta": "forest"}, "unknown meta-learner 'forest' in the link; using logistic"),
        ({"cal": "yes"}, "cal='yes' in the link is not 0 or 1; the models are used as loaded"),
        ({"w": "tfidf_nb:abc"}, "weight 'tfidf_nb:abc' in the link is not name:number; ignored"),
        ({"w": "2"}, "weight '2' in the link is not name:number; ignored"),
        ({"w": "tiny_bert:99"}, "weight 99 for 'tiny_bert' in the link is outside 0–3; ignored"),
        ({"w": "m:nan"}, "weight nan for 'm' in the link is outside 0–3; ignored"),
        ({"w": "m:-0.5"}, "weight -0.5 for 'm' in the link is outside 0–3; ignored"),
        ({"data": "nope"}, "the link names data 'nope', which is not a bundled demo"),
        ({"cell": "ensemble:9"}, "cell 'ensemble:9' in the link is not chart:true:predicted"),
        ({"cell": "pie:1:2"}, "cell 'pie:1:2' in the link is not chart:true:predicted"),
        ({"suggest": "grid"}, "unknown weight-suggestion method 'grid' in the link; using caruana"),
        ({"bins": "1"}, "bins='1' in the link is not a whole number from 2 to 50; using 4"),
        ({"slice": "long"}, "the link names slice 'long' without slice_by; ignored"),
    ],
    ids=["strategy", "meta", "cal", "weight text", "weight without name", "weight too large", "weight nan",
         "weight negative", "data", "cell short", "cell chart", "method", "bins", "slice"],
)
def test_a_wrong_part_of_a_link_is_noted_and_left_at_its_default(query, note):
    view, notes = from_query(query)
    assert len(notes) == 1 and notes[0].startswith(note)
    default = View()
    assert (view.strategy, view.meta, view.calibrated, view.weights, view.data, view.cell, view.method) == (
        default.strategy, default.meta, default.calibrated, default.weights, default.data, default.cell,
        default.method)


def test_weights_snap_to_the_slider_grid_and_the_last_one_wins():
    view, _ = from_query({"w": ["a:0.26", "a:1.04", "b:c:3"]})
    assert view.weights == (("a", 1.0), ("b:c", 3.0))  # a name may hold a colon: the number is after the last
    assert view.weight("a") == 1.0 and view.weight("other") == 1.0
    assert view.with_weights({"a": 0.30000000000000004}).weights == (("a", 0.3), ("b:c", 3.0))


def _pset(n_classes: int = 3, ids: bool = True) -> PredictionSet:
    probas = np.full((3, 4, n_classes), 1 / n_classes)
    return PredictionSet(probas, np.arange(4) % n_classes, np.array([f"c{k}" for k in range(n_classes)]),
                         ("alpha", "beta", "gamma"), ids=np.array(["r1", "r2", "r3", "r4"]) if ids else None)


def test_a_valid_view_is_unchanged():
    view = View(weights=(("beta", 2.0),), off=("gamma",), compare="alpha", example="r3",
                cell=Cell("difference", 2, 0))
    assert valid_for(view, _pset()) == (view, [])


@pytest.mark.parametrize(
    ("change", "cleared", "note"),
    [
        ({"weights": (("beta", 2.0), ("nosuch", 1.0))}, {"weights": (("beta", 2.0),)},
         "the link gives a weight for 'nosuch', which is not loaded; ignored"),
        ({"off": ("nosuch",)}, {"off": ()}, "the link leaves out 'nosuch', which is not loaded; ignored"),
        ({"off": ("gamma", "alpha", "beta")}, {"off": ()}, "the link leaves out every model; all are included"),
        ({"compare": "delta"}, {"compare": None}, "the link compares with 'delta', which is not loaded"),
        ({"example": "r9"}, {"example": None}, "example 'r9' from the link is not in the loaded data"),
        ({"cell": Cell("ensemble", 9, 8)}, {"cell": None},
         "the selected confusion cell (9, 8) is not in this data (3 classes); cleared"),
        ({"cell": Cell("model", 0, 3)}, {"cell": None},
         "the selected confusion cell (0, 3) is not in this data (3 classes); cleared"),
    ],
    ids=["weight", "left out", "all left out", "compared", "example", "cell", "cell edge"],
)
def test_what_the_data_lacks_is_dropped_with_a_note(change, cleared, note):
    view = replace(View(data="digits", strategy="hard", weights=(("beta", 2.0),)), **change)
    valid, notes = valid_for(view, _pset())
    assert notes == [note]
    assert valid == replace(view, **cleared)


def test_left_out_models_follow_the_data_order_once():
    valid, _ = valid_for(View(off=("gamma", "alpha", "gamma")), _pset())
    assert valid.off == ("alpha", "gamma")
    assert valid.included(("alpha", "beta", "gamma")) == ("beta",)


@pytest.mark.parametrize("ids", [True, False], ids=["ids", "row numbers"])
def test_examples_are_named_by_id_else_by_row_number_from_one(ids):
    pset = _pset(ids=ids)
    for row in range(pset.n_samples):
        assert example_row(pset, example_name(pset, row)) == row
    assert example_row(pset, "0") is None and example_row(pset, "5") is None and example_row(pset, None) is None


def test_a_slicing_by_a_column_the_data_lacks_is_cleared():
    view, notes = valid_for(View(slice_by="length", slice="long"), _pset())
    assert (view.slice_by, view.slice) == (None, None)
    assert notes == ["the link slices by 'length', which is not a column of this data; cleared"]
    assert valid_for(View(slice_by="label", slice="c1"), _pset()) == (View(slice_by="label", slice="c1"), [])


@pytest.mark.parametrize(
    ("value", "smoothing", "notes"),
    [("0.25", 0.25, []), ("0", 0.0, []),
     ("0.6", 0.1, ["eps='0.6' in the link is not a label smoothing from 0 to 0.5; using 0.1"]),
     ("x", 0.1, ["eps='x' in the link is not a label smoothing from 0 to 0.5; using 0.1"])],
    ids=["quarter", "zero", "above-half", "text"],
)
def test_the_labels_only_smoothing_in_the_link(value, smoothing, notes):
    view, got = from_query({"eps": value})
    assert (view.smoothing, got) == (smoothing, notes)
    assert "eps" not in to_query(View())  # the default stays out of the link


@pytest.mark.parametrize("key", ["short", "a" * 65, "../etc/passwd" + "x" * 10, "key with spaces in it!!"])
def test_a_malformed_own_data_key_is_dropped_with_a_note(key):
    view, notes = from_query({"own": key, "strategy": "hard"})
    assert view.own is None and view.strategy == "hard"
    assert notes == ["the link's key to its author's own data is malformed; ignored"]
