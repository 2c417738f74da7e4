"""End to end: a click on the ternary weight landscape (a grid point, the best-on-the-grid mark) moves the sliders."""

from __future__ import annotations

import numpy as np
from playwright.sync_api import Page, expect

from dashboard.caches import TERNARY_RESOLUTION
from dashboard.tuning import grid_point_sliders
from ensemble_core import simplex_landscape
from ensemble_core.demo import load_demo
from tests.e2e.test_browser import ARTIFACTS, no_exception, settle, slider

THREE = ("knn", "mlp", "naive_bayes")


def _landscape():
    pset = load_demo("digits").select(list(THREE))
    return simplex_landscape(pset.probas, pset.y_true, strategy="soft", resolution=TERNARY_RESOLUTION,
                             names=pset.names)


def _click_point(page: Page, point) -> None:
    point.scroll_into_view_if_needed()
    box = point.bounding_box()  # plotly's drag layer lies over the points: click where it is
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def _expect_sliders(page: Page, values: dict[str, float]) -> None:
    for name, value in values.items():
        expect(slider(page, name)).to_have_value(f"{value:g}", timeout=30_000)


def test_clicking_the_ternary_landscape_moves_the_sliders(page: Page):
    page.goto("/Ensemble?data=digits&off=forest&off=logreg")
    settle(page)
    chart = page.locator('[data-testid="stPlotlyChart"]').filter(has=page.locator(".ternary"))
    traces = chart.locator(".scatterlayer .trace")
    expect(traces).to_have_count(3, timeout=60_000)  # the grid, the best point, the current point
    _expect_sliders(page, dict.fromkeys(THREE, 1.0))

    land = _landscape()
    marks = np.array([land.weights[np.argmax(land.accuracy)], [1 / 3] * 3])
    far = np.flatnonzero(np.abs(land.weights[:, None, :] - marks[None]).max(axis=2).min(axis=1) > 0.15)
    i = int(far[len(far) // 2])  # a grid point away from the marks, so no mark lies over it
    grid = traces.nth(0).locator(".point")
    expect(grid).to_have_count(len(land.weights))
    _click_point(page, grid.nth(i))
    _expect_sliders(page, grid_point_sliders(THREE, land.weights[i], TERNARY_RESOLUTION))
    settle(page)
    no_exception(page)

    _click_point(page, chart.locator(".scatterlayer .trace").nth(1).locator(".point"))  # the best-on-the-grid diamond
    _expect_sliders(page, grid_point_sliders(THREE, marks[0], TERNARY_RESOLUTION))
    settle(page)
    no_exception(page)
    chart.screenshot(path=ARTIFACTS / "ensemble-landscape-clicked.png")
