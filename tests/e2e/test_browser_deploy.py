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
