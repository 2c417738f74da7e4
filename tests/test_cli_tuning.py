"""evaluate --optimize / --calibrate, and the gain statistics in every evaluate report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from ensemble_core import write_predictions
from ensemble_core.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory, fitted_models):
    models, X, y = fitted_models["breast_cancer"]
    d = tmp_path_factory.mktemp("cli_tuning")
    pd.DataFrame({"label": y}).to_csv(d / "labels.csv", index=False)
    paths = []
    for name, m in zip(["lr", "rf", "nb", "knn"], models):
        write_predictions(d / f"{name}.csv", m.classes_, probas=m.predict_proba(X))
        paths.append(str(d / f"{name}.csv"))
    return str(d / "labels.csv"), paths, models, X, y


def _run_json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("strategy", ["hard", "soft", "stacking"])
def test_every_report_has_gain_interval_and_mcnemar(capsys, files, strategy):
    labels, preds, models, X, y = files
    r = _run_json(capsys, ["evaluate", "--labels", labels, "--predictions", *preds, "--strategy", strategy, "--json"])
    lo, hi = r["gain_ci"]
    assert lo <= r["gain_over_best"] <= hi
    assert r["accuracy_ci"][0] <= r["accuracy"] <= r["accuracy_ci"][1]
    assert 0 <= r["mcnemar_p"] <= 1
    assert r["gain_summary"].startswith(f"{100 * r['gain_over_best']:+.1f} points over {r['best_single']['name']}")
    assert "suggestion" not in r


def test_mcnemar_p_agrees_with_a_reference_on_the_same_predictions(capsys, files):
    labels, preds, models, X, y = files
    r = _run_json(capsys, ["evaluate", "--labels", labels, "--predictions", *preds, "--json"])
    ens = np.mean([m.predict_proba(X) for m in models], axis=0).argmax(axis=1)
    best = ["lr", "rf", "nb", "knn"].index(r["best_single"]["name"])
    ens_right = models[0].classes_[ens] == y
    best_right = models[best].predict(X) == y
    b, c = int(np.sum(ens_right & ~best_right)), int(np.sum(~ens_right & best_right))
    assert b + c < 25  # small discordant count: the exact test
    expected = 1.0 if b + c == 0 else binomtest(b, b + c, 0.5).pvalue
    assert r["mcnemar_p"] == pytest.approx(expected)


@pytest.mark.parametrize("method", ["logloss", "caruana", "accuracy"])
def test_optimize_adds_an_honest_suggestion(capsys, files, method):
    labels, preds, *_ = files
    r = _run_json(capsys, ["evaluate", "--labels", labels, "--predictions", *preds, "--optimize", method,
                           "--folds", "4", "--seed", "2", "--json"])
    s = r["suggestion"]
    assert s["method"] == method and s["folds"] == 4 and s["seed"] == 2
    assert list(s["weights"]) == ["lr", "rf", "nb", "knn"]
    assert sum(s["weights"].values()) == pytest.approx(1.0)
    for key in ("heldout", "uniform", "best_single", "in_sample"):
        assert set(s[key]) >= {"accuracy", "log_loss"}
    assert s["uniform"]["accuracy"] == pytest.approx(r["accuracy"])  # default weights are uniform soft voting
    assert len(s["best_single"]["chosen_per_fold"]) == 4
    assert (len(s["path"]) == 25) == (method != "logloss")
    assert 1 <= s["path_kept"] <= 25 if method != "logloss" else s["path_kept"] == 0
    assert s["calibrated"] is False


def test_calibrate_reports_temperatures_and_the_table_shows_the_suggestion(capsys, files):
    labels, preds, *_ = files
    assert main(["evaluate", "--labels", labels, "--predictions", *preds, "--optimize", "caruana", "--calibrate"]) == 0
    out = capsys.readouterr().out
    assert "suggested soft-voting weights (caruana, members temperature-scaled; fitted on all rows)" in out
    assert "temperatures: lr=" in out
    assert "held-out (5-fold nested CV" in out and "uniform soft vote" in out and "selection path (weights from the first " in out
    assert "95% CI" in out and "McNemar p" in out


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--calibrate"], "--calibrate needs --optimize"),
        (["--optimize", "magic"], "argument --optimize: invalid choice: 'magic'"),
        (["--optimize", "logloss", "--folds", "1"], "--folds must be at least 2; got 1"),
    ],
    ids=["calibrate-alone", "bad-method", "folds"],
)
def test_bad_tuning_options_exit_2_with_one_line(capsys, files, extra, match):
    labels, preds, *_ = files
    assert main(["evaluate", "--labels", labels, "--predictions", *preds, *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert match in err
