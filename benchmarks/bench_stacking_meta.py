"""Stacking's meta-learners on small data: 5-fold cross-fitted stacking, wall-clock and CPU seconds.

Issue 12 measured 17 s for the gradient-boosting meta-learner on 1,600 rows. A histogram
gradient-boosting classifier grows one tree per class per round, and on a few hundred rows a
tree costs about a millisecond of fixed (mostly Python) work whatever its size: 100 rounds of
31-leaf trees over 10 classes are 1,000 trees per fold, 5,000 per cross-fit. The table times
the meta-learner as it was (``gbm before``: 100 rounds, 31 leaves, 255 bins) against the one
now registered (``gbm``) and logistic regression (the baseline, in the same rounds), and gives
each one's out-of-fold accuracy and log loss, so that the speed is not bought with worse stacking.

Data: the digits demo (540 rows × 5 models × 10 classes), 1,600 synthetic rows × 5 models ×
10 classes (each model's logits standard normal plus a skill of 0.5–2 on the true class), and
the sentiment demo (3,827 rows × 5 models × 2 classes).

Run: ``python benchmarks/bench_stacking_meta.py [--busy] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from _timing import busy, conditions

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's code

from ensemble_core import PredictionSet  # noqa: E402
from ensemble_core.decision import decide  # noqa: E402
from ensemble_core.demo import load_demo  # noqa: E402
from ensemble_core.metrics import classifier_metrics  # noqa: E402
from ensemble_core.stacking import cross_fit_stacking  # noqa: E402


def synthetic(n: int, n_models: int = 5, n_classes: int = 10, seed: int = 0) -> PredictionSet:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, size=n)
    logits = rng.standard_normal((n_models, n, n_classes))
    logits[:, np.arange(n), y] += rng.uniform(0.5, 2.0, size=(n_models, 1))
    p = np.exp(logits - logits.max(axis=2, keepdims=True))
    p /= p.sum(axis=2, keepdims=True)
    return PredictionSet(p.astype(np.float32), y, np.arange(n_classes), tuple(f"m{i}" for i in range(n_models)))


def candidates() -> dict[str, object]:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return {"logistic": "logistic", "gbm before": HistGradientBoostingClassifier(max_iter=100, random_state=0),
            "gbm": "gbm"}


def bench(pset: PredictionSet, repeats: int) -> dict[str, tuple[list[float], list[float], float, float]]:
    """Per candidate: wall seconds, CPU seconds (this process, every thread), accuracy, log loss;
    the candidates alternate (A B C A B C …)."""
    metas = candidates()
    wall = {name: [] for name in metas}
    cpu = {name: [] for name in metas}
    quality = {}
    for _ in range(repeats):
        for name, meta in metas.items():
            t0, c0 = time.perf_counter(), time.process_time()
            oof = cross_fit_stacking(pset.probas, pset.y_true, pset.classes, meta=meta)
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
            m = classifier_metrics(pset.y_true, decide(oof), oof)
            quality[name] = (m.accuracy, m.log_loss)
    return {name: (wall[name], cpu[name], *quality[name]) for name in metas}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--busy", action="store_true", help="a CPU-bound neighbour on every core while timing")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sets = {"digits (540 × 5 × 10)": load_demo("digits"), "synthetic (1,600 × 5 × 10)": synthetic(1600),
            "sentiment (3,827 × 5 × 2)": load_demo("sentiment")}
    print("| data | meta-learner | wall s, median (min–max) | CPU s, median | CPU / logistic | OOF accuracy "
          "| OOF log loss | conditions |")
    print("|---|---|---|---|---|---|---|---|")
    with busy(args.busy):
        for label, pset in sets.items():
            rows = bench(pset, args.repeats)
            base = statistics.median(rows["logistic"][1])
            for name, (wall, cpu, acc, ll) in rows.items():
                print(f"| {label} | {name} | {statistics.median(wall):.2f} ({min(wall):.2f}–{max(wall):.2f}) "
                      f"| {statistics.median(cpu):.2f} | {statistics.median(cpu) / base:.0f}× | {acc:.4f} "
                      f"| {ll:.4f} | {conditions(args.busy)} |", flush=True)


if __name__ == "__main__":
    main()
