"""The bundled demos: their committed files load, and the digits build is reproducible.

These tests read the committed artifacts under demo_data/; only the slow test
rebuilds (the digits demo, into a temporary folder).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ensemble_core import EnsembleInputError
from ensemble_core.demo import DEMO_ROOT, DEMOS, load_demo

DIGITS_MODELS = ("forest", "knn", "logreg", "mlp", "naive_bayes")


@pytest.fixture(scope="module")
def digits():
    return load_demo("digits")


def test_digits_demo_has_ten_classes_and_five_models(digits):
    assert digits.n_classes == 10
    assert list(digits.classes) == list(range(10))
    assert digits.names == DIGITS_MODELS
    assert digits.content.shape[1] == 64  # pixel_0 .. pixel_63, shown as an 8×8 image
    assert DEMOS["digits"].image_shape == (8, 8)


@pytest.mark.parametrize("split", ["val", "test"])
def test_digits_splits_are_disjoint_and_aligned(split):
    demo = DEMOS["digits"]
    ids = {s: set(pd.read_csv(demo.folder / f"{s}.csv")["id"]) for s in ("train", "val", "test")}
    assert not (ids["train"] & ids["val"]) and not (ids["train"] & ids["test"])
    assert not (ids["val"] & ids["test"])
    assert sum(map(len, ids.values())) == 1797  # all of load_digits
    pset = load_demo("digits", split)
    assert set(pset.ids) == ids[split]


def test_digits_models_are_saved_for_each_prediction_file():
    models = DEMOS["digits"].models_folder
    assert sorted(p.stem for p in models.glob("*.skops")) == list(DIGITS_MODELS)
    assert (models / "logreg.onnx").is_file()


def test_load_demo_refuses_an_unknown_demo_or_split():
    with pytest.raises(EnsembleInputError, match="unknown demo 'cats'; expected one of sentiment, digits"):
        load_demo("cats")
    with pytest.raises(EnsembleInputError, match="unknown split 'train'; expected one of val, test"):
        load_demo("digits", "train")


@pytest.mark.slow
def test_digits_build_is_reproducible(tmp_path: Path):
    """Rebuilding the digits demo gives byte-identical splits and prediction files."""
    script = DEMO_ROOT / "build_demo.py"
    subprocess.run(
        [sys.executable, str(script), "--only", "digits", "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    committed = DEMOS["digits"].folder
    rebuilt = tmp_path / "digits"
    files = sorted(p.relative_to(committed) for p in committed.rglob("*.csv"))
    assert len(files) == 3 + 2 * len(DIGITS_MODELS)
    assert sorted(p.relative_to(rebuilt) for p in rebuilt.rglob("*.csv")) == files
    for rel in files:
        assert (rebuilt / rel).read_bytes() == (committed / rel).read_bytes(), rel
    assert sorted(p.name for p in (rebuilt / "models").iterdir()) == sorted(
        p.name for p in (committed / "models").iterdir()
    )
