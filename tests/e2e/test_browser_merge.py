"""End to end: the Merge page opens on its demo and draws the interpolation curve."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from dashboard.merge import demo_available
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_browser import drawn, no_exception, settle


@pytest.mark.skipif(not demo_available(), reason="the merge demo is not built (demo_data/build_merge_demo.py)")
def test_the_merge_page_draws_its_curve(page: Page):
    page.goto("/Merge")
    # The first visit scores 11 points on 400 reviews (seconds on a quiet machine; the cache serves later ones).
    chart = page.locator(".js-plotly-plot")
    expect(chart).to_have_count(1, timeout=180_000)
    settle(page)
    drawn(page)
    no_exception(page)
    # Weights averaged and outputs averaged, in both panels, each with one marker per α.
    lines = chart.locator(".scatterlayer .trace")
    expect(lines).to_have_count(6)
    expect(lines.first.locator(".point")).to_have_count(11)
    expect(page.get_by_text("No barrier", exact=False)).to_be_visible()
    page.screenshot(path=ARTIFACTS / "merge.png", full_page=True)
