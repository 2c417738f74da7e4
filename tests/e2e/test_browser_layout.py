"""Readable from 1024 px up (issue 12, items 9 and 10): at 1024 and 1440 px, with six models and
ten classes, no headline number is cut ("97.0…"), no checkbox label is cut ("Calibrate each m…"),
the formula is not cut for any strategy, and the 10 × 10 confusion matrices' counts do not overlap."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from ensemble_core.demo import DEMOS
from tests.e2e.test_browser import no_exception, settle

WIDTHS = (1024, 1440)

#: Metric texts (label, value, delta) whose text is wider than their box: an ellipsis cuts them.
CLIPPED_METRICS = """() => [...document.querySelectorAll(
        '[data-testid="stMetricLabel"], [data-testid="stMetricValue"], [data-testid="stMetricDelta"]')]
    .filter(e => e.offsetParent !== null)
    .flatMap(e => [e, ...e.querySelectorAll('div, p')])
    .filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => e.innerText)"""
#: Checkbox and toggle labels cut by an ellipsis ("Calibrate each m…").
CUT_LABELS = """() => [...document.querySelectorAll('[data-testid="stCheckbox"] [data-testid="stMarkdownContainer"]')]
    .filter(e => e.offsetParent !== null)
    .flatMap(e => [e, ...e.querySelectorAll('p')])
    .filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => e.innerText)"""
#: Formula pieces wider than their box (a few pixels of italic overhang allowed).
CUT_FORMULA = """() => [...document.querySelectorAll('[data-testid="stMain"] .katex-display')]
    .filter(e => e.scrollWidth > e.clientWidth + 4 || e.getBoundingClientRect().right >
                 document.querySelector('[data-testid="stMain"]').getBoundingClientRect().right)
    .map(e => e.innerText)"""
#: Pairs of cell counts in one confusion chart whose boxes overlap.
OVERLAPPING_COUNTS = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].flatMap(chart => {
    const boxes = [...chart.querySelectorAll('.textpoint text')].map(t => t.getBoundingClientRect())
        .filter(b => b.width > 0);
    const hits = [];
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i], b = boxes[j];
        if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
            hits.push([a.left, a.top, b.left, b.top]);
    }
    return hits;
})"""


def _six_models_on_digits(page: Page, tmp_path) -> None:
    """The digits demo (ten classes) plus a sixth model with a long name, as a user adds one."""
    extra = tmp_path / "gradient_boosting_large.csv"
    extra.write_bytes(DEMOS["digits"].prediction_paths()[1].read_bytes())
    page.goto("/Data_and_models?data=digits")
    settle(page)
    page.get_by_role("tab", name="Add models to the loaded data").click()
    form = page.locator('[data-testid="stForm"]').filter(has_text="More prediction files")
    form.locator('input[type="file"]').set_input_files(extra)
    expect(form.get_by_text("_large.csv")).to_be_visible()  # the uploader shortens long names
    form.get_by_role("button", name="Add to the loaded data").click()
    expect(page.locator('[data-testid="stSidebar"]').get_by_text("6 of 6 models in the ensemble")).to_be_visible()


def _check(page: Page, where: str) -> None:
    # Let the layout follow the new width before measuring.
    page.wait_for_timeout(500)
    assert page.evaluate(CLIPPED_METRICS) == [], where
    assert page.evaluate(CUT_LABELS) == [], where
    assert page.evaluate(CUT_FORMULA) == [], where
    assert page.evaluate(OVERLAPPING_COUNTS) == [], where


def test_ensemble_page_is_readable_at_1024_and_1440(page: Page, tmp_path):
    _six_models_on_digits(page, tmp_path)
    page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Ensemble").click()
    expect(page.locator('[data-testid="stSlider"]').filter(has_text="gradient_boosting_large")).to_be_visible()
    for strategy in ["Soft average", "Geometric mean", "Stacking"]:
        page.set_viewport_size({"width": 1400, "height": 2000})
        if strategy != "Soft average":
            page.get_by_text(strategy, exact=True).click()
        expect(page.locator('[data-testid="stSidebar"]')).to_contain_text(f"Strategy: {strategy}")
        if strategy == "Stacking":
            expect(page.get_by_text("out-of-fold", exact=True)).to_be_visible(timeout=120_000)
        settle(page)
        expect(page.locator('[data-testid="stMain"] .katex-display').filter(has_text="large").first).to_be_visible()
        expect(page.locator('[data-testid="stPlotlyChart"] .textpoint text').first).to_be_visible()
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 2000})
            _check(page, f"{strategy} at {width} px")
    no_exception(page)


def test_start_page_is_readable_at_1024_and_1440(page: Page):
    page.goto("/")
    expect(page.get_by_text("Best single model")).to_be_visible()
    settle(page)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1400})
        _check(page, f"Start at {width} px")
