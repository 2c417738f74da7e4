"""The cost–accuracy frontier at 100,000 examples × 10 models × 10 classes (1,023 subsets).

Synthetic predictions like real ones: each row has a shared difficulty and each model its
own noise (models of about 60–80 % accuracy that mostly agree). Timed, alternating in one
run: the whole frontier (:func:`cost_accuracy_frontier`), and as the baseline one
``EnsembleEvaluator.evaluate("soft")`` pass over all ten models (evaluator built once,
outside the timing); the ratio is frontier / one pass. Also printed: the rows settled once
for every subset and the row-subset pairs recomputed in float32 near the threshold, and the time
to re-price the cached subset accuracies with other costs (what a typed cost costs the page).
``--busy`` runs a CPU-bound neighbour on every core.

``--students``: instead, training a distillation student (logistic, MLP; λ = 0.5, T = 2, 30 epochs of
mini-batches of 128) on 10,000 rows × 64 features × 10 classes, against scikit-learn's
``LogisticRegression().fit`` on the same rows as the baseline.

Run: ``python benchmarks/bench_deploy.py [--repeats 5] [--busy] [--rows 100000] [--students]``.
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import alternate, busy, conditions

from ensemble_core.deploy.frontier import cost_accuracy_frontier, frontier_for_costs, subset_accuracies
from ensemble_core.ensemble import EnsembleEvaluator
from ensemble_core.predictions import PredictionSet


def synthetic(n: int, n_models: int, k: int, seed: int = 0) -> PredictionSet:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    shared = rng.normal(size=(n, k)).astype(np.float32)
    logits = shared[None] + rng.normal(scale=1.0, size=(n_models, n, k)).astype(np.float32)
    logits[:, np.arange(n), y] += rng.uniform(2.5, 3.5, size=(n_models, 1)).astype(np.float32)
    logits *= 2.0
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return PredictionSet(p.astype(np.float32), y, np.arange(k), tuple(f"m{i}" for i in range(n_models)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--busy", action="store_true")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--students", action="store_true")
    args = parser.parse_args()
    if args.students:
        return students(args)
    pset = synthetic(args.rows, 10, 10)
    costs = np.linspace(1.0, 10.0, 10)
    weights = np.linspace(1.0, 2.0, 10)
    evaluator = EnsembleEvaluator(pset)
    frontier = cost_accuracy_frontier(pset, costs, weights)
    accuracies = subset_accuracies(pset, weights)
    other_costs = costs[::-1].copy()
    with busy(args.busy):
        times = alternate({
            "frontier": lambda: cost_accuracy_frontier(pset, costs, weights),
            "soft": lambda: evaluator.evaluate("soft", weights),
            "reprice": lambda: frontier_for_costs(accuracies, other_costs),
        }, args.repeats, warmup=1)
        where = conditions(args.busy)
    f, s = times["frontier"], times["soft"]
    acc = [evaluator.correct_[m].mean() for m in range(10)]
    print("| | frontier, 1,023 subsets (s) | one evaluate('soft') (ms, baseline) | frontier / one pass | "
          "settled rows | recomputed row-subsets | conditions |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {args.rows:,} × 10 models × 10 classes (members {min(acc):.2f}–{max(acc):.2f} accurate) | "
          f"{f.describe()} | {s.describe(1000, 1)} | {f.median / s.median:.0f}× | {frontier.n_settled:,} | "
          f"{frontier.n_recomputed:,} | {where}; {args.repeats} repeats |")
    r = times["reprice"]
    print(f"\nA typed cost (the page re-prices the cached subset accuracies, frontier_for_costs): "
          f"{r.describe(1000, 2)} ms, {r.median / s.median:.2f}× one soft pass.")



def students(args) -> None:
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from ensemble_core.deploy.distill import StudentSettings, fit_student

    rng = np.random.default_rng(0)
    n, d, k = 10_000, 64, 10
    y = rng.integers(0, k, n)
    centres = rng.normal(size=(k, d))
    x = pd.DataFrame(centres[y] + rng.normal(scale=2.0, size=(n, d)), columns=[f"f{i}" for i in range(d)])
    teacher = synthetic(n, 3, k).probas.mean(axis=0)
    classes = np.arange(k)
    with busy(args.busy):
        times = alternate({
            "logistic": lambda: fit_student(x, y, teacher, classes, StudentSettings(kind="logistic")),
            "mlp": lambda: fit_student(x, y, teacher, classes, StudentSettings(kind="mlp")),
            "sklearn": lambda: LogisticRegression(max_iter=200).fit(x, y),
        }, args.repeats, warmup=1)
        where = conditions(args.busy)
    base = times["sklearn"]
    print("| student, 10,000 rows × 64 features × 10 classes, 30 epochs | seconds | / LogisticRegression().fit "
          "(baseline) | conditions |")
    print("|---|---|---|---|")
    for name in ("logistic", "mlp"):
        print(f"| {name} | {times[name].describe()} | {times[name].median / base.median:.1f}× "
              f"(baseline {base.describe()} s) | {where}; {args.repeats} repeats |")


if __name__ == "__main__":
    main()
