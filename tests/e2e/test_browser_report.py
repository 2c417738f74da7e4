"""The HTML report opened from disk in Chromium with every network request blocked."""

from __future__ import annotations

from pathlib import Path

from ensemble_core.cli import main

ROOT = Path(__file__).resolve().parents[2]
SENTIMENT = ROOT / "demo_data" / "sentiment"


def test_report_opens_offline_draws_every_figure_and_prints(browser, tmp_path):
    out = tmp_path / "report.html"
    preds = sorted(str(p) for p in (SENTIMENT / "predictions" / "test").glob("*.csv"))
    assert main(["report", "--labels", str(SENTIMENT / "test.csv"), "--predictions", *preds,
                 "--slice-by", "text", "--slice-by", "label", "--out", str(out)]) == 0
    context = browser.new_context(viewport={"width": 1024, "height": 900})
    requests, errors = [], []
    context.route("**/*", lambda route: (requests.append(route.request.url), route.continue_()
                                          if route.request.url.startswith("file://") else route.abort()))
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(out.as_uri())
    assert [u for u in requests if not u.startswith("file://")] == []
    assert errors == []
    for section in ("headline", "combined", "confusion", "slices", "examples", "calibration", "footer"):
        assert page.locator(f"#{section}").count() == 1, section
    # every figure drawn (3 confusion matrices, 2 slice charts, reliability): a laid-out box and its shapes
    boxes = page.eval_on_selector_all("svg", "els => els.map(e => [e.getBoundingClientRect().width, "
                                             "e.querySelectorAll('rect,circle,polyline').length])")
    assert len(boxes) == 6 and all(w > 50 and shapes > 0 for w, shapes in boxes)
    # no figure wider than the page at 1024 px, nor at a phone's 390 px
    for width in (1024, 390):
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{overflow} px wider than a {width} px screen"
    assert page.locator("input, button, select, textarea").count() == 0
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    context.close()


def test_a_three_model_report_draws_its_landscape_and_side_by_side_slices_on_a_phone(browser, tmp_path):
    out = tmp_path / "three.html"
    preds = sorted(str(p) for p in (SENTIMENT / "predictions" / "test").glob("*.csv"))[:3]
    assert main(["report", "--labels", str(SENTIMENT / "test.csv"), "--predictions", *preds, "--optimize", "caruana",
                 "--slice-by", "text", "--slice-by", "label", "--out", str(out)]) == 0
    context = browser.new_context(viewport={"width": 1024, "height": 900})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://") else route.abort())
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(out.as_uri())
    assert errors == []
    for section in ("slices", "landscape", "suggestion"):
        assert page.locator(f"#{section}").count() == 1, section
    # the two gain charts share a row at 1024 px and stack on a phone, never wider than the screen
    tops = page.eval_on_selector_all(".side svg", "els => els.map(e => e.getBoundingClientRect().top)")
    assert len(tops) == 2 and tops[0] == tops[1]
    triangle = page.eval_on_selector("#landscape + .figures svg", "e => [e.getBoundingClientRect().width, "
                                     "e.querySelectorAll('circle').length]")
    assert triangle[0] > 200 and triangle[1] > 1000
    for width in (1024, 390):
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{overflow} px wider than a {width} px screen"
    tops = page.eval_on_selector_all(".side svg", "els => els.map(e => e.getBoundingClientRect().top)")
    assert tops[1] > tops[0]
    context.close()
