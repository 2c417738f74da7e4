"""AppTest: the Distill and Compress pages (Deploy). Their numbers are the core's (deploy.distill,
deploy.compress) on the loaded rows; a run happens in the background, can be stopped, and its student
joins the loaded models."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.navigation import COMPRESS, DISTILL
from ensemble_core.demo import load_demo
from ensemble_core.deploy.distill import StudentSettings, distill

pytestmark = pytest.mark.xdist_group("app")

#: Few epochs on the digits demo's validation split (269 rows): a run of a second or two.
EPOCHS = 3
#: A job's longest wait (the machine may be busy).
WAIT = 240


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def _distill_page(run_page, *, transfer="val", epochs=EPOCHS):
    at = run_page(DISTILL.path, query={"data": "digits"})
    assert not at.exception and not at.error
    at.radio(key="w_transfer").set_value(transfer)
    at.number_input(key="w_epochs").set_value(epochs).run()
    assert not at.exception and not at.error
    return at


def _finish(at, key):
    job = at.session_state[key]
    assert job.wait(WAIT), "the run did not end"
    at.run()
    assert not at.exception
    return job


def test_the_report_is_distill_s_and_the_student_joins_the_models(run_page, tmp_path):
    at = _distill_page(run_page)
    _button(at, "Distill").click().run()
    assert not at.exception
    _finish(at, "distill_job")
    assert not at.error
    table = at.dataframe[0].value.set_index("model")
    held_out = load_demo("digits")
    expected = distill(load_demo("digits", "val"), held_out, settings=StudentSettings(kind="logistic", epochs=EPOCHS),
                       out=tmp_path / "s.skops")
    for row in (expected.student, expected.hard_label_student, expected.ensemble, *expected.members):
        assert table.loc[row.name, "accuracy"] == pytest.approx(row.accuracy, abs=1e-12), row.name
    assert table.loc[expected.student.name, "cost"] == "measured"

    _button(at, "Add the student to the models").click().run()
    assert not at.exception and not at.error
    source = at.session_state["source"]
    assert source.model_names[-1] == "student_logistic"
    from dashboard.caches import prediction_set

    pset = prediction_set(source)
    scored = pset.select(["student_logistic"])
    from ensemble_core.decision import decide

    accuracy = float(np.mean(decide(scored.probas[0]) == scored.y_true))
    assert accuracy == pytest.approx(expected.student.accuracy, abs=1e-12)  # through score's loader


def test_a_run_can_be_stopped(run_page):
    at = _distill_page(run_page, epochs=2000)
    _button(at, "Distill").click().run()
    assert not at.exception
    assert at.session_state["distill_job"].running
    _button(at, "Stop").click().run()
    job = _finish(at, "distill_job")
    assert job.stopped is not None and job.result is None
    assert any(w.value.startswith("Stopped after") for w in at.warning)
    assert not at.dataframe  # no report from a stopped run


def test_compress_compares_with_the_original_and_refuses_a_forest(run_page, metric_value):
    at = run_page(COMPRESS.path, query={"data": "digits"})
    assert not at.exception and not at.error
    at.selectbox(key="w_compress_model").set_value("the demo's logreg").run()
    _button(at, "Compress").click().run()
    assert not at.exception
    _finish(at, "compress_job")
    assert not at.error
    table = at.dataframe[0].value
    assert list(table["model"]) == ["logreg.skops", "logreg.int8.onnx", "logreg.prune-50.skops"]
    digits = load_demo("digits")
    logreg = digits.names.index("logreg")
    from ensemble_core.decision import decide

    member = float(np.mean(decide(digits.probas[logreg]) == digits.y_true))
    assert table["accuracy"][0] == pytest.approx(member, abs=1e-12)  # the model file gives its prediction file
    assert table["agreement with the original"][0] == 1.0
    assert table["size (bytes)"][2] < table["size (bytes)"][0]

    at.selectbox(key="w_compress_model").set_value("the demo's forest").run()
    _button(at, "Compress").click().run()
    _finish(at, "compress_job")
    assert "ending in LogisticRegression or MLPClassifier" in at.error[0].value
