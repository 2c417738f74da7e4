"""Temperature scaling: fixes over- and under-confidence, keeps the argmax, is cross-fitted."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

from ensemble_core._folds import kfold_test_indices
from ensemble_core.calibration import (
    apply_temperatures,
    cross_fit_temperatures,
    fit_temperature,
    fit_temperatures,
)
from ensemble_core.combine import log_probas
from ensemble_core.metrics import expected_calibration_error


def _model(rng, n: int, sharpness: float, n_classes: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """A calibrated model (true label drawn from its softmax) shown with logits × sharpness."""
    logits = rng.normal(scale=1.5, size=(n, n_classes))
    p = np.exp(log_softmax(logits, axis=1))
    y = (p.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    shown = np.exp(log_softmax(sharpness * logits, axis=1))
    return shown.astype(np.float32), y


@pytest.fixture(scope="module")
def over_confident():
    rng = np.random.default_rng(0)
    p_over, y = _model(rng, 4000, sharpness=3.0)
    return p_over, y


def test_over_confident_model_gets_t_above_one_and_lower_ece(over_confident):
    p, y = over_confident
    cal = cross_fit_temperatures(p[None], y)
    assert cal.temperatures[0] == pytest.approx(3.0, rel=0.1)
    assert cal.ece_after[0] < cal.ece_before[0] / 3
    assert cal.ece_after[0] == pytest.approx(expected_calibration_error(y, cal.probas[0]))
    np.testing.assert_array_equal(cal.probas[0].argmax(axis=1), p.argmax(axis=1))
    np.testing.assert_allclose(cal.probas.sum(axis=2), 1.0, atol=1e-5)
    assert cal.before[0].count.sum() == cal.after[0].count.sum() == len(y)


def test_under_confident_model_gets_t_below_one():
    p, y = _model(np.random.default_rng(1), 4000, sharpness=0.4)
    assert fit_temperature(log_probas(p), y) == pytest.approx(0.4, rel=0.1)


def test_fitted_temperature_minimises_log_loss_like_a_bracketing_search(over_confident):
    p, y = over_confident
    z = log_probas(p).astype(np.float64)

    def loss(log_t):
        return -np.mean(log_softmax(z / np.exp(log_t), axis=1)[np.arange(len(y)), y])

    ref = np.exp(minimize_scalar(loss, bounds=(-3, 3), method="bounded", options={"xatol": 1e-8}).x)
    assert fit_temperature(log_probas(p), y) == pytest.approx(ref, rel=1e-4)


def test_each_fold_is_calibrated_with_a_temperature_fitted_without_it(over_confident):
    p, y = over_confident
    probas = np.stack([p, np.roll(p, 1, axis=1)])
    cal = cross_fit_temperatures(probas, y, folds=4, seed=7)
    for f, test in enumerate(kfold_test_indices(y, 4, 7)):
        train = np.setdiff1d(np.arange(len(y)), test)
        np.testing.assert_allclose(cal.fold_temperatures[f], fit_temperatures(probas[:, train], y[train]))
        np.testing.assert_allclose(cal.probas[:, test], apply_temperatures(probas[:, test], cal.fold_temperatures[f]),
                                   rtol=1e-6)


def test_hard_label_models_keep_temperature_one(over_confident):
    p, y = over_confident
    one_hot = np.eye(4, dtype=np.float32)[p.argmax(axis=1)]
    cal = cross_fit_temperatures(np.stack([p, one_hot]), y, hard=np.array([False, True]))
    assert cal.temperatures[1] == 1.0 and np.all(cal.fold_temperatures[:, 1] == 1.0)
    np.testing.assert_allclose(cal.probas[1], one_hot, atol=1e-6)


def test_temperature_one_is_the_identity(over_confident):
    p, _ = over_confident
    np.testing.assert_allclose(apply_temperatures(p[None], np.array([1.0]))[0], p, atol=1e-6)


@pytest.mark.parametrize("rare", [False, True], ids=["every-class-fills-the-folds", "a-class-of-3-rows"])
def test_cross_fitted_temperatures_equal_a_plain_stratified_loop(over_confident, rare):
    """Pins the numbers: each fold (scikit-learn's shuffled StratifiedKFold) is calibrated with
    temperatures fitted on the other folds; the final temperatures on every row. A class rarer
    than the folds used to switch the split to a plain KFold; it is stratified now too."""
    import warnings

    from sklearn.model_selection import StratifiedKFold

    p, y = over_confident
    if rare:
        y = np.where(y == 3, 2, y)
        y[[5, 50, 90]] = 3
    probas = np.stack([p, np.roll(p, 1, axis=1), p ** 0.5 / (p ** 0.5).sum(axis=1, keepdims=True)])
    hard = np.array([False, False, False])
    cal = cross_fit_temperatures(probas, y, folds=5, seed=3, hard=hard)
    expected = np.empty(probas.shape, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the least populated class has fewer rows than folds
        splits = list(StratifiedKFold(5, shuffle=True, random_state=3).split(y, y))
    for f, (train, test) in enumerate(splits):
        t = fit_temperatures(probas[:, train], y[train], hard)
        np.testing.assert_array_equal(cal.fold_temperatures[f], t)
        expected[:, test] = apply_temperatures(probas[:, test], t)
    np.testing.assert_array_equal(cal.probas, expected)
    np.testing.assert_array_equal(cal.temperatures, fit_temperatures(probas, y, hard))
