"""The memory budget: whether ``evaluate``'s prediction files fit in memory, known before reading them.

A prediction file's arrays take ``n_rows × n_classes × 4`` bytes as float32; for Parquet both
come from the footer (no row is read). A CSV file's size on disk stands in for its arrays (its
text is larger than the float32 numbers it holds, so this errs towards streaming). When the
files' arrays exceed the budget (default :data:`~ensemble_core.registry.MEMORY_BUDGET_FRACTION`
of the machine's RAM), ``evaluate`` streams them (:mod:`.streaming`) instead of loading them.

Examples
--------
>>> check = memory_check(["store/lr.parquet", "store/bert.parquet"], budget_mb=100)  # doctest: +SKIP
>>> check.over, check.arrays_bytes, check.budget_bytes  # doctest: +SKIP
(True, 160000000, 100000000)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .._validation import EnsembleInputError

MB = 1_000_000


def machine_ram_bytes() -> int:
    """The machine's physical memory in bytes (from ``sysconf``; 8 GB where it cannot be read)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 8_000 * MB


def default_budget_bytes() -> int:
    """:data:`~ensemble_core.registry.MEMORY_BUDGET_FRACTION` of the machine's RAM."""
    from .. import registry

    return int(machine_ram_bytes() * registry.MEMORY_BUDGET_FRACTION)


def budget_bytes(budget_mb: float | None) -> int:
    """The budget in bytes: ``budget_mb`` megabytes (10^6 bytes), or the default when None.

    >>> budget_bytes(1.5)
    1500000
    """
    if budget_mb is None:
        return default_budget_bytes()
    if isinstance(budget_mb, bool) or not budget_mb > 0:
        raise EnsembleInputError(f"--memory-budget must be a positive number of MB; got {budget_mb!r}")
    return int(budget_mb * MB)


def arrays_bytes(path: str | Path) -> int:
    """A prediction file's probabilities as float32 in bytes: ``n_rows × n_classes × 4`` from a
    Parquet footer (the ``id`` and ``prediction`` columns not counted), else the file's size.

    Raises
    ------
    EnsembleInputError
        If the file is missing or a ``.parquet`` file is not Parquet.
    """
    path = Path(path)
    if not path.is_file():
        raise EnsembleInputError(f"{path}: no such file")
    if not _is_parquet(path):
        return path.stat().st_size
    import pyarrow.parquet as pq

    from ..io import ID_COLUMN, header_names

    names = header_names(path)
    if names is None:
        raise EnsembleInputError(f"{path}: not a Parquet file")
    columns = [n for n in names if n.strip() not in (ID_COLUMN, "prediction")]
    return pq.ParquetFile(path).metadata.num_rows * max(len(columns), 1) * 4


def _is_parquet(path: Path) -> bool:
    return path.name.lower().endswith((".parquet", ".pq"))


@dataclass(frozen=True)
class MemoryCheck:
    """The prediction files' arrays against the budget (bytes); ``over``: they exceed it."""

    arrays_bytes: int
    budget_bytes: int

    @property
    def over(self) -> bool:
        return self.arrays_bytes > self.budget_bytes

    def describe(self) -> str:
        """E.g. ``'prediction arrays 160.0 MB exceed the memory budget 100.0 MB'``."""
        verb = "exceed" if self.over else "fit in"
        return f"prediction arrays {self.arrays_bytes / MB:,.1f} MB {verb} the memory budget {self.budget_bytes / MB:,.1f} MB"

    def to_dict(self) -> dict:
        return {"arrays_bytes": self.arrays_bytes, "budget_bytes": self.budget_bytes, "over": self.over}


def memory_check(predictions: Sequence[str | Path], budget_mb: float | None = None) -> MemoryCheck:
    """Compare the prediction files' arrays with the budget, reading footers only.

    Parameters
    ----------
    predictions : prediction files (Parquet or CSV)
    budget_mb : the budget in MB (10^6 bytes); None: the default fraction of RAM

    Returns
    -------
    MemoryCheck
    """
    return MemoryCheck(sum(arrays_bytes(p) for p in predictions), budget_bytes(budget_mb))


def stream_by_budget(args) -> MemoryCheck | None:
    """``evaluate``'s choice: the check when its prediction files are over the budget and it must
    stream, None when it loads them as before (or ``--stream`` already asks to stream).

    Raises
    ------
    EnsembleInputError
        Over the budget with an option streaming cannot do, or a prediction file that is not
        Parquet (streaming reads Parquet): one line naming both and how to go on.
    """
    from .streaming import stream_refusal

    if args.stream:
        return None
    check = memory_check(args.predictions, args.memory_budget)
    if not check.over:
        return None
    refused = stream_refusal(args)
    if refused:
        raise EnsembleInputError(f"{check.describe()}, and streaming (the soft vote with fixed weights) does not take "
                                 f"{refused}: raise --memory-budget MB, or drop {refused.split()[0]}")
    not_parquet = next((p for p in args.predictions if not _is_parquet(Path(p))), None)
    if not_parquet is not None:
        raise EnsembleInputError(f"{check.describe()}, and streaming reads Parquet prediction files; {not_parquet} "
                                 "is not: convert it, or raise --memory-budget MB")
    return check
