"""End to end: the Ensemble page's presentation mode folds the controls and sidebar away and
shows its numbers in projector-sized type (only a browser applies the style sheet)."""

from __future__ import annotations

import os

from playwright.sync_api import Page, expect

from tests.e2e.test_browser import no_exception, settle, slider


def test_presentation_mode_hides_the_sidebar_and_controls_and_shows_large_numbers(page: Page):
    page.goto("/Ensemble?present=1")
    combined = page.locator('[data-testid="stMetric"]').filter(has_text="Combined").locator(
        '[data-testid="stMetricValue"]')
    expect(combined).to_be_visible(timeout=60_000)
    settle(page)
    no_exception(page)
    expect(page.locator('[data-testid="stSidebar"]')).to_be_hidden()
    expect(page.locator('[data-testid="stSlider"]')).to_have_count(0)
    size = combined.evaluate("e => { while (e.firstElementChild) e = e.firstElementChild; "
                             "return parseFloat(getComputedStyle(e).fontSize); }")
    assert size >= 60, f"the headline number is {size}px: too small for a projector"
    if os.environ.get("PRESENTATION_SHOT"):
        page.screenshot(path=os.environ["PRESENTATION_SHOT"], full_page=True)
    page.get_by_text("Presentation mode").click()
    expect(slider(page, "tfidf_nb")).to_be_visible(timeout=60_000)
    expect(page.locator('[data-testid="stSidebar"]')).to_be_visible()
