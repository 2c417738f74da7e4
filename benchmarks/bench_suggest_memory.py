"""Peak memory of a weight suggestion (nested 5-fold cross-validation plus the fit on all rows),
as a multiple of the probability array, measured with tracemalloc (NumPy's allocations are
traced); the array itself is allocated before tracing starts, so the number is what the
suggestion holds beyond it. Also the wall time per row (tracemalloc slows it: a rough number).

Usage (from the repository root):

    python benchmarks/bench_suggest_memory.py [--rows 100000] [--methods caruana,logloss,accuracy]

Not part of the tests. Results go in BENCHMARKS.md ("Tuning").
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ensemble_core import PredictionSet  # noqa: E402
from ensemble_core.weight_search import suggest_weights  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--methods", default="caruana,logloss,accuracy")
    args = parser.parse_args()
    n, m, c = args.rows, args.models, args.classes
    rng = np.random.default_rng(0)
    y = rng.integers(0, c, n)
    logits = rng.normal(size=(m, n, c)).astype(np.float32)
    logits[:, np.arange(n), y] += np.linspace(0.3, 1.5, m)[:, None]
    p = np.exp(logits)
    p /= p.sum(-1, keepdims=True)
    pset = PredictionSet(p, y, np.arange(c), tuple(f"m{i}" for i in range(m)))
    print(f"{n:,} rows x {m} models x {c} classes: probability array {p.nbytes / 2**20:.0f} MiB")
    for method in args.methods.split(","):
        tracemalloc.start()
        t = time.perf_counter()
        suggest_weights(pset, method)
        dt = time.perf_counter() - t
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"{method:9s} peak beyond the array: {peak / p.nbytes:.2f}x  {dt:.2f} s  {1e6 * dt / n:.1f} us/row")


if __name__ == "__main__":
    main()
