"""AppTest: the Slices page (its numbers are slice_table's) and its slice filtering the Disagreement page."""

import numpy as np
import pytest

from dashboard.navigation import DISAGREEMENT, SLICES
from ensemble_core import EnsembleEvaluator
from ensemble_core.demo import load_demo
from ensemble_core.report.slices import slice_by_class, slice_table, slice_values

pytestmark = pytest.mark.xdist_group("app")


@pytest.fixture(scope="module")
def sentiment():
    pset = load_demo("sentiment")
    ev = EnsembleEvaluator(pset)
    result = ev.evaluate("soft", [1.0] * pset.n_models)
    return pset, result.y_pred == pset.y_true, ev.correct_[ev.best_index_]


def _assert_table_is(at, expected):
    table = at.dataframe[0].value  # the only table on the page
    assert list(table["slice"]) == [r.slice for r in expected]
    assert list(table["examples"]) == [r.n for r in expected]
    np.testing.assert_allclose(table["ensemble"], [r.accuracy for r in expected])
    np.testing.assert_allclose(table["best single"], [r.best_single_accuracy for r in expected])
    np.testing.assert_allclose(table["gain"], [100 * r.gain for r in expected])
    np.testing.assert_allclose(table["gain low"], [100 * r.gain_ci[0] for r in expected])
    np.testing.assert_allclose(table["gain high"], [100 * r.gain_ci[1] for r in expected])
    assert list(table["fixes"]) == [r.fixes for r in expected]
    assert list(table["breaks"]) == [r.breaks for r in expected]
    assert list(table["worse"]) == [r.worse for r in expected]


def test_the_text_length_slices_are_slice_tables(run_page, sentiment):
    pset, correct, best = sentiment
    at = run_page(SLICES.path)
    assert not at.exception and not at.error
    assert at.selectbox(key="w_slice_by").value == "text"
    _assert_table_is(at, slice_table(correct, best, slice_values(pset.content["text"], bins=4)))
    at.slider(key="w_bins").set_value(6).run()
    assert not at.exception
    assert at.query_params["bins"] in ("6", ["6"])
    _assert_table_is(at, slice_table(correct, best, slice_values(pset.content["text"], bins=6)))


def test_the_class_slices_are_slice_tables(run_page, sentiment):
    pset, correct, best = sentiment
    at = run_page(SLICES.path)
    at.selectbox(key="w_slice_by").set_value("label").run()
    assert not at.exception
    assert at.slider(key="w_bins").disabled
    _assert_table_is(at, slice_table(correct, best, slice_by_class(pset.y_true, pset.classes)))


def test_a_chosen_slice_filters_the_disagreement_page(run_page, sentiment):
    pset, _, _ = sentiment
    at = run_page(DISAGREEMENT.path)
    everything = len(at.dataframe[0].value)
    at = run_page(DISAGREEMENT.path, query={"slice_by": "label", "slice": "rotten"})
    assert not at.exception
    table = at.dataframe[0].value
    assert 0 < len(table) < everything
    assert set(table["true"]) == {"rotten"}
    at.button[0].click().run()  # "Show every slice"
    assert at.session_state["view"].slice is None
    assert len(at.dataframe[0].value) == everything


def test_a_slice_the_bins_no_longer_have_is_said_and_ignored(run_page):
    at = run_page(DISAGREEMENT.path, query={"slice_by": "label", "slice": "lukewarm"})
    assert not at.exception
    assert any("lukewarm" in i.value for i in at.info)


def test_slicings_side_by_side_are_each_a_slice_table_and_go_in_the_link(run_page, sentiment):
    pset, correct, best = sentiment
    at = run_page(SLICES.path)
    at.multiselect(key="w_slice_also").set_value(["label"]).run()
    assert not at.exception and not at.error
    assert at.query_params["slice_also"] in ("label", ["label"])
    assert len(at.dataframe) == 2
    for table, expected in zip(at.dataframe, [slice_table(correct, best, slice_values(pset.content["text"], bins=4)),
                                              slice_table(correct, best, slice_by_class(pset.y_true, pset.classes))]):
        shown = table.value
        assert list(shown["slice"]) == [r.slice for r in expected]
        assert list(shown["examples"]) == [r.n for r in expected]
        np.testing.assert_allclose(shown["ensemble"], [r.accuracy for r in expected])
        np.testing.assert_allclose(shown["gain"], [100 * r.gain for r in expected])
        assert list(shown["worse"]) == [r.worse for r in expected]
    # A link naming a column this data lacks keeps the rest and says so.
    at = run_page(SLICES.path, query={"data": "sentiment", "slice_also": ["nope", "label"]})
    assert not at.exception
    assert at.multiselect(key="w_slice_also").value == ["label"]
