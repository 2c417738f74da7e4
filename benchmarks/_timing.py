"""Timing shared by the benchmark scripts (run from the repository root as
``python benchmarks/bench_*.py``, so this folder is on the import path).

A shared machine makes single timings meaningless, so comparisons here are
measured the same way everywhere:

- **alternating** (:func:`alternate`): the candidates run in turn, A B C A B C …,
  so a burst of load from other work hits each of them alike;
- **medians and spread** (:class:`Timings`): the median with the minimum and maximum
  of the repeats;
- **load** (:func:`load_average`): the 1-minute load average, recorded with each table;
- **busy** (:func:`busy`): optionally a CPU-bound neighbour process on every core
  for the whole measurement, the machine as it is when others run their tests.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass


def timed(fn, repeats: int) -> float:
    """Median wall-clock seconds of ``repeats`` calls of ``fn()``."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


@dataclass(frozen=True)
class Timings:
    """Seconds of each repeat of one candidate."""

    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def spread(self) -> tuple[float, float]:
        return min(self.seconds), max(self.seconds)

    def describe(self, scale: float = 1.0, digits: int = 2) -> str:
        """``median (min–max)``, in seconds times ``scale``."""
        lo, hi = self.spread
        return f"{self.median * scale:.{digits}f} ({lo * scale:.{digits}f}–{hi * scale:.{digits}f})"


def alternate(candidates: dict[str, Callable[[], object]], repeats: int, warmup: int = 0) -> dict[str, Timings]:
    """Time each candidate ``repeats`` times, in rounds (A B … A B …) so that load from other
    work falls on all of them alike; ``warmup`` untimed rounds first."""
    for _ in range(warmup):
        for fn in candidates.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: Timings(tuple(t)) for name, t in times.items()}


def load_average() -> float:
    """The 1-minute load average (the number of runnable processes, averaged)."""
    return os.getloadavg()[0]


#: A neighbour: a pure-Python loop that never sleeps, as another user's tests or build would be.
_SPIN = "x = 0\nwhile True:\n    x = (x * 1103515245 + 12345) & 0xFFFFFFFF"


@contextlib.contextmanager
def busy(on: bool = True, workers: int | None = None) -> Iterator[None]:
    """With ``on``, a CPU-bound neighbour process on every core (``os.cpu_count()``, or
    ``workers``) for as long as the block runs. Without ``on``, nothing."""
    if not on:
        yield
        return
    procs = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(workers or os.cpu_count() or 1)]
    time.sleep(0.5)  # let them start spinning before anything is timed
    try:
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()


def conditions(busy_on: bool) -> str:
    """One line for a table's header: busy or not, and the load average now."""
    mode = f"busy ({os.cpu_count()} CPU-bound neighbours)" if busy_on else "no neighbours started"
    return f"{mode}; load average {load_average():.1f} (1 min) on {os.cpu_count()} cores"
