"""Every chart can be saved as an image (issue 17; issue 12 item 10): Plotly's toolbar shows on the
Ensemble and Learn pages' charts, and its camera button downloads a PNG."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_browser import drawn, settle


@pytest.mark.parametrize("path", ["/Ensemble", "/Learn"])
def test_a_chart_downloads_as_png(page: Page, path: str):
    page.goto(path)
    settle(page)
    drawn(page)
    chart = page.locator('[data-testid="stPlotlyChart"]:visible').first
    chart.scroll_into_view_if_needed()
    chart.hover()
    button = chart.locator('.modebar-btn[data-title^="Download plot"]')
    expect(button).to_be_visible()
    with page.expect_download() as download:
        button.click()
    assert download.value.suggested_filename.endswith(".png")
    with open(download.value.path(), "rb") as image:
        assert image.read(8) == b"\x89PNG\r\n\x1a\n"
