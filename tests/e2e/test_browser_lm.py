"""End to end: the LM fusion page on the bundled demo models — scored, the fused perplexity the
core's, a weight move under the log-linear pool changes it to the core's value there, and the
contested tokens show."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dashboard.navigation import LANGUAGE_MODELS
from ensemble_core.registry import lm_pool
from tests.e2e.test_browser import no_exception, settle, slider

ROOT = Path(__file__).resolve().parents[2]
MODELS = ("demo_data/lm/fresh", "demo_data/lm/rotten")
TEXT = "demo_data/sentiment/test.csv"
#: Fewer than the page's default: the numbers are checked, not the speed of scoring.
TOKENS = 600


@pytest.fixture(scope="module")
def reference():
    """The demo's models and text scored by the core directly, as the page should."""
    from ensemble_core.lm import load_causal_lms, read_documents, score_models

    models = load_causal_lms([ROOT / m for m in MODELS])
    return score_models(models, read_documents(ROOT / TEXT, column="text"), max_tokens=TOKENS)


def _metric(page: Page, label: str):
    return page.locator('[data-testid="stMetric"]').filter(has_text=label).locator('[data-testid="stMetricValue"]')


def test_the_demo_models_fuse_and_a_weight_moves_the_number(page: Page, reference):
    from ensemble_core.lm import evaluate_fusion

    page.goto(f"/{LANGUAGE_MODELS.url_path}")
    expect(page.get_by_text("Give two or more model directories")).to_be_visible()
    page.get_by_role("textbox", name="Model directories, one per line").fill("\n".join(MODELS))
    page.get_by_role("textbox", name="Evaluation text").fill(TEXT)
    page.get_by_role("textbox", name="Text column").fill("text")
    page.get_by_role("spinbutton", name="Tokens at most").fill(str(TOKENS))
    page.get_by_role("button", name="Score").click()
    fused = _metric(page, "Fused perplexity")
    equal = evaluate_fusion(reference, [1, 1], "linear")
    expect(fused).to_have_text(f"{equal.fused.perplexity:.3f}", timeout=120_000)
    settle(page)
    no_exception(page)
    # Each model alone: the best one is named beside the fused number, with the difference.
    best = min(equal.models, key=lambda n: equal.models[n].perplexity)
    delta = equal.fused.perplexity - equal.models[best].perplexity
    expect(page.locator('[data-testid="stMetricDelta"]').first).to_have_text(f"{delta:+.3f} vs {best}")

    page.get_by_text(lm_pool("loglinear").label, exact=True).click()
    loglinear = evaluate_fusion(reference, [1, 1], "loglinear").fused
    expect(fused).to_have_text(f"{loglinear.perplexity:.3f}")
    settle(page)
    thumb = slider(page, "fresh")
    thumb.focus()
    page.keyboard.press("End")  # fresh 3.0, rotten 1.0
    expect(thumb).to_have_value("3")
    moved = evaluate_fusion(reference, [3, 1], "loglinear").fused
    assert f"{moved.perplexity:.3f}" != f"{loglinear.perplexity:.3f}"
    expect(fused).to_have_text(f"{moved.perplexity:.3f}")
    expect(_metric(page, "Top-1 accuracy")).to_have_text(f"{100 * moved.accuracy:.2f} %")
    settle(page)
    no_exception(page)

    page.get_by_text("Compare the models token by token").click()
    expect(page.get_by_text("Tokens won (the model giving the actual token most probability)")).to_be_visible(
        timeout=60_000)
    expect(page.get_by_text("The tokens where the most and the least surprised model differ most")).to_be_visible()
    settle(page)
    no_exception(page)
    page.screenshot(path=ROOT / "test-artifacts" / "lm-fusion.png", full_page=True)
