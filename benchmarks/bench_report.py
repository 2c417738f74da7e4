"""The report for the bundled sentiment demo: time of the whole command and size of the file.

``report`` (slices by text length and by class) and, as the baseline measured in the
same run, ``evaluate --json`` on the same inputs, alternating as fresh processes;
medians and spread of the wall clock, the ratio of medians, and the report's size.
``--busy`` runs a CPU-bound neighbour on every core.

Run: ``python benchmarks/bench_report.py [--repeats 7] [--busy]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _timing import alternate, busy, conditions

ROOT = Path(__file__).resolve().parent.parent
SENTIMENT = ROOT / "demo_data" / "sentiment"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--busy", action="store_true")
    args = parser.parse_args()
    out = Path(tempfile.gettempdir()) / "ensemble-bench-report.html"
    inputs = ["--labels", str(SENTIMENT / "test.csv"), "--predictions",
              *sorted(str(p) for p in (SENTIMENT / "predictions" / "test").glob("*.csv")),
              "--slice-by", "text", "--slice-by", "label"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}

    def command(argv):
        return lambda: subprocess.run([sys.executable, "-m", "ensemble_core.cli", *argv], cwd=ROOT, env=env,
                                      check=True, stdout=subprocess.DEVNULL)

    with busy(args.busy):
        times = alternate({"report": command(["report", *inputs, "--out", str(out)]),
                           "evaluate --json": command(["evaluate", *inputs, "--json"])}, args.repeats, warmup=1)
        where = conditions(args.busy)
    report, evaluate = times["report"], times["evaluate --json"]
    print("| | report | evaluate --json (baseline) | report / evaluate | report size | conditions |")
    print("|---|---|---|---|---|---|")
    print(f"| sentiment demo, 3,827 rows × 5 models, 2 slicings | {report.describe()} s | {evaluate.describe()} s | "
          f"{report.median / evaluate.median:.2f}× | {out.stat().st_size / 1024:.0f} KiB | {where}; "
          f"{args.repeats} repeats |")


if __name__ == "__main__":
    main()
