"""What only a browser shows of issue 12's lost work: reloading the page (a new session)
brings back the data the user loaded; a config file uploaded in the browser sets the view."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect

from tests.e2e.test_browser import no_exception, settle, slider


def test_a_reload_brings_back_the_files_read_by_path_and_the_weights(page: Page):
    page.goto("/Data_and_models")
    settle(page)
    page.get_by_role("tab", name="Files on this machine").click()
    form = page.locator('[data-testid="stForm"]').filter(has_text="Labels file path")
    form.get_by_label("Labels file path").fill("demo_data/digits/test.csv")
    form.get_by_label("Folder of prediction files").fill("demo_data/digits/predictions/test")
    form.get_by_role("button", name="Read these files").click()
    expect(page.get_by_text(re.compile(r"Loaded [\d,]+ examples, 10 classes and 5 models"))).to_be_visible()
    settle(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Ensemble", exact=True).click()
    knn = slider(page, "knn")
    knn.focus()
    page.keyboard.press("End")
    expect(page).to_have_url(re.compile("knn%3A3"))
    settle(page)
    page.reload()
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text("Files in demo_data/digits/predictions/test")).to_be_visible()
    expect(slider(page, "knn")).to_have_value("3")
    expect(page.get_by_text("not on this machine")).to_have_count(0)
    no_exception(page)


def test_an_uploaded_config_sets_the_view(page: Page):
    page.goto("/Data_and_models?data=digits")
    settle(page)
    page.get_by_role("tab", name="Ensemble config").click()
    form = page.locator('[data-testid="stForm"]').filter(has_text="Config file")
    config = {"strategy": "hard", "models": ["forest", "knn", "logreg", "mlp"],
              "weights": {"forest": 2, "knn": 1, "logreg": 1, "mlp": 0.5}, "excluded": ["naive_bayes"]}
    form.locator('input[type="file"]').set_input_files(
        {"name": "ensemble-config.json", "mimeType": "application/json", "buffer": json.dumps(config).encode()})
    expect(form.locator('[data-testid="stFileChipName"]')).to_have_count(1)
    expect(form.locator('[data-testid="stFileChipIconSpinner"]')).to_have_count(0)
    form.get_by_role("button", name="Apply config").click()
    expect(page.get_by_text("Applied the config.")).to_be_visible()
    settle(page)
    expect(page).to_have_url(re.compile(r"strategy=hard.*forest%3A2.*off=naive_bayes"))
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("Left out: naive_bayes")
    no_exception(page)
