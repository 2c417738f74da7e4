"""AppTest: the Ensemble page's stacking panel (what the meta-learner learned) and its one note on the weights."""

import json

import pytest

from dashboard.navigation import ENSEMBLE

pytestmark = pytest.mark.xdist_group("app")


def _chart(at, key: str) -> dict | None:
    for element in at.get("plotly_chart"):
        if element.proto.id.endswith(f"-{key}"):
            return json.loads(element.proto.spec)
    return None


def _texts(at, shown) -> list[str]:
    return [shown(e.value) for kind in ("caption", "info", "markdown", "warning") for e in getattr(at, kind)]


@pytest.mark.slow  # stacking and its insight, logistic then gradient boosting: 8 CPU s, more wall-clock when loaded
def test_stacking_shows_what_the_meta_learner_learned(run_page, shown):
    at = run_page(ENSEMBLE.path, query={"data": "digits", "strategy": "stacking"})
    assert not at.exception and not at.error
    importance = _chart(at, "stacking_importance")
    assert importance is not None
    assert [t["y"] for t in importance["data"]][0] == list(at.session_state["view"].included(
        at.session_state["source"].model_names))
    trust = _chart(at, "stacking_trust")  # logistic: a weight per model and class
    assert trust is not None and len(trust["data"][0]["z"][0]) == 10
    assert sum("ignores" in text for text in _texts(at, shown)) == 1  # said once, by the sliders

    at.selectbox(key="w_meta").set_value("gbm").run()
    assert not at.exception and not at.error
    assert _chart(at, "stacking_importance") is not None and _chart(at, "stacking_trust") is None
    assert any("has no coefficient per model and class" in text for text in _texts(at, shown))


def test_no_stacking_panel_for_the_other_strategies(run_page):
    at = run_page(ENSEMBLE.path, query={"data": "digits"})
    assert not at.exception and _chart(at, "stacking_importance") is None
