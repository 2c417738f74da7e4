"""Every metric against its sklearn.metrics counterpart (or a plain-loop reference)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from ensemble_core.metrics import (
    accuracy_score,
    brier_score_loss,
    calibration_curve,
    classifier_metrics,
    confusion_matrix,
    expected_calibration_error,
    log_loss,
    macro_f1_score,
)

CASES = [(2, 200, 0), (3, 150, 1), (10, 500, 2), (4, 7, 3)]
IDS = ["binary", "3-class", "10-class", "tiny"]


def _case(n_classes, n, seed):
    rng = np.random.default_rng(seed)
    probas = rng.dirichlet(np.ones(n_classes) * 0.7, size=n)
    y_true = rng.integers(0, n_classes, size=n)
    y_true[:n_classes] = np.arange(n_classes)  # every class occurs
    return y_true, probas, probas.argmax(axis=1)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_accuracy_and_f1_match_sklearn(case):
    y, p, pred = _case(*case)
    assert accuracy_score(y, pred) == pytest.approx(skm.accuracy_score(y, pred))
    assert macro_f1_score(y, pred, p.shape[1]) == pytest.approx(
        skm.f1_score(y, pred, average="macro", zero_division=0)
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_confusion_matrix_matches_sklearn(case):
    y, p, pred = _case(*case)
    k = p.shape[1]
    np.testing.assert_array_equal(confusion_matrix(y, pred, k), skm.confusion_matrix(y, pred, labels=range(k)))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_log_loss_matches_sklearn(case):
    y, p, _ = _case(*case)
    assert log_loss(y, p) == pytest.approx(skm.log_loss(y, p, labels=range(p.shape[1])), rel=1e-9)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_brier_matches_sklearn(case):
    y, p, _ = _case(*case)
    ref = skm.brier_score_loss(y, p if p.shape[1] > 2 else p[:, 1], labels=range(p.shape[1]))
    assert brier_score_loss(y, p) == pytest.approx(ref, rel=1e-9)


def test_macro_f1_ignores_classes_never_true_nor_predicted():
    y = np.array([0, 0, 1, 1])
    pred = np.array([0, 1, 1, 1])
    assert macro_f1_score(y, pred, 5) == pytest.approx(skm.f1_score(y, pred, average="macro"))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_ece_matches_a_plain_loop(case):
    y, p, pred = _case(*case)
    conf = p.max(axis=1)
    total = 0.0
    for b in range(10):
        lo, hi = b / 10, (b + 1) / 10
        in_bin = (conf >= lo) & ((conf < hi) if b < 9 else (conf <= hi))
        if in_bin.any():
            total += in_bin.mean() * abs((pred[in_bin] == y[in_bin]).mean() - conf[in_bin].mean())
    assert expected_calibration_error(y, p) == pytest.approx(total, abs=1e-12)


def test_ece_is_zero_for_a_perfectly_calibrated_confident_model():
    y = np.array([0, 1, 1, 0])
    p = np.eye(2)[y]
    assert expected_calibration_error(y, p) == 0.0


def test_calibration_curve_counts_and_nan_for_empty_bins():
    y = np.array([0, 1, 0])
    p = np.array([[0.95, 0.05], [0.45, 0.55], [0.52, 0.48]])
    conf, acc, count = calibration_curve(y, p)
    assert count.sum() == 3 and count[9] == 1 and count[5] == 2
    assert np.isnan(conf[0]) and acc[9] == 1.0 and acc[5] == 1.0


def test_classifier_metrics_without_probabilities_has_no_log_loss():
    y = np.array([0, 1, 1])
    onehot = np.eye(2)[[0, 1, 0]]
    m = classifier_metrics(y, onehot.argmax(axis=1), onehot, has_probas=False)
    assert m.log_loss is None
    assert m.accuracy == pytest.approx(2 / 3)
    assert m.to_dict()["confusion_matrix"] == [[1, 0], [1, 1]]
