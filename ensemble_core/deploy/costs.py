"""What a model costs to run: measured when ``score`` runs it, or entered by the user.

A cost is kept in a JSON **sidecar** next to the prediction file: ``rf.csv`` (or
``rf.csv.gz``, ``rf.parquet``) has ``rf.cost.json``::

    {"name": "rf", "ms_per_1000": 12.5, "batch_size": 2048, "n_rows": 400,
     "peak_memory_bytes": 1048576, "memory_method": "ru_maxrss delta",
     "size_bytes": 52311, "source": "measured", "machine": "x86_64, 2 CPUs"}

``ms_per_1000``: wall-clock milliseconds per 1,000 examples of the whole scoring call
(batches of ``batch_size``) on ``machine``. ``peak_memory_bytes``: how much the process's
peak resident set (``getrusage`` ``ru_maxrss``) grew while scoring — a lower bound on the
scoring's peak memory (0 when the process had already been that large), null where the
platform has no ``ru_maxrss``. ``size_bytes``: the model file's size (a directory: its
files' total). ``source``: ``"measured"`` or ``"entered"`` (typed by the user; only
``ms_per_1000`` is then known).

:func:`model_cost` is the one rule that decides a model's cost: a cost the user entered
wins, then a sidecar, else none.
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, TypeVar

from .._validation import EnsembleInputError

T = TypeVar("T")

#: The sidecar's name ends so: ``NAME.cost.json``.
SIDECAR_SUFFIX = ".cost.json"
#: A sidecar is small: refuse anything larger before reading it.
MAX_SIDECAR_BYTES = 64 * 1024


@dataclass(frozen=True)
class ModelCost:
    """One model's cost to run.

    Attributes
    ----------
    name : the model's name
    ms_per_1000 : milliseconds per 1,000 examples
    source : ``"measured"`` (by ``score``) or ``"entered"`` (by the user)
    batch_size, n_rows : the measurement's batch size and number of rows (None if entered)
    peak_memory_bytes : growth of the process's peak RSS while scoring (None: not measured)
    memory_method : how the memory was measured (``"ru_maxrss delta"``) or None
    size_bytes : the model's size on disk (None: unknown)
    machine : where it was measured
    """

    name: str
    ms_per_1000: float
    source: Literal["measured", "entered"]
    batch_size: int | None = None
    n_rows: int | None = None
    peak_memory_bytes: int | None = None
    memory_method: str | None = None
    size_bytes: int | None = None
    machine: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def sidecar_path(prediction_file: str | Path) -> Path:
    """Where a prediction file's cost is kept.

    Examples
    --------
    >>> sidecar_path("preds/rf.csv.gz").as_posix()
    'preds/rf.cost.json'
    """
    from ..io import model_name

    path = Path(prediction_file)
    return path.with_name(model_name(path) + SIDECAR_SUFFIX)


def size_on_disk(path: str | Path) -> int:
    """Bytes of a model file, or of every file under a model directory."""
    path = Path(path)
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _machine() -> str:
    return f"{platform.machine() or 'unknown'}, {os.cpu_count() or '?'} CPUs"


def _peak_rss_bytes() -> int | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if platform.system() == "Darwin" else peak * 1024  # Linux reports KiB


def measure_call(run: Callable[[], T], *, name: str, n_rows: int, batch_size: int,
                 model_path: str | Path | None = None) -> tuple[T, ModelCost]:
    """Run ``run()`` (a scoring of ``n_rows`` rows) and measure it.

    Returns
    -------
    (what ``run`` returned, :class:`ModelCost` with ``source="measured"``)

    Examples
    --------
    >>> out, cost = measure_call(lambda: sum(range(1000)), name="toy", n_rows=1000, batch_size=1000)
    >>> cost.source, cost.batch_size, cost.ms_per_1000 >= 0
    ('measured', 1000, True)
    """
    if n_rows < 1:
        raise EnsembleInputError(f"{name}: cannot measure a cost on {n_rows} rows")
    before = _peak_rss_bytes()
    started = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - started
    after = _peak_rss_bytes()
    cost = ModelCost(
        name=name,
        ms_per_1000=seconds * 1000.0 * 1000.0 / n_rows,
        source="measured",
        batch_size=int(batch_size),
        n_rows=int(n_rows),
        peak_memory_bytes=None if before is None else max(0, after - before),
        memory_method=None if before is None else "ru_maxrss delta",
        size_bytes=None if model_path is None else size_on_disk(model_path),
        machine=_machine(),
    )
    return result, cost


def write_cost(prediction_file: str | Path, cost: ModelCost) -> Path:
    """Write ``cost`` to the prediction file's sidecar; returns the sidecar's path."""
    path = sidecar_path(prediction_file)
    path.write_text(json.dumps(cost.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def read_cost(prediction_file: str | Path) -> ModelCost | None:
    """The cost in the prediction file's sidecar, or None when it has none.

    Raises
    ------
    EnsembleInputError
        On a sidecar that is not a small JSON object with a non-negative ``ms_per_1000``.
    """
    path = sidecar_path(prediction_file)
    if not path.is_file():
        return None
    if path.stat().st_size > MAX_SIDECAR_BYTES:
        raise EnsembleInputError(f"{path}: a cost sidecar is at most {MAX_SIDECAR_BYTES} bytes")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise EnsembleInputError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise EnsembleInputError(f"{path}: expected a JSON object")
    ms = _cost_number(data.get("ms_per_1000"), f"{path}: 'ms_per_1000'")
    source = data.get("source", "entered")
    if source not in ("measured", "entered"):
        raise EnsembleInputError(f"{path}: 'source' must be 'measured' or 'entered'; got {source!r}")
    fields = {k: data.get(k) for k in ("batch_size", "n_rows", "peak_memory_bytes", "memory_method",
                                       "size_bytes", "machine")}
    for key in ("batch_size", "n_rows", "peak_memory_bytes", "size_bytes"):
        if fields[key] is not None and (not isinstance(fields[key], int) or fields[key] < 0):
            raise EnsembleInputError(f"{path}: {key!r} must be a whole number >= 0 or null; got {fields[key]!r}")
    for key in ("memory_method", "machine"):
        if fields[key] is not None and not isinstance(fields[key], str):
            raise EnsembleInputError(f"{path}: {key!r} must be text or null")
    return ModelCost(name=str(data.get("name", "")), ms_per_1000=ms, source=source, **fields)


def _cost_number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise EnsembleInputError(f"{where} must be a finite number >= 0; got {value!r}")
    return float(value)


def parse_costs(text: str) -> dict[str, float]:
    """``--costs name=ms,...``: milliseconds per 1,000 examples by model name.

    Examples
    --------
    >>> parse_costs("rf=12.5, knn=3")
    {'rf': 12.5, 'knn': 3.0}
    >>> parse_costs("rf")
    Traceback (most recent call last):
    ...
    ensemble_core._validation.EnsembleInputError: --costs: expected name=ms pairs like rf=12.5,knn=3; got 'rf'
    """
    costs: dict[str, float] = {}
    for item in text.split(","):
        name, equals, value = item.strip().rpartition("=")
        name = name.strip()
        try:
            number = float(value) if equals and name else None
        except ValueError:
            number = None
        if number is None:
            raise EnsembleInputError(f"--costs: expected name=ms pairs like rf=12.5,knn=3; got {item.strip()!r}")
        if name in costs:
            raise EnsembleInputError(f"--costs: names model {name!r} twice")
        costs[name] = _cost_number(number, f"--costs: {name}")
    return costs


def model_cost(name: str, prediction_file: str | Path | None = None,
               entered: Mapping[str, float] | None = None) -> ModelCost | None:
    """The one rule for a model's cost: what the user entered for ``name``, else the
    prediction file's sidecar, else None (unknown).

    Examples
    --------
    >>> model_cost("rf", None, {"rf": 4.0})
    ModelCost(name='rf', ms_per_1000=4.0, source='entered', batch_size=None, n_rows=None, peak_memory_bytes=None, memory_method=None, size_bytes=None, machine=None)
    >>> model_cost("knn", None, {"rf": 4.0}) is None
    True
    """
    if entered and name in entered:
        return ModelCost(name=name, ms_per_1000=float(entered[name]), source="entered")
    if prediction_file is not None:
        cost = read_cost(prediction_file)
        if cost is not None:
            return ModelCost(**{**cost.to_dict(), "name": name})
    return None


def costs_for(names: list[str] | tuple[str, ...], prediction_files, entered: Mapping[str, float] | None = None
              ) -> list[ModelCost]:
    """Every model's cost by :func:`model_cost`; refuses an entered name that is no model and a
    model without a cost, naming it.

    Raises
    ------
    EnsembleInputError
    """
    entered = dict(entered or {})
    unknown = sorted(set(entered) - set(names))
    if unknown:
        raise EnsembleInputError(f"--costs names {unknown[0]!r}, which is not a loaded model; models: {', '.join(names)}")
    files = list(prediction_files) if prediction_files is not None else [None] * len(names)
    out = []
    for name, file in zip(names, files):
        cost = model_cost(name, file, entered)
        if cost is None:
            where = f" (no {sidecar_path(file)})" if file is not None else ""
            raise EnsembleInputError(
                f"no cost for model {name!r}{where}: score it with 'ensemble-explorer score' or pass --costs {name}=MS"
            )
        out.append(cost)
    return out
