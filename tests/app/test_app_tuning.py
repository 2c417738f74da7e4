"""AppTest: the tuning tools (suggested weights and the way back, the landscape,
the gain in words, calibration) on the Ensemble and Data & models pages."""

import json

import pytest

import dashboard.tuning
from dashboard import keys as K
from dashboard import navigation

ENSEMBLE = navigation.ENSEMBLE.path
DATA = navigation.DATA.path
pytestmark = pytest.mark.xdist_group("app")


@pytest.fixture
def run_digits(run_page):
    """``run_page`` on the digits demo: these checks name its models (a fresh session
    opens on the sentiment demo)."""

    def run(page: str, query: dict | None = None):
        return run_page(page, query={"data": "digits", **(query or {})})

    return run


def _chart(at, key: str) -> dict | None:
    """The plotly figure drawn with ``key`` (its JSON spec), or None."""
    for element in at.get("plotly_chart"):
        if element.proto.id.endswith(f"-{key}"):
            return json.loads(element.proto.spec)
    return None


def _sliders(at) -> dict[str, float]:
    """Each weight slider's value by model name."""
    return {s.key.removeprefix(K.WIDGET_WEIGHT_PREFIX): s.value for s in at.slider}


def test_suggest_moves_the_sliders_and_restore_brings_them_back(run_digits, metric_value):
    at = run_digits(ENSEMBLE, query={"strategy": "hard", "w": ["knn:0.5", "naive_bayes:2.5"]})
    before_sliders, before_accuracy, before_url = _sliders(at), metric_value(at, "Ensemble accuracy"), at.query_params["w"]
    assert at.button(key="restore_weights").disabled

    at.button(key="suggest_weights").click().run()
    assert not at.exception and not at.error
    after = _sliders(at)
    assert after != before_sliders and max(after.values()) == 3.0
    assert at.radio(key="w_strategy").value == "soft"  # the suggestion is for soft voting
    assert metric_value(at, "Ensemble accuracy") != before_accuracy
    assert at.query_params["w"] == [f"{n}:{w:g}" for n, w in after.items()]
    assert at.query_params["strategy"] in ("soft", ["soft"])
    assert metric_value(at, "Held-out log loss")
    assert _chart(at, "selection_path") is not None  # Caruana is the default method

    at.button(key="restore_weights").click().run()
    assert not at.exception
    assert _sliders(at) == before_sliders
    assert at.radio(key="w_strategy").value == "hard"
    assert metric_value(at, "Ensemble accuracy") == before_accuracy
    assert at.query_params["w"] == before_url
    assert at.button(key="restore_weights").disabled


def test_suggesting_twice_keeps_the_way_back_to_your_weights(run_digits):
    at = run_digits(ENSEMBLE, query={"w": ["mlp:2"]})
    before = _sliders(at)
    at.button(key="suggest_weights").click().run()
    at.selectbox(key="w_suggest_method").set_value("logloss")
    at.button(key="suggest_weights").click().run()
    assert not at.exception
    assert _sliders(at) != before
    at.button(key="restore_weights").click().run()
    assert _sliders(at) == before


@pytest.mark.parametrize(
    ("off", "kind"),
    [(["forest", "logreg", "naive_bayes"], "line"), (["forest", "logreg"], "ternary"), ([], "sweeps")],
    ids=["2 models", "3 models", "5 models"],
)
def test_landscape_follows_the_sliders(run_digits, off, kind):
    at = run_digits(ENSEMBLE, query={"off": off} if off else None)
    assert len(at.slider) == 5 - len(off)
    first = _chart(at, "landscape")
    assert first is not None and not at.exception
    types = {trace["type"] for trace in first["data"]}
    assert ("scatterternary" in types) == (kind == "ternary")
    if kind == "line":
        assert any(t.get("name") == "log loss" for t in first["data"])
    if kind == "sweeps":
        assert "swept" in first["layout"]["title"]["text"]
    at.slider(key="w_weight::knn").set_value(3.0).run()
    assert not at.exception
    assert _chart(at, "landscape") != first  # the current point moved
    at.button(key="suggest_weights").click().run()
    if kind == "ternary":
        assert any(t.get("name") == "suggested" for t in _chart(at, "landscape")["data"])
    at.radio(key="w_strategy").set_value("geometric").run()
    assert not at.exception and _chart(at, "landscape") is not None
    at.radio(key="w_strategy").set_value("stacking").run()
    assert not at.exception and _chart(at, "landscape") is None


def test_gain_is_shown_with_interval_and_mcnemar(run_digits, shown):
    at = run_digits(ENSEMBLE)
    sentence = next(shown(m.value) for m in at.markdown if m.value.startswith("**Is the gain real?**"))
    assert "points over knn, 95% CI" in sentence and "McNemar p" in sentence


def test_sweeps_wait_for_a_click_on_large_data(run_digits, monkeypatch):
    monkeypatch.setattr(dashboard.tuning, "LIVE_SWEEP_PAIRS", 100)
    at = run_digits(ENSEMBLE)
    assert _chart(at, "landscape") is None
    at.button(key="sweep_now").click().run()
    assert not at.exception and _chart(at, "landscape") is not None
    at.slider(key="w_weight::knn").set_value(2.0).run()
    assert _chart(at, "landscape") is None and at.button(key="sweep_now")


def test_calibrated_suggestion_combines_temperature_scaled_members(run_digits, metric_value):
    at = run_digits(ENSEMBLE)
    assert not at.toggle(key="w_calibrated").value
    at.checkbox(key="w_suggest_calibrate").check()
    at.selectbox(key="w_suggest_method").set_value("logloss")
    at.button(key="suggest_weights").click().run()
    assert not at.exception and not at.error
    assert at.toggle(key="w_calibrated").value and at.query_params["cal"] in ("1", ["1"])
    # The page warns exactly when the suggestion's held-out log loss is worse than a simpler choice's.
    heldout, uniform, best = at.dataframe[0].value["log loss"][:3]
    assert any("higher log loss" in w.value for w in at.warning) == (heldout > min(uniform, best))
    figure = _chart(at, "w_reliability_suggest::figure")
    assert figure["layout"]["title"]["text"] == "reliability of forest"  # the worst calibrated (ECE 0.24) first
    calibrated_loss = metric_value(at, "Log loss")
    at.toggle(key="w_calibrated").set_value(False).run()
    assert metric_value(at, "Log loss") != calibrated_loss  # same weights, the models as loaded
    assert any("temperature-scaled members are off now" in c.value for c in at.caption)
    at.button(key="restore_weights").click().run()
    assert not at.toggle(key="w_calibrated").value and "cal" not in at.query_params


def test_shared_link_with_temperature_scaled_members(run_digits, metric_value):
    plain = metric_value(run_digits(ENSEMBLE), "Log loss")
    at = run_digits(ENSEMBLE, query={"cal": "1"})
    assert not at.exception and at.toggle(key="w_calibrated").value
    assert metric_value(at, "Log loss") != plain


def test_data_page_shows_temperature_scaling_on_request(run_digits):
    at = run_digits(DATA)
    at.toggle(key="w_data_temperature").set_value(True).run()
    assert not at.exception
    figure = _chart(at, "w_reliability_data::figure")
    assert figure is not None and [t["name"].split(",")[0] for t in figure["data"][1:]][0] == "before"
