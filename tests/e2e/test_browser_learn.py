"""End to end: the Learn section — each step's button sets the Ensemble page's controls, and the
Build lab trains its smallest configuration in the background and draws it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from ensemble_core.explore import STRATEGY_LABELS
from tests.e2e.test_browser import accuracy, no_exception, settle, slider
from tests.e2e.test_browser_navigation import _nav

#: Each step's button, and the strategy the Ensemble page then shows.
STEPS = [
    ("Set the controls: hard vote, equal weights", "hard"),
    ("Set the controls: soft average, equal weights", "soft"),
    (re.compile(r"^Set the controls: soft average, .+ at weight 0$"), "soft"),
    ("Set the controls: geometric mean, equal weights", "geometric"),
    ("Set the controls: stacking with logistic regression", "stacking"),
]


def test_the_learn_steps_set_the_ensemble_page(page: Page):
    page.goto("/Learn?data=digits")
    for button, chosen in STEPS:
        expect(page.get_by_text("1 · The members, and the ceiling")).to_be_visible()
        settle(page)
        target = page.get_by_role("button", name=button)
        zeroed = None
        if not isinstance(button, str):  # the weakest model's name is in the button
            zeroed = re.search(r"Set the controls: soft average, (.+) at weight 0", target.inner_text()).group(1)
        target.click()
        expect(page.get_by_text(re.compile(r"^Controls set: "))).to_be_visible()  # the toast
        settle(page)
        no_exception(page)
        _nav(page, "Ensemble").click()
        expect(accuracy(page)).to_be_visible()
        settle(page)
        expect(page.get_by_role("radio", name=STRATEGY_LABELS[chosen])).to_be_checked()
        if zeroed is not None:
            expect(slider(page, zeroed)).to_have_value("0")
        no_exception(page)
        _nav(page, "Learn").click()
    no_exception(page)


def test_the_build_lab_trains_its_smallest_configuration(page: Page):
    page.goto("/Build_lab?data=digits")
    members = slider(page, "Members")
    expect(members).to_be_visible()
    settle(page)
    members.focus()
    page.keyboard.press("Home")
    expect(members).to_have_value("1")
    settle(page)
    page.get_by_role("button", name="Build", exact=True).click()
    held_out = page.locator('[data-testid="stMetric"]').filter(has_text="Held-out accuracy")
    expect(held_out).to_contain_text("1 members")
    expect(page.locator('[data-testid="stPlotlyChart"]').first).to_be_visible()
    no_exception(page)
