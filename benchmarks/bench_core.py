"""Re-weighting speed and memory of ensemble_core, against a memory floor and scikit-learn.

For n examples × 10 models × 10 classes, times (median of repeats):
- floor: ``probas.sum()`` — one read of the probability array;
- ``EnsembleEvaluator.evaluate`` after a weight change (new random weights each repeat),
  for soft, hard and geometric voting, including all the ensemble's metrics;
- the scikit-learn way: ``VotingClassifier`` over frozen models re-predicting, then
  accuracy, macro-F1, log loss, Brier and the confusion matrix from ``sklearn.metrics``;
- 5-fold logistic-regression stacking at 100k;
- peak memory at 1M (tracemalloc) of building the evaluator and re-weighting, as a
  multiple of the probability array.

The floor and the three strategies run in alternation (floor, soft, hard, geometric,
floor, …), so load from other work falls on all of them alike; each is reported as the
median with the spread (min–max) of the repeats. ``--busy`` runs a CPU-bound neighbour
process on every core during the measurement.

Run: ``python benchmarks/bench_core.py [--sizes 10000 100000 1000000] [--busy]``.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from sklearn import metrics as skm
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import VotingClassifier
from sklearn.frozen import FrozenEstimator

from _timing import alternate, busy, conditions, timed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's code, not an installed copy

from ensemble_core import EnsembleEvaluator, PredictionSet, cross_fit_stacking  # noqa: E402

N_MODELS, N_CLASSES = 10, 10


class _Replay(ClassifierMixin, BaseEstimator):
    """A 'fitted model' whose predict_proba replays stored probabilities for row indices X."""

    def __init__(self, probas=None):
        self.probas = probas

    def fit(self, X, y):
        self.classes_ = np.arange(N_CLASSES)
        return self

    def predict_proba(self, X):
        # float64 rows that sum to 1 in float64, as a fitted scikit-learn model returns
        # (sklearn.metrics warns about float32-normalised rows)
        p = self.probas[np.asarray(X)[:, 0]].astype(np.float64)
        p /= p.sum(axis=1, keepdims=True)
        return p

    def predict(self, X):
        return self.predict_proba(X).argmax(axis=1)


def make_problem(n: int, seed: int = 0) -> PredictionSet:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, N_CLASSES, size=n)
    logits = rng.standard_normal((N_MODELS, n, N_CLASSES), dtype=np.float32)
    logits[:, np.arange(n), y] += rng.uniform(0.5, 2.0, size=(N_MODELS, 1)).astype(np.float32)
    logits -= logits.max(axis=2, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=2, keepdims=True)
    return PredictionSet(logits, y, np.arange(N_CLASSES), tuple(f"m{i}" for i in range(N_MODELS)))


def bench_size(n: int, rng: np.random.Generator, sklearn_repeats: int) -> dict:
    pset = make_problem(n)
    ev = EnsembleEvaluator(pset)
    repeats = 20 if n <= 100_000 else 7
    for strategy in ("soft", "hard", "geometric"):
        ev.evaluate(strategy, rng.uniform(size=N_MODELS))  # warm (geometric: its one-off logs)
    row = {"n": n, **alternate({
        "floor": lambda: pset.probas.sum(),
        **{s: (lambda s=s: ev.evaluate(s, rng.uniform(size=N_MODELS))) for s in ("soft", "hard", "geometric")},
    }, repeats)}

    X = np.arange(n)[:, None]
    y = pset.y_true
    estimators = [(f"m{i}", FrozenEstimator(_Replay(pset.probas[i]).fit(X, y))) for i in range(N_MODELS)]

    def sklearn_way():
        vc = VotingClassifier(estimators, voting="soft", weights=rng.uniform(size=N_MODELS)).fit(X, y)
        proba = vc.predict_proba(X)
        pred = proba.argmax(axis=1)
        skm.accuracy_score(y, pred)
        skm.f1_score(y, pred, average="macro")
        skm.log_loss(y, proba, labels=np.arange(N_CLASSES))
        skm.brier_score_loss(y, proba, labels=np.arange(N_CLASSES))
        skm.confusion_matrix(y, pred)

    row["sklearn"] = timed(sklearn_way, sklearn_repeats)
    return row


def peak_memory(n: int) -> tuple[float, float]:
    """Peak traced memory while building the evaluator and re-weighting, over the array size."""
    pset = make_problem(n)
    array_bytes = pset.probas.nbytes
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    ev = EnsembleEvaluator(pset)
    for strategy in ("soft", "hard"):
        ev.evaluate(strategy, np.random.default_rng(1).uniform(size=N_MODELS))
    _, peak_soft_hard = tracemalloc.get_traced_memory()
    ev.evaluate("geometric", np.ones(N_MODELS))
    _, peak_geo = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # The probability array itself (allocated before tracing began) plus what was added.
    return (array_bytes + peak_soft_hard - base) / array_bytes, (array_bytes + peak_geo - base) / array_bytes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--busy", action="store_true", help="a CPU-bound neighbour on every core while timing")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}, "
          f"numpy {np.__version__}")
    print(f"{N_MODELS} models, {N_CLASSES} classes; times in ms, median (min–max); ratios are of medians, to the "
          "floor (probas.sum()) measured in the same rounds\n")
    print("| n | floor: sum (ms) | soft (ms) | soft / floor | hard / floor | geometric / floor | "
          "sklearn way (ms) | sklearn / soft | conditions |")
    print("|---|---|---|---|---|---|---|---|---|")
    with busy(args.busy):
        for n in args.sizes:
            r = bench_size(n, rng, sklearn_repeats=5 if n <= 100_000 else 3)
            floor = r["floor"].median
            digits = 3 if floor < 1e-3 else 2
            print(
                f"| {n:,} | {r['floor'].describe(1e3, digits)} | {r['soft'].describe(1e3, digits)} | "
                f"{r['soft'].median / floor:.2f}× | {r['hard'].median / floor:.2f}× | "
                f"{r['geometric'].median / floor:.2f}× | {r['sklearn'] * 1e3:.0f} | "
                f"{r['sklearn'] / r['soft'].median:.0f}× | {conditions(args.busy)} |", flush=True
            )
        pset = make_problem(100_000)
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            cross_fit_stacking(pset.probas, pset.y_true, pset.classes, meta="logistic", folds=5, seed=0)
            times.append(time.perf_counter() - t0)
        print(f"\nstacking, 5-fold logistic regression, 100,000 examples: median {sorted(times)[1]:.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in times)}); {conditions(args.busy)}")
    big = max(args.sizes)
    soft_hard, geo = peak_memory(big)
    print(f"peak memory at {big:,} (array + evaluator + re-weighting), as a multiple of the probability "
          f"array: soft/hard {soft_hard:.2f}×, after geometric {geo:.2f}×")


if __name__ == "__main__":
    main()
