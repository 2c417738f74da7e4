"""AppTest: the Merge page — the check in words, the curve (the core's numbers), a merge and its
comparison, one-line errors — on tiny BERTs built here, and the demo it opens on."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.navigation import MERGE
from ensemble_core.io import LabelsFile
from ensemble_core.merge.interpolate import interpolation_curve

pytestmark = [pytest.mark.xdist_group("app"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
LABELS = ["fresh", "rotten"]
SUBMIT = "FormSubmitter:merge_inputs-Use these models"


def _plain(value: str) -> str:
    """A message as the user reads it (``literal`` escapes markdown with backslashes)."""
    return re.sub(r"\\(.)", r"\1", value)


@pytest.fixture(scope="module")
def merge_root(tmp_path_factory):
    """A root holding tiny models ``base``, ``a``, ``b`` (one start), ``c`` (another), an ``a`` with
    other labels, and 40 labelled reviews."""
    from ensemble_core.merge._tiny import build_family

    root = tmp_path_factory.mktemp("merge_root")
    train = pd.read_csv(ROOT / "demo_data" / "sentiment" / "train.csv").head(200)
    y = train["label"].map({label: i for i, label in enumerate(LABELS)}).to_numpy()
    build_family(root, train["text"], y, labels=LABELS)
    shutil.copytree(root / "a", root / "relabelled")
    config = json.loads((root / "relabelled" / "config.json").read_text())
    config["id2label"] = {"0": "good", "1": "bad"}
    (root / "relabelled" / "config.json").write_text(json.dumps(config))
    pd.read_csv(ROOT / "demo_data" / "sentiment" / "val.csv").head(40).to_csv(root / "rows.csv", index=False)
    return root


@pytest.fixture
def mine(run_page, merge_root, monkeypatch):
    """``mine(dirs, base="")``: the Merge page after "Use these models" on those directories."""
    monkeypatch.setenv("ENSEMBLE_EXPLORER_ROOT", str(merge_root))

    def run(dirs: str, base: str = ""):
        at = run_page(MERGE.path)
        at.text_area(key="merge_dirs").set_value(dirs)
        at.text_input(key="merge_labels").set_value("rows.csv")
        at.text_input(key="merge_base").set_value(base)
        at.button(key=SUBMIT).click().run()
        assert not at.exception
        return at

    return run


def test_the_check_and_the_curve_are_the_cores(mine, merge_root):
    at = mine("a\nb\nc")
    assert not at.error
    assert _plain(at.success[0].value).startswith("These 3 models can be merged: the same architecture (bert, "
                                          "BertForSequenceClassification), the same 2 labels (fresh, rotten)")
    labels = LabelsFile(merge_root / "rows.csv")
    expected = interpolation_curve(merge_root / "a", merge_root / "b", labels.content, classes=labels.classes,
                                   y_true=labels.y_true, text_column="text")
    table = at.dataframe[0].value
    np.testing.assert_array_equal(table["α"], expected.alphas)
    np.testing.assert_allclose(table["weights averaged: accuracy"], expected.weight_space.accuracy)
    np.testing.assert_allclose(table["outputs averaged: log loss"], expected.output_space.log_loss)
    assert expected.describe_barrier() in [_plain(m.value) for m in at.markdown]
    assert len(at.get("plotly_chart")) == 1


def test_a_merge_is_measured_against_its_models_and_downloadable(mine, merge_root):
    from ensemble_core.merge.compare import compare_merged
    from ensemble_core.merge.methods import LabelledSplit, merge_models

    at = mine("a\nb\nc")
    at.multiselect(key="merge_members").set_value(["a", "b"])
    at.selectbox(key="merge_method").set_value("uniform-soup")
    at.button(key="merge_go").click().run()
    assert not at.exception and not at.error
    table = at.dataframe[-1].value
    assert list(table["contender"]) == ["merged-uniform-soup", "a", "b", "output ensemble (soft vote)"]
    assert list(table["models run per prediction"]) == [1, 1, 1, 2]
    labels = LabelsFile(merge_root / "rows.csv")
    heldout = LabelledSplit(labels.content.iloc[20:].reset_index(drop=True), labels.classes, labels.y_true[20:], None)
    merge_models("uniform-soup", [merge_root / "a", merge_root / "b"], merge_root / "soup")
    expected = compare_merged(merge_root / "soup", [merge_root / "a", merge_root / "b"], heldout)
    np.testing.assert_allclose(table["accuracy"], [r.accuracy for r in expected.rows])
    np.testing.assert_allclose(table["log loss"], [r.log_loss for r in expected.rows], rtol=1e-6)
    assert at.get("download_button")


def test_a_greedy_soup_is_chosen_on_the_first_half_as_the_core_chooses_it(mine, merge_root, tmp_path):
    from ensemble_core.merge.methods import LabelledSplit, merge_models

    at = mine("a\nb\nc")
    at.selectbox(key="merge_method").set_value("greedy-soup")
    at.button(key="merge_go").click().run()
    assert not at.exception and not at.error
    labels = LabelsFile(merge_root / "rows.csv")
    tune = LabelledSplit(labels.content.iloc[:20].reset_index(drop=True), labels.classes, labels.y_true[:20], None)
    soup = merge_models("greedy-soup", [merge_root / n for n in "abc"], tmp_path / "soup", tune=tune).soup
    names = "abc"
    expected = (f"Greedy soup: kept {', '.join(names[i] for i in soup.kept)} of "
                f"{', '.join(names[i] for i in soup.order)} (in order of tune accuracy).")
    assert expected in [_plain(c.value) for c in at.caption]


def test_task_arithmetic_without_a_base_is_one_line(mine):
    at = mine("a\nb")
    at.selectbox(key="merge_method").set_value("task-arithmetic")
    at.button(key="merge_go").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "needs a base" in _plain(at.error[0].value) and "\n" not in at.error[0].value


@pytest.mark.parametrize(("dirs", "message"), [
    ("a\nrelabelled", "different label maps: id2label[0] is 'fresh' and 'good'"),
    ("a", "at least two model directories"),
    ("a\n../outside", "outside"),
])
def test_bad_models_are_one_line_errors(mine, dirs, message):
    at = mine(dirs)
    assert len(at.error) == 1 and message in _plain(at.error[0].value) and "\n" not in at.error[0].value


def test_the_page_opens_on_the_demo(run_page):
    from dashboard.merge import demo_available

    if not demo_available():
        pytest.skip("the merge demo is not built")
    at = run_page(MERGE.path)
    assert not at.exception and not at.error
    assert _plain(at.success[0].value).startswith("These 4 models and their base can be merged")
    assert len(at.get("plotly_chart")) == 1
    assert any("No barrier" in _plain(m.value) for m in at.markdown)
    at.selectbox(key="merge_b").set_value("other_start").run()
    assert not at.exception
    assert any("share no starting point" in _plain(w.value) for w in at.warning)


def test_add_to_the_ensemble_scores_the_merged_model_on_the_loaded_rows(mine, merge_root, tmp_path):
    """Issue 16: the merged model joins the loaded models with its scores on the loaded rows
    (the sentiment demo), equal to scoring the same merge directly."""
    from ensemble_core.merge.methods import merge_models
    from ensemble_core.models import load_model, score_model

    at = mine("a\nb")
    at.selectbox(key="merge_method").set_value("uniform-soup")
    at.button(key="merge_go").click().run()
    assert not at.exception and not at.error
    at.button(key="merge_add").click().run()
    assert not at.exception and not at.error
    source = at.session_state["source"]
    assert source.model_names[-1] == "merged-uniform-soup"
    from dashboard.sources import load_source, read_labels

    pset = load_source(source)
    labels = read_labels(source)
    merge_models("uniform-soup", [merge_root / "a", merge_root / "b"], tmp_path / "soup")
    expected = score_model(load_model(tmp_path / "soup"), labels.content, classes=labels.classes, text_column="text")
    np.testing.assert_allclose(pset.probas[pset.names.index("merged-uniform-soup")], expected, atol=1e-6)
    assert at.button(key="merge_add").disabled
