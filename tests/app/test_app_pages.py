"""AppTest: Start, Data & models, Disagreement, Diversity and Learn."""

import io
import json
import os

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.navigation import DATA, DISAGREEMENT, DIVERSITY, ENSEMBLE, LEARN

pytestmark = pytest.mark.xdist_group("app")
FOLDER_SUBMIT = "FormSubmitter:folder_form-Read these files"


def _included(at: AppTest) -> tuple[str, ...]:
    """The models in the ensemble: the loaded ones the view does not leave out."""
    return at.session_state["view"].included(at.session_state["source"].model_names)


def test_start_page_loads_default_demo(run_page):
    at = run_page()
    assert not at.exception
    # Movie-review sentiment comes first in DEMOS, so it is what a fresh session shows.
    assert at.session_state["source"].demo == "sentiment"
    assert [m.label for m in at.metric][:2] == ["Best single model", "Ensemble (soft average)"]
    assert at.query_params["data"] in ("sentiment", ["sentiment"])


def test_start_page_switches_to_the_digits_demo(run_page):
    at = run_page()
    at.button(key="demo::digits").click().run()
    assert not at.exception
    assert at.session_state["source"].demo == "digits"
    assert at.query_params["data"] in ("digits", ["digits"])


@pytest.mark.parametrize(
    "page",
    [DATA.path, DISAGREEMENT.path, DIVERSITY.path, LEARN.path],
)
def test_page_loads_without_exception(run_page, page):
    at = run_page(page)
    assert not at.exception
    assert not at.error
    assert at.title[0].value


def test_data_page_warns_about_weak_member_and_excludes_with_one_click(run_page, shown):
    at = run_page(DATA.path, query={"data": "digits"})
    assert any("naive_bayes is much weaker" in shown(w.value) for w in at.warning)
    at.button_group(key="w_included").set_value(["forest", "knn", "logreg", "mlp"]).run()
    assert not at.exception
    assert _included(at) == ("forest", "knn", "logreg", "mlp")
    at.switch_page(ENSEMBLE.path).run()
    assert [shown(s.label) for s in at.slider] == ["forest", "knn", "logreg", "mlp"]


def test_data_page_bad_folder_shows_error_and_keeps_data(run_page, shown, tmp_path, monkeypatch):
    monkeypatch.setenv("ENSEMBLE_EXPLORER_ROOT", str(tmp_path))
    broken = tmp_path / "labels.csv"
    broken.write_text("id,label\n1,cat\n2,\n")
    (tmp_path / "preds").mkdir()
    (tmp_path / "preds" / "m.csv").write_text("id,cat\n1,1.0\n2,1.0\n")
    at = run_page(DATA.path)
    at.text_input(key="path_labels").input(str(broken))
    at.text_input(key="path_predictions").input(str(tmp_path / "preds"))
    at.button(key=FOLDER_SUBMIT).click().run()
    assert not at.exception
    assert any("row 2: label is missing" in shown(e.value) for e in at.error)
    assert at.session_state["source"].demo == "sentiment"


def test_data_page_loads_a_folder(small_set_loaded):
    at = small_set_loaded
    assert not at.exception
    assert at.session_state["source"].kind == "folder"
    assert _included(at) == ("alpha", "beta", "gamma")
    assert any("Loaded 60 examples, 3 classes and 3 models" in s.value for s in at.success)
    at.switch_page(DISAGREEMENT.path).run()
    assert not at.exception
    assert any("example" in m.value for m in at.markdown)  # the text content is shown


class _Upload(io.BytesIO):
    """What the page's upload handler reads from Streamlit's UploadedFile."""

    def __init__(self, name: str, data: bytes) -> None:
        super().__init__(data)
        self.name = name


def _upload_script(labels_bytes: bytes, pred_name: str, pred_bytes: bytes) -> None:
    import io as _io

    import streamlit as st

    from dashboard.actions import load_uploads

    class Up(_io.BytesIO):
        def __init__(self, name, data):
            super().__init__(data)
            self.name = name

    st.session_state["ok"] = load_uploads(Up("labels.csv", labels_bytes), [Up(pred_name, pred_bytes)])


@pytest.mark.parametrize(
    ("pred_name", "pred_bytes", "message"),
    [
        ("m.csv", b"id,cat,dog\n1,0.5,0.4\n2,0.1,0.9\n", "row 1: probabilities sum to 0.9"),
        ("m.csv", b"id,cat,bird\n1,0.5,0.5\n2,0.1,0.9\n", "unknown class column 'bird'"),
        ("m.txt", b"id,cat,dog\n1,0.5,0.5\n2,0.1,0.9\n", "must be CSV or Parquet"),
        ("m.parquet", b"not parquet at all", "not a valid Parquet file"),
    ],
)
def test_bad_upload_shows_error_and_no_exception(shown, pred_name, pred_bytes, message):
    at = AppTest.from_function(_upload_script, args=(b"id,label\n1,cat\n2,dog\n", pred_name, pred_bytes))
    at.run(timeout=30)
    assert not at.exception
    assert at.session_state["ok"] is False
    assert message in shown(at.error[0].value)


def test_good_upload_loads():
    at = AppTest.from_function(_upload_script, args=(b"id,label\n1,cat\n2,dog\n", "m.csv",
                                                     b"id,cat,dog\n1,0.6,0.4\n2,0.1,0.9\n"))
    at.run(timeout=30)
    assert not at.exception
    assert at.session_state["ok"] is True
    assert at.session_state["source"].kind == "upload"


def test_disagreement_filters_and_selection(run_page):
    at = run_page(DISAGREEMENT.path)
    for kind in ("all", "fixes", "breaks", "ensemble_wrong", "all_wrong", "split"):
        at.selectbox(key="dis_filter").set_value(kind).run()
        assert not at.exception
    at.selectbox(key="dis_filter").set_value("split").run()
    at.multiselect(key="dis_true").set_value(["rotten"]).run()
    assert not at.exception
    assert at.session_state["view"].example is not None


def test_shared_example_is_selected(run_page):
    at = run_page(DISAGREEMENT.path, query={"data": "digits", "example": "digit0843"})
    assert not at.exception
    assert any("digit0843" in m.value for m in at.markdown)


def test_learn_step_sets_the_live_controls(run_page):
    at = run_page(LEARN.path, query={"data": "digits"})
    at.button(key="learn_hard").click().run()
    assert at.session_state["view"].strategy == "hard"
    assert [t.value for t in at.toast] == ["Controls set: hard vote, equal weights. The Ensemble page now uses them."]
    at.button(key="learn_weights").click().run()
    assert at.session_state["view"].strategy == "soft"
    assert at.session_state["view"].weight("naive_bayes") == 0.0
    at.switch_page(ENSEMBLE.path).run()
    assert at.slider(key="w_weight::naive_bayes").value == 0.0


@pytest.mark.parametrize("button, strategy, meta", [("learn_hard", "hard", None), ("learn_soft", "soft", None),
                                                    ("learn_geo", "geometric", None),
                                                    ("learn_stack", "stacking", "logistic")])
def test_each_learn_step_sets_its_strategy_on_the_ensemble_page(run_page, button, strategy, meta):
    at = run_page(LEARN.path, query={"data": "digits", "strategy": "hard" if strategy != "hard" else "soft",
                                     "w": "knn:2.5"})
    at.button(key=button).click().run()
    assert not at.exception and not at.error
    at.switch_page(ENSEMBLE.path).run()
    assert not at.exception and not at.error
    assert at.radio(key="w_strategy").value == strategy
    if meta is None:  # the weighted steps set equal weights
        assert at.slider(key="w_weight::knn").value == 1.0
    else:
        assert at.session_state["view"].meta == meta


def _score_script(model_name: str, model_bytes: bytes, local_path: str = "") -> None:
    import io as _io

    import streamlit as st

    from dashboard.actions import init_session, score_models

    class Up(_io.BytesIO):
        def __init__(self, name, data):
            super().__init__(data)
            self.name = name

    init_session({})
    st.session_state["ok"] = score_models([Up(model_name, model_bytes)], local_path)


def test_scoring_an_uploaded_model_adds_it(tmp_path, monkeypatch):
    from ensemble_core.demo import DEMOS

    monkeypatch.setenv("ENSEMBLE_EXPLORER_CACHE", str(tmp_path))
    # The session starts on the sentiment demo: a TF-IDF pipeline scores its reviews.
    data = (DEMOS["sentiment"].models_folder / "tfidf_logreg.skops").read_bytes()
    at = AppTest.from_function(_score_script, args=("tfidf_logreg_again.skops", data))
    at.run(timeout=60)
    assert not at.exception
    assert at.session_state["ok"] is True
    assert _included(at)[-1] == "tfidf_logreg_again"


def test_scoring_a_pickle_upload_is_refused(shown, tmp_path, monkeypatch):
    monkeypatch.setenv("ENSEMBLE_EXPLORER_CACHE", str(tmp_path))
    at = AppTest.from_function(_score_script, args=("evil.pkl", b"\x80\x04N."))
    at.run(timeout=60)
    assert not at.exception
    assert at.session_state["ok"] is False
    assert at.error and "evil.pkl" in shown(at.error[0].value)


def test_a_batch_with_a_model_already_loaded_is_refused_before_any_model_runs(shown, tmp_path, monkeypatch):
    """A new upload plus a local path whose name is already loaded: nothing is loaded or
    scored (the new model's work would be thrown away with the batch)."""
    from ensemble_core.demo import DEMOS

    def must_not_run(*args, **kwargs):
        raise AssertionError("loaded or scored a model of a batch that is refused")

    monkeypatch.setenv("ENSEMBLE_EXPLORER_CACHE", str(tmp_path))
    for name in ("score_model", "load_model", "load_model_bytes"):
        monkeypatch.setattr(f"ensemble_core.models.{name}", must_not_run)
    loaded = DEMOS["sentiment"].models_folder / "tfidf_logreg.skops"
    monkeypatch.setenv("ENSEMBLE_EXPLORER_ROOT", str(loaded.parent))
    at = AppTest.from_function(_score_script, args=("brand_new.skops", b"never read", str(loaded)))
    at.run(timeout=60)
    assert not at.exception
    assert at.session_state["ok"] is False
    assert f"{loaded}: a model named 'tfidf_logreg' is already loaded" in shown(at.error[0].value)


def test_the_model_path_box_empties_after_the_model_is_scored(run_page, tmp_path, monkeypatch):
    """So pressing "Score and add" again (say, with a new upload) cannot score it twice."""
    from ensemble_core.demo import DEMOS

    monkeypatch.setenv("ENSEMBLE_EXPLORER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ENSEMBLE_EXPLORER_ROOT", str(tmp_path))
    model = tmp_path / "tfidf_copy.skops"
    model.write_bytes((DEMOS["sentiment"].models_folder / "tfidf_logreg.skops").read_bytes())
    at = run_page(DATA.path)
    at.text_input(key="path_model#0").input(str(model))
    at.button(key="FormSubmitter:score_form-Score and add").click().run(timeout=120)
    assert not at.exception and not at.error
    assert _included(at)[-1] == "tfidf_copy"
    assert at.text_input(key="path_model#1").value == ""


# Files on this machine: only under $ENSEMBLE_EXPLORER_ROOT --------------------------------


def test_data_page_says_which_root_applies_and_how_to_change_it(run_page, tmp_path, monkeypatch):
    from dashboard.text import literal

    monkeypatch.setenv("ENSEMBLE_EXPLORER_ROOT", str(tmp_path))
    at = run_page(DATA.path)
    notes = [c.value for c in at.caption if "Paths are read only under" in c.value]
    assert len(notes) == 2  # the Score tab's model path and the Files on this machine tab
    assert all(literal(tmp_path.resolve()) in n and "ENSEMBLE_EXPLORER_ROOT" in n for n in notes)


def test_a_root_that_is_not_a_folder_is_reported_not_raised(run_page, shown, tmp_path, monkeypatch):
    monkeypatch.setenv("ENSEMBLE_EXPLORER_ROOT", str(tmp_path / "nope"))
    at = run_page(DATA.path)
    assert not at.exception
    assert any(f"ENSEMBLE_EXPLORER_ROOT={tmp_path / 'nope'}: no such folder" in shown(e.value) for e in at.error)


def test_the_demos_load_when_the_root_is_elsewhere(run_page, tmp_path, monkeypatch):
    monkeypatch.setenv("ENSEMBLE_EXPLORER_ROOT", str(tmp_path))
    at = run_page()
    assert not at.exception and not at.error
    assert at.session_state["source"].demo == "sentiment"


def test_the_folder_box_refuses_files_outside_the_root(run_page, shown, small_set_files, tmp_path, monkeypatch):
    labels, folder = small_set_files
    root = tmp_path / "root"
    root.mkdir()
    (root / "preds").symlink_to(folder)  # inside the root, leading out
    monkeypatch.setenv("ENSEMBLE_EXPLORER_ROOT", str(root))
    at = run_page(DATA.path)
    for labels_path in (str(labels), os.path.relpath(labels, root)):  # absolute, and ../.. out of the root
        at.text_input(key="path_labels").input(labels_path)
        at.text_input(key="path_predictions").input("preds")
        at.button(key=FOLDER_SUBMIT).click().run()
        assert not at.exception
        assert shown(at.error[0].value) == (f"{labels_path}: outside {root.resolve()}, the only folder this app "
                                            "reads files from; start the app with ENSEMBLE_EXPLORER_ROOT set to a "
                                            "folder that holds it")
    (root / "labels.csv").write_bytes(labels.read_bytes())
    at.text_input(key="path_labels").input("labels.csv")
    at.text_input(key="path_predictions").input("preds")
    at.button(key=FOLDER_SUBMIT).click().run()
    assert f"preds: outside {root.resolve()}" in shown(at.error[0].value)
    assert at.session_state["source"].demo == "sentiment"


@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink"])
def test_the_model_path_box_refuses_a_model_outside_the_root(run_page, shown, tmp_path, monkeypatch, how):
    from ensemble_core.demo import DEMOS

    def must_not_run(*args, **kwargs):
        raise AssertionError("loaded a model from outside the root")

    monkeypatch.setattr("ensemble_core.models.load_model", must_not_run)
    monkeypatch.setenv("ENSEMBLE_EXPLORER_CACHE", str(tmp_path / "cache"))
    model = tmp_path / "outside" / "tfidf_copy.skops"
    model.parent.mkdir()
    model.write_bytes((DEMOS["sentiment"].models_folder / "tfidf_logreg.skops").read_bytes())
    root = tmp_path / "root"
    root.mkdir()
    (root / "link.skops").symlink_to(model)
    monkeypatch.setenv("ENSEMBLE_EXPLORER_ROOT", str(root))
    path = {"absolute": str(model), "dotdot": "../outside/tfidf_copy.skops", "symlink": str(root / "link.skops")}[how]
    at = run_page(DATA.path)
    at.text_input(key="path_model#0").input(path)
    at.button(key="FormSubmitter:score_form-Score and add").click().run(timeout=120)
    assert not at.exception
    assert shown(at.error[0].value).startswith(f"{path}: outside {root.resolve()}")
    assert _included(at) == tuple(p.stem for p in DEMOS["sentiment"].prediction_paths())


def test_learn_why_step_is_independence_gap(run_page):
    from ensemble_core import EnsembleEvaluator
    from ensemble_core.build.why import independence_gap
    from ensemble_core.demo import load_demo

    at = run_page(LEARN.path, query={"data": "digits"})
    assert not at.exception
    gap = independence_gap(EnsembleEvaluator(load_demo("digits")).correct_)
    why = next(m.value for m in at.markdown if "jury theorem" in m.value)
    assert f"{100 * gap.actual:.2f} %" in why and f"{100 * gap.independent:.2f} %" in why
    assert f"{gap.mean_error_correlation:.2f} on average" in why


@pytest.mark.parametrize("kind", ["fixes", "all_wrong"])
def test_a_filter_change_never_leaves_a_stale_example(run_page, kind):
    """Issue 12, item 14: after the filter changes, the example shown is one the table lists."""
    at = run_page(DISAGREEMENT.path, query={"data": "digits"})
    first = at.session_state["view"].example
    at.selectbox(key="dis_filter").set_value(kind).run()
    assert not at.exception
    ids = list(at.dataframe[0].value["id"])
    assert first not in ids  # the case the issue describes: the old example does not match the new filter
    assert at.session_state["view"].example == ids[0]
    assert any(ids[0] in m.value for m in at.markdown)  # and it is the one drawn below the table


def test_the_models_table_says_who_is_in_without_a_checkbox(run_page):
    """Issue 12, item 15: the table's "in ensemble" column is text (the pills choose), and follows them."""
    at = run_page(DATA.path, query={"data": "digits"})
    at.button_group(key="w_included").set_value(["forest", "knn", "logreg", "mlp"]).run()
    table = at.dataframe[0].value
    column = table.data["in ensemble"] if hasattr(table, "data") else table["in ensemble"]  # a Styler or a frame
    names = table.data["model"] if hasattr(table, "data") else table["model"]
    assert dict(zip(names, column)) == {"forest": "yes", "knn": "yes", "logreg": "yes", "mlp": "yes",
                                        "naive_bayes": "left out"}


def test_gains_are_points_and_a_missing_log_loss_is_a_dash(run_page):
    """Issue 12, item 17: one gain format ("+0.73 pts", as the metrics show it) and "—" for no log loss."""
    from ensemble_core import EnsembleEvaluator, diversity_matrices
    from ensemble_core.demo import load_demo
    from ensemble_core.explore import pair_table

    ev = EnsembleEvaluator(load_demo("digits"))
    at = run_page(LEARN.path, query={"data": "digits"})
    together = at.dataframe[-1].value
    hard = together[together["strategy"] == "hard vote"].iloc[0]
    assert hard["log loss"] == "—"
    assert hard["gain over best"] == pytest.approx(100 * ev.evaluate("hard").gain)
    config = json.loads(at.dataframe[-1].proto.columns)["gain over best"]
    assert config["type_config"]["format"] == "%+.2f pts"
    at.switch_page(DIVERSITY.path).run()
    pairs = at.dataframe[-1].value
    pairs = pairs.data if hasattr(pairs, "data") else pairs
    expected = pair_table(ev, diversity_matrices(ev.pset, ev.labels_))
    np.testing.assert_allclose(pairs["average_gain"], 100 * expected["average_gain"])


def test_learn_shows_an_example_where_hard_and_soft_voting_differ(run_page):
    from ensemble_core.build.why import voting_split
    from ensemble_core.demo import load_demo
    from ensemble_core.ensemble import EnsembleEvaluator

    at = run_page(LEARN.path, query={"data": "digits"})
    assert not at.exception and not at.error
    pset = load_demo("digits")
    ev = EnsembleEvaluator(pset)
    hard, soft = ev.evaluate("hard"), ev.evaluate("soft")
    row = voting_split(pset.y_true, hard.y_pred, soft.y_pred, soft.probas)
    assert row is not None and hard.y_pred[row] != soft.y_pred[row]
    text = next(m.value for m in at.markdown if m.value.startswith("**A worked example**"))
    example = pset.ids[row] if pset.ids is not None else f"row {row + 1}"
    assert f"where they differ: {example} " in text.replace("\\", "")


def test_every_learn_step_has_a_figure(run_page):
    at = run_page(LEARN.path, query={"data": "digits"})
    assert not at.exception
    steps = {}
    for block in at.main.children.values():
        titles = [e.value for e in getattr(block, "children", {}).values() if e.type == "subheader"]
        if titles and " · " in titles[0]:
            steps[titles[0]] = sum(e.type == "plotly_chart" for e in block.children.values())
    assert len(steps) == 7, steps
    assert all(charts >= 1 for charts in steps.values()), steps


def test_learn_closes_with_distillation_merging_and_fusion_linked_to_their_pages(run_page):
    """Issue 19: the Learn page says what distillation, merging and language-model fusion are and
    links to each page."""
    from dashboard.navigation import DISTILL, LANGUAGE_MODELS, MERGE

    at = run_page(LEARN.path, query={"data": "digits"})
    assert not at.exception
    assert "Beyond combining outputs" in [s.value for s in at.subheader]
    links = {link.proto.label: link.proto.page for link in at.get("page_link")}
    for entry in (DISTILL, MERGE, LANGUAGE_MODELS):
        assert links[f"Open {entry.title}"] == entry.url_path, links
    text = " ".join(m.value for m in at.markdown)
    assert "Distillation" in text and "model soup" in text and "next-token probabilities" in text


def test_start_pages_link_to_load_files_fits_its_column(run_page):
    """Issue 12 item 9: in the "Your data" column (a third of the page) "Load files on Data & models"
    was cut at 1024 px; the label is short (it fits in about 190 px) and the page is named in its tooltip."""
    at = run_page()
    assert not at.exception
    (link,) = [link.proto for link in at.get("page_link") if link.proto.page == DATA.url_path]
    assert len(link.label) <= 16, link.label
    assert DATA.title in link.help
