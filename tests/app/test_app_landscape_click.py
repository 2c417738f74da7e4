"""AppTest: a click on the ternary weight landscape (a grid point, or the best-on-the-grid mark) sets the sliders."""

import json

import pytest

from dashboard import keys as K
from dashboard.navigation import ENSEMBLE

pytestmark = pytest.mark.xdist_group("app")
THREE = {"data": "digits", "off": ["forest", "logreg"]}  # knn, mlp, naive_bayes


def _landscape(at):
    element = next(e for e in at.get("plotly_chart") if e.proto.id.endswith(f"-{K.WIDGET_LANDSCAPE_CHART}"))
    return element, json.loads(element.proto.spec)


def _click(at, points: list[dict]):
    """Click the landscape as the browser does: the chart's selection arrives as its widget state."""
    states = at._tree.get_widget_states()
    element, _ = _landscape(at)
    state = states.widgets.add()
    state.id = element.proto.id
    state.string_value = json.dumps({"selection": {"points": points, "point_indices": list(range(len(points))),
                                                   "box": [], "lasso": []}})
    return at._run(states)


def _sliders(at) -> dict[str, float]:
    return {s.key.removeprefix(K.WIDGET_WEIGHT_PREFIX): s.value for s in at.slider}


def _trace(spec: dict, name: str) -> dict:
    return next(t for t in spec["data"] if t.get("name") == name)


def test_clicking_a_grid_point_or_the_best_mark_moves_the_sliders_there(run_page):
    at = run_page(ENSEMBLE.path, query=THREE)
    assert _sliders(at) == {"knn": 1.0, "mlp": 1.0, "naive_bayes": 1.0}
    grid = _landscape(at)[1]["data"][0]["customdata"]  # what the browser returns for a click: the point's own
    i = next(i for i, w in enumerate(grid) if w == [0.34, 0.34, 0.32])
    _click(at, [{"curve_number": 0, "point_index": i, "customdata": grid[i]}])
    assert not at.exception
    assert _sliders(at) == {"knn": 1.7, "mlp": 1.7, "naive_bayes": 1.6}  # exactly the point's ratios
    assert at.session_state["view"].weight("naive_bayes") == 1.6 and "naive_bayes:1.6" in at.query_params["w"]
    current = _trace(_landscape(at)[1], "current")
    assert (current["a"][0], current["c"][0]) == pytest.approx((0.34, 0.32))  # the circle is on the clicked point

    best = _trace(_landscape(at)[1], "best on the grid")
    _click(at, [{"curve_number": 1, "point_index": 0, "customdata": best["customdata"][0]}])
    assert not at.exception
    sliders = _sliders(at)
    total = sum(sliders.values())
    assert [w / total for w in sliders.values()] == pytest.approx(best["customdata"][0], abs=0.02)
    assert max(sliders.values()) == 3.0

    before = _sliders(at)
    _click(at, [])  # a second click on the point unselects it: nothing moves
    assert not at.exception and _sliders(at) == before
