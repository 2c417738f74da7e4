"""The dashboard's report and slices: the same numbers as ``evaluate --json`` for the same view."""

import json
import re

import pytest

from dashboard.caches import loaded_for
from dashboard.report import report_html, report_slicings, slice_columns, slice_mask, source_fingerprints
from dashboard.sources import demo_source
from dashboard.view import View
from ensemble_core.cli import main
from ensemble_core.report.html import file_fingerprints

WEIGHTS = {"tfidf_forest": 2.0, "tfidf_nb": 0.5}


@pytest.fixture(scope="module")
def sentiment():
    source = demo_source("sentiment")
    return source, loaded_for(source, View(strategy="geometric", off=("tfidf_knn",)).with_weights(WEIGHTS))


def _embedded(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_the_downloaded_report_holds_what_evaluate_json_prints(sentiment, capsys):
    source, loaded = sentiment
    result = loaded.evaluator.evaluate("geometric", View().with_weights(WEIGHTS).weights_for(loaded.pset.names))
    html = report_html(loaded, result, report_slicings(loaded, "text", 5))
    names = loaded.pset.names
    paths = [p.path for p in source.predictions if p.name.rsplit(".", 1)[0] in names]
    weights = ",".join(f"{n}={WEIGHTS.get(n, 1.0):g}" for n in names)
    assert main(["evaluate", "--labels", source.labels.path, "--predictions", *paths, "--strategy", "geometric",
                 "--weights", weights, "--slice-by", "text", "--bins", "5", "--json"]) == 0
    assert _embedded(html) == json.loads(capsys.readouterr().out)
    assert "tfidf_knn" not in html  # left out of the ensemble: not in the report


def test_fingerprints_are_the_files_sha256(sentiment):
    source, _ = sentiment
    paths = [source.labels.path, *(p.path for p in source.predictions)]
    assert source_fingerprints(source) == file_fingerprints(paths)


def test_a_column_that_cannot_be_sliced_falls_back_to_the_class(sentiment):
    _, loaded = sentiment
    assert slice_columns(loaded) == ["label", "text"]
    assert report_slicings(loaded, "nope", 4)[0].column == "label"
    mask = slice_mask(loaded, "label", 4, "rotten")
    assert mask.sum() == (loaded.pset.classes[loaded.pset.y_true] == "rotten").sum()
    assert slice_mask(loaded, "label", 4, "lukewarm") is None


def test_the_report_of_temperature_scaled_members_is_evaluate_temperature_scale(capsys):
    # The page scales with cross-fitted temperatures; the CLI could only apply a config's (in-sample) ones.
    source = demo_source("sentiment")
    loaded = loaded_for(source, View(strategy="soft", calibrated=True).with_weights(WEIGHTS))
    result = loaded.evaluator.evaluate("soft", View().with_weights(WEIGHTS).weights_for(loaded.pset.names))
    html = report_html(loaded, result, report_slicings(loaded, "label", 4))
    names = loaded.pset.names
    weights = ",".join(f"{n}={WEIGHTS.get(n, 1.0):g}" for n in names)
    paths = [p.path for p in source.predictions]
    assert main(["evaluate", "--labels", source.labels.path, "--predictions", *paths, "--weights", weights,
                 "--temperature-scale", "--slice-by", "label", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert _embedded(html) == cli
    assert any("cross-fitted" in note for note in cli["notes"])
    raw = loaded.as_loaded.evaluator.evaluate("soft", result.weights)
    assert cli["log_loss"] != pytest.approx(raw.metrics.log_loss)  # the scaling did change the numbers


def test_the_report_of_a_view_with_a_suggestion_holds_its_held_out_evidence_and_the_landscape(capsys):
    from dashboard.tuning import suggestion_for

    source = demo_source("sentiment")
    three = ("tfidf_forest", "tfidf_nb", "tfidf_knn")
    off = tuple(p.name.rsplit(".", 1)[0] for p in source.predictions if p.name.rsplit(".", 1)[0] not in three)
    loaded = loaded_for(source, View(strategy="soft", off=off))
    result = loaded.evaluator.evaluate("soft", None)
    html = report_html(loaded, result, (), suggestion_for(loaded, "caruana", False))
    paths = [p.path for p in source.predictions if p.name.rsplit(".", 1)[0] in three]
    assert main(["evaluate", "--labels", source.labels.path, "--predictions", *paths, "--optimize", "caruana",
                 "--json"]) == 0
    assert _embedded(html) == json.loads(capsys.readouterr().out)
    assert 'id="suggestion"' in html and 'id="landscape"' in html


def test_slicings_side_by_side_are_in_the_report_as_evaluate_gives_them(sentiment, capsys):
    source, loaded = sentiment
    result = loaded.evaluator.evaluate("soft", None)
    slicings = report_slicings(loaded, "text", 3, also=("label", "nope", "text"))
    assert [s.column for s in slicings] == ["text", "label"]  # unknown and repeated columns left out
    html = report_html(loaded, result, slicings)
    paths = [p.path for p in source.predictions if p.name.rsplit(".", 1)[0] in loaded.pset.names]
    assert main(["evaluate", "--labels", source.labels.path, "--predictions", *paths, "--slice-by", "text",
                 "--slice-by", "label", "--bins", "3", "--json"]) == 0
    assert _embedded(html) == json.loads(capsys.readouterr().out)
    side = re.search(r'<div class="figures side">(.*?)</div></div>', html, re.S).group(1)
    assert side.count("<svg") == 2 and "Gain by text" in side and "Gain by label" in side
