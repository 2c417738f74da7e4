"""The HTML report: the same numbers as evaluate --json, self-contained, user text escaped."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ensemble_core import write_predictions
from ensemble_core.cli import main
from ensemble_core.report.html import headline_sentence

ROOT = Path(__file__).resolve().parents[2]
SENTIMENT = ROOT / "demo_data" / "sentiment"


def _sentiment_args():
    return ["--labels", str(SENTIMENT / "test.csv"), "--predictions",
            *sorted(str(p) for p in (SENTIMENT / "predictions" / "test").glob("*.csv"))]


def _embedded(html: str) -> dict:
    data = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S).group(1)
    return json.loads(data)


@pytest.fixture(scope="module")
def sentiment_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    args = [*_sentiment_args(), "--strategy", "geometric", "--weights", "1,2,1,1,3", "--slice-by", "text",
            "--slice-by", "label"]
    assert main(["report", *args, "--out", str(out)]) == 0
    return out.read_text(encoding="utf-8"), args


def test_every_number_is_the_one_evaluate_json_gives(sentiment_report, capsys):
    html, args = sentiment_report
    capsys.readouterr()
    assert main(["evaluate", *args, "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    embedded = _embedded(html)
    assert embedded == expected
    # and the visible numbers are drawn from it
    assert f"accuracy {expected['accuracy']:.4f}" in html
    assert f"{100 * expected['accuracy']:.1f}% of {expected['n_samples']:,} examples" in html
    for name, m in expected["models"].items():
        assert f"<td>{name}</td>" in html and f"{m['accuracy']:.4f}" in html
    for row in expected["slices"]:
        assert f"{100 * row['gain']:+.1f} pts" in html


def test_the_report_is_self_contained_and_has_every_section(sentiment_report):
    html, _ = sentiment_report
    for section in ("headline", "precise", "combined", "confusion", "slices", "examples", "calibration", "footer"):
        assert f'id="{section}"' in html
    assert not re.search(r"\b(src|href)=", html)  # nothing fetched
    assert "url(" not in html and "@import" not in html
    assert re.findall(r"https?://[^\"' ]+", html) == ["http://www.w3.org/2000/svg"] * html.count("<svg")
    assert "<script" not in html.replace('<script type="application/json" id="report-data">', "")
    assert len(html.encode()) < 5 * 2**20
    for name in ("test.csv", "tfidf_nb.csv"):
        assert name in html  # fingerprinted files
    assert re.search(r"[0-9a-f]{64}", html)


def test_user_text_is_escaped_everywhere(tmp_path):
    evil = '<img src=x onerror="alert(1)"></script>'
    rng = np.random.default_rng(0)
    n = 60
    y = np.array(["a", evil])[rng.integers(0, 2, n)]
    pd.DataFrame({"id": np.arange(n), "label": y, "note": [evil + " some words here"] * n}).to_csv(
        tmp_path / "labels.csv", index=False)
    for name in ("m1", "m2"):
        p = rng.dirichlet(np.ones(2), n)
        write_predictions(tmp_path / f"{name}.csv", np.array(sorted(["a", evil])), probas=p, ids=np.arange(n))
    out = tmp_path / "r.html"
    status = main(["report", "--labels", str(tmp_path / "labels.csv"), "--predictions", str(tmp_path / "m1.csv"),
                   str(tmp_path / "m2.csv"), "--names", evil, "m2", "--slice-by", "note", "--out", str(out)])
    assert status == 0
    html = out.read_text(encoding="utf-8")
    assert "<img" not in html and "onerror=\"" not in html
    assert html.count("</script>") == 1  # the JSON block's own end: the name inside it is escaped
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert _embedded(html)["names"][0] == evil


def test_headline_in_plain_words():
    s = {"n_samples": 1000, "accuracy": 0.8, "gain_over_best": -0.02, "fixes": 10, "breaks": 30,
         "best_single": {"name": "rf", "accuracy": 0.82}, "names": ["rf", "lr", "nb"]}
    assert headline_sentence(s) == (
        "Combining the 3 models is right on 80.0% of 1,000 examples, against 82.0% for the best single model "
        "(rf): 2.0 points worse. It fixes 10 examples rf got wrong and breaks 30 it got right.")


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--out", "r.pdf"], "the report is HTML; give a file name ending in .html"),
        (["--out", "r.html", "--slice-by", "colour"],
         "--slice-by 'colour': no such content column in the labels file; it has 'text' (or use 'label'"),
        (["--out", "r.html", "--slice-by", "text", "--bins", "1"], "--bins must be a whole number from 2 to 50"),
    ],
    ids=["not-html", "unknown-column", "bins"],
)
def test_bad_report_arguments_are_one_line_and_status_2(tmp_path, monkeypatch, capsys, extra, message):
    monkeypatch.chdir(tmp_path)
    assert main(["report", *_sentiment_args(), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # nothing written


def _three_models_report(tmp_path, *extra):
    out = tmp_path / "three.html"
    preds = sorted(str(p) for p in (SENTIMENT / "predictions" / "test").glob("*.csv"))[:3]
    args = ["--labels", str(SENTIMENT / "test.csv"), "--predictions", *preds, *extra]
    assert main(["report", *args, "--out", str(out)]) == 0
    return out.read_text(encoding="utf-8"), args, preds


def test_the_landscape_of_three_models_marks_the_best_weighting_on_the_grid(tmp_path):
    from ensemble_core import EnsembleEvaluator
    from ensemble_core.io import load_prediction_set

    html, _, preds = _three_models_report(tmp_path, "--weights", "1,2,1")
    assert 'id="landscape"' in html and html.count("<circle") > 1000  # 1,326 grid points, 2 marks
    best = re.search(r"The best point on the grid \(([^)]*)\) reaches (\d\.\d{4})", html)
    weights = [float(part.split("=")[1]) for part in best.group(1).split(", ")]
    # The reference: the evaluator's accuracy at that weighting, and no better one on a coarser grid.
    ev = EnsembleEvaluator(load_prediction_set(str(SENTIMENT / "test.csv"), preds))
    assert ev.evaluate("soft", weights).metrics.accuracy == pytest.approx(float(best.group(2)), abs=5e-5)
    grid = [(i / 10, j / 10, 1 - (i + j) / 10) for i in range(11) for j in range(11 - i)]
    assert max(ev.evaluate("soft", w).metrics.accuracy for w in grid) <= float(best.group(2)) + 1e-9


def test_two_models_get_a_line_and_stacking_no_landscape(tmp_path):
    preds = sorted(str(p) for p in (SENTIMENT / "predictions" / "test").glob("*.csv"))[:2]
    for strategy, drawn in [("hard", True), ("stacking", False)]:
        out = tmp_path / f"{strategy}.html"
        assert main(["report", "--labels", str(SENTIMENT / "test.csv"), "--predictions", *preds,
                     "--strategy", strategy, "--out", str(out)]) == 0
        html = out.read_text(encoding="utf-8")
        assert ('id="landscape"' in html) is drawn
        assert ("weight share of" in html) is drawn


def test_the_suggestions_held_out_evidence_is_evaluate_optimizes(tmp_path, capsys):
    html, args, _ = _three_models_report(tmp_path, "--optimize", "caruana")
    capsys.readouterr()
    assert main(["evaluate", *args, "--json"]) == 0
    s = json.loads(capsys.readouterr().out)["suggestion"]
    assert _embedded(html)["suggestion"] == s
    assert 'id="suggestion"' in html
    for key in ("heldout", "uniform", "best_single", "in_sample"):
        assert f"{100 * s[key]['accuracy']:.1f}%" in html and f"{s[key]['log_loss']:.4f}" in html
