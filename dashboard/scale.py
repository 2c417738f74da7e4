"""The Prediction store page's actions: score models into a store on the local engine, and
evaluate a store streamed, with paths read only under :func:`~.sources.local_root`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ensemble_core import EnsembleInputError
from ensemble_core.scale.store import StoreContents, StoreResult, store_contents
from ensemble_core.scale.streaming import StreamedEvaluation

from .sources import DataSource, FileEntry, path_under_root


def store_here(folder: str) -> StoreContents | None:
    """The store at ``folder`` (under the root), or None when nothing is there yet.

    Raises
    ------
    EnsembleInputError
        On a path outside the root, a file, or a ``.parquet`` file that is not Parquet.
    """
    real = path_under_root(folder.strip())
    return store_contents(real) if real.exists() else None


def score_into_store(
    models: str,
    data: str,
    folder: str,
    *,
    text_column: str | None,
    shard_rows: int,
    progress: Callable[[str, int, int, int], None],
) -> StoreResult:
    """Score each model (one path a line) over ``data`` into the store ``folder`` on the local engine.

    ``progress(model name, model number from 0, rows done, rows)`` after each shard. A run
    that stopped resumes (the store's parts). Pickle files are refused (the page cannot vouch
    for them); the command line's ``score --trust-pickle`` takes them.

    Raises
    ------
    EnsembleInputError
        On a path outside the root, no model, or what ``score`` refuses.
    """
    from ensemble_core.models.loading import model_name_for
    from ensemble_core.models.spec import spec_for
    from ensemble_core.scale.engines import LocalEngine
    from ensemble_core.scale.store import score_to_store

    paths = [line.strip() for line in models.splitlines() if line.strip()]
    if not paths:
        raise EnsembleInputError("give at least one model path (one a line)")
    if not data.strip():
        raise EnsembleInputError("give the data file to score")
    specs = []
    for path in paths:
        real = path_under_root(path)
        if not real.exists():
            raise EnsembleInputError(f"{path}: no such file or folder")
        # Read at its real location; a file keeps the name it was given (a symlink's, not its target's).
        specs.append(spec_for(real, name=model_name_for(real if real.is_dir() else Path(path))))
    order = {spec.options.name: i for i, spec in enumerate(specs)}
    return score_to_store(specs, path_under_root(data.strip()), path_under_root(folder.strip()),
                          engine=LocalEngine(), text_column=text_column or None, shard_rows=shard_rows,
                          progress=lambda name, done, total: progress(name, order[name], done, total))


def evaluate_store(labels: str, contents: StoreContents, *, batch_rows: int = 65_536) -> StreamedEvaluation:
    """The soft vote (equal weights) of every model of a store, streamed against ``labels``.

    Raises
    ------
    EnsembleInputError
        On a path outside the root, an empty store, or what ``evaluate --stream`` refuses.
    """
    from ensemble_core.scale.streaming import stream_soft_evaluation

    if not contents.models:
        raise EnsembleInputError(f"{contents.folder}: no model in this store yet")
    if not labels.strip():
        raise EnsembleInputError("give the labels file the store was scored on")
    return stream_soft_evaluation(path_under_root(labels.strip()), [m.path for m in contents.models],
                                  batch_rows=batch_rows)


def sample_rows_for(contents: StoreContents, budget_mb: float) -> int | None:
    """The rows of the stratified sample a store opens on, or None when it fits ``budget_mb``
    whole: :data:`~ensemble_core.registry.STORE_SAMPLE_ROWS`, or fewer when the budget holds fewer."""
    from ensemble_core import registry
    from ensemble_core.scale.budget import budget_bytes

    budget = budget_bytes(budget_mb)
    if contents.memory_bytes <= budget or not contents.n_rows:
        return None
    per_row = contents.memory_bytes // contents.n_rows
    return max(1, min(registry.STORE_SAMPLE_ROWS, budget // per_row))


def store_sample_source(labels: str, contents: StoreContents, rows: int) -> DataSource:
    """A source holding a stratified sample (by label) of ``rows`` rows of the store, its files
    in memory; its title says how many of how many examples.

    Raises
    ------
    EnsembleInputError
        On a path outside the root, or what the sample refuses.
    """
    from ensemble_core.scale.sample import sample_store

    if not labels.strip():
        raise EnsembleInputError("give the labels file the store was scored on")
    sample = sample_store(path_under_root(labels.strip()), [m.path for m in contents.models], rows)
    return DataSource(
        "upload", f"Sample of {sample.n_sampled:,} of {sample.n_rows:,} examples (stratified by label) of {contents.folder.name}",
        FileEntry("labels.parquet", data=sample.labels),
        tuple(FileEntry(name, data=data) for name, data in sample.predictions),
    )
