"""AppTest: a labels-only model on the pages (issue 12, items 2 and 3): the note where it takes
part, ε on Data & models, the Learn page's geometric step, and the suggestion's comparison with
the best single model (named apart from the headline's)."""

import pytest

from dashboard import navigation
from dashboard.ui import BEST_MODELS_DIFFER, BEST_ON_ALL_ROWS, BEST_PER_FOLD, percent
from ensemble_core import EnsembleEvaluator, load_prediction_set
from tests.app.conftest import FOLDER_SUBMIT, _run_page
from tests.conftest import _shown, labels_only_files

pytestmark = pytest.mark.xdist_group("app")
NOTE = "llm gives labels only: it enters each combination as its one-hot row label-smoothed with ε = "
DOMINATES = "Llm (labels only) decides this combination alone"


@pytest.fixture(scope="module")
def case_files(tmp_path_factory):
    labels, paths, _ = labels_only_files(tmp_path_factory.mktemp("labels_only_app") / "data")
    return labels, paths


@pytest.fixture
def loaded(case_files, monkeypatch):
    """The Data page after reading the labels file and the folder of six models by path."""
    labels, paths = case_files
    monkeypatch.setenv("ENSEMBLE_EXPLORER_ROOT", str(labels.parent))
    at = _run_page(navigation.DATA.path)
    at.text_input(key="path_labels").input(str(labels))
    at.text_input(key="path_predictions").input(str(paths[0].parent))
    at.button(key=FOLDER_SUBMIT).click().run()
    assert not at.exception and not at.error
    return at


def _notes(at) -> list[str]:
    return [_shown(i.value) for i in at.info if _shown(i.value).startswith(NOTE)]


def test_the_note_and_epsilon_follow_the_user_to_every_page(loaded, case_files, metric_value):
    at = loaded
    assert _notes(at) and "ε = 0.1 (0.933 on its label" in _notes(at)[0]
    assert at.number_input(key="w_smoothing").value == pytest.approx(0.1)
    for page in (navigation.ENSEMBLE, navigation.DISAGREEMENT, navigation.LEARN):
        at.switch_page(page.path).run()
        assert not at.exception, page.title
        assert _notes(at), f"no labels-only note on {page.title}"

    # The Learn page's geometric step is a real combination, not the labels-only model (regression:
    # it was llm on every row, shown as a gain over soft averaging).
    pset = load_prediction_set(*case_files)
    ev = EnsembleEvaluator(pset)
    geo = ev.evaluate("geometric", [1.0] * 6)
    assert ev.best_name_ == "llm" and geo.metrics.accuracy != ev.best_accuracy_
    assert metric_value(at, "Geometric mean accuracy") == percent(geo.metrics.accuracy)
    assert not any(DOMINATES in _shown(w.value) for w in at.warning)

    # ε = 0 on Data & models: the veto is back, everywhere, and the Learn page warns.
    at.switch_page(navigation.DATA.path).run()
    at.number_input(key="w_smoothing").set_value(0.0).run()
    assert at.query_params["eps"] in ("0", ["0"])
    at.switch_page(navigation.LEARN.path).run()
    assert "ε = 0 (1 on its label" in _notes(at)[0]
    assert metric_value(at, "Geometric mean accuracy") == percent(ev.best_accuracy_)
    assert any(_shown(w.value).startswith(DOMINATES) for w in at.warning)
    at.switch_page(navigation.ENSEMBLE.path).run()
    at.radio(key="w_strategy").set_value("geometric").run()
    assert metric_value(at, "Ensemble accuracy") == percent(ev.best_accuracy_)
    assert any(_shown(w.value).startswith(DOMINATES) for w in at.warning)


def test_the_suggestion_compares_with_the_best_single_model_chosen_per_fold(loaded, metric_value):
    """Regression (issue 12): "vs the best single model −3.69 log loss" came from the labels-only
    model's clipped zeros; and the panel's "best single model" was another than the headline's."""
    at = loaded.switch_page(navigation.ENSEMBLE.path).run()
    headline = next(m for m in at.metric if m.label == f"Gain over the {BEST_ON_ALL_ROWS}")
    assert "llm" in headline.proto.delta
    at.selectbox(key="w_suggest_method").set_value("accuracy")
    at.checkbox(key="w_suggest_calibrate").check()
    at.button(key="suggest_weights").click().run()
    assert not at.exception and not at.error
    assert metric_value(at, f"Vs the {BEST_PER_FOLD}") == "—"
    assert any(BEST_MODELS_DIFFER in _shown(c.value) and f"{BEST_ON_ALL_ROWS} is llm" in _shown(c.value)
               for c in at.caption)
