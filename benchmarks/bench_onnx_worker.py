"""What running ONNX models in a worker process costs: loading and scoring, in process vs worker.

For the digits demo's ONNX logistic regression (``demo_data/digits/models/logreg.onnx``):
- in process: ``onnxruntime.InferenceSession`` on the model's bytes in this process and
  one ``run`` per batch, as ``load_onnx`` did before models ran in a worker (the
  baseline: 1.00);
- in process, no spinning: the same with ``session.intra_op.allow_spinning`` off, as the
  worker has it: the difference to the worker is the process boundary alone;
- worker: ``load_model`` as it is now (a worker process under limits, one request per batch).

Each is timed on loading, on ``score_model`` over the demo's test split (540 rows) and
over 100,000 synthetic rows (batches of 2,048), median of several runs, in the same process.

Run: ``python benchmarks/bench_onnx_worker.py [--repeats 7]``.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
# Measure this checkout's code, not whichever copy is installed.
sys.path.insert(0, str(ROOT))

from _timing import timed  # noqa: E402

from ensemble_core.io import LabelsFile  # noqa: E402
from ensemble_core.models import LoadedModel, load_model, score_model  # noqa: E402
from ensemble_core.models.base import thread_count  # noqa: E402

MODEL = ROOT / "demo_data" / "digits" / "models" / "logreg.onnx"
TEST = ROOT / "demo_data" / "digits" / "test.csv"


def load_in_process(path: Path, spinning: bool = True) -> LoadedModel:
    """The digits model as ``load_onnx`` loaded it before: a session in this process."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = thread_count()
    options.inter_op_num_threads = 1
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(path.read_bytes(), options, providers=["CPUExecutionProvider"])
    classes = tuple(str(c) for c in range(10))

    def predict(batch) -> np.ndarray:
        (result,) = session.run(["probabilities"], {"pixels": np.ascontiguousarray(batch, dtype=np.float32)})
        return np.asarray(result)

    return LoadedModel(name="logreg", kind="onnx", classes=classes, input="features", feature_names=None,
                       content_hash="", source=str(path), n_features=64, _predict=predict)


def worker_peak_rss_mb(model: LoadedModel) -> float:
    """The worker's peak resident memory (VmHWM), in MB."""
    status = Path(f"/proc/{model._predict._worker.pid}/status").read_text()
    kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    return kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    labels = LabelsFile(TEST)
    features = [c for c in labels.content.columns if c.startswith("pixel_")]
    rng = np.random.default_rng(0)
    synthetic = pd.DataFrame(rng.integers(0, 17, (100_000, len(features))).astype(float), columns=features)
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"{thread_count()} onnxruntime threads; median of {args.repeats} runs")
    loaders = {"in process": load_in_process,
               "no spinning": lambda path: load_in_process(path, spinning=False),
               "worker": load_model}
    rows = {}
    for label, load in loaders.items():
        model = load(MODEL)
        score_model(model, labels.content, classes=labels.classes)  # warm: imports, arenas
        rows[label] = (
            timed(lambda load=load: load(MODEL), args.repeats),
            timed(lambda model=model: score_model(model, labels.content, classes=labels.classes), args.repeats),
            timed(lambda model=model: score_model(model, synthetic, classes=labels.classes), args.repeats),
        )
        if label == "worker":
            print(f"worker peak resident memory after the runs: {worker_peak_rss_mb(model):.0f} MB")
        np.testing.assert_allclose(  # the same numbers either way
            score_model(model, labels.content, classes=labels.classes),
            score_model(load_in_process(MODEL), labels.content, classes=labels.classes), atol=1e-6)
    base = rows["in process"]
    print(f"{'':<12} {'load s':>9} {'ratio':>7} {'540 rows s':>11} {'ratio':>7} {'100k rows s':>12} {'ratio':>7}")
    for label, (load_s, test_s, big_s) in rows.items():
        print(f"{label:<12} {load_s:>9.4f} {load_s / base[0]:>7.1f} {test_s:>11.4f} {test_s / base[1]:>7.2f} "
              f"{big_s:>12.3f} {big_s / base[2]:>7.2f}")


if __name__ == "__main__":
    main()
