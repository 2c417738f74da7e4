"""End to end in a real Chromium against ``streamlit run app.py``."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, expect

from ensemble_core.demo import DEMOS

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def settle(page: Page) -> None:
    """Wait until the script run is over (the "running" indicator is gone)."""
    page.wait_for_selector('[data-testid="stMain"]')
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=60_000)


def drawn(page: Page) -> None:
    """Wait until the visible tables and charts have drawn (after the run ends they
    still render for a moment; a screenshot then shows empty placeholders)."""
    # Streamlit draws a skeleton while it fetches a widget's code (data grid, plotly).
    expect(page.locator('[data-testid="stSkeleton"]')).to_have_count(0, timeout=30_000)
    for frame in page.locator('[data-testid="stDataFrame"]:visible').all():
        expect(frame.locator("canvas").first).to_be_visible(timeout=30_000)
    for chart in page.locator('[data-testid="stPlotlyChart"]:visible').all():
        expect(chart.locator(".main-svg").first).to_be_visible(timeout=30_000)


def accuracy(page: Page):
    return page.locator('[data-testid="stMetric"]').filter(has_text="Ensemble accuracy").locator(
        '[data-testid="stMetricValue"]')


def slider(page: Page, name: str):
    return page.locator('[data-testid="stSlider"]').filter(has_text=name).get_by_role("slider")


def no_exception(page: Page) -> None:
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def test_demo_loads_on_start(page: Page):
    page.goto("/")
    expect(page.get_by_text("Best single model", exact=True)).to_be_visible()
    settle(page)
    expect(page.get_by_text(DEMOS["sentiment"].title).first).to_be_visible()
    # The default demo is movie-review sentiment: its button says it is loaded.
    expect(page.get_by_role("button", name="Loaded")).to_have_count(1)
    no_exception(page)
    drawn(page)
    page.screenshot(path=ARTIFACTS / "start.png", full_page=True)


def test_moving_a_slider_changes_accuracy(page: Page):
    page.goto("/Ensemble")
    value = accuracy(page)
    expect(value).to_have_text(re.compile(r"%$"))
    settle(page)
    before = value.inner_text()
    thumb = slider(page, "tfidf_forest")
    thumb.focus()
    page.keyboard.press("End")
    expect(value).not_to_have_text(before)
    expect(thumb).to_have_value("3")
    expect(page).to_have_url(re.compile("tfidf_forest%3A3"))
    no_exception(page)
    drawn(page)
    page.screenshot(path=ARTIFACTS / "ensemble.png", full_page=True)


def test_switching_to_stacking(page: Page):
    page.goto("/Ensemble")
    expect(accuracy(page)).to_be_visible()
    settle(page)
    page.get_by_text("Stacking", exact=True).click()
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Ensemble accuracy")
    expect(metric.locator('[data-testid="stMetricDelta"]')).to_have_text("out-of-fold", timeout=60_000)
    expect(page.get_by_text(re.compile("stacking metrics are out-of-fold", re.I))).to_be_visible()
    expect(slider(page, "tfidf_nb")).to_be_disabled()
    # The strategy changed inside the weights' fragment; the sidebar's summary follows.
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("Strategy: Stacking (logistic)")
    no_exception(page)
    drawn(page)
    page.screenshot(path=ARTIFACTS / "ensemble-stacking.png", full_page=True)


def test_uploading_a_good_and_a_broken_prediction_file(page: Page, tmp_path):
    good = tmp_path / "extra_model.csv"
    good.write_bytes(DEMOS["digits"].prediction_paths()[1].read_bytes())
    broken = tmp_path / "broken.csv"
    lines = DEMOS["digits"].prediction_paths()[1].read_text().splitlines()
    header, first = lines[0], lines[1].split(",")
    first[1] = "0.9"  # this row now sums to more than 1
    broken.write_text("\n".join([header, ",".join(first), *lines[2:]]) + "\n")

    page.goto("/Data_and_models?data=digits")
    settle(page)
    page.get_by_role("tab", name="Add models to the loaded data").click()
    form = page.locator('[data-testid="stForm"]').filter(has_text="More prediction files")
    form.locator('input[type="file"]').set_input_files(good)
    expect(form.get_by_text("extra_model.csv")).to_be_visible()
    form.get_by_role("button", name="Add to the loaded data").click()
    expect(page.get_by_text("Loaded 540 examples, 10 classes and 6 models.")).to_be_visible()
    settle(page)
    expect(page.locator('[data-testid="stSidebar"]').get_by_text("6 of 6 models in the ensemble")).to_be_visible()

    page.get_by_role("tab", name="Add models to the loaded data").click()
    form = page.locator('[data-testid="stForm"]').filter(has_text="More prediction files")
    # The uploader emptied once its file was added: pressing "Add" again cannot add it twice.
    expect(form.get_by_text("extra_model.csv")).to_have_count(0)
    form.locator('input[type="file"]').set_input_files(broken)
    expect(form.get_by_text("broken.csv")).to_be_visible()
    form.get_by_role("button", name="Add to the loaded data").click()
    error = page.locator('[data-testid="stAlertContentError"]')
    expect(error).to_contain_text("broken.csv: row 1: probabilities sum to")
    no_exception(page)
    # The app is alive and still has the six models.
    expect(page.locator('[data-testid="stSidebar"]').get_by_text("6 of 6 models in the ensemble")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "data-and-models.png", full_page=True)
    page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Ensemble").click()
    expect(slider(page, "extra_model")).to_be_visible()


def test_shared_url_restores_the_view(page: Page):
    page.goto("/Ensemble?data=digits&strategy=hard&w=naive_bayes:0&w=knn:2.5&off=forest&vs=mlp")
    expect(accuracy(page)).to_be_visible()
    settle(page)
    expect(page.get_by_role("radio", name="Hard vote")).to_be_checked()
    expect(slider(page, "naive_bayes")).to_have_value("0")
    expect(slider(page, "knn")).to_have_value("2.5")
    expect(page.locator('[data-testid="stSlider"]').filter(has_text="forest")).to_have_count(0)
    no_exception(page)
    page.screenshot(path=ARTIFACTS / "shared-link.png", full_page=True)


def test_other_pages_render(page: Page):
    for path, marker in [("/Disagreement", "The example"), ("/Diversity", "Which pairs add most"),
                         ("/Learn", "All together")]:
        page.goto(path)
        expect(page.get_by_text(marker).first).to_be_visible(timeout=60_000)
        settle(page)
        drawn(page)
        no_exception(page)
        page.screenshot(path=ARTIFACTS / f"{path.strip('/').lower()}.png", full_page=True)


def _url_weights(page: Page) -> dict[str, str]:
    query = parse_qs(urlparse(page.url).query)
    return dict(item.rpartition(":")[::2] for item in query["w"])


def test_suggest_weights_moves_the_sliders_and_the_url(page: Page):
    page.goto("/Ensemble")
    expect(accuracy(page)).to_be_visible()
    settle(page)
    expect(page).to_have_url(re.compile(r"[?&]w=.*vs="))  # the app has written the view into the URL
    url, before = page.url, _url_weights(page)
    assert set(before.values()) == {"1"}
    page.get_by_role("button", name="Suggest weights").click()
    expect(page.get_by_text("Held-out log loss")).to_be_visible(timeout=60_000)
    expect(page).not_to_have_url(url)
    settle(page)
    after = _url_weights(page)
    assert after != before and "3" in after.values()  # the largest suggested weight goes to the slider's end
    for name, value in after.items():
        expect(slider(page, name)).to_have_value(value)
    no_exception(page)
    page.screenshot(path=ARTIFACTS / "ensemble-suggested.png", full_page=True)
    page.get_by_role("button", name="Restore my weights").click()
    expect(page).to_have_url(url)
    settle(page)
    for name in before:
        expect(slider(page, name)).to_have_value("1")
