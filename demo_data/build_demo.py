"""Build the bundled demos: split datasets, trained models and their prediction files.

Usage (from the repository root)::

    .venv/bin/python demo_data/build_demo.py [--only digits|sentiment] [--out DIR]

Writes, for each demo NAME under ``DIR/NAME/`` (``DIR`` defaults to this folder):

- ``train.csv``, ``val.csv``, ``test.csv``: labels files (``id``, ``label``, then the
  content: ``text`` for sentiment, ``pixel_0`` … ``pixel_63`` for digits);
- ``models/``: the trained models (skops pipelines, an ONNX export, transformers
  directories) exactly as a user would bring them;
- ``predictions/val/<model>.csv`` and ``predictions/test/<model>.csv``: each model's
  class probabilities (columns named by class) with ``id``, computed in this script.

Everything is seeded: the splits, scikit-learn's ``random_state``, NumPy and torch.
Rebuilding gives the same files on the same platform (the digits demo is checked by a
slow test, ``tests/test_demo.py``; the sentiment demo takes several minutes — MiniLM
embeds the whole corpus on the CPU and a small BERT is trained — so it is not rebuilt
in the test suite). The script prints its progress and a table of each model's
validation and test accuracy.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# Run as a plain script (``python demo_data/build_demo.py``), Python puts demo_data/ on
# the path, not the repository root: add the root so this checkout's ensemble_core is used.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ensemble_core.io import write_predictions  # noqa: E402

SEED = 0
#: Train / validation / test shares, stratified by label.
SPLIT = (0.55, 0.15, 0.30)
SPLITS = ("train", "val", "test")


def log(message: str) -> None:
    print(message, flush=True)


@dataclass(frozen=True)
class ModelScore:
    """One model's accuracy on the validation and test splits."""

    name: str
    val_accuracy: float
    test_accuracy: float


def stratified_split(labels: np.ndarray, seed: int = SEED) -> dict[str, np.ndarray]:
    """Row indices of a stratified train/val/test split with the ``SPLIT`` shares.

    Parameters
    ----------
    labels : ndarray of shape (n_samples,)

    Returns
    -------
    dict split name -> sorted ndarray of row indices
    """
    from sklearn.model_selection import train_test_split

    index = np.arange(len(labels))
    train, rest = train_test_split(
        index, train_size=SPLIT[0], stratify=labels, random_state=seed
    )
    val, test = train_test_split(
        rest,
        test_size=SPLIT[2] / (SPLIT[1] + SPLIT[2]),
        stratify=labels[rest],
        random_state=seed,
    )
    return {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}


def write_split_files(folder: Path, frame: pd.DataFrame, parts: dict[str, np.ndarray]) -> None:
    """Write ``train.csv``, ``val.csv``, ``test.csv`` (columns ``id``, ``label``, content)."""
    folder.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        frame.iloc[parts[split]].to_csv(folder / f"{split}.csv", index=False)


def write_model_predictions(
    folder: Path,
    name: str,
    classes: np.ndarray,
    probas: dict[str, np.ndarray],
    ids: dict[str, np.ndarray],
    y_true: dict[str, np.ndarray],
) -> ModelScore:
    """Write one model's val/test prediction files and return its accuracies.

    Parameters
    ----------
    probas : split -> ndarray of shape (n_split, n_classes), columns in ``classes`` order
    y_true : split -> ndarray of shape (n_split,), class labels
    """
    acc = {}
    for split in ("val", "test"):
        write_predictions(
            folder / "predictions" / split / f"{name}.csv", classes, probas=probas[split], ids=ids[split]
        )
        acc[split] = float(np.mean(classes[probas[split].argmax(axis=1)] == y_true[split]))
    return ModelScore(name, acc["val"], acc["test"])


def save_skops(model: object, path: Path) -> None:
    """Save a fitted scikit-learn object with skops, deflated (trees and arrays shrink ~5×)."""
    import zipfile

    import skops.io as sio

    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(model, path, compression=zipfile.ZIP_DEFLATED, compresslevel=9)


def print_table(title: str, scores: list[ModelScore]) -> None:
    log(f"\n{title}")
    width = max(len(s.name) for s in scores)
    log(f"  {'model':<{width}}  val acc  test acc")
    for s in scores:
        log(f"  {s.name:<{width}}  {s.val_accuracy:7.4f}  {s.test_accuracy:8.4f}")


# --------------------------------------------------------------------------- digits


def digits_models() -> dict[str, object]:
    """The five digits classifiers, each a scikit-learn pipeline (unfitted)."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return {
        "logreg": make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000)),
        "knn": make_pipeline(KNeighborsClassifier(n_neighbors=5)),
        "forest": make_pipeline(
            RandomForestClassifier(n_estimators=60, min_samples_leaf=2, random_state=SEED)
        ),
        "naive_bayes": make_pipeline(GaussianNB()),
        "mlp": make_pipeline(
            StandardScaler(),
            MLPClassifier(hidden_layer_sizes=(64,), alpha=1e-3, max_iter=600, random_state=SEED),
        ),
    }


def export_logreg_onnx(model, n_features: int, path: Path, X_check: pd.DataFrame) -> None:
    """Export the logistic-regression pipeline to ONNX and check it against scikit-learn.

    The graph takes one float32 input ``pixels`` of shape (n, 64) and gives
    ``label`` and ``probabilities`` (a plain tensor: ZipMap is switched off).
    """
    import onnxruntime as ort
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    onx = convert_sklearn(
        model,
        initial_types=[("pixels", FloatTensorType([None, n_features]))],
        options={id(model[-1]): {"zipmap": False}},
        target_opset=17,
    )
    path.write_bytes(onx.SerializeToString())
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (onnx_probas,) = session.run(["probabilities"], {"pixels": X_check.to_numpy(np.float32)})
    gap = float(np.abs(onnx_probas - model.predict_proba(X_check)).max())
    if gap > 1e-4:
        raise RuntimeError(f"the ONNX export differs from scikit-learn by {gap:.3g}")


def build_digits(out: Path) -> list[ModelScore]:
    """scikit-learn's 8×8 digits: five classic classifiers as skops pipelines (+ ONNX)."""
    from sklearn.datasets import load_digits

    folder = out / "digits"
    digits = load_digits()
    pixel_columns = [f"pixel_{i}" for i in range(digits.data.shape[1])]
    # The pixels are counts 0..16: written as integers, read back as the same values.
    X = pd.DataFrame(digits.data.astype(np.int64), columns=pixel_columns)
    y = digits.target.astype(np.int64)
    frame = pd.concat(
        [pd.DataFrame({"id": [f"digit{i:04d}" for i in range(len(y))], "label": y}), X], axis=1
    )
    parts = stratified_split(y)
    write_split_files(folder, frame, parts)
    log(f"digits: {', '.join(f'{s} {len(parts[s])}' for s in SPLITS)} images")

    data = {s: X.iloc[parts[s]].astype(np.float64) for s in SPLITS}
    ids = {s: frame["id"].to_numpy()[parts[s]] for s in SPLITS}
    y_true = {s: y[parts[s]] for s in SPLITS}
    classes = np.unique(y)
    (folder / "models").mkdir(exist_ok=True)
    scores = []
    for name, model in digits_models().items():
        t0 = time.perf_counter()
        model.fit(data["train"], y_true["train"])
        save_skops(model, folder / "models" / f"{name}.skops")
        probas = {s: model.predict_proba(data[s]) for s in ("val", "test")}
        scores.append(write_model_predictions(folder, name, classes, probas, ids, y_true))
        log(f"  {name}: fitted and saved in {time.perf_counter() - t0:.1f} s")
        if name == "logreg":
            export_logreg_onnx(model, len(pixel_columns), folder / "models" / "logreg.onnx", data["test"])
            log("  logreg: exported to ONNX (matches scikit-learn)")
    return scores


# --------------------------------------------------------------------------- main

BUILDERS: dict[str, Callable[[Path], list[ModelScore]]] = {
    "digits": build_digits,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(BUILDERS), help="build only this demo")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="folder to write the demos into (default: demo_data/ beside this script)",
    )
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    names = [args.only] if args.only else list(BUILDERS)
    # One BLAS/OpenMP thread: the fitted numbers then do not depend on the machine's cores.
    with threadpool_limits(limits=1):
        for name in names:
            t0 = time.perf_counter()
            scores = BUILDERS[name](args.out)
            elapsed = time.perf_counter() - t0
            print_table(f"{name} (built in {elapsed:.0f} s)", scores)


if __name__ == "__main__":
    main()
