"""Distillation: the loss against a hand computation, λ = 0 is plain training, honesty, saved students."""

from __future__ import annotations

import numpy as np
import pytest

from ensemble_core._threads import import_torch
from ensemble_core._validation import EnsembleInputError
from ensemble_core.deploy.distill import StudentSettings, distill, distillation_loss, fit_student, to_pipeline
from ensemble_core.io import load_prediction_set


def _sets(d, members=("lr", "nb", "tree"), labels_held_out=None):
    transfer = load_prediction_set(d / "transfer.csv", [d / "transfer" / f"{m}.csv" for m in members])
    held = load_prediction_set(labels_held_out or d / "held_out.csv", [d / "held_out" / f"{m}.csv" for m in members])
    return transfer, held


def _softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.mark.parametrize("alpha, temperature", [(0.0, 1.0), (0.3, 2.0), (1.0, 4.0), (0.7, 0.5)])
def test_loss_equals_a_hand_computation(alpha, temperature):
    torch = import_torch()
    rng = np.random.default_rng(0)
    z = rng.normal(size=(5, 3))
    y = rng.integers(0, 3, 5)
    t = _softmax(rng.normal(size=(5, 3)))
    ce = -np.log(_softmax(z)[np.arange(5), y]).mean()
    t_soft = _softmax(np.log(t) / temperature)
    s_soft = _softmax(z / temperature)
    kl = (t_soft * (np.log(t_soft) - np.log(s_soft))).sum(1).mean()
    expected = (1 - alpha) * ce + alpha * temperature**2 * kl
    got = distillation_loss(torch.tensor(z), torch.tensor(y), torch.tensor(t), alpha=alpha, temperature=temperature)
    assert float(got) == pytest.approx(expected, rel=1e-10)


def test_alpha_zero_is_plain_training(feature_splits):
    """λ = 0: the loss is the cross-entropy itself, and the teacher has no influence at all."""
    torch = import_torch()
    z, y = torch.randn(4, 3, dtype=torch.float64), torch.tensor([0, 2, 1, 1])
    teacher = torch.full((4, 3), 1 / 3, dtype=torch.float64)
    assert torch.equal(distillation_loss(z, y, teacher, alpha=0.0, temperature=3.0),
                       torch.nn.functional.cross_entropy(z, y))
    transfer, _ = _sets(feature_splits)
    settings = StudentSettings(kind="logistic", alpha=0.0, epochs=3)
    x = transfer.content
    plain = fit_student(x, transfer.y_true, None, transfer.classes, settings)
    rng = np.random.default_rng(1)
    noise = rng.dirichlet(np.ones(3), size=transfer.n_samples)
    with_teacher = fit_student(x, transfer.y_true, noise, transfer.classes, settings)
    for a, b in zip(plain.module.parameters(), with_teacher.module.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("kind", ["logistic", "mlp"])
def test_held_out_labels_never_reach_the_student(feature_splits, tmp_path, kind):
    import pandas as pd

    labels = pd.read_csv(feature_splits / "held_out.csv")
    labels["label"] = labels["label"].sample(frac=1.0, random_state=3).to_numpy()
    shuffled = tmp_path / "shuffled.csv"
    labels.to_csv(shuffled, index=False)
    settings = StudentSettings(kind=kind, epochs=5)
    a = distill(*_sets(feature_splits), settings=settings, out=tmp_path / "a.skops")
    b = distill(*_sets(feature_splits, labels_held_out=shuffled), settings=settings, out=tmp_path / "b.skops")
    from ensemble_core.models.loading import load_model

    x = labels.drop(columns=["id", "label"])
    pa, pb = (load_model(tmp_path / f).predict_proba(x) for f in ("a.skops", "b.skops"))
    np.testing.assert_array_equal(pa, pb)
    assert a.student.agreement == b.student.agreement  # against the ensemble, which ignores labels too
    assert a.student.accuracy != b.student.accuracy


def test_score_reproduces_the_reported_accuracy(feature_splits, tmp_path, capsys):
    from ensemble_core.cli import main

    report = distill(*_sets(feature_splits), settings=StudentSettings(kind="mlp", epochs=5),
                     out=tmp_path / "student.skops")
    status = main(["score", "--model", str(tmp_path / "student.skops"), "--data", str(feature_splits / "held_out.csv"),
                   "--out", str(tmp_path / "student.csv"), "--no-cache"])
    assert status == 0
    assert f"accuracy {report.student.accuracy:.4f}" in capsys.readouterr().out
    from ensemble_core.metrics import classifier_metrics
    from ensemble_core.decision import decide

    pset = load_prediction_set(feature_splits / "held_out.csv", [tmp_path / "student.csv"])
    scored = classifier_metrics(pset.y_true, decide(pset.probas[0]), pset.probas[0], has_probas=True)
    assert scored.accuracy == report.student.accuracy
    assert scored.log_loss == pytest.approx(report.student.log_loss, abs=1e-6)


def test_report_side_by_side(feature_splits, tmp_path):
    report = distill(*_sets(feature_splits), settings=StudentSettings(kind="logistic", epochs=10),
                     out=tmp_path / "s.skops")
    assert report.ensemble.agreement == 1.0
    assert [m.name for m in report.members] == ["lr", "nb", "tree"]
    assert report.student.size_bytes == (tmp_path / "s.skops").stat().st_size
    assert report.student.ms_per_1000 > 0 and report.hard_label_student.ms_per_1000 > 0
    assert report.ensemble.ms_per_1000 is None and report.notes  # members without a cost
    assert report.student.accuracy > 0.5 and report.hard_label_student.accuracy > 0.5


def test_pipeline_matches_the_torch_student(feature_splits):
    torch = import_torch()
    transfer, _ = _sets(feature_splits)
    for kind in ("logistic", "mlp"):
        student = fit_student(transfer.content, transfer.y_true, transfer.probas.mean(0), transfer.classes,
                              StudentSettings(kind=kind, epochs=2))
        with torch.no_grad():
            logits = student.module(torch.from_numpy(student.preprocess.transform(transfer.content).astype(np.float32)))
        np.testing.assert_allclose(to_pipeline(student).predict_proba(transfer.content),
                                   torch.softmax(logits, 1).numpy(), atol=1e-5)


@pytest.mark.parametrize("kind", ["tfidf-logistic", "tfidf-mlp"])
def test_text_students(text_splits, tmp_path, kind):
    transfer, held = _sets(text_splits, members=("lr", "nb"))
    report = distill(transfer, held, settings=StudentSettings(kind=kind, epochs=10), out=tmp_path / "t.skops")
    assert report.student.accuracy > 0.8  # the words say the class
    from ensemble_core.models.loading import load_model

    assert load_model(tmp_path / "t.skops").input == "text"


@pytest.mark.parametrize("settings, match", [
    (dict(kind="logistic", alpha=1.5), "--alpha must be in"),
    (dict(kind="logistic", temperature=0.0), "--temperature must be"),
    (dict(kind="student"), "unknown student 'student'"),
    (dict(kind="mlp", epochs=0), "epochs must be at least 1"),
])
def test_bad_settings(settings, match):
    with pytest.raises(EnsembleInputError, match=match):
        StudentSettings(**settings)


def test_progress_counts_both_students_epochs_and_a_stop_saves_nothing(feature_splits, tmp_path):
    """Progress runs over the student's and its λ = 0 twin's epochs; asked to stop, the run raises
    Stopped with the epochs done and writes no student."""
    from ensemble_core.deploy import Stopped

    transfer, held = _sets(feature_splits)
    seen = []
    distill(transfer, held, settings=StudentSettings(kind="logistic", epochs=3), out=tmp_path / "s.skops",
            progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 6) for i in range(1, 7)]

    seen.clear()
    with pytest.raises(Stopped) as stopped:
        distill(transfer, held, settings=StudentSettings(kind="logistic", epochs=3), out=tmp_path / "t.skops",
                progress=lambda done, total: seen.append((done, total)), should_stop=lambda: len(seen) >= 4)
    assert (stopped.value.done, stopped.value.total) == (4, 6)  # the twin's first epoch done, then asked
    assert not (tmp_path / "t.skops").exists()


def test_a_stop_check_that_never_fires_changes_nothing(feature_splits):
    torch = import_torch()
    transfer, _ = _sets(feature_splits)
    settings = StudentSettings(kind="mlp", epochs=2)
    teacher = transfer.probas.mean(axis=0)
    plain = fit_student(transfer.content, transfer.y_true, teacher, transfer.classes, settings)
    watched = fit_student(transfer.content, transfer.y_true, teacher, transfer.classes, settings,
                          should_stop=lambda: False, progress=lambda done, total: None)
    for a, b in zip(plain.module.parameters(), watched.module.parameters()):
        assert torch.equal(a, b)


@pytest.mark.slow
def test_transformer_student_is_a_folder_that_score_reproduces(text_splits, tmp_path, capsys):
    """The transformer student (a tiny BERT from a config) is saved as a transformers folder; 'score'
    loads it and gives the reported accuracy; it learns the words that carry the class."""
    from ensemble_core.cli import main

    transfer, held = _sets(text_splits, members=("lr", "nb"))
    settings = StudentSettings(kind="transformer", epochs=25, hidden=16, max_features=100)
    seen = []
    report = distill(transfer, held, settings=settings, out=tmp_path / "bert",
                     progress=lambda done, total: seen.append(done))
    assert seen == list(range(1, 51))
    assert (tmp_path / "bert" / "config.json").is_file() and (tmp_path / "bert" / "model.safetensors").is_file()
    assert report.student.accuracy > 0.7
    status = main(["score", "--model", str(tmp_path / "bert"), "--data", str(text_splits / "held_out.csv"),
                   "--out", str(tmp_path / "bert.csv"), "--no-cache"])
    assert status == 0
    assert f"accuracy {report.student.accuracy:.4f}" in capsys.readouterr().out
    with pytest.raises(EnsembleInputError, match="saved as a transformers folder"):
        distill(transfer, held, settings=settings, out=tmp_path / "bert.skops")
