"""End to end: a click on a point of the cost frontier opens its subset on the Ensemble page."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, expect

from tests.e2e.test_browser import accuracy, no_exception, settle


def test_clicking_a_front_point_opens_its_subset(page: Page):
    page.goto("/Cost_frontier?data=digits")
    settle(page)
    no_exception(page)
    front = page.locator(".js-plotly-plot .scatterlayer .trace").nth(1).locator(".point")
    expect(front.first).to_be_visible()
    box = front.first.bounding_box()  # the cheapest subset on the front: one model (every cost is 1)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page).to_have_url(re.compile(r"/Ensemble\?.*off="), timeout=20_000)
    expect(accuracy(page)).to_be_visible()
    settle(page)
    no_exception(page)
    assert len(parse_qs(urlparse(page.url).query)["off"]) == 4  # digits has five models


def test_distill_shows_progress_then_its_report_and_a_long_run_stops(page: Page):
    """Only a browser runs the panel's timed redraws: the report must appear by itself when the
    background run ends, and Stop must end a run."""
    page.goto("/Distill?data=digits")
    settle(page)
    no_exception(page)
    page.get_by_text("the demo's validation split").click()  # 269 rows: seconds
    settle(page)
    page.get_by_role("button", name="Distill").click()
    student = page.locator('[data-testid="stMetric"]').filter(has_text="Student accuracy")
    expect(student).to_be_visible(timeout=180_000)
    no_exception(page)

    epochs = page.get_by_label("Epochs")
    epochs.fill("2000")
    epochs.press("Enter")
    settle(page)
    page.get_by_role("button", name="Distill").click()
    stop = page.get_by_role("button", name="Stop")
    expect(stop).to_be_visible(timeout=60_000)
    stop.click()
    expect(page.get_by_text(re.compile(r"Stopped after \d+ of 4000 epochs"))).to_be_visible(timeout=120_000)
    no_exception(page)
