"""End to end: two browser sessions at once share the server's cached data and evaluators
(``st.cache_resource``); each moves its sliders and fits stacking while the other does, and
each sees its own numbers, equal to the core's computed directly."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from dashboard.ui import percent
from ensemble_core import EnsembleEvaluator
from ensemble_core.demo import load_demo
from tests.e2e.test_browser import accuracy, no_exception, settle, slider

LINK = "/Ensemble?data=digits&strategy=soft"


@pytest.fixture(scope="module")
def digits() -> EnsembleEvaluator:
    return EnsembleEvaluator(load_demo("digits"))


@pytest.fixture
def two_pages(browser, server):
    contexts = [browser.new_context(viewport={"width": 1400, "height": 2000}, base_url=server) for _ in range(2)]
    pages = [context.new_page() for context in contexts]
    for page in pages:
        page.set_default_timeout(60_000)
    yield pages
    for context in contexts:
        context.close()


def _voting(digits: EnsembleEvaluator, strategy: str = "soft", **weights: float) -> str:
    w = [weights.get(name, 1.0) for name in digits.pset.names]
    return percent(digits.evaluate(strategy, w).metrics.accuracy)


def _stacking(digits: EnsembleEvaluator, meta: str) -> str:
    return percent(digits.evaluate("stacking", meta=meta).metrics.accuracy)


def _to_the_end(page: Page, name: str) -> None:
    thumb = slider(page, name)
    thumb.focus()
    page.keyboard.press("End")


def _meta(page: Page, label: str) -> None:
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Meta-learner").click()
    page.get_by_role("option", name=label).click()


def test_two_sessions_move_sliders_and_fit_stacking_at_the_same_time(two_pages, digits):
    a, b = two_pages
    for page in (a, b):
        page.goto(LINK)
    for page in (a, b):
        expect(accuracy(page)).to_have_text(_voting(digits))
        settle(page)

    # Both at once: different sliders to the end (the same cached evaluator serves both).
    _to_the_end(a, "knn")
    _to_the_end(b, "naive_bayes")
    expect(accuracy(a)).to_have_text(_voting(digits, knn=3.0))
    expect(accuracy(b)).to_have_text(_voting(digits, naive_bayes=3.0))

    # Both fit the same meta-learner at once: the evaluator's lazy stacked predictions.
    a.get_by_text("Stacking", exact=True).click()
    b.get_by_text("Stacking", exact=True).click()
    expect(accuracy(a)).to_have_text(_stacking(digits, "logistic"), timeout=120_000)
    expect(accuracy(b)).to_have_text(_stacking(digits, "logistic"), timeout=120_000)
    for page in (a, b):
        settle(page)

    # One fits another meta-learner while the other turns to the geometric mean (the
    # evaluator's lazy log-probabilities) and moves a slider.
    _meta(a, "Small neural network (MLP)")
    b.get_by_text("Geometric mean", exact=True).click()
    expect(accuracy(b)).to_have_text(_voting(digits, "geometric", naive_bayes=3.0))
    expect(slider(b, "forest")).to_be_enabled()
    settle(b)
    _to_the_end(b, "forest")
    expect(accuracy(a)).to_have_text(_stacking(digits, "mlp"), timeout=120_000)
    # b's rerun shares the cores with a's MLP folds: on a loaded CI machine it took over 30 s.
    expect(accuracy(b)).to_have_text(_voting(digits, "geometric", naive_bayes=3.0, forest=3.0), timeout=120_000)
    for page in (a, b):
        settle(page)
        no_exception(page)
        expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)
    # The URL follows each session's view after its rerun: wait for it (a bare read raced it under load).
    expect(a).to_have_url(re.compile("knn%3A3"), timeout=30_000)
    expect(b).to_have_url(re.compile("forest%3A3"), timeout=30_000)
    expect(b).to_have_url(re.compile("naive_bayes%3A3"), timeout=30_000)
