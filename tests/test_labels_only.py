"""Labels-only models: one treatment (label smoothing with a stated ε, no log loss, a warning
when one decides alone) applied the same way by the evaluator, the weight search, calibration,
the landscape, stacking and the command line (issue 12, item 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ensemble_core import EnsembleEvaluator, EnsembleInputError, PredictionSet, load_prediction_set
from ensemble_core.calibration import cross_fit_temperatures
from ensemble_core.cli import main
from ensemble_core.labels_only import (
    check_smoothing,
    dominance,
    smooth,
    smooth_labels_only,
    smoothed_rows,
)
from ensemble_core.landscape import simplex_landscape
from ensemble_core.metrics import classifier_metrics
from ensemble_core.registry import LABELS_ONLY_SMOOTHING
from ensemble_core.stacking import fit_stacker
from ensemble_core.weight_search import suggest_weights
from tests.conftest import labels_only_files


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """(labels path, prediction paths, llm's labels, the set as loaded with the default ε)."""
    labels, paths, llm = labels_only_files(tmp_path_factory.mktemp("labels_only"))
    return labels, paths, llm, load_prediction_set(labels, paths)


def test_smoothed_rows_match_the_hand_computation():
    rows = smoothed_rows(np.array([1, 0]), 4, 0.2)
    np.testing.assert_allclose(rows, [[0.05, 0.85, 0.05, 0.05], [0.85, 0.05, 0.05, 0.05]], rtol=1e-6)
    assert rows.dtype == np.float32


@settings(max_examples=30, deadline=None)
@given(first=st.floats(0, 0.5), second=st.floats(0, 0.5), k=st.integers(2, 7), seed=st.integers(0, 99))
def test_smoothing_again_is_smoothing_the_one_hot_rows(first, second, k, seed):
    """Re-smoothing (a set re-built, selected, temperature-scaled) never compounds ε, and the labels survive."""
    labels = np.random.default_rng(seed).integers(0, k, size=(2, 30))
    one_hot = np.eye(k, dtype=np.float32)[labels]
    hard = np.array([True, False])
    twice = smooth(smooth(one_hot, hard, first), hard, second)
    np.testing.assert_array_equal(twice[0], smoothed_rows(labels[0], k, second))
    np.testing.assert_array_equal(twice[1], one_hot[1])
    assert (twice.argmax(axis=2) == labels).all()


@pytest.mark.parametrize("bad", [-0.1, 0.51, float("nan"), "x"], ids=["negative", "above-half", "nan", "text"])
def test_check_smoothing_refuses_what_is_out_of_range(bad):
    with pytest.raises(EnsembleInputError, match="label smoothing ε must be from 0 to 0.5"):
        check_smoothing(bad)


def test_a_prediction_set_smooths_its_labels_only_models_by_default(case):
    *_, llm, pset = case
    assert pset.smoothing == LABELS_ONLY_SMOOTHING and pset.hard.tolist() == [False] * 5 + [True]
    np.testing.assert_array_equal(pset.probas[5], smoothed_rows(llm, 3, LABELS_ONLY_SMOOTHING))
    bare = smooth_labels_only(pset, 0.0)
    np.testing.assert_array_equal(bare.probas[5], np.eye(3)[llm])
    np.testing.assert_array_equal(bare.probas[:5], pset.probas[:5])  # models with probabilities untouched
    assert smooth_labels_only(bare.select([0, 1]), 0.3) is not None  # no labels-only model: nothing to do


def test_the_geometric_mean_no_longer_equals_the_labels_only_model(case):
    """Regression (issue 12): with its bare one-hot row the labels-only model vetoed every other
    class, so the "ensemble" was that model on every row (+0.00 pts, 0 fixes / 0 breaks)."""
    *_, llm, pset = case
    ev = EnsembleEvaluator(pset)
    assert ev.best_name_ == "llm"
    geo = ev.evaluate("geometric")
    assert (geo.y_pred != llm).sum() > 20
    assert geo.fixes > 0 and geo.gain > 0
    assert geo.labels_only == ("llm",)
    assert geo.warnings == ()


def test_with_epsilon_zero_the_veto_is_back_and_a_warning_says_so(case):
    *_, llm, pset = case
    geo = EnsembleEvaluator(smooth_labels_only(pset, 0.0)).evaluate("geometric")
    np.testing.assert_array_equal(geo.y_pred, llm)
    assert (geo.fixes, geo.breaks) == (0, 0)
    [warning] = geo.warnings
    assert warning.startswith("llm (labels only) decides this combination alone") and "on 100%" in warning


def test_dominance_counts_the_rows_where_the_others_outvote_it():
    """Hand case: model 0 (labels-only) differs from the others' vote on rows 0-11; the ensemble
    follows it on 11 of 12 (92% ≥ 90%): it dominates. Following it on 10 of 12 (83%) is not dominating."""
    labels = np.array([[1] * 12 + [0] * 8, [0] * 20, [0] * 20])
    follows = np.r_[[1] * 11, 0, [0] * 8]
    [found] = dominance(labels, np.array([True, False, False]), np.ones(3), follows, n_classes=2)
    assert (found.model, found.rows, found.share) == (0, 12, pytest.approx(11 / 12))
    assert dominance(labels, np.array([True, False, False]), np.ones(3), np.r_[[1] * 10, [0] * 10],
                     n_classes=2) == ()
    assert dominance(labels, np.array([True, False, False]), np.array([1, 0, 0]), follows, n_classes=2) == ()


def test_a_labels_only_model_is_scored_on_the_labels_it_gave(case):
    """Its own Brier score and ECE are those of its one-hot labels, whatever ε (the model table
    does not change with the treatment); its log loss is a dash."""
    *_, llm, pset = case
    y = pset.y_true
    reference = classifier_metrics(y, llm, np.eye(3, dtype=np.float32)[llm], has_probas=False)
    for eps in (0.0, 0.1, 0.5):
        own = EnsembleEvaluator(smooth_labels_only(pset, eps)).model_metrics_["llm"]
        assert own.log_loss is None
        assert own.brier == pytest.approx(reference.brier) and own.ece == pytest.approx(reference.ece)
    assert reference.brier == pytest.approx(2 * np.mean(llm != y))  # one-hot: 2 per mistake (3 classes)


def test_labels_only_models_alone_have_no_log_loss(case):
    """Regression: the geometric mean of labels-only models reported a log loss (of the clipping)."""
    *_, pset = case
    only = PredictionSet(pset.probas[[5, 5]], pset.y_true, pset.classes, ("llm", "llm2"), hard=np.array([True, True]))
    ev = EnsembleEvaluator(only)
    for strategy in ("soft", "geometric", "hard"):
        assert ev.evaluate(strategy).metrics.log_loss is None
    # A labels-only model left out by its weight does not count: the rest has probabilities.
    mixed = EnsembleEvaluator(pset)
    assert mixed.evaluate("geometric", [0, 0, 0, 0, 0, 1]).metrics.log_loss is None
    assert mixed.evaluate("geometric", [1, 0, 0, 0, 0, 1]).metrics.log_loss is not None


def test_the_suggestion_never_compares_log_loss_with_a_labels_only_model(case):
    """Regression (issue 12): the accuracy method picked the labels-only model as the best single
    model per fold and reported its "log loss" (6.1 from clipped zeros): "vs the best single model
    −5.6 log loss". It has none: the comparison is a dash, never a number of ε's or of clipping."""
    *_, pset = case
    by_accuracy = suggest_weights(pset, "accuracy", calibrate=True)
    assert set(by_accuracy.best_single_names) == {"llm"}
    assert by_accuracy.best_single.log_loss is None
    assert by_accuracy.heldout.log_loss is not None and by_accuracy.uniform.log_loss is not None
    assert json.dumps(by_accuracy.to_dict())  # still JSON (null)
    by_log_loss = suggest_weights(pset, "caruana")
    assert "llm" not in by_log_loss.best_single_names  # ranked by log loss: only models that have one
    assert by_log_loss.best_single.log_loss is not None


def test_calibration_and_the_landscape_see_the_same_rows_as_the_evaluator(case):
    """One treatment everywhere: calibration leaves the smoothed row as it is (temperature 1), and the
    landscape at a grid point equals the evaluator at those weights."""
    *_, pset = case
    cal = cross_fit_temperatures(pset.probas, pset.y_true, hard=pset.hard)
    assert cal.temperatures[5] == 1.0
    np.testing.assert_allclose(cal.probas[5], pset.probas[5], atol=1e-6)
    three = pset.select([0, 3, 5])
    land = simplex_landscape(three.probas, three.y_true, strategy="geometric", resolution=4)
    ev = EnsembleEvaluator(three)
    for point, accuracy in zip(land.weights, land.accuracy):
        if point.min() > 0:
            assert ev.evaluate("geometric", point).metrics.accuracy == pytest.approx(accuracy)


def test_a_saved_stacker_smooths_new_labels_only_files_as_it_was_fitted(case):
    """The stacker keeps ε: the one-hot rows a new file gives are smoothed as its training rows were
    (else its inputs would differ from what it learned on)."""
    *_, llm, pset = case
    stacker = fit_stacker(pset.probas, pset.y_true, pset.classes, pset.names, smoothing=pset.smoothing)
    raw = smooth_labels_only(pset, 0.0).probas  # what reading the files again gives
    np.testing.assert_array_equal(stacker.scale(raw, pset.hard), pset.probas)
    assert stacker.fitted_rows(stacker.scale(raw, pset.hard)).all()


def test_cli_states_the_treatment_and_takes_epsilon(case, capsys):
    labels, paths, llm, _ = case
    argv = ["evaluate", "--labels", str(labels), "--predictions", *map(str, paths), "--strategy", "geometric", "--json"]
    assert main(argv) == 0
    default = json.loads(capsys.readouterr().out)
    assert default["notes"][0].startswith("llm gives labels only: it enters each combination as its one-hot row "
                                          "label-smoothed with ε = 0.1")
    assert default["models"]["llm"]["log_loss"] is None
    assert default["fixes"] > 0
    assert main([*argv, "--labels-only-smoothing", "0"]) == 0
    veto = json.loads(capsys.readouterr().out)
    assert (veto["fixes"], veto["breaks"], veto["gain_over_best"]) == (0, 0, 0.0)
    assert any("decides this combination alone" in n for n in veto["notes"])
    assert main([*argv, "--labels-only-smoothing", "0.7"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "ensemble-explorer: error: --labels-only-smoothing must be from 0 to 0.5; got 0.7"


@pytest.mark.slow  # stacking cross-fitted and saved, then applied: ~20 s on the loaded 2-core machine
def test_cli_apply_smooths_like_save_meta(case, tmp_path, capsys):
    labels, paths, *_ = case
    saved = tmp_path / "stacker.skops"
    assert main(["evaluate", "--labels", str(labels), "--predictions", *map(str, paths), "--strategy", "stacking",
                 "--labels-only-smoothing", "0.3", "--save-meta", str(saved)]) == 0
    capsys.readouterr()
    assert main(["apply", "--meta-model", str(saved), "--data", str(labels), "--predictions", *map(str, paths),
                 "--out", str(tmp_path / "out.csv")]) == 0
    assert "these are the rows the stacker was fitted on (all 400 match)" in capsys.readouterr().err


def test_the_exported_config_carries_epsilon_back_to_the_cli(case, tmp_path, capsys):
    """The Ensemble page's config keeps ε (when labels-only models are loaded); ``--config`` reads it,
    refuses the flag beside it, and refuses a value out of range."""
    from ensemble_core.explore import ensemble_config

    labels, paths, llm, pset = case
    config = tmp_path / "config.json"
    config.write_text(json.dumps(ensemble_config("geometric", pset.names, dict.fromkeys(pset.names, 1.0),
                                                 labels_only_smoothing=0.0)))
    argv = ["evaluate", "--labels", str(labels), "--predictions", *map(str, paths), "--config", str(config), "--json"]
    assert main(argv) == 0
    veto = json.loads(capsys.readouterr().out)
    assert (veto["fixes"], veto["breaks"]) == (0, 0) and "ε = 0 " in veto["notes"][0]
    assert main([*argv, "--labels-only-smoothing", "0.2"]) == 2
    assert "--labels-only-smoothing and --config" in capsys.readouterr().err
    config.write_text(json.dumps({**json.loads(config.read_text()), "labels_only_smoothing": True}))
    assert main(argv) == 2
    assert "'labels_only_smoothing' must be a number; got True" in capsys.readouterr().err


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.sampled_from([2, 3, 5, 40]), m=st.integers(2, 6),
       ties=st.booleans())
def test_others_vote_decides_as_hard_voting(seed, k, m, ties):
    """The dominance check's vote is hard voting's (ties included: equal weights on few models tie often)."""
    from ensemble_core.combine import hard_vote
    from ensemble_core.labels_only import others_vote

    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, size=(m, 50))
    weights = np.ones(m) if ties else rng.choice([0.0, 0.5, 1.0, 2.0], size=m)
    if weights.sum() == 0:
        weights[0] = 1.0
    weights = weights / weights.sum()
    np.testing.assert_array_equal(others_vote(labels, weights, k), hard_vote(labels, weights, k)[0])
