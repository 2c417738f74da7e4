"""AppTest: the Ensemble page (strategies, sliders, buttons, errors, the URL)."""

import json

import pytest

from dashboard.navigation import ENSEMBLE, START
from ensemble_core import EnsembleEvaluator
from ensemble_core.combine import STRATEGIES
from ensemble_core.demo import load_demo

PAGE = ENSEMBLE.path
pytestmark = pytest.mark.xdist_group("app")


def test_loads_with_demo_metrics(run_page, metric_value):
    at = run_page(PAGE)  # the default demo: movie-review sentiment
    assert not at.exception
    assert metric_value(at, "Ensemble accuracy").endswith("%")
    assert len(at.slider) == 5
    # The ensemble is compared with the best single model by default.
    assert at.session_state["view"].compare == EnsembleEvaluator(load_demo("sentiment")).best_name_


def test_slider_change_changes_accuracy(run_page, metric_value):
    at = run_page(PAGE)
    before = metric_value(at, "Ensemble accuracy")
    at.slider(key="w_weight::tfidf_forest").set_value(3.0).run()
    assert not at.exception
    assert metric_value(at, "Ensemble accuracy") != before
    assert at.session_state["view"].weight("tfidf_forest") == 3.0
    assert "tfidf_forest:3" in at.query_params["w"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_each_strategy_works(run_page, metric_value, shown, strategy):
    at = run_page(PAGE)
    at.radio(key="w_strategy").set_value(strategy).run()
    assert not at.exception
    assert not at.error
    assert at.session_state["view"].strategy == strategy
    if strategy == "stacking":
        assert next(m for m in at.metric if m.label == "Ensemble accuracy").delta == "out-of-fold"
        assert any("out-of-fold" in shown(i.value) for i in at.info)
        assert all(s.disabled for s in at.slider)
        assert at.selectbox(key="w_meta").value == "logistic"
    else:
        assert metric_value(at, "Ensemble accuracy").endswith("%")
    if strategy == "hard":
        assert metric_value(at, "Log loss") == "—"


def test_stacking_meta_learner_changes(run_page, metric_value):
    at = run_page(PAGE, query={"strategy": "stacking"})
    at.selectbox(key="w_meta").set_value("mlp").run()
    assert not at.exception
    assert at.query_params["meta"] in ("mlp", ["mlp"])


def test_all_weights_zero_shows_error_not_exception(run_page, shown):
    at = run_page(PAGE)
    for slider in at.slider:
        slider.set_value(0.0)
    at.run()
    assert not at.exception
    assert any("at least one weight must be > 0" in shown(e.value) for e in at.error)


def test_equal_weights_and_reset(run_page):
    at = run_page(PAGE, query={"w": ["tfidf_nb:2.5"]})
    assert at.slider(key="w_weight::tfidf_nb").value == 2.5
    at.slider(key="w_weight::tiny_bert").set_value(0.5).run()
    at.button[0].click().run()  # Equal
    assert {s.value for s in at.slider} == {1.0}
    at.button[1].click().run()  # Reset: back to the link's view
    assert at.slider(key="w_weight::tfidf_nb").value == 2.5
    assert at.slider(key="w_weight::tiny_bert").value == 1.0


def test_shared_url_restores_view(run_page, metric_value, shown):
    query = {"data": "digits", "strategy": "hard", "w": ["naive_bayes:0", "knn:2"], "off": ["forest"], "vs": "mlp"}
    at = run_page(PAGE, query=query)
    assert not at.exception
    assert at.radio(key="w_strategy").value == "hard"
    assert [shown(s.label) for s in at.slider] == ["knn", "logreg", "mlp", "naive_bayes"]
    assert at.slider(key="w_weight::naive_bayes").value == 0.0
    assert at.selectbox(key="w_compare").value == "mlp"
    assert at.query_params["off"] in ("forest", ["forest"])


def test_bad_url_parts_are_reported_not_raised(run_page, shown):
    at = run_page(query={"strategy": "magic", "w": ["nosuch:1", "tfidf_nb:abc", "tiny_bert:99"], "data": "nope"})
    assert not at.exception
    notes = " ".join(shown(w.value) for w in at.warning)
    for fragment in ("unknown strategy 'magic'", "'nosuch', which is not loaded", "not name:number",
                     "outside 0–3", "not a bundled demo"):
        assert fragment in notes


def _click_cell(at, chart: str, true_i: int, pred_i: int):
    """Click a confusion-matrix cell as the browser does: the chart's selection arrives as its widget state."""
    states = at._tree.get_widget_states()
    element = next(e for e in at.get("plotly_chart") if e.proto.id.endswith(f"-cm::{chart}"))
    state = states.widgets.add()
    state.id = element.proto.id
    state.string_value = json.dumps({"selection": {"points": [{"customdata": [true_i, pred_i]}], "point_indices": [0],
                                                 "box": [], "lasso": []}})
    return at._run(states)


def test_a_cell_selected_on_other_data_does_not_crash_the_page(run_page, shown):
    """Regression (issue 11): digits, cell (9, 8), then the two-class sentiment demo: the
    Ensemble page raised IndexError on the stale cell."""
    at = run_page(PAGE, query={"data": "digits"})
    _click_cell(at, "ensemble", 9, 8)
    assert not at.exception
    assert any("of true class 9 that the ensemble predicts as 8" in shown(m.value) for m in at.markdown)
    at.switch_page(START.path).run()
    at.button(key="demo::sentiment").click().run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert not any("of true class" in shown(m.value) for m in at.markdown)


def test_presentation_mode_hides_the_controls_and_shows_evaluates_numbers_plainly(run_page, capsys):
    from dashboard.sources import demo_source
    from ensemble_core.cli import main
    from ensemble_core.plain import plain_sentences

    at = run_page(ENSEMBLE.path, query={"data": "sentiment", "strategy": "soft"})
    assert at.slider
    at.toggle(key="w_presenting").set_value(True).run()
    assert not at.exception and not at.error
    assert at.query_params["present"] in ("1", ["1"])
    assert not at.slider and not at.radio and not at.dataframe  # controls and tables folded away
    source = demo_source("sentiment")
    assert main(["evaluate", "--labels", source.labels.path, "--predictions", *(p.path for p in source.predictions),
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    values = [m.value for m in at.metric]
    assert values == [f"{100 * summary['accuracy']:.1f}%", f"{100 * summary['best_single']['accuracy']:.1f}%",
                      f"{100 * summary['gain_over_best']:+.1f} points"]
    shown = " ".join(m.value for m in at.markdown).replace("\\", "").replace("\u2060", "")
    for sentence in plain_sentences(summary):
        assert sentence in shown
    at.toggle(key="w_presenting").set_value(False).run()
    assert at.slider and "present" not in at.query_params


@pytest.mark.parametrize("page", [PAGE, START.path], ids=["ensemble", "start"])
def test_headline_numbers_are_read_out_in_plain_words(run_page, metric_value, shown, page):
    """Issue 12 item 11: next to "Fixes / breaks" and "Oracle headroom", a sentence a demo audience
    follows, with the same numbers (and on Start, the same sentence)."""
    at = run_page(page)
    assert not at.exception
    ev = EnsembleEvaluator(load_demo("sentiment"))
    result = ev.evaluate("soft")
    sentence = next(shown(m.value) for m in at.markdown if shown(m.value).startswith("Combining the 5 models"))
    assert (f"It fixes {result.fixes} examples {ev.best_name_} got wrong and breaks {result.breaks} it got right."
            in sentence)
    more = round((ev.oracle_accuracy_ - result.metrics.accuracy) * ev.pset.n_samples)
    assert f"On {more} more examples at least one model is right" in sentence
    if page == PAGE:
        assert metric_value(at, "Fixes / breaks") == f"{result.fixes} / {result.breaks}"
        real = next(shown(m.value) for m in at.markdown if m.value.startswith("**Is the gain real?**"))
        assert real.startswith(("**Is the gain real?** Very likely real", "**Is the gain real?** Could be luck"))
        assert "In numbers: +" in real and "McNemar p" in real

