"""AppTest: the Prediction store page scores models into a store on the local engine, shows what
the store holds (unfinished runs too), computes its streamed numbers and opens it in the explorer."""

import shutil

import numpy as np
import pandas as pd
import pytest

from dashboard.navigation import ENSEMBLE, PREDICTION_STORE
from ensemble_core import EnsembleEvaluator, load_prediction_set
from ensemble_core.demo import DEMOS
from ensemble_core.metrics import classifier_metrics

pytestmark = pytest.mark.xdist_group("app")

SCORE = "FormSubmitter:store_score_form-Score on the local engine"
MODELS = ("tfidf_logreg", "tfidf_nb")


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A root folder with two of the sentiment demo's models and its first 300 test rows."""
    demo = DEMOS["sentiment"]
    (tmp_path / "models").mkdir()
    for name in MODELS:
        shutil.copy(demo.models_folder / f"{name}.skops", tmp_path / "models")
    pd.read_csv(demo.labels_path).head(300).to_csv(tmp_path / "test.csv", index=False)
    monkeypatch.setenv("ENSEMBLE_EXPLORER_ROOT", str(tmp_path))
    monkeypatch.setenv("ENSEMBLE_EXPLORER_CACHE", str(tmp_path / "cache"))
    return tmp_path


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def _score(at, models="\n".join(f"models/{m}.skops" for m in MODELS)):
    at.text_area(key="w_store_models").input(models)
    at.text_input(key="w_store_data").input("test.csv")
    at.number_input(key="w_store_shard_rows").set_value(100)
    return at.button(key=SCORE).click().run(timeout=120)


@pytest.mark.slow  # scoring imports scikit-learn and loads two skops models
def test_scoring_fills_the_store_and_its_streamed_numbers_are_evaluate_s(run_page, root):
    at = run_page(PREDICTION_STORE.path)
    assert not at.exception and not at.error
    assert "Nothing is stored here yet" in at.info[0].value
    at = _score(at)
    assert not at.exception and not at.error
    assert at.success[0].value == "Scored 2 models over 300 rows (6 shards scored, 0 found done)."
    table = at.dataframe[0].value
    assert list(table["model"]) == list(MODELS) and list(table["rows"]) == [300, 300]
    assert [m.value for m in at.metric] == ["2", "300", "4.7 KiB"]  # 300 rows x 2 models x 2 classes x 4 bytes

    at.text_input(key="w_store_labels").input("test.csv")
    at = _button(at, "Exact numbers, streamed").click().run(timeout=60)
    assert not at.exception and not at.error
    numbers = at.dataframe[-1].value
    pset = load_prediction_set(root / "test.csv", [root / "store" / f"{m}.parquet" for m in MODELS])
    evaluator = EnsembleEvaluator(pset)
    soft = evaluator.evaluate("soft").metrics
    members = [classifier_metrics(pset.y_true, np.asarray(r), p) for r, p in zip(evaluator.labels_, pset.probas)]
    assert list(numbers["model"]) == [*MODELS, "ensemble (soft vote)"]
    assert list(numbers["accuracy"]) == [m.accuracy for m in [*members, soft]]
    np.testing.assert_allclose(numbers["log loss"], [m.log_loss for m in [*members, soft]], rtol=1e-12)


@pytest.mark.slow  # scoring imports scikit-learn and loads two skops models
def test_an_unfinished_run_shows_and_resumes_from_the_page(run_page, root):
    from ensemble_core.models.spec import spec_for
    from ensemble_core.scale.engines import LocalEngine
    from ensemble_core.scale.store import score_to_store

    class Stop(Exception):
        pass

    def stop(name, index):
        if index == 1:
            raise Stop

    with pytest.raises(Stop):
        score_to_store([spec_for(root / "models" / f"{m}.skops") for m in MODELS], root / "test.csv", root / "store",
                       engine=LocalEngine(), shard_rows=100, on_shard=stop)
    at = run_page(PREDICTION_STORE.path)
    assert not at.exception and not at.error
    unfinished = at.dataframe[0].value  # no model is finished: the first table is the unfinished runs
    assert list(unfinished["model"]) == ["tfidf_logreg"] and list(unfinished["shards done"]) == [2]
    at = _score(at)
    assert not at.exception and not at.error
    assert at.success[0].value == "Scored 2 models over 300 rows (4 shards scored, 2 found done)."
    assert len(at.dataframe) == 2  # the models, the engines: no unfinished run left


@pytest.mark.slow  # scoring imports scikit-learn and loads two skops models
def test_opening_the_store_loads_it_on_the_ensemble_page(run_page, root):
    at = _score(run_page(PREDICTION_STORE.path))
    at.text_input(key="w_store_labels").input("test.csv")
    at = _button(at, "Open in the explorer").click().run(timeout=60)
    assert not at.exception and not at.error
    assert at.session_state["source"].model_names == MODELS
    assert at.title[0].value == ENSEMBLE.title


@pytest.mark.parametrize("field, value, message", [
    ("w_store_folder", "../elsewhere", "../elsewhere: outside"),
    ("w_store_models", "models/missing.skops", "models/missing.skops: no such file or folder"),
])
def test_paths_outside_the_root_or_missing_are_refused_in_one_line(run_page, root, shown, field, value, message):
    at = run_page(PREDICTION_STORE.path)
    if field == "w_store_folder":
        at = at.text_input(key=field).input(value).run()
    else:
        at = _score(at, value)
    assert not at.exception
    assert message in shown(at.error[0].value)
