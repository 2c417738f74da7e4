"""Engines: where the shards of a dataset are scored, behind one seam.

An engine takes a picklable :class:`~ensemble_core.models.spec.ModelSpec`, the scoring
options and a list of :class:`Shard` (consecutive rows of the dataset) and yields one
:class:`ShardResult` per shard, in the order they finish. Each worker (this process for
:class:`LocalEngine`, every actor of :class:`RayEngine`) loads the model once from its
spec, with every check :func:`~ensemble_core.models.loading.load_model` makes, and scores
its shards with :func:`~ensemble_core.models.scoring.score_model`: the numbers are the
local ``score`` command's.

Examples
--------
>>> import pandas as pd
>>> shards = split_shards(pd.DataFrame({"text": ["a", "b", "c"]}), rows=2)
>>> [(s.index, s.start, len(s.data)) for s in shards]
[(0, 0, 2), (1, 2, 1)]
>>> engine = LocalEngine()
>>> results = engine.map_shards(spec_for("lr.skops"), ScoreOptions(), shards)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .._validation import EnsembleInputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from ..models.spec import ModelSpec


@dataclass(frozen=True)
class ScoreOptions:
    """How every shard is scored (the arguments of
    :func:`~ensemble_core.models.scoring.score_model` besides the model and the rows).

    ``classes``: the dataset's classes in output order, or None to take the model's own
    (unlabelled data)."""

    classes: tuple[object, ...] | None = None
    text_column: str | None = None
    feature_columns: tuple[str, ...] | None = None
    batch_size: int | None = None


@dataclass(frozen=True)
class Shard:
    """Rows ``start .. start + len(data)`` of the dataset, the ``index``-th shard."""

    index: int
    start: int
    data: pd.DataFrame


@dataclass(frozen=True)
class ShardResult:
    """A scored shard: ``classes`` (the output columns' class keys) and ``probas`` of shape
    (len(shard.data), len(classes)), float32, in the shard's row order."""

    index: int
    classes: tuple[str, ...]
    probas: np.ndarray


def split_shards(data: pd.DataFrame, *, rows: int) -> list[Shard]:
    """The dataset cut into consecutive shards of ``rows`` rows (the last may be shorter).

    Raises
    ------
    EnsembleInputError
        If ``rows`` is not a positive integer.
    """
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise EnsembleInputError(f"rows per shard must be a positive integer; got {rows!r}")
    return [Shard(i, start, data.iloc[start:start + rows]) for i, start in enumerate(range(0, len(data), rows))]


class ShardScorer:
    """Loads a model once from its spec and scores shards with it (one per worker)."""

    def __init__(self, spec: ModelSpec, options: ScoreOptions) -> None:
        self.model = spec.load()
        self.options = options

    def score(self, shard: Shard) -> ShardResult:
        """The shard's probabilities, as :func:`~ensemble_core.models.scoring.score_model` gives them."""
        from ..io import label_key
        from ..models.scoring import score_model

        classes = self.options.classes if self.options.classes is not None else tuple(self.model.classes)
        probas = score_model(
            self.model, shard.data, classes=classes, text_column=self.options.text_column,
            feature_columns=None if self.options.feature_columns is None else list(self.options.feature_columns),
            batch_size=self.options.batch_size,
        )
        return ShardResult(shard.index, tuple(label_key(c) for c in classes), probas)

    def close(self) -> None:
        """Release the model's resources (an ONNX worker process)."""
        close = getattr(self.model, "close", None)
        if close is not None:
            close()


class Engine(Protocol):
    """The seam: score shards of a dataset with a model named by a spec."""

    def map_shards(self, spec: ModelSpec, options: ScoreOptions, shards: Sequence[Shard]) -> Iterator[ShardResult]:
        """One result per shard, in the order they finish."""
        ...


class LocalEngine:
    """Scores the shards in this process, one after another."""

    def map_shards(self, spec: ModelSpec, options: ScoreOptions, shards: Sequence[Shard]) -> Iterator[ShardResult]:
        """One result per shard, in shard order; the model is loaded only if there is a shard."""
        if not shards:
            return
        scorer = ShardScorer(spec, options)
        try:
            for shard in shards:
                yield scorer.score(shard)
        finally:
            scorer.close()


def _import_ray():
    try:
        import ray
    except ImportError:
        raise EnsembleInputError(
            "the ray engine needs Ray: pip install 'ensemble-explorer[scale]'"
        ) from None
    return ray


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _user_error(exc: BaseException) -> EnsembleInputError | None:
    """The EnsembleInputError a Ray error wraps (a task's, or an actor's that failed to load), if any."""
    seen = set()
    while isinstance(exc, BaseException) and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, EnsembleInputError):
            return exc
        exc = getattr(exc, "cause", None) or exc.__cause__
    return None


class RayEngine:
    """Scores the shards on a pool of Ray actors, each loading the model once from its spec.

    Parameters
    ----------
    address : None to start Ray in this process (``num_cpus`` CPUs, default every usable
        core; no dashboard), ``"auto"`` or ``"HOST:PORT"`` to join a running cluster
        (started with ``ray start --head``). Ray already initialised in this process is used
        as it is.
    workers : actors per model (default: one per CPU of the cluster, at most one per shard)
    num_cpus : CPUs of a Ray started here
    num_gpus : GPUs per actor (0: CPU only; give 1 on a cluster of GPU workers so that each
        transformers actor gets its own GPU)

    Every worker machine needs ensemble-explorer (with its ``scale`` extra) installed and
    the model files at the path the spec names.
    """

    def __init__(self, address: str | None = None, *, workers: int | None = None,
                 num_cpus: int | None = None, num_gpus: float = 0) -> None:
        self.address = address
        self.workers = workers
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus

    def _ray(self):
        ray = _import_ray()
        if not ray.is_initialized():
            import logging

            if self.address is None:
                # Local workers import the ensemble_core this process runs (a checkout or
                # an installed package alike).
                root = str(Path(__file__).resolve().parents[2])
                path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
                ray.init(address="local", num_cpus=self.num_cpus or usable_cores(), include_dashboard=False,
                         logging_level=logging.WARNING, runtime_env={"env_vars": {"PYTHONPATH": path}})
            else:
                ray.init(address=self.address, logging_level=logging.WARNING)
        return ray

    def map_shards(self, spec: ModelSpec, options: ScoreOptions, shards: Sequence[Shard]) -> Iterator[ShardResult]:
        """One result per shard, in the order the actors finish them."""
        if not shards:
            return
        ray = self._ray()
        from ray.exceptions import RayActorError, RayTaskError
        from ray.util import ActorPool

        n = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        actor = ray.remote(num_cpus=1, num_gpus=self.num_gpus)(ShardScorer)
        actors = [actor.remote(spec, options) for _ in range(min(n, len(shards)))]
        pool = ActorPool(actors)
        try:
            yield from pool.map_unordered(lambda a, shard: a.score.remote(shard), list(shards))
        except (RayTaskError, RayActorError) as exc:
            # A user error in a worker (a bad column, a model that is no classifier) reads
            # as it does locally: one line, exit status 2.
            cause = _user_error(exc)
            if cause is not None:
                raise EnsembleInputError(str(cause)) from None
            raise
        finally:
            for a in actors:
                try:
                    ray.get(a.close.remote(), timeout=30)
                except Exception:  # noqa: BLE001 - the actor is killed next whatever happened
                    pass
                ray.kill(a)
