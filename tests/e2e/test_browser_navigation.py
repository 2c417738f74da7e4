"""End to end: the sidebar's sections, and a shared link's view kept across page changes."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, expect

from dashboard.navigation import SECTIONS
from tests.e2e.test_browser import accuracy, no_exception, settle, slider

LINK = "/Ensemble?data=digits&strategy=hard&w=naive_bayes:0&w=knn:2.5&off=forest&vs=mlp&w=nosuch:1"
#: The link's note about its one part that names no loaded model: on the page it opened.
NOTE = re.compile(r"^Shared link: the link gives a weight for .nosuch., which is not loaded; ignored\.$")


def _query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def _nav(page: Page, title: str):
    return page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True)


def test_the_sidebar_lists_every_page_in_its_section(page: Page):
    page.goto("/")
    settle(page)
    nav = page.locator('[data-testid="stSidebarNav"]')
    for section, entries in SECTIONS.items():
        if section:  # a section's header (the Learn section holds the Learn page)
            expect(nav.get_by_text(section, exact=True).first).to_be_visible()
        for entry in entries:
            expect(_nav(page, entry.title)).to_be_visible()
    no_exception(page)


def test_a_shared_link_survives_moving_to_another_page_and_back(page: Page):
    page.goto(LINK)
    expect(accuracy(page)).to_be_visible()
    settle(page)
    expect(page).to_have_url(re.compile(r"[?&]vs=mlp"))
    expect(page.get_by_text(NOTE)).to_be_visible()
    shared = _query(page)
    assert shared["strategy"] == ["hard"] and shared["off"] == ["forest"]
    assert {"naive_bayes:0", "knn:2.5"} <= set(shared["w"]) and "nosuch:1" not in shared["w"]
    before = accuracy(page).inner_text()

    _nav(page, "Diversity").click()
    expect(page.get_by_text("Which pairs add most")).to_be_visible()
    settle(page)
    expect(page).to_have_url(re.compile(r"/Diversity\?"))
    assert _query(page) == shared
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("Left out: forest")
    expect(page.get_by_text(NOTE)).to_have_count(0)

    _nav(page, "Ensemble").click()
    expect(accuracy(page)).to_be_visible()
    settle(page)
    expect(page).to_have_url(re.compile(r"/Ensemble\?"))
    assert _query(page) == shared
    expect(accuracy(page)).to_have_text(before)
    expect(page.get_by_role("radio", name="Hard vote")).to_be_checked()
    expect(slider(page, "naive_bayes")).to_have_value("0")
    expect(slider(page, "knn")).to_have_value("2.5")
    expect(page.locator('[data-testid="stSlider"]').filter(has_text="forest")).to_have_count(0)
    no_exception(page)
