"""Streaming ``evaluate --stream`` against the floor (reading the files once) and in-memory ``evaluate``.

A store of n rows × m models × k classes (default 1,000,000 × 10 × 10: 381 MiB of float32), each
candidate run in a fresh process (timed from inside it, imports included; its peak resident memory
is ``ru_maxrss``), the candidates alternating (A B C A B C …) for ``--repeats`` rounds:

- floor: ``pyarrow.parquet.read_table`` of every file (the labels' ``label`` and ``id`` columns), once;
- stream: ``ensemble-explorer evaluate --stream --json`` (65,536 rows at a time);
- before (with ``--before DIR``): the same command run from another checkout (the code before a change);
- memory: ``ensemble-explorer evaluate --json`` (the files read whole); left out when the float32
  probabilities alone would take over a quarter of the machine's memory.

Every candidate that evaluates must print the same report (checked). The files are written block by
block (1,000,000 rows, row groups of ``--row-group`` rows, no dictionary for the probabilities), so
that 20,000,000 rows can be written in bounded memory.

Run: ``python benchmarks/bench_stream.py [--rows 1000000] [--models 10] [--classes 10] [--busy]``.
"""

from __future__ import annotations

import argparse
import json
import os
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import Timings, busy, conditions  # noqa: E402

_RUN = """
import json, resource, sys, time
t = time.perf_counter()
{body}
print(json.dumps({{"seconds": time.perf_counter() - t,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "report": report}}))
"""
#: Rows written at a time.
BLOCK = 1_000_000


def _store(folder: Path, n: int, m: int, k: int, row_group: int) -> tuple[Path, list[Path]]:
    """labels.parquet (``id``, ``label``) and m0..m{m-1}.parquet (``id`` and k float32 columns), models
    of different skill; written a block at a time."""
    classes = [f"c{j}" for j in range(k)]
    schema = pa.schema([("id", pa.string()), *[(c, pa.float32()) for c in classes]])
    labels = pq.ParquetWriter(folder / "labels.parquet", pa.schema([("id", pa.string()), ("label", pa.string())]))
    files = [folder / f"m{i}.parquet" for i in range(m)]
    writers = [pq.ParquetWriter(f, schema, use_dictionary=["id"], compression="snappy") for f in files]
    rng = np.random.default_rng(0)
    try:
        for start in range(0, n, BLOCK):
            rows = min(BLOCK, n - start)
            y = rng.integers(0, k, rows)
            ids = pa.array(np.char.add("x", np.arange(start, start + rows).astype(str)))
            labels.write_table(pa.table({"id": ids, "label": pa.array(np.array(classes)[y])}),
                               row_group_size=row_group)
            for i, writer in enumerate(writers):
                scores = rng.random((rows, k), dtype=np.float32)
                scores[np.arange(rows), y] += np.float32(0.5 + 0.1 * i)
                scores /= scores.sum(axis=1, keepdims=True)
                writer.write_table(pa.table({"id": ids, **{c: scores[:, j] for j, c in enumerate(classes)}}),
                                   row_group_size=row_group)
    finally:
        labels.close()
        for writer in writers:
            writer.close()
    return folder / "labels.parquet", files


def _measure(body: str, cwd: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", _RUN.format(body=body)], capture_output=True, text=True,
                         cwd=cwd, check=True, env={**os.environ, "PYTHONPATH": str(cwd)}).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--row-group", type=int, default=65_536, help="rows per row group (a store writes 65,536)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--busy", action="store_true", help="a CPU-bound neighbour on every core")
    parser.add_argument("--before", type=Path, help="another checkout to run the stream from (the old code)")
    parser.add_argument("--store", type=Path, help="reuse (or write once) the store in this folder")
    args = parser.parse_args()
    data_mb = args.rows * args.models * args.classes * 4 / 2**20
    ram_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.store or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        if (folder / "labels.parquet").is_file():
            labels, files = folder / "labels.parquet", sorted(folder.glob("m*.parquet"))
        else:
            labels, files = _store(folder, args.rows, args.models, args.classes, args.row_group)
        written = time.perf_counter() - started
        names = ", ".join(repr(str(f)) for f in files)
        cli = (f"from ensemble_core.cli import main\nimport contextlib, io\nout = io.StringIO()\n"
               f"with contextlib.redirect_stdout(out):\n"
               f"    main(['evaluate', '--labels', {str(labels)!r}, '--predictions', {names}, '--json'{{extra}}])\n"
               f"report = json.loads(out.getvalue())")
        floor = (f"import pyarrow.parquet as pq\npq.read_table({str(labels)!r}, columns=['id', 'label'])\n"
                 f"for f in [{names}]: pq.read_table(f)\nreport = None")
        candidates = {"floor (pyarrow read_table of every file, once)": (floor, ROOT),
                      "evaluate --stream": (cli.format(extra=", '--stream'"), ROOT)}
        if args.before is not None:
            candidates["evaluate --stream, before (labels read whole)"] = (cli.format(extra=", '--stream'"),
                                                                           args.before.resolve())
        if data_mb < ram_mb / 4:
            candidates["evaluate (in memory)"] = (cli.format(extra=""), ROOT)
        runs: dict[str, list[dict]] = {name: [] for name in candidates}
        with busy(args.busy):
            header = conditions(args.busy)
            for _ in range(args.repeats):
                for name, (body, cwd) in candidates.items():
                    runs[name].append(_measure(body, cwd))
            header_end = conditions(args.busy)
        size = sum(f.stat().st_size for f in [labels, *files]) / 2**20
    reports = [r["report"] for name, rs in runs.items() for r in rs if r["report"] is not None]
    stream_report = reports[0]
    for other in reports[1:]:
        same = {k for k in stream_report if k != "notes" and k in other}
        assert all(np.allclose(stream_report[k], other[k], rtol=1e-9) if isinstance(stream_report[k], float)
                   else True for k in same)
        assert other["confusion_matrix"] == stream_report["confusion_matrix"]
    print(f"bench_stream: {args.rows:,} rows x {len(files)} models x {args.classes} classes ({data_mb:,.0f} MiB of "
          f"float32, {size:,.0f} MiB of Parquet in row groups of {args.row_group:,}; written in {written:.0f} s); "
          f"{args.repeats} alternating rounds, each run a fresh process")
    print(f"at the start: {header}; at the end: {header_end}")
    print()
    print("| candidate | seconds, median (min–max) | rows/s | ratio to floor | peak RSS, MiB (min–max) |")
    print("|---|---|---|---|---|")
    base = Timings(tuple(r["seconds"] for r in runs[next(iter(runs))])).median
    for name, rs in runs.items():
        t = Timings(tuple(r["seconds"] for r in rs))
        peaks = sorted(r["peak_mb"] for r in rs)
        print(f"| {name} | {t.describe()} | {args.rows / t.median:,.0f} | {t.median / base:.2f} | "
              f"{np.median(peaks):,.0f} ({peaks[0]:,.0f}–{peaks[-1]:,.0f}) |")


if __name__ == "__main__":
    main()
