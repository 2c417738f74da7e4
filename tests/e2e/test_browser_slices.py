"""End to end: a click on a slice filters the Disagreement page; the Ensemble page's report downloads."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, expect

from tests.e2e.test_browser import accuracy, no_exception, settle


def test_clicking_a_slice_filters_the_disagreement_page(page: Page):
    page.goto("/Slices?slice_by=label")
    settle(page)
    points = page.locator(".js-plotly-plot .scatterlayer .point")
    expect(points).to_have_count(2)  # rotten and fresh
    box = points.nth(1).bounding_box()  # plotly's drag layer lies over the points: click where it is
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page).to_have_url(re.compile(r"[?&]slice="), timeout=20_000)
    chosen = parse_qs(urlparse(page.url).query)["slice"][0]
    expect(page.get_by_text(f"Chosen slice: {chosen}")).to_be_visible()
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Disagreement", exact=True).click()
    expect(page.get_by_text("(chosen on the Slices page)")).to_be_visible()
    settle(page)
    no_exception(page)
    page.get_by_role("button", name="Show every slice").click()
    expect(page.get_by_text("(chosen on the Slices page)")).to_have_count(0)
    settle(page)
    # The URL follows the view after the rerun: wait for it (a bare read raced it under load).
    expect(page).not_to_have_url(re.compile(r"[?&]slice="), timeout=30_000)


def test_the_report_downloads_for_the_current_view(page: Page):
    page.goto("/Ensemble?strategy=hard")
    expect(accuracy(page)).to_be_visible()
    settle(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download report").click()
    html = open(download.value.path(), encoding="utf-8").read()
    found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    summary = json.loads(found.group(1))
    assert summary["strategy"] == "hard"
    assert f"{100 * summary['accuracy']:.2f} %" == accuracy(page).inner_text()
    no_exception(page)
