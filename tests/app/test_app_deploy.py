"""AppTest: the Cost frontier page (its front is deploy.frontier's) and opening a subset on the Ensemble page."""

import shutil

import numpy as np
import pytest

from dashboard.navigation import COST_FRONTIER, DATA, ENSEMBLE
from dashboard.ui import percent
from ensemble_core.demo import load_demo
from ensemble_core.deploy.costs import ModelCost, write_cost
from tests.app.conftest import FOLDER_SUBMIT
from ensemble_core.deploy.frontier import cost_accuracy_frontier

pytestmark = pytest.mark.xdist_group("app")

#: Entered costs for the digits demo's models (ms per 1,000 examples), all different so the front is not a tie.
COSTS = {"forest": 40.0, "knn": 25.0, "logreg": 2.0, "mlp": 6.0, "naive_bayes": 0.5}


@pytest.fixture(scope="module")
def digits():
    return load_demo("digits")


def _with_costs(run_page):
    at = run_page(COST_FRONTIER.path, query={"data": "digits"})
    assert not at.exception and not at.error
    for name, cost in COSTS.items():
        at.number_input(key=f"w_cost::{name}").set_value(cost).run()
        assert not at.exception
    return at


def test_the_front_is_the_frontier_s_with_entered_costs(run_page, digits):
    at = _with_costs(run_page)
    assert at.session_state["entered_costs"] == COSTS
    expected = cost_accuracy_frontier(digits, [COSTS[n] for n in digits.names]).pareto
    table = at.dataframe[1].value  # the models' costs, then the front
    assert list(table["models"]) == [", ".join(p.models) for p in expected]
    np.testing.assert_allclose(table["accuracy"], [p.accuracy for p in expected])
    np.testing.assert_allclose(table["cost (ms per 1,000)"], [p.cost for p in expected])
    costs = at.dataframe[0].value
    assert list(costs["source"]) == ["entered"] * len(COSTS)
    assert len(expected) > 1  # the test means something: more than one subset is worth shipping


def test_a_model_without_a_cost_gets_the_default_and_says_so(run_page, digits):
    at = run_page(COST_FRONTIER.path, query={"data": "digits"})
    assert not at.exception
    assert all(s.startswith("not measured") for s in at.dataframe[0].value["source"])
    assert at.number_input(key="w_cost::knn").value == 1.0


def test_opening_a_subset_leaves_out_the_others(run_page, metric_value, digits):
    at = _with_costs(run_page)
    front = cost_accuracy_frontier(digits, [COSTS[n] for n in digits.names]).pareto
    chosen = front[1].models
    at.selectbox(key="w_frontier_pick").set_value(chosen).run()
    at.button[-1].click().run()  # "Open this subset on the Ensemble page"
    assert not at.exception
    v = at.session_state["view"]
    assert v.off and set(v.off) == set(digits.names) - set(chosen)
    assert v.strategy == "soft"
    assert at.title[0].value == ENSEMBLE.title  # switched there, showing the point's accuracy
    assert metric_value(at, "Ensemble accuracy") == percent(front[1].accuracy)


def test_a_measured_cost_is_read_from_its_sidecar(small_set_files, run_page, monkeypatch, tmp_path):
    labels, folder = small_set_files
    shutil.copy(labels, tmp_path / labels.name)
    shutil.copytree(folder, tmp_path / "predictions")
    write_cost(tmp_path / "predictions" / "beta.csv", ModelCost("beta", 12.5, "measured", batch_size=64, n_rows=60))
    monkeypatch.setenv("ENSEMBLE_EXPLORER_ROOT", str(tmp_path))
    at = run_page(DATA.path)
    at.text_input(key="path_labels").input(str(tmp_path / labels.name))
    at.text_input(key="path_predictions").input(str(tmp_path / "predictions"))
    at.button(key=FOLDER_SUBMIT).click().run()
    at.switch_page(COST_FRONTIER.path).run()
    assert not at.exception and not at.error
    costs = at.dataframe[0].value.set_index("model")
    assert costs.loc["beta", "source"] == "measured" and costs.loc["beta", "ms per 1,000"] == 12.5
    assert costs.loc["alpha", "source"].startswith("not measured")
    at.number_input(key="w_cost::beta").set_value(3.0).run()  # a typed cost wins over the measured one
    costs = at.dataframe[0].value.set_index("model")
    assert costs.loc["beta", "source"] == "entered" and costs.loc["beta", "ms per 1,000"] == 3.0
