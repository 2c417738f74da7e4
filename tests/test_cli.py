"""The command line: JSON report, table, --out, and exit status 2 with one line for bad input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from ensemble_core import load_prediction_set, write_predictions
from ensemble_core.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def files(tmp_path_factory, fitted_models):
    models, X, y = fitted_models["wine-strings"]
    d = tmp_path_factory.mktemp("cli")
    ids = np.arange(len(y)) + 100
    pd.DataFrame({"id": ids, "label": y, "alcohol": X[:, 0]}).to_csv(d / "labels.csv", index=False)
    paths = []
    for name, m in zip(["lr", "rf", "nb", "knn"], models):
        order = np.random.default_rng(len(name)).permutation(len(y))  # rows shuffled: align by id
        write_predictions(d / f"{name}.csv", m.classes_, probas=m.predict_proba(X)[order], ids=ids[order])
        paths.append(str(d / f"{name}.csv"))
    return d, str(d / "labels.csv"), paths


def _run_json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("strategy", ["hard", "soft", "geometric", "stacking"])
def test_json_report_has_the_documented_keys(capsys, files, strategy):
    _, labels, preds = files
    report = _run_json(capsys, ["evaluate", "--labels", labels, "--predictions", *preds, "--strategy", strategy, "--json"])
    for key in ["strategy", "n_samples", "classes", "weights", "accuracy", "macro_f1", "log_loss", "brier", "ece",
                "confusion_matrix", "models", "best_single", "oracle_accuracy", "disagreement_rate", "fixes", "breaks"]:
        assert key in report
    assert report["strategy"] == strategy
    assert report["classes"] == ["barbera", "barolo", "grignolino"]
    assert set(report["models"]) == {"lr", "rf", "nb", "knn"}
    assert (report["log_loss"] is None) == (strategy == "hard")
    assert (report["weights"] is None) == (strategy == "stacking")
    assert np.sum(report["confusion_matrix"]) == report["n_samples"]


def test_json_numbers_agree_with_sklearn(capsys, files, fitted_models):
    _, labels, preds = files
    models, X, y = fitted_models["wine-strings"]
    report = _run_json(capsys, ["evaluate", "--labels", labels, "--predictions", *preds, "--weights", "1,2,0,1", "--json"])
    assert report["weights"] == pytest.approx([0.25, 0.5, 0.0, 0.25])
    avg = np.average([m.predict_proba(X) for m in models], axis=0, weights=[1, 2, 0, 1])
    pred = models[0].classes_[avg.argmax(axis=1)]
    assert report["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert report["macro_f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert report["log_loss"] == pytest.approx(skm.log_loss(y, avg), rel=1e-4)
    assert report["confusion_matrix"] == skm.confusion_matrix(y, pred, labels=models[0].classes_).tolist()
    rf_pred = models[1].predict(X)
    assert report["models"]["rf"]["accuracy"] == pytest.approx(skm.accuracy_score(y, rf_pred))
    each = [skm.accuracy_score(y, m.predict(X)) for m in models]
    assert report["best_single"]["accuracy"] == pytest.approx(max(each))
    right = np.array([m.predict(X) == y for m in models])
    assert report["oracle_accuracy"] == pytest.approx(right.any(axis=0).mean())
    ens_right = pred == y
    best_right = right[int(np.argmax(each))]
    assert report["fixes"] == np.sum(ens_right & ~best_right)
    assert report["breaks"] == np.sum(~ens_right & best_right)


def test_table_output_and_out_file(capsys, files, tmp_path):
    _, labels, preds = files
    out = tmp_path / "ens.csv"
    assert main(["evaluate", "--labels", labels, "--predictions", *preds, "--names", "a", "b", "c", "d", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "ENSEMBLE (soft)" in text and "oracle accuracy" in text and "gain over best single" in text
    ps = load_prediction_set(labels, [out])  # the written file is a valid prediction file
    assert ps.n_samples == 72 and not ps.hard[0]


def test_hard_vote_out_file_holds_labels(files, tmp_path):
    _, labels, preds = files
    out = tmp_path / "hard.csv"
    assert main(["evaluate", "--labels", labels, "--predictions", *preds, "--strategy", "hard", "--out", str(out)]) == 0
    assert load_prediction_set(labels, [out]).hard[0]


def test_stacker_saved_and_applied(capsys, files, tmp_path):
    _, labels, preds = files
    meta = tmp_path / "meta.skops"
    assert main(["evaluate", "--labels", labels, "--predictions", *preds, "--strategy", "stacking", "--save-meta", str(meta)]) == 0
    out = tmp_path / "stacked.csv"
    # --labels still names the rows file (now also --data)
    assert main(["apply", "--meta-model", str(meta), "--labels", labels, "--predictions", *preds, "--out", str(out)]) == 0
    assert "stacked accuracy" in capsys.readouterr().out
    assert load_prediction_set(labels, [out]).n_samples == 72


BAD_ARGS = [
    ("wrong-weight-count", ["--weights", "1,2"], "got 2 weights, 4 models"),
    ("negative-weight", ["--weights", "1,-2,1,1"], "weight 2 is -2"),
    ("zero-weights", ["--weights", "0,0,0,0"], "all weights are 0"),
    ("weights-not-numbers", ["--weights", "1,x"], "comma-separated numbers"),
    ("unknown-strategy", ["--strategy", "median"], "invalid choice: 'median'"),
    ("unknown-meta", ["--strategy", "stacking", "--meta", "xgb"], "invalid choice: 'xgb'"),
    ("names-count", ["--names", "a"], "got 1 names, 4 files"),
    ("save-meta-without-stacking", ["--save-meta", "x.skops"], "--save-meta needs --strategy stacking"),
    ("explain-without-stacking", ["--explain"], "--explain needs --strategy stacking"),
    ("negative-seed", ["--seed", "-1"], "argument --seed: must be a whole number from 0 to 4294967295; got '-1'"),
    ("seed-too-large", ["--seed", "4294967296", "--strategy", "stacking"], "got '4294967296'"),
]


@pytest.mark.parametrize("extra, match", [b[1:] for b in BAD_ARGS], ids=[b[0] for b in BAD_ARGS])
def test_bad_arguments_exit_2_with_one_line(capsys, files, extra, match):
    _, labels, preds = files
    assert main(["evaluate", "--labels", labels, "--predictions", *preds, *extra]) == 2
    err = capsys.readouterr().err
    assert match in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_missing_file_exit_2(capsys, files):
    _, labels, preds = files
    assert main(["evaluate", "--labels", labels, "--predictions", preds[0], "nope.csv"]) == 2
    assert "nope.csv: no such file" in capsys.readouterr().err


def test_single_class_labels_with_stacking_exit_2(capsys, tmp_path):
    (tmp_path / "l.csv").write_text("label\na\na\na\n")
    (tmp_path / "p.csv").write_text("a\n1\n1\n1\n")
    assert main(["evaluate", "--labels", str(tmp_path / "l.csv"), "--predictions", str(tmp_path / "p.csv"), "--strategy", "stacking"]) == 2
    assert "at least two classes" in capsys.readouterr().err


def test_a_bad_file_from_a_real_process_gives_one_line_and_status_2(files, tmp_path):
    """The installed entry point, end to end: no traceback reaches the user."""
    _, labels, _ = files
    bad = tmp_path / "bad.csv"
    bad.write_text("id,barbera,barolo,grignolino\n100,0.5,0.5,0.5\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "ensemble_core.cli", "evaluate", "--labels", labels, "--predictions", str(bad)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("ensemble-explorer: error: ") and proc.stderr.count("\n") == 1
    assert "row 1: probabilities sum to 1.5" in proc.stderr


_LOADED = """
import sys
from ensemble_core.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as exc:  # --help
    status = exc.code
print(sorted(m for m in {mods!r} if m in sys.modules), file=sys.stderr)
sys.exit(status)
"""


def _modules_loaded(argv, mods):
    """The modules of ``mods`` that a fresh process running the command line with ``argv`` imported."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", _LOADED.format(mods=mods), *argv], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return eval(proc.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("strategy", ["soft", "hard", "geometric"])
def test_evaluate_imports_no_library_it_does_not_use(files, strategy):
    """scipy.stats alone cost 0.6-0.8 s of every evaluate; the model libraries seconds more."""
    _, labels, preds = files
    heavy = ("scipy", "sklearn", "torch", "transformers", "skops", "streamlit", "onnxruntime", "plotly")
    argv = ["evaluate", "--labels", labels, "--predictions", *preds, "--strategy", strategy, "--json"]
    assert _modules_loaded(argv, heavy) == []


@pytest.mark.parametrize("argv", [["evaluate", "--help"], ["--help"], ["score", "--help"], ["apply", "--help"]])
def test_help_imports_neither_numpy_nor_pandas(argv):
    assert _modules_loaded(argv, ("numpy", "pandas", "pyarrow")) == []


@pytest.fixture(scope="module")
def stacker(files, tmp_path_factory):
    _, labels, preds = files
    meta = tmp_path_factory.mktemp("stacker") / "meta.skops"
    assert main(["evaluate", "--labels", labels, "--predictions", *preds, "--strategy", "stacking", "--save-meta", str(meta)]) == 0
    return str(meta)


def _apply(capsys, stacker, data, preds, out, *extra):
    status = main(["apply", "--meta-model", stacker, "--data", str(data), "--predictions", *map(str, preds), "--out", str(out), *extra])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_apply_matches_files_to_the_stackers_models_by_name(capsys, files, stacker, tmp_path):
    """The files in another order give the same stacked predictions: they are matched by name, not position."""
    _, labels, preds = files
    status, in_order, _ = _apply(capsys, stacker, labels, preds, tmp_path / "a.csv")
    assert status == 0
    status, reversed_order, _ = _apply(capsys, stacker, labels, preds[::-1], tmp_path / "b.csv")
    assert status == 0
    assert reversed_order.replace("b.csv", "a.csv") == in_order
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()


@pytest.mark.parametrize(
    "pick, names, match",
    [
        (slice(0, 3), None, r"fitted on models lr, rf, nb, knn; no prediction file for 'knn' \("),
        (slice(0, 4), ["lr", "rf", "nb", "svm"], r"no prediction file for 'knn'; 'svm' is not among them"),
        (slice(0, 4), ["lr", "rf", "nb"], r"got 3 names, 4 files"),
    ],
    ids=["missing-model", "unknown-name", "names-count"],
)
def test_apply_refuses_a_missing_or_unknown_model_in_one_line(capsys, files, stacker, tmp_path, pick, names, match):
    _, labels, preds = files
    extra = ["--names", *names] if names else []
    status, out, err = _apply(capsys, stacker, labels, preds[pick], tmp_path / "o.csv", *extra)
    assert status == 2 and out == ""
    assert re.search(match, err) and err.count("\n") == 1
    assert not (tmp_path / "o.csv").exists()


def test_apply_on_unlabelled_rows_writes_predictions_and_no_accuracy(capsys, files, stacker, tmp_path):
    d, labels, preds = files
    rows = pd.read_csv(labels).drop(columns="label")
    rows.iloc[::-1].to_csv(tmp_path / "new.csv", index=False)  # other row order: aligned by id
    status, out, err = _apply(capsys, stacker, tmp_path / "new.csv", preds, tmp_path / "stacked.csv")
    assert status == 0
    assert "no 'label' column: no accuracy" in out and "stacked accuracy" not in out
    written = pd.read_csv(tmp_path / "stacked.csv")
    assert list(written.columns) == ["id", "barbera", "barolo", "grignolino"]
    assert written["id"].tolist() == rows["id"].tolist()[::-1]
    assert "fitted on" in err  # these are its training rows, labelled or not


def test_apply_warns_when_the_rows_are_the_ones_it_was_fitted_on(capsys, files, stacker, tmp_path):
    d, labels, preds = files
    status, out, err = _apply(capsys, stacker, labels, preds, tmp_path / "o.csv")
    assert status == 0 and "stacked accuracy" in out
    assert err.startswith("ensemble-explorer: warning: these are the rows the stacker was fitted on (all 72 match)")
    assert "in-sample, not evidence" in err and err.count("\n") == 1

    # Half the rows new: another id and other probabilities from one model.
    lab = pd.read_csv(labels)
    new_id = {i: (i + 10_000 if k % 2 else i) for k, i in enumerate(lab["id"])}
    lab.assign(id=lab["id"].map(new_id)).to_csv(tmp_path / "half.csv", index=False)
    moved = _moved(preds, tmp_path, new_id)
    status, out, err = _apply(capsys, stacker, tmp_path / "half.csv", moved, tmp_path / "o.csv")
    assert status == 0
    assert "36 of 72 rows are rows the stacker was fitted on" in err
    assert re.search(r"stacked accuracy \d\.\d{4}; \d\.\d{4} on the 36 other rows", out)

    every = {i: i + 10_000 for i in lab["id"]}
    lab.assign(id=lab["id"].map(every)).to_csv(tmp_path / "new.csv", index=False)
    status, out, err = _apply(capsys, stacker, tmp_path / "new.csv", _moved(preds, tmp_path, every), tmp_path / "o.csv")
    assert status == 0 and err == ""


def _moved(preds, tmp_path, new_id):
    """The prediction files with ids mapped by new_id; lr's probabilities moved halfway to
    uniform on the rows whose id changes."""
    moved = []
    for p in preds:
        df = pd.read_csv(p)
        if Path(p).stem == "lr":
            changed = df["id"].map(new_id) != df["id"]
            cols = [c for c in df.columns if c != "id"]
            df.loc[changed, cols] = df.loc[changed, cols] * 0.5 + 0.5 / len(cols)
        df.assign(id=df["id"].map(new_id)).to_csv(tmp_path / Path(p).name, index=False)
        moved.append(tmp_path / Path(p).name)
    return moved


def test_apply_knows_its_training_rows_without_ids_reordered_or_as_a_subset(capsys, files, stacker, tmp_path):
    """Rows are recognised by the models' probabilities, not by row number or id: the review
    found 0.9700 and no warning on the training rows without their ids."""
    d, labels, preds = files
    lab = pd.read_csv(labels).sort_values("id")
    pick = lab["id"].to_numpy()[::-1][:30]  # the last 30 training rows, reversed
    lab.set_index("id").loc[pick].reset_index(drop=True).drop(columns="label").to_csv(tmp_path / "rows.csv", index=False)
    noid = []
    for p in preds:
        df = pd.read_csv(p).set_index("id").loc[pick].reset_index(drop=True)
        df.to_csv(tmp_path / Path(p).name, index=False)
        noid.append(tmp_path / Path(p).name)
    status, out, err = _apply(capsys, stacker, tmp_path / "rows.csv", noid, tmp_path / "o.csv")
    assert status == 0
    assert "these are the rows the stacker was fitted on (all 30 match)" in err


def test_apply_with_a_stacker_saved_before_fingerprints_says_it_cannot_tell(capsys, files, stacker, tmp_path):
    import skops.io as sio

    from ensemble_core.models.loading import load_stacker

    _, labels, preds = files
    fitted = load_stacker(stacker)
    sio.dump({"estimator": fitted.estimator, "classes": list(fitted.classes), "names": list(fitted.names),
              "meta": fitted.meta}, tmp_path / "old.skops")
    status, out, err = _apply(capsys, str(tmp_path / "old.skops"), labels, preds, tmp_path / "o.csv")
    assert status == 0
    assert err == (f"ensemble-explorer: warning: {tmp_path / 'old.skops'} was saved before fingerprints of its "
                   "training rows were kept; cannot tell whether these are its training rows (where its accuracy "
                   "would be in-sample, not evidence)\n")


def test_a_stacker_saved_with_config_temperatures_applies_them(capsys, files, tmp_path):
    """It was fitted on scaled probabilities: applied to raw ones it predicted from other inputs."""
    from ensemble_core.calibration import apply_temperatures
    from ensemble_core.io import load_prediction_set
    from ensemble_core.models.loading import load_stacker

    _, labels, preds = files
    temperatures = {"lr": 0.2, "rf": 5.0, "nb": 3.0, "knn": 1.5}
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"strategy": "stacking", "models": ["lr", "rf", "nb", "knn"], "weights": None,
                                  "meta": "logistic", "folds": 5, "seed": 0, "temperatures": temperatures}))
    meta = tmp_path / "meta.skops"
    assert main(["evaluate", "--labels", labels, "--predictions", *preds, "--config", str(config),
                 "--save-meta", str(meta)]) == 0
    capsys.readouterr()
    stacker = load_stacker(meta)
    assert stacker.temperatures == (0.2, 5.0, 3.0, 1.5)
    status, out, err = _apply(capsys, str(meta), labels, preds, tmp_path / "o.csv")
    assert status == 0 and "these are the rows the stacker was fitted on (all 72 match)" in err
    pset = load_prediction_set(labels, preds)
    expected = stacker.predict_proba(apply_temperatures(pset.probas, np.array([0.2, 5.0, 3.0, 1.5])))
    written = pd.read_csv(tmp_path / "o.csv").set_index("id").loc[pset.ids.astype(int)]
    np.testing.assert_allclose(written[list(stacker.classes)].to_numpy(), expected, atol=1e-6)


def test_a_repeated_column_name_exits_2_with_one_line(capsys, tmp_path):
    """Before: exit 0 and accuracy 0.0, the second 'a' read as class 'a.1'."""
    (tmp_path / "l.csv").write_text("id,label\n1,a\n2,a.1\n")
    (tmp_path / "p.csv").write_text("id,a,a\n1,1,0\n2,0,1\n")
    assert main(["evaluate", "--labels", str(tmp_path / "l.csv"), "--predictions", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert err.endswith("p.csv: column 'a' appears more than once; give each column its own name\n")
    assert err.count("\n") == 1


def test_huge_equal_weights_are_equal_weights(capsys, files):
    """1e308 twice overflowed the sum: a NumPy warning with its source line, then an error."""
    _, labels, preds = files
    report = _run_json(capsys, ["evaluate", "--labels", labels, "--predictions", *preds, "--weights", "1e308,1e308,1e308,1e308", "--json"])
    assert report["weights"] == [0.25] * 4
    assert capsys.readouterr().err == ""


def test_warnings_never_reach_stderr_with_their_source_line(capsys, files, monkeypatch):
    import warnings

    from ensemble_core import cli
    from ensemble_core._validation import EnsembleInputError

    _, labels, preds = files
    argv = ["evaluate", "--labels", labels, "--predictions", *preds]

    def warns_then_succeeds(args):
        warnings.warn("first line\nsecond line", RuntimeWarning)
        warnings.warn("first line\nsecond line", RuntimeWarning)
        return 0

    def warns_then_fails(args):
        warnings.warn("overflow encountered in reduce", RuntimeWarning)
        raise EnsembleInputError("the one line")

    monkeypatch.setattr(cli, "_evaluate", warns_then_succeeds)
    assert main(argv) == 0
    assert capsys.readouterr().err == "ensemble-explorer: warning: first line (RuntimeWarning)\n"
    monkeypatch.setattr(cli, "_evaluate", warns_then_fails)
    assert main(argv) == 2
    assert capsys.readouterr().err == "ensemble-explorer: error: the one line\n"


def test_a_line_break_in_a_label_does_not_break_the_error_line(capsys, tmp_path):
    (tmp_path / "l.csv").write_text('label\n"x\ny"\nb\n')
    (tmp_path / "p.csv").write_text("a,b\n0,1\n1,0\n")
    assert main(["evaluate", "--labels", str(tmp_path / "l.csv"), "--predictions", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "classes are b, x\\ny" in err


@pytest.mark.parametrize("case", ["inf-label-in-parquet", "probability-1e308"])
def test_no_numpy_warning_before_the_error_line_in_a_real_process(tmp_path, case):
    """Warnings print their source line to the process's stderr: only a real process shows it."""
    if case == "inf-label-in-parquet":
        pd.DataFrame({"label": [0.0, 1.0, np.inf]}).to_parquet(tmp_path / "labels.parquet")
        labels, pred, match = tmp_path / "labels.parquet", "0,1\n1,0\n0,1\n1,0\n", "row 3: inf is not a class label"
    else:
        (tmp_path / "labels.csv").write_text("label\na\nb\n")
        labels, pred, match = tmp_path / "labels.csv", "a,b\n1e308,1e308\n0.5,0.5\n", "row 1: probability is greater than 1"
    (tmp_path / "p.csv").write_text(pred)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "ensemble_core.cli", "evaluate", "--labels", str(labels), "--predictions", str(tmp_path / "p.csv")],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("ensemble-explorer: error: ") and proc.stderr.count("\n") == 1
    assert match in proc.stderr


def test_named_weights_equal_positional_weights(capsys, files):
    _, labels, preds = files
    base = ["evaluate", "--labels", labels, "--predictions", *preds, "--json"]
    positional = _run_json(capsys, [*base, "--weights", "1,2,0,1"])
    named = _run_json(capsys, [*base, "--weights", "rf=2,knn=1,lr=1,nb=0"])
    assert named == positional
    assert named["weights"] == pytest.approx([0.25, 0.5, 0.0, 0.25])


BAD_NAMED_WEIGHTS = [
    ("unknown-name", "rf=2,knn=1,lr=1,nb=0,svm=1", "--weights: 'svm' is not one of the models (lr, rf, nb, knn)"),
    ("missing-name", "rf=2,lr=1,nb=0", "--weights: no weight for model 'knn'; give one for every model"),
    ("name-twice", "rf=2,rf=1", "names model 'rf' twice"),
    ("mixed", "1,rf=2", "or name=number pairs like forest=3,knn=1; got '1,rf=2'"),
]


@pytest.mark.parametrize("weights, match", [b[1:] for b in BAD_NAMED_WEIGHTS], ids=[b[0] for b in BAD_NAMED_WEIGHTS])
def test_bad_named_weights_exit_2_with_one_line(capsys, files, weights, match):
    _, labels, preds = files
    assert main(["evaluate", "--labels", labels, "--predictions", *preds, f"--weights={weights}"]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1


def _config(tmp_path, config, name="config.json"):
    (tmp_path / name).write_text(json.dumps(config))
    return str(tmp_path / name)


def test_the_pages_exported_config_sets_the_view(capsys, files, tmp_path):
    from ensemble_core.explore import ensemble_config

    _, labels, preds = files
    config = ensemble_config("geometric", ["knn", "lr", "rf"], {"lr": 1.0, "rf": 3.0, "knn": 0.5}, excluded=["nb"])
    from_config = _run_json(capsys, ["evaluate", "--labels", labels, "--predictions", *preds, "--config", _config(tmp_path, config), "--json"])
    kept = [p for p in preds if not p.endswith("nb.csv")]
    by_hand = _run_json(capsys, ["evaluate", "--labels", labels, "--predictions", *kept, "--strategy", "geometric", "--weights", "1,3,0.5", "--json"])
    assert from_config == by_hand
    assert from_config["names"] == ["lr", "rf", "knn"] and from_config["strategy"] == "geometric"


def test_a_stacking_config_sets_meta_folds_and_seed(capsys, files, tmp_path):
    from ensemble_core.explore import ensemble_config

    _, labels, preds = files
    path = _config(tmp_path, ensemble_config("stacking", ["lr", "rf", "nb", "knn"], {}, meta="gbm", folds=3, seed=4))
    from_config = _run_json(capsys, ["evaluate", "--labels", labels, "--predictions", *preds, "--config", path, "--json"])
    by_hand = _run_json(capsys, ["evaluate", "--labels", labels, "--predictions", *preds, "--strategy", "stacking",
                                 "--meta", "gbm", "--folds", "3", "--seed", "4", "--json"])
    assert from_config == by_hand
    assert main(["evaluate", "--labels", labels, "--predictions", *preds, "--config", path, "--seed", "1"]) == 2
    assert capsys.readouterr().err.endswith(f"--seed and --config {path} both set it; give it in one place\n")


def test_config_temperatures_scale_the_members(capsys, files, tmp_path):
    from ensemble_core.calibration import apply_temperatures
    from ensemble_core.cli import evaluation_report
    from ensemble_core.ensemble import EnsembleEvaluator

    _, labels, preds = files
    temperatures = {"lr": 2.0, "rf": 0.5, "nb": 3.0, "knn": 1.0}
    config = {"strategy": "soft", "models": ["lr", "rf", "nb", "knn"], "weights": dict.fromkeys(temperatures, 1.0),
              "temperatures": temperatures}
    report = _run_json(capsys, ["evaluate", "--labels", labels, "--predictions", *preds, "--config", _config(tmp_path, config), "--json"])
    pset = load_prediction_set(labels, preds)
    scaled = type(pset)(apply_temperatures(pset.probas, list(temperatures.values())), pset.y_true, pset.classes, pset.names)
    ev = EnsembleEvaluator(scaled)
    expected = evaluation_report(scaled, ev.evaluate("soft"), ev)
    assert report["log_loss"] == pytest.approx(expected["log_loss"], rel=1e-6)
    assert any("temperature-scaled with the config's temperatures" in n for n in report["notes"])



def test_temperature_scale_scales_each_row_with_temperatures_fitted_without_it(capsys, files, tmp_path):
    from ensemble_core.calibration import cross_fit_temperatures
    from ensemble_core.cli import evaluation_report
    from ensemble_core.ensemble import EnsembleEvaluator

    _, labels, preds = files
    report = _run_json(capsys, ["evaluate", "--labels", labels, "--predictions", *preds, "--temperature-scale",
                                "--folds", "3", "--seed", "2", "--json"])
    pset = load_prediction_set(labels, preds)
    cal = cross_fit_temperatures(pset.probas, pset.y_true, folds=3, seed=2)
    scaled = type(pset)(cal.probas, pset.y_true, pset.classes, pset.names)
    ev = EnsembleEvaluator(scaled)
    expected = evaluation_report(scaled, ev.evaluate("soft"), ev, seed=2)
    assert report["log_loss"] == pytest.approx(expected["log_loss"], rel=1e-6)
    assert report["models"]["rf"]["ece"] == pytest.approx(expected["models"]["rf"]["ece"], rel=1e-6)
    assert report["notes"][-1].startswith("members temperature-scaled, cross-fitted (3 folds, seed 2)")
    config = {"strategy": "soft", "models": ["lr", "rf", "nb", "knn"], "weights": dict.fromkeys(pset.names, 1.0),
              "temperatures": dict.fromkeys(pset.names, 2.0)}
    path = _config(tmp_path, config)
    assert main(["evaluate", "--labels", labels, "--predictions", *preds, "--config", path, "--temperature-scale"]) == 2
    assert "--temperature-scale and --config" in capsys.readouterr().err


BAD_CONFIGS = [
    ("not-json", "{strategy: soft", r"config\.json: not valid JSON"),
    ("bad-strategy", {"strategy": "median", "models": ["lr"], "weights": {"lr": 1}}, r"'strategy' must be one of hard, soft, geometric, stacking; got 'median'"),
    ("model-without-file", {"strategy": "soft", "models": ["lr", "svm"], "weights": {"lr": 1, "svm": 1}}, r"config\.json: no prediction file for model 'svm'"),
    ("file-not-in-config", {"strategy": "soft", "models": ["lr", "rf"], "weights": {"lr": 1, "rf": 1}}, r"config\.json: model 'nb' is neither in its 'models' nor in 'excluded'"),
    ("weight-missing", {"strategy": "soft", "models": ["lr", "rf", "nb", "knn"], "weights": {"lr": 1}}, r"'weights' has no weight for model 'rf'"),
    ("negative-weight", {"strategy": "soft", "models": ["lr", "rf", "nb", "knn"], "weights": {"lr": -1, "rf": 1, "nb": 1, "knn": 1}}, r"'weights': 'lr' must be a number >= 0; got -1"),
    ("zero-temperature", {"strategy": "soft", "models": ["lr", "rf", "nb", "knn"], "weights": {"lr": 1, "rf": 1, "nb": 1, "knn": 1}, "temperatures": {"lr": 0, "rf": 1, "nb": 1, "knn": 1}}, r"'temperatures': 'lr' must be a positive number; got 0"),
    ("a-list", [1, 2], r"expected a JSON object; got list"),
]


@pytest.mark.parametrize("config, match", [b[1:] for b in BAD_CONFIGS], ids=[b[0] for b in BAD_CONFIGS])
def test_bad_configs_exit_2_with_one_line(capsys, files, tmp_path, config, match):
    _, labels, preds = files
    if isinstance(config, str):
        (tmp_path / "config.json").write_text(config)
        path = str(tmp_path / "config.json")
    else:
        path = _config(tmp_path, config)
    assert main(["evaluate", "--labels", labels, "--predictions", *preds, "--config", path]) == 2
    err = capsys.readouterr().err
    assert re.search(match, err) and err.count("\n") == 1


def test_explain_adds_what_the_meta_learner_learned_and_changes_no_other_number(capsys, files):
    from ensemble_core.stacking_insight import explain_stacking

    _, labels, preds = files
    argv = ["evaluate", "--labels", labels, "--predictions", *preds, "--strategy", "stacking", "--folds", "3"]
    plain = _run_json(capsys, [*argv, "--json"])
    explained = _run_json(capsys, [*argv, "--json", "--explain"])
    learned = explained.pop("meta_learner")
    assert explained == plain
    pset = load_prediction_set(labels, preds)
    expected = explain_stacking(pset.probas, pset.y_true, pset.classes, pset.names, folds=3).to_dict()
    assert learned == json.loads(json.dumps(expected))
    assert learned["accuracy"] == pytest.approx(plain["accuracy"])
    assert main(argv) == 0
    table = capsys.readouterr().out
    assert main([*argv, "--explain"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(table)  # the numbers printed before stay as they were
    assert "what the logistic meta-learner learned (3-fold cross-fitted" in text
    assert text.splitlines()[-1].split()[0] == "knn" and "barbera" in text.splitlines()[-5]


def test_several_bad_prediction_files_give_one_error_line_each(capsys, files, tmp_path):
    _, labels, preds = files
    (tmp_path / "sums.csv").write_text("id,barbera,barolo,grignolino\n100,0.5,0.5,0.5\n")
    (tmp_path / "bird.csv").write_text("id,barbera,bird\n100,0.5,0.5\n")
    assert main(["evaluate", "--labels", labels, "--predictions", preds[0], str(tmp_path / "sums.csv"),
                 str(tmp_path / "bird.csv")]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and all(line.startswith("ensemble-explorer: error: ") for line in lines)
    assert "sums.csv" in lines[0] and "probabilities sum to 1.5" in lines[0]
    assert "bird.csv" in lines[1] and "'bird'" in lines[1]
