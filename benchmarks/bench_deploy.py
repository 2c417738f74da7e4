"""The cost–accuracy frontier at 100,000 examples × 10 models × 10 classes (1,023 subsets).

Synthetic predictions like real ones: each row has a shared difficulty and each model its
own noise (models of about 60–80 % accuracy that mostly agree). Timed, alternating in one
run: the whole frontier (:func:`cost_accuracy_frontier`), and as the baseline one
``EnsembleEvaluator.evaluate("soft")`` pass over all ten models (evaluator built once,
outside the timing); the ratio is frontier / one pass. Also printed: the rows settled once
for every subset and the row-subset pairs recomputed in float32 near the threshold.
``--busy`` runs a CPU-bound neighbour on every core.

Run: ``python benchmarks/bench_deploy.py [--repeats 5] [--busy] [--rows 100000]``.
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import alternate, busy, conditions

from ensemble_core.deploy.frontier import cost_accuracy_frontier
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
    args = parser.parse_args()
    pset = synthetic(args.rows, 10, 10)
    costs = np.linspace(1.0, 10.0, 10)
    weights = np.linspace(1.0, 2.0, 10)
    evaluator = EnsembleEvaluator(pset)
    frontier = cost_accuracy_frontier(pset, costs, weights)
    with busy(args.busy):
        times = alternate({
            "frontier": lambda: cost_accuracy_frontier(pset, costs, weights),
            "soft": lambda: evaluator.evaluate("soft", weights),
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


if __name__ == "__main__":
    main()
