"""The command line's start-up: ``evaluate --help`` and ``evaluate`` on 1,000 rows, whole commands.

Each command runs as a fresh process, this checkout and (with ``--baseline DIR``) another
checkout in alternation; medians and spread of the wall clock. Then, for ``evaluate`` on
1,000 rows, the largest imports by ``python -X importtime`` (cumulative, top-level
packages only) in each checkout. ``--busy`` runs a CPU-bound neighbour on every core.

Run: ``python benchmarks/bench_startup.py [--repeats 10] [--baseline DIR] [--busy]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from _timing import alternate, busy, conditions

ROOT = Path(__file__).resolve().parent.parent


def write_small(folder: Path, n: int = 1000, n_models: int = 5, n_classes: int = 3) -> tuple[Path, list[Path]]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    y = rng.integers(0, n_classes, n)
    pd.DataFrame({"id": np.arange(n), "label": y}).to_csv(folder / "labels.csv", index=False)
    paths = []
    for m in range(n_models):
        p = rng.dirichlet(np.ones(n_classes), size=n)
        df = pd.DataFrame(p, columns=[str(c) for c in range(n_classes)])
        df.insert(0, "id", rng.permutation(n))
        df.to_csv(folder / f"m{m}.csv", index=False, float_format="%.7g")
        paths.append(folder / f"m{m}.csv")
    return folder / "labels.csv", paths


def _env(checkout: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(checkout), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def _command(checkout: Path, argv: list[str]):
    args = [sys.executable, "-m", "ensemble_core.cli", *argv]
    return lambda: subprocess.run(args, cwd=checkout, env=_env(checkout), check=True, stdout=subprocess.DEVNULL)


#: The imports worth seeing: the libraries the command line may load, and the package itself.
WATCHED = ("ensemble_core", "numpy", "pandas", "pyarrow.compute", "scipy.stats", "scipy.special", "sklearn",
           "threadpoolctl", "torch", "skops")


def import_times(checkout: Path, argv: list[str]) -> dict[str, float]:
    """Cumulative import time (s) of each watched module that one run of the command line imported
    (``python -X importtime``; a module nested in another is counted in both)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "ensemble_core.cli", *argv], cwd=checkout,
                          env=_env(checkout), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    found: dict[str, float] = {}
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[2].strip() in WATCHED:
            try:
                found[parts[2].strip()] = int(parts[1]) / 1e6
            except ValueError:
                continue
    return {name: found[name] for name in WATCHED if name in found}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--busy", action="store_true")
    args = parser.parse_args()
    labels, preds = write_small(Path(tempfile.gettempdir()) / "ensemble-bench-startup")
    commands = {
        "evaluate --help": ["evaluate", "--help"],
        "evaluate, 1,000 rows × 5 models (CSV, ids)": ["evaluate", "--labels", str(labels), "--predictions",
                                                       *map(str, preds), "--json"],
    }
    checkouts = {"this checkout": ROOT, **({"baseline": args.baseline.resolve()} if args.baseline else {})}
    print(f"wall clock of whole commands (fresh processes), s, median (min–max) of {args.repeats}, alternating\n")
    print("| command | " + " | ".join(checkouts) + " | conditions |")
    print("|---|" + "---|" * len(checkouts) + "---|")
    with busy(args.busy):
        for what, argv in commands.items():
            times = alternate({name: _command(path, argv) for name, path in checkouts.items()}, args.repeats,
                              warmup=1)
            print(f"| `{what}` | " + " | ".join(t.describe() for t in times.values())
                  + f" | {conditions(args.busy)} |", flush=True)
        argv = commands["evaluate, 1,000 rows × 5 models (CSV, ids)"]
        tables = {name: import_times(path, argv) for name, path in checkouts.items()}
    print("\nimports of `evaluate` on 1,000 rows: cumulative seconds by `python -X importtime` (one run; "
          "a module nested in another counts in both; — not imported)\n")
    print("| module | " + " | ".join(checkouts) + " |")
    print("|---|" + "---|" * len(checkouts))
    for module in WATCHED:
        cells = [f"{t[module]:.3f}" if module in t else "—" for t in tables.values()]
        if any(c != "—" for c in cells):
            print(f"| `{module}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
