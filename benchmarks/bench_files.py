"""``ensemble-explorer evaluate`` on real files with shuffled string ids, against a bare script.

For n rows × m models × 10 classes, in Parquet and CSV, each prediction file's rows
shuffled and keyed by string ids (``ex-00000017-3f9a2c1``): wall clock of whole
commands, each a fresh process, run in alternation (A B C A B C …) with medians and
spread over the repeats:

- ``evaluate``: ``python -m ensemble_core.cli evaluate --json`` of this checkout;
- ``baseline`` (with ``--baseline DIR``): the same command from another checkout,
  e.g. a ``git worktree`` of the code before a change; its printed report must equal
  this checkout's, byte for byte, or the run stops;
- ``bare``: ``benchmarks/_bare_align.py``: pandas reads, ``Index.get_indexer`` aligns
  by id, NumPy averages (the floor a user could write in a few lines).

With ``--app``, also the dashboard's "Files on this machine" load as the slider
benchmark's generated set has it (CSV, integer ids in the labels' order, 10 models ×
10 classes): ``folder_source`` → its content key → ``load_source`` → ``EnsembleEvaluator``
→ the first soft evaluation, timed inside a fresh process after its imports (the app's
are warm), this checkout against the baseline.

``--busy`` runs a CPU-bound neighbour process on every core during the measurement.
The files are written once into ``--dir`` and reused.

Run: ``python benchmarks/bench_files.py [--rows 200000] [--models 8] [--formats parquet csv]
[--repeats 5] [--baseline DIR] [--busy] [--app]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from _timing import Timings, alternate, busy, conditions

ROOT = Path(__file__).resolve().parent.parent
N_CLASSES = 10


def write_files(folder: Path, n: int, n_models: int, fmt: str) -> tuple[Path, list[Path]]:
    """A labels file and one prediction file per model (rows shuffled), written once."""
    suffix = ".parquet" if fmt == "parquet" else ".csv"
    out = folder / f"{n}x{n_models}x{N_CLASSES}-{fmt}"
    labels = out / f"labels{suffix}"
    predictions = [out / f"m{j}{suffix}" for j in range(n_models)]
    if all(p.exists() for p in [labels, *predictions]):
        return labels, predictions
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    ids = np.char.add(np.char.add("ex-", np.char.zfill(np.arange(n).astype(str), 8)),
                      np.char.add("-", np.char.mod("%x", rng.integers(1 << 28, size=n))))
    y = rng.integers(0, N_CLASSES, size=n)

    def write(df: pd.DataFrame, path: Path) -> None:
        if fmt == "parquet":
            df.to_parquet(path, index=False)
        else:
            df.to_csv(path, index=False, float_format="%.7g")

    write(pd.DataFrame({"id": ids, "label": y}), labels)
    for path in predictions:
        logits = rng.standard_normal((n, N_CLASSES)).astype(np.float32)
        logits[np.arange(n), y] += rng.uniform(0.5, 2.0)
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        perm = rng.permutation(n)
        df = pd.DataFrame(p[perm], columns=[str(c) for c in range(N_CLASSES)])
        df.insert(0, "id", ids[perm])
        write(df, path)
    return labels, predictions


def write_app_set(folder: Path, n: int, n_models: int) -> tuple[Path, Path]:
    """The slider benchmark's set: labels, and a folder of prediction files with ids in order."""
    out = folder / f"app-{n}x{n_models}x{N_CLASSES}"
    labels, preds = out / "labels.csv", out / "predictions"
    if labels.exists() and len(list(preds.glob("*.csv"))) == n_models:
        return labels, preds
    preds.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    y = rng.integers(0, N_CLASSES, n)
    classes = np.array([f"c{k}" for k in range(N_CLASSES)])
    pd.DataFrame({"id": np.arange(n), "label": classes[y]}).to_csv(labels, index=False)
    for m in range(n_models):
        logits = rng.normal(size=(n, N_CLASSES)).astype(np.float32)
        logits[np.arange(n), y] += 0.6 + 0.25 * m
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        df = pd.DataFrame(p, columns=classes)
        df.insert(0, "id", np.arange(n))
        df.to_csv(preds / f"model_{m}.csv", index=False, float_format="%.7g")
    return labels, preds


_APP_LOAD = """
import sys, time
from dashboard.sources import folder_source, load_source
from ensemble_core import EnsembleEvaluator
t0 = time.perf_counter()
source = folder_source(sys.argv[1], sys.argv[2])
source.key
EnsembleEvaluator(load_source(source)).evaluate("soft")
print(time.perf_counter() - t0)
"""


def _app_load(checkout: Path, labels: Path, folder: Path, seconds: list[float]):
    def run() -> None:
        done = subprocess.run([sys.executable, "-c", _APP_LOAD, str(labels), str(folder)], cwd=checkout,
                              env=_env(checkout), check=True, capture_output=True, text=True)
        seconds.append(float(done.stdout.strip().splitlines()[-1]))
    return run


def app_table(args) -> None:
    labels, folder = write_app_set(args.dir, args.app_rows, 10)
    checkouts = {"this checkout": ROOT, **({"baseline": args.baseline.resolve()} if args.baseline else {})}
    seconds: dict[str, list[float]] = {name: [] for name in checkouts}
    candidates = {name: _app_load(path, labels, folder, seconds[name]) for name, path in checkouts.items()}
    with busy(args.busy):
        alternate(candidates, args.repeats, warmup=1)
        cond = conditions(args.busy)
    print(f"\napp load, Files on this machine: {args.app_rows:,} × 10 models × {N_CLASSES} classes (CSV), "
          "seconds to the first metric after imports, median (min–max):\n")
    print("| code | load (s) | conditions |")
    print("|---|---|---|")
    for name, values in seconds.items():
        timed_runs = Timings(tuple(values[1:]))  # the first run was the warm-up
        print(f"| {name} | {timed_runs.describe()} | {cond} |")


def _env(checkout: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(checkout), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def _command(checkout: Path, labels: Path, predictions: list[Path]):
    args = [sys.executable, "-m", "ensemble_core.cli", "evaluate", "--labels", str(labels),
            "--predictions", *map(str, predictions), "--json"]

    def run(capture: bool = False) -> str:
        done = subprocess.run(args, cwd=checkout, env=_env(checkout), check=True,
                              stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
        return done.stdout.decode() if capture else ""

    return run


def _bare(labels: Path, predictions: list[Path]):
    args = [sys.executable, str(ROOT / "benchmarks" / "_bare_align.py"), str(labels), *map(str, predictions)]
    return lambda: subprocess.run(args, env=_env(ROOT), check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000])
    parser.add_argument("--models", type=int, default=8)
    parser.add_argument("--formats", nargs="+", default=["parquet", "csv"], choices=["parquet", "csv"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another checkout to time the same command from")
    parser.add_argument("--busy", action="store_true", help="a CPU-bound neighbour on every core while timing")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "ensemble-bench-files")
    parser.add_argument("--app", action="store_true", help="also time the dashboard's load of files on this machine")
    parser.add_argument("--app-rows", type=int, default=200_000)
    parser.add_argument("--no-files", action="store_true", help="skip the evaluate table")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"numpy {np.__version__}, pandas {pd.__version__}")
    if args.app:
        app_table(args)
    if args.no_files:
        return
    print(f"\n{args.models} models × {N_CLASSES} classes, shuffled string ids; wall clock of whole commands in s, "
          f"median (min–max) of {args.repeats}, alternating\n")
    print("| rows | format | evaluate (s) | " + ("baseline (s) | " if args.baseline else "")
          + "bare script (s) | evaluate / bare | conditions |")
    print("|---|---|---|" + ("---|" if args.baseline else "") + "---|---|---|")
    for n in args.rows:
        for fmt in args.formats:
            labels, predictions = write_files(args.dir, n, args.models, fmt)
            candidates = {"evaluate": _command(ROOT, labels, predictions)}
            if args.baseline:
                candidates["baseline"] = _command(args.baseline.resolve(), labels, predictions)
                if candidates["evaluate"](capture=True) != candidates["baseline"](capture=True):
                    raise SystemExit(f"{labels.parent}: this checkout and the baseline print different reports")
            candidates["bare"] = _bare(labels, predictions)
            with busy(args.busy):
                times = alternate(candidates, args.repeats, warmup=1)
                cond = conditions(args.busy)
            ratio = times["evaluate"].median / times["bare"].median
            base = f"{times['baseline'].describe()} | " if args.baseline else ""
            print(f"| {n:,} | {fmt} | {times['evaluate'].describe()} | {base}{times['bare'].describe()} | "
                  f"{ratio:.2f}× | {cond} |", flush=True)


if __name__ == "__main__":
    main()
