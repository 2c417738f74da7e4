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
