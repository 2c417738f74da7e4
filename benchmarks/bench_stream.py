"""Streaming ``evaluate --stream`` against in-memory ``evaluate`` and the floor (reading the files once).

A store of n rows × m models × k classes (default 2,000,000 × 3 × 10: 240 MB of float32),
each candidate in a fresh process (its peak resident memory is ru_maxrss):

- floor: ``pyarrow.parquet.read_table`` of every file, once;
- stream: ``ensemble-explorer evaluate --stream --json`` (65,536 rows at a time);
- memory: ``ensemble-explorer evaluate --json`` (the files read whole).

Run: ``python benchmarks/bench_stream.py [--rows 2000000] [--models 3] [--classes 10]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _timing import load_average  # noqa: E402

_RUN = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
{body}
print(json.dumps({{"seconds": time.perf_counter() - t,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def _store(folder: Path, n: int, m: int, k: int) -> tuple[Path, list[Path]]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, k, n)
    classes = [f"c{j}" for j in range(k)]
    ids = pa.array([f"x{i}" for i in range(n)])
    pq.write_table(pa.table({"id": ids, "label": pa.array(np.array(classes)[y])}), folder / "labels.parquet")
    files = []
    for i in range(m):
        logits = rng.normal(size=(n, k)).astype(np.float32)
        logits[np.arange(n), y] += 1.5
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        files.append(folder / f"m{i}.parquet")
        pq.write_table(pa.table({"id": ids, **{c: p[:, j] for j, c in enumerate(classes)}}), files[-1],
                       row_group_size=262_144)
    return folder / "labels.parquet", files


def _measure(body: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _RUN.format(body=body)], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--models", type=int, default=3)
    parser.add_argument("--classes", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        labels, files = _store(Path(tmp), args.rows, args.models, args.classes)
        names = ", ".join(repr(str(f)) for f in files)
        cli = (f"from ensemble_core.cli import main\nimport contextlib, io\n"
               f"with contextlib.redirect_stdout(io.StringIO()):\n"
               f"    main(['evaluate', '--labels', {str(labels)!r}, '--predictions', {names}, '--json'{{extra}}])")
        results = {
            "floor (pyarrow read_table)": _measure(f"import pyarrow.parquet as pq\nfor f in [{names}]: pq.read_table(f)"),
            "evaluate --stream": _measure(cli.format(extra=", '--stream'")),
            "evaluate (in memory)": _measure(cli.format(extra="")),
        }
        size = sum(f.stat().st_size for f in files) / 2**20
    data_mb = args.rows * args.models * args.classes * 4 / 2**20
    print(f"bench_stream: {args.rows:,} rows x {args.models} models x {args.classes} classes "
          f"({data_mb:,.0f} MiB of float32, {size:,.0f} MiB of Parquet); load average {load_average():.1f}")
    print()
    print("| candidate | seconds | ratio to floor | peak RSS (MiB) |")
    print("|---|---|---|---|")
    floor = results["floor (pyarrow read_table)"]["seconds"]
    for name, r in results.items():
        print(f"| {name} | {r['seconds']:.2f} | {r['seconds'] / floor:.2f} | {r['peak_mb']:,.0f} |")


if __name__ == "__main__":
    main()
