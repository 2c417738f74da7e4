"""Compression: pruning's share of zeros, int8 through ONNX, both scorable with the reported accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from ensemble_core._validation import EnsembleInputError
from ensemble_core.cli import main
from ensemble_core.deploy.compress import compress, prune
from ensemble_core.deploy.distill import StudentSettings, distill
from ensemble_core.io import load_prediction_set


@pytest.fixture(scope="module")
def students(feature_splits, text_splits, tmp_path_factory):
    d = tmp_path_factory.mktemp("students")
    for kind, splits, members in (("mlp", feature_splits, ("lr", "nb", "tree")),
                                  ("tfidf-logistic", text_splits, ("lr", "nb"))):
        sets = [load_prediction_set(splits / f"{s}.csv", [splits / s / f"{m}.csv" for m in members])
                for s in ("transfer", "held_out")]
        distill(*sets, settings=StudentSettings(kind=kind, epochs=5), out=d / f"{kind}.skops")
    return d


@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.9])
def test_prune_zeroes_exactly_that_share_of_the_weights(students, sparsity):
    from ensemble_core.models.skops_loader import load_skops

    pipe = load_skops(students / "mlp.skops")
    pruned = prune(pipe, sparsity)
    before, after = pipe[-1], pruned[-1]
    n = sum(m.size for m in before.coefs_)
    zeros = sum(int((m == 0).sum()) for m in after.coefs_)
    assert zeros == round(sparsity * n)
    kept = np.concatenate([m[m != 0] for m in after.coefs_])
    dropped = np.concatenate([b[a == 0] for a, b in zip(after.coefs_, before.coefs_)])
    assert dropped.size == 0 or np.abs(dropped).max() <= np.abs(kept).min()
    for a, b in zip(after.intercepts_, before.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert all((m != 0).all() for m in before.coefs_)  # the original is untouched


@pytest.mark.parametrize("method, out", [("prune", "p.skops"), ("int8", "q.onnx")])
def test_compressed_model_scores_as_reported(students, feature_splits, tmp_path, capsys, method, out):
    report = compress(students / "mlp.skops", method, labels=feature_splits / "held_out.csv", out=tmp_path / out,
                      sparsity=0.0)
    assert report.original.agreement == 1.0 and report.compressed.size_bytes == (tmp_path / out).stat().st_size
    if method == "prune":  # sparsity 0: the same model
        assert report.compressed.accuracy == report.original.accuracy and report.compressed.agreement == 1.0
    else:
        assert report.compressed.agreement > 0.9 and report.compressed.size_bytes < report.original.size_bytes
    status = main(["score", "--model", str(tmp_path / out), "--data", str(feature_splits / "held_out.csv"),
                   "--out", str(tmp_path / "scored.csv"), "--no-cache"])
    assert status == 0 and f"accuracy {report.compressed.accuracy:.4f}" in capsys.readouterr().out


@pytest.mark.parametrize("model, argv, match", [
    ("mlp.skops", ["--method", "prune", "--out", "x.onnx"], "prune writes .skops"),
    ("mlp.skops", ["--method", "int8", "--out", "x.skops"], "int8 writes .onnx"),
    ("mlp.skops", ["--method", "prune", "--sparsity", "1", "--out", "x.skops"], "--sparsity must be in [0, 1)"),
    ("tfidf-logistic.skops", ["--method", "int8", "--out", "x.onnx"], "int8 takes a feature-column student"),
    ("mlp.skops", ["--method", "zip", "--out", "x.skops"], "invalid choice"),
])
def test_bad_input_is_one_line_and_status_2(students, feature_splits, tmp_path, capsys, model, argv, match):
    argv = [a if not a.startswith("x.") else str(tmp_path / a) for a in argv]
    status = main(["compress", "--model", str(students / model), "--labels", str(feature_splits / "held_out.csv"),
                   *argv])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and match in err


def test_compress_takes_only_skops(tmp_path, feature_splits):
    (tmp_path / "m.onnx").write_bytes(b"")
    with pytest.raises(EnsembleInputError, match="compress takes a .skops student"):
        compress(tmp_path / "m.onnx", "prune", labels=feature_splits / "held_out.csv", out=tmp_path / "o.skops")


def test_compare_compressions_gives_compress_s_rows_and_scores_the_original_once(students, feature_splits, tmp_path):
    """Every setting's row equals what compress() reports for it alone (accuracy, agreement; the size is its
    file's: skl2onnx's generated names make ONNX bytes differ by a few between calls)."""
    from ensemble_core.deploy.compress import CompressionSetting, compare_compressions
    from ensemble_core.io import LabelsFile

    model, labels = students / "mlp.skops", feature_splits / "held_out.csv"
    settings = [CompressionSetting("int8"), CompressionSetting("prune", 0.3), CompressionSetting("prune", 0.9)]
    seen = []
    original, rows = compare_compressions(model, settings, labels=LabelsFile(labels), out_dir=tmp_path / "out",
                                          progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert [r.name for r in rows] == ["mlp.int8.onnx", "mlp.prune-30.skops", "mlp.prune-90.skops"]
    for setting, row in zip(settings, rows):
        out = tmp_path / f"alone{'.onnx' if setting.method == 'int8' else '.skops'}"
        alone = compress(model, setting.method, labels=labels, out=out, sparsity=setting.sparsity or 0.5)
        assert (row.accuracy, row.agreement) == (alone.compressed.accuracy, alone.compressed.agreement)
        assert row.size_bytes == (tmp_path / "out" / row.name).stat().st_size
        assert original.accuracy == alone.original.accuracy and original.agreement == 1.0


def test_compare_compressions_stops_between_models(students, feature_splits, tmp_path):
    from ensemble_core.deploy import Stopped
    from ensemble_core.deploy.compress import CompressionSetting, compare_compressions

    with pytest.raises(Stopped) as stopped:
        compare_compressions(students / "mlp.skops", [CompressionSetting("prune", 0.5)] * 2,
                             labels=feature_splits / "held_out.csv", out_dir=tmp_path, should_stop=lambda: True)
    assert (stopped.value.done, stopped.value.total) == (1, 3)
    with pytest.raises(EnsembleInputError, match="choose at least one compression"):
        compare_compressions(students / "mlp.skops", [], labels=feature_splits / "held_out.csv", out_dir=tmp_path)


def test_int8_takes_a_logistic_regression_whose_export_lists_an_opset_twice(tmp_path):
    """Regression: skl2onnx lists the default opset twice for the digits demo's LogisticRegression, and
    onnxruntime's quantiser refused it ("Failed to find proper ai.onnx domain")."""
    from ensemble_core.demo import DEMOS

    digits = DEMOS["digits"]
    report = compress(digits.models_folder / "logreg.skops", "int8", labels=digits.labels_path,
                      out=tmp_path / "logreg.onnx")
    assert report.compressed.agreement > 0.95
    assert report.compressed.size_bytes < report.original.size_bytes
