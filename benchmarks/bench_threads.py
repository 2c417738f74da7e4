"""The thread policy's evidence: each BLAS/OpenMP operation at one thread and at every core.

For each operation of ``ensemble_core._threads.POLICY``, the entry is set to 1 thread and to one per core in turn,
alternating, and each is timed (medians and spread over the repeats). ``--busy`` runs a
CPU-bound neighbour process on every core during the measurement, as other users' tests
would. The soft re-weighting is also given as a multiple of the ``probas.sum()`` floor
measured in the same rounds.

Run: ``python benchmarks/bench_threads.py [--busy] [--repeats 5] [--only reweight stacking ...]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

import numpy as np

from _timing import alternate, busy, conditions

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's code

from bench_core import make_problem  # noqa: E402
from ensemble_core import EnsembleEvaluator, _threads  # noqa: E402
from ensemble_core.calibration import cross_fit_temperatures  # noqa: E402
from ensemble_core.disagreement import diversity_matrices  # noqa: E402
from ensemble_core.landscape import simplex_landscape  # noqa: E402
from ensemble_core.stacking import cross_fit_stacking  # noqa: E402
from ensemble_core.weight_search import suggest_weights  # noqa: E402

CORES = os.cpu_count() or 1


def cases(repeats: int):
    """(operation, what, size, the work, repeats, the array whose sum is the floor or None)."""
    rng = np.random.default_rng(0)
    small, mid, big = make_problem(10_000), make_problem(100_000), make_problem(1_000_000)
    evs = {p.n_samples: EnsembleEvaluator(p) for p in (small, mid, big)}
    for n, ev in evs.items():
        ev.evaluate("geometric", np.ones(10))  # its logs, once
        yield ("reweight", "soft evaluate", n, lambda ev=ev: ev.evaluate("soft", rng.uniform(size=10)),
               repeats * 20, ev.pset.probas)
    yield "reweight", "geometric evaluate", big.n_samples, lambda: evs[big.n_samples].evaluate(
        "geometric", rng.uniform(size=10)), repeats * 4, None
    yield "stacking", "5-fold logistic regression", mid.n_samples, lambda: cross_fit_stacking(
        mid.probas, mid.y_true, mid.classes, meta="logistic"), repeats, None
    tiny, sub = make_problem(1_000), make_problem(20_000)  # gradient boosting: 10 trees a round, 30 rounds
    yield "stacking", "5-fold gradient boosting", tiny.n_samples, lambda: cross_fit_stacking(
        tiny.probas, tiny.y_true, tiny.classes, meta="gbm"), max(2, repeats // 2), None
    yield "stacking", "5-fold MLP", sub.n_samples, lambda: cross_fit_stacking(
        sub.probas, sub.y_true, sub.classes, meta="mlp"), max(2, repeats // 2), None
    yield "weight_search", "suggest weights (logloss, nested 5-fold)", mid.n_samples, lambda: suggest_weights(
        mid, "logloss"), repeats, None
    three = mid.probas[:3]
    yield "landscape", "ternary landscape 50×50, accuracy + log loss", mid.n_samples, lambda: simplex_landscape(
        three, mid.y_true, strategy="soft"), repeats, None
    yield "diversity", "diversity matrices", big.n_samples, lambda: diversity_matrices(big), repeats, None
    yield "calibration", "cross-fitted temperatures", mid.n_samples, lambda: cross_fit_temperatures(
        mid.probas, mid.y_true), max(2, repeats // 2), None


def variants(operation: str) -> dict[str, _threads.Threads]:
    """What to compare: one thread; every core for BLAS/OpenMP; and, for an operation whose
    policy runs worker threads, that policy."""
    out = {"1 thread": _threads.Threads(blas=1, openmp=1),
           f"{CORES} BLAS/OpenMP threads": _threads.Threads(blas=CORES, openmp=CORES)}
    policy = _threads.POLICY[operation]
    if policy.workers > 1:  # 5 folds; the weight search also fits on all rows
        pieces = 6 if operation == "weight_search" else 5
        out[f"{_threads.workers(operation, pieces)} workers × 1 thread"] = policy
    return out


def _with_threads(operation: str, threads, work):
    """``work`` with ``operation``'s policy entry set to ``threads``."""
    def run():
        saved = _threads.POLICY[operation]
        _threads.POLICY[operation] = threads
        try:
            work()
        finally:
            _threads.POLICY[operation] = saved
    return run


def _policy_name(operation: str, names: list[str]) -> str:
    policy = _threads.POLICY[operation]
    return names[-1] if policy.workers > 1 else names[0] if policy.blas == 1 else names[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--busy", action="store_true", help="a CPU-bound neighbour on every core while timing")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", nargs="+", help="operations to measure (reweight, stacking, ...)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {CORES} cores, Python {platform.python_version()}, numpy {np.__version__}")
    print("times: median (min–max) of the repeats, the variants alternating; 10 models × 10 classes; "
          "* the policy's choice\n")
    print("| operation | work | n | threads | time | × fastest | conditions |")
    print("|---|---|---|---|---|---|---|")
    with busy(args.busy):
        for operation, what, n, work, repeats, floor_array in cases(args.repeats):
            if args.only and operation not in args.only:
                continue
            named = variants(operation)
            candidates = {name: _with_threads(operation, t, work) for name, t in named.items()}
            if floor_array is not None:
                candidates["floor: probas.sum()"] = floor_array.sum
            times = alternate(candidates, repeats, warmup=1)
            cond = conditions(args.busy)
            fastest = min(t.median for name, t in times.items() if name in named)
            chosen = _policy_name(operation, list(named))
            for name, t in times.items():
                scale, unit = (1e3, "ms") if t.median < 1 else (1.0, "s")
                digits = 2 if scale == 1.0 else (3 if t.median < 0.01 else 1)
                ratio = f"{t.median / fastest:.2f}×" if name in named else ""
                if floor_array is not None and name in named:
                    ratio += f" ({t.median / times['floor: probas.sum()'].median:.1f}× the floor)"
                mark = " *" if name == chosen else ""
                print(f"| {operation} | {what} | {n:,} | {name}{mark} | "
                      f"{t.describe(scale, digits)} {unit} | {ratio} | {cond} |", flush=True)


if __name__ == "__main__":
    main()
