"""Scoring into a prediction store: the local engine against Ray started locally, in one run.

On n synthetic reviews (default 100,000, 20 words each) and a TF-IDF + logistic regression
saved with skops:

- local: ``score_to_store`` on the :class:`LocalEngine` (the baseline: 1.00);
- ray: the same on a :class:`RayEngine` with 2 actors on a Ray already started here
  (each run starts its actors, which load the model once, and ships every shard to them);
- Ray's fixed overhead, measured apart: ``ray.init`` on 2 CPUs, and a 100-row store on
  Ray against the same on the local engine (actor start-up, model load, one task).

The two full runs alternate (local, ray, local, ray, ...); every run writes a fresh store.
Run: ``python benchmarks/bench_scale.py [--rows 100000] [--shard-rows 10000] [--repeats 2] [--busy]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
# Measure this checkout's code, not whichever copy is installed.
sys.path.insert(0, str(ROOT))

from _timing import alternate, busy, conditions  # noqa: E402

from ensemble_core.models.spec import spec_for  # noqa: E402
from ensemble_core.scale.engines import LocalEngine, RayEngine  # noqa: E402
from ensemble_core.scale.store import score_to_store  # noqa: E402

WORDS = "good bad great awful film plot acting boring lovely dull clever story warm flat funny slow".split()


def _data(folder: Path, n: int) -> Path:
    rng = np.random.default_rng(0)
    words = np.array(WORDS)
    texts = [" ".join(row) for row in words[rng.integers(0, len(words), size=(n, 20))]]
    labels = rng.choice(["fresh", "rotten"], n)
    path = folder / f"reviews_{n}.csv"
    pd.DataFrame({"id": [f"r{i}" for i in range(n)], "text": texts, "label": labels}).to_csv(path, index=False)
    return path


def _model(folder: Path, data: Path) -> Path:
    import skops.io as sio
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    df = pd.read_csv(data, nrows=2000)
    pipe = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression(max_iter=500))
    pipe.fit(df["text"].tolist(), df["label"])
    path = folder / "tfidf_lr.skops"
    sio.dump(pipe, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--shard-rows", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--busy", action="store_true", help="a CPU-bound neighbour on every core")
    args = parser.parse_args()
    import ray

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = _data(tmp, args.rows)
        small = _data(tmp, 100)
        spec = spec_for(_model(tmp, data))
        runs = iter(range(10**6))

        def store(engine, path):
            return lambda: score_to_store([spec], path, tmp / f"store{next(runs)}", engine=engine,
                                          shard_rows=args.shard_rows)

        with busy(args.busy):
            t0 = time.perf_counter()
            ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING,
                     runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
            init = time.perf_counter() - t0
            ray_engine = RayEngine(workers=2)
            tiny = alternate({"local": store(LocalEngine(), small), "ray": store(ray_engine, small)},
                             repeats=args.repeats, warmup=1)
            full = alternate({"local": store(LocalEngine(), data), "ray": store(ray_engine, data)},
                             repeats=args.repeats)
            load = conditions(args.busy)
        ray.shutdown()

    base = full["local"].median
    print(f"bench_scale: {args.rows:,} texts x TF-IDF + LR (skops), shards of {args.shard_rows:,} rows, "
          f"{args.repeats} alternating repeats; {load}; Ray {ray.__version__}, 2 CPUs, 2 actors")
    print()
    print("| engine | seconds, median (min–max) | rows/s | ratio to local |")
    print("|---|---|---|---|")
    for name, t in full.items():
        print(f"| {name} | {t.describe()} | {args.rows / t.median:,.0f} | {t.median / base:.2f} |")
    print()
    print(f"Ray's fixed overhead: ray.init {init:.2f} s (once per process); a 100-row store "
          f"{tiny['ray'].describe()} s on Ray against {tiny['local'].describe()} s locally "
          f"(+{tiny['ray'].median - tiny['local'].median:.2f} s per model per run: actor start-up and model load)")


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
