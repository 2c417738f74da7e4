"""AppTest: the Build lab on the digits demo (its numbers are the core's, fitted directly)."""

import time

import numpy as np
import pytest

from dashboard import keys as K
from dashboard.navigation import BUILD_LAB
from ensemble_core.build.bias_variance import bias_variance
from ensemble_core.build.features import content_features
from ensemble_core.build.lab import growth_curve, make_base_learner
from ensemble_core.demo import DEMOS
from ensemble_core.io import LabelsFile

pytestmark = pytest.mark.xdist_group("app")


@pytest.fixture(scope="module")
def digits():
    spec = DEMOS["digits"]
    test = LabelsFile(spec.split_labels_path("test"))
    train = LabelsFile(spec.split_labels_path("train"), classes=test.classes)
    return content_features(train.content, test.content), train.y_true, test.y_true


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def _build(at):
    """Press Build, wait for the background training to end, and draw what it built (the page polls)."""
    at.button(key="lab_build").click().run()
    assert not at.exception and not at.error
    at.session_state[K.LAB_JOB].wait(120)
    return at.run()


def test_the_bagging_curve_is_growth_curves(run_page, digits):
    features, y_train, y_test = digits
    at = run_page(BUILD_LAB.path, query={"data": "digits"})
    assert not at.exception and not at.error
    at.selectbox(key="lab_method").set_value("bagging")
    at.slider(key="lab_members").set_value(20)
    started = time.perf_counter()
    _build(at)
    seconds = time.perf_counter() - started
    assert not at.exception and not at.error
    curve = growth_curve("bagging", features.train, y_train, features.test, y_test, base="tree", n_members=20)
    assert _metric(at, "Held-out accuracy") == f"{100 * curve.test_accuracy[-1]:.2f} %"
    assert _metric(at, "One base learner") == f"{100 * curve.base_test_accuracy:.2f} %"
    assert _metric(at, "Train accuracy") == f"{100 * curve.train_accuracy[-1]:.2f} %"
    assert seconds < 30  # measured ~2 s on the busy 2-core machine; the bound is 10 s for 50 members


def test_forest_has_no_base_learner_and_logistic_is_capped(run_page):
    at = run_page(BUILD_LAB.path, query={"data": "digits"})
    at.selectbox(key="lab_method").set_value("forest").run()
    assert at.selectbox(key="lab_base").disabled
    at.selectbox(key="lab_method").set_value("bagging").run()
    at.selectbox(key="lab_base").set_value("logistic").run()
    assert not at.exception
    assert at.slider(key="lab_members").max == 8 and at.slider(key="lab_members").value == 8


@pytest.mark.slow
def test_bias_and_variance_are_the_cores(run_page, digits):
    features, y_train, y_test = digits
    at = run_page(BUILD_LAB.path, query={"data": "digits"})
    at.button(key="lab_bv_button").click().run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    alone = bias_variance(lambda r: make_base_learner("tree", seed=r), features.train, y_train, features.test,
                          y_test, n_classes=10, rounds=8, seed=0)
    np.testing.assert_allclose(table.iloc[0][["loss", "bias", "variance", "net variance"]].astype(float),
                               [alone.loss, alone.bias, alone.variance, alone.net_variance])
    assert table["variance"].iloc[1] < table["variance"].iloc[0]  # bagging lowers the variance


def test_data_other_than_a_demo_is_told_the_lab_needs_one(small_set_loaded):
    at = small_set_loaded
    at.switch_page(BUILD_LAB.path).run()
    assert not at.exception and not at.error
    assert any("training split" in i.value for i in at.info)


def test_the_rows_adaboost_leans_on_are_its_replayed_weights(run_page, digits):
    from ensemble_core.build.boosting import adaboost_sample_weights
    from ensemble_core.build.lab import make_ensemble

    features, y_train, _ = digits
    at = run_page(BUILD_LAB.path, query={"data": "digits"})
    at.selectbox(key="lab_method").set_value("adaboost")
    at.slider(key="lab_members").set_value(12)
    _build(at)
    assert not at.exception and not at.error
    model = make_ensemble("adaboost", "tree", 12, seed=0).fit(features.train, y_train)
    weights = adaboost_sample_weights(model, features.train, y_train)
    table = at.dataframe[0].value
    heaviest = np.sort(weights[-1])[::-1][:10] * weights.shape[1]
    np.testing.assert_allclose(table["× uniform, round 12"], heaviest)
    np.testing.assert_allclose(table["× uniform, round 1"], 1.0)


def test_text_features_cap_the_members(run_page):
    at = run_page(BUILD_LAB.path)  # the sentiment demo: TF-IDF, where each tree takes seconds
    assert not at.exception and not at.error
    assert at.slider(key="lab_members").max == 10 and at.slider(key="lab_members").value == 10
    assert at.button(key="lab_bv_button").disabled  # 168 models of seconds each: not offered on text


def test_added_members_show_on_the_ensemble_page_with_the_curves_accuracy(run_page, metric_value, digits):
    from dataclasses import replace

    from dashboard.navigation import ENSEMBLE

    features, y_train, y_test = digits
    at = run_page(BUILD_LAB.path, query={"data": "digits"})
    at.selectbox(key="lab_method").set_value("bagging")
    at.slider(key="lab_members").set_value(5)
    _build(at)
    at.number_input(key="lab_add_singles").set_value(3)
    at.button(key="lab_add").click().run()
    assert not at.exception and not at.error
    added = ["lab-bagging-tree-5", "lab-bagging-tree-m1", "lab-bagging-tree-m2", "lab-bagging-tree-m3"]
    names = at.session_state[K.SOURCE].model_names
    assert list(names[-4:]) == added and len(names) > 4  # beside the demo's trained models
    assert at.button(key="lab_add").disabled  # added once
    curve = growth_curve("bagging", features.train, y_train, features.test, y_test, base="tree", n_members=5)
    # Averaging the first three members on the Ensemble page is the curve's point at 3; the whole
    # ensemble alone is its last point.
    for kept, accuracy in ((added[1:], curve.test_accuracy[2]), (added[:1], curve.test_accuracy[-1])):
        at.session_state[K.VIEW] = replace(at.session_state[K.VIEW], strategy="soft",
                                           off=tuple(n for n in names if n not in kept))
        at.switch_page(ENSEMBLE.path).run()
        assert not at.exception and not at.error
        assert metric_value(at, "Ensemble accuracy") == f"{100 * accuracy:.2f} %"


def test_gradient_boosting_adds_the_ensemble_only(run_page):
    at = run_page(BUILD_LAB.path, query={"data": "digits"})
    at.selectbox(key="lab_method").set_value("gbm")
    at.slider(key="lab_members").set_value(3)
    _build(at)
    assert at.number_input(key="lab_add_singles").disabled
    at.button(key="lab_add").click().run()
    assert not at.exception and not at.error
    assert at.session_state["source"].model_names[-1] == "lab-gbm-3"


def test_stop_keeps_the_members_built_so_far(run_page, digits):
    features, y_train, y_test = digits
    at = run_page(BUILD_LAB.path, query={"data": "digits"})
    at.selectbox(key="lab_method").set_value("bagging")
    at.slider(key="lab_members").set_value(100)  # seconds of training: Stop comes while it runs
    at.button(key="lab_build").click().run()
    assert not at.exception and not at.error
    job = at.session_state[K.LAB_JOB]
    assert job.running and at.button(key="lab_stop")  # progress and Stop while it trains
    at.button(key="lab_stop").click().run()
    job.wait(120)
    at.run()
    assert not at.exception and not at.error
    built = job.curve.sizes[-1]
    assert 1 <= built < 100
    assert any(f"Stopped after {built} of 100 members" in i.value for i in at.info)
    direct = growth_curve("bagging", features.train, y_train, features.test, y_test, base="tree", n_members=built)
    assert _metric(at, "Held-out accuracy") == f"{100 * direct.test_accuracy[-1]:.2f} %"
