"""Nothing leaves the machine (the Start page says so): with every request that is not to
127.0.0.1 blocked, each page draws, its icons are drawn by the bundled Material Symbols
font, and no request to anywhere else was even attempted (Streamlit fetches a
``:material/`` favicon from fonts.gstatic.com unless the app gives it a local one)."""

from __future__ import annotations

from urllib.parse import urlparse

from playwright.sync_api import Page, Route, expect

from dashboard.navigation import SECTIONS

from tests.e2e.test_browser import drawn, no_exception, settle

PAGES = [entry for entries in SECTIONS.values() for entry in entries]

#: For each Material icon on the page: its family's font status, and its width over its height
#: (a glyph is square; the icon's name in a fallback font, "upload_file", is several times wider).
ICONS = """() => [...document.querySelectorAll('[data-testid="stIconMaterial"]')]
    .filter(e => e.offsetParent !== null)
    .map(e => [e.textContent, e.getBoundingClientRect().width / e.getBoundingClientRect().height])"""
FONT_STATUS = """() => [...document.fonts].filter(f => f.family.includes('Material Symbols'))
    .map(f => f.status)"""


def test_no_request_leaves_the_machine(page: Page):
    outside: list[str] = []

    def only_local(route: Route) -> None:
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_local)
    for entry in PAGES:
        page.goto(f"/{entry.url_path}")
        nav_icons = page.locator('[data-testid="stSidebarNav"] [data-testid="stIconMaterial"]')
        expect(nav_icons.first).to_be_visible()
        settle(page)
        assert nav_icons.count() >= len(PAGES)  # one per page, and the sections' chevrons
        drawn(page)
        no_exception(page)
        assert page.locator("link[rel='shortcut icon']").get_attribute("href").startswith("data:image/svg+xml"), \
            entry.title
        assert page.evaluate(FONT_STATUS) == ["loaded"], entry.title
        icons = page.evaluate(ICONS)
        assert icons and all(ratio < 1.5 for _, ratio in icons), (entry.title, icons)
    assert outside == []
