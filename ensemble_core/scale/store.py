"""The prediction store: a folder of Parquet prediction files, one per model, filled shard by shard.

``STORE/<model name>.parquet`` is a prediction file (the ``id`` column when the data has
one, then one probability column per class), the same file the ``score`` command writes
for one model; ``evaluate --labels DATA --predictions STORE/*.parquet`` reads a store.

While a model is scored, each finished shard is written to
``STORE/.parts/<model name>-<fingerprint>/part-NNNNN.parquet`` (atomically: written under
another name, then renamed), and that file is the shard's marker: a run that stopped
part-way (killed, a worker lost) and is started again scores only the shards without
one. The fingerprint covers the model's content, the data's bytes and every scoring
option, so parts of another model or data are never reused. When every shard of a model
is done the parts become the model's prediction file and are removed; a ``.done`` marker
with the same fingerprint then lets a rerun skip the model.

Examples
--------
>>> result = score_to_store([spec_for("lr.skops"), spec_for("bert")], "test.csv", "store",
...                         engine=LocalEngine())  # doctest: +SKIP
>>> result.files  # doctest: +SKIP
(PosixPath('store/lr.parquet'), PosixPath('store/bert.parquet'))
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .._validation import EnsembleInputError
from .engines import Engine, ScoreOptions, Shard, ShardResult, split_shards

if TYPE_CHECKING:
    from ..models.spec import ModelSpec

#: Rows per shard unless asked otherwise: large enough that a shard's overhead (a task,
#: a Parquet part) is small next to scoring it, small enough that a lost shard costs little.
DEFAULT_SHARD_ROWS = 10_000
PARTS_FOLDER = ".parts"
DONE_SUFFIX = ".done"


@dataclass(frozen=True)
class StoreResult:
    """What a run wrote: each model's prediction file, the rows, and the shards it scored
    (``scored``: those not found done from an earlier run), per model in the specs' order."""

    files: tuple[Path, ...]
    n_rows: int
    n_shards: int
    scored: tuple[int, ...]


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_fingerprint(spec: ModelSpec) -> str:
    """The SHA-256 of a model's content: its file's bytes, or the directory's content hash
    (the one its loader kind declares)."""
    from .. import registry

    path = Path(spec.path)
    if path.is_dir():
        return registry.loader(spec.kind).content_hash(path)
    return _hash_file(path)


def _fingerprint(spec: ModelSpec, data_hash: str, options: ScoreOptions, shard_rows: int) -> str:
    from ..io import label_key

    blob = json.dumps({
        "model": model_fingerprint(spec), "kind": spec.kind, "data": data_hash, "shard_rows": shard_rows,
        "classes": None if options.classes is None else [label_key(c) for c in options.classes],
        "text_column": options.text_column, "feature_columns": options.feature_columns,
        "batch_size": options.batch_size,
    }, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _done_marker(parts: Path) -> Path:
    """The marker of a model's finished parts folder (a name's dots are not a suffix)."""
    return parts.parent / f"{parts.name}{DONE_SUFFIX}"


def _part_path(folder: Path, index: int) -> Path:
    return folder / f"part-{index:05d}.parquet"


def _write_part(folder: Path, result: ShardResult) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({key: result.probas[:, j] for j, key in enumerate(result.classes)})
    final = _part_path(folder, result.index)
    tmp = final.with_suffix(".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, final)


def _read_parts(folder: Path, n_shards: int):
    import numpy as np
    import pyarrow.parquet as pq

    tables = [pq.read_table(_part_path(folder, i)) for i in range(n_shards)]
    classes = tuple(tables[0].column_names)
    probas = np.concatenate([np.column_stack([t.column(k).to_numpy() for k in classes]) for t in tables])
    return classes, probas.astype(np.float32, copy=False)


def score_to_store(
    specs: Sequence[ModelSpec],
    data: str | Path,
    out: str | Path,
    *,
    engine: Engine,
    text_column: str | None = None,
    feature_columns: Sequence[str] | None = None,
    batch_size: int | None = None,
    shard_rows: int = DEFAULT_SHARD_ROWS,
    on_shard: Callable[[str, int], None] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> StoreResult:
    """Score every model over a dataset into a prediction store, resuming an earlier run.

    Parameters
    ----------
    specs : the models (their names must differ: each names its file)
    data : a labels file (``label`` column) or unlabelled rows, CSV or Parquet
    out : the store folder (created if missing)
    engine : :class:`~.engines.LocalEngine` or :class:`~.engines.RayEngine`
    text_column, feature_columns, batch_size : as for ``score_model``
    shard_rows : rows per shard (the unit of work and of resuming)
    on_shard : called as ``on_shard(model name, shard index)`` after each shard scored is saved
    progress : called as ``progress(model name, rows done, rows)`` when a model starts and after
        each shard (rows done counts the shards an earlier run finished)

    Returns
    -------
    StoreResult

    Raises
    ------
    EnsembleInputError
        On repeated model names, unreadable data, or what ``score_model`` refuses.
    """
    from ..io import check_unique_model_names, write_predictions
    from ..models.cli import read_scoring_data

    names = [s.options.name for s in specs]
    check_unique_model_names(names, [s.path for s in specs])
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise EnsembleInputError(f"{out}: a prediction store is a folder; this is a file")
    content, classes, ids, y_true = read_scoring_data(str(data))
    shards = split_shards(content, rows=shard_rows)
    data_hash = _hash_file(Path(data))
    options = ScoreOptions(
        classes=None if classes is None else tuple(classes), text_column=text_column,
        feature_columns=None if feature_columns is None else tuple(feature_columns), batch_size=batch_size,
    )
    files, scored = [], []
    for spec, name in zip(specs, names):
        fingerprint = _fingerprint(spec, data_hash, options, shard_rows)
        parts = out / PARTS_FOLDER / f"{name}-{fingerprint}"
        done = _done_marker(parts)
        target = out / f"{name}.parquet"
        files.append(target)
        if done.is_file() and target.is_file():
            scored.append(0)
            if progress is not None:
                progress(name, len(content), len(content))
            continue
        parts.mkdir(parents=True, exist_ok=True)
        todo: list[Shard] = [s for s in shards if not _part_path(parts, s.index).is_file()]
        by_index = {s.index: s for s in todo}
        rows_done = len(content) - sum(len(s.data) for s in todo)
        if progress is not None:
            progress(name, rows_done, len(content))
        for result in engine.map_shards(spec, options, todo):
            _write_part(parts, result)
            rows_done += len(by_index[result.index].data)
            if on_shard is not None:
                on_shard(name, result.index)
            if progress is not None:
                progress(name, rows_done, len(content))
        scored.append(len(todo))
        keys, probas = _read_parts(parts, len(shards))
        write_predictions(target, list(classes) if classes is not None else list(keys), probas=probas, ids=ids)
        done.write_text(fingerprint + "\n")
        shutil.rmtree(parts)
    return StoreResult(tuple(files), len(content), len(shards), tuple(scored))


@dataclass(frozen=True)
class StoredModel:
    """One model's prediction file in a store, as its Parquet footer describes it."""

    name: str
    path: Path
    n_rows: int
    classes: tuple[str, ...]
    has_ids: bool
    size_bytes: int


@dataclass(frozen=True)
class UnfinishedRun:
    """A model whose scoring stopped part-way: ``shards_done`` parts wait under ``folder``
    for a rerun with the same model, data and options (its ``fingerprint``)."""

    name: str
    fingerprint: str
    shards_done: int
    folder: Path


@dataclass(frozen=True)
class StoreContents:
    """What a prediction store holds: its models' files and its unfinished runs."""

    folder: Path
    models: tuple[StoredModel, ...]
    unfinished: tuple[UnfinishedRun, ...]

    @property
    def n_rows(self) -> int | None:
        """The rows every model has, or None when they differ (or there is no model)."""
        rows = {m.n_rows for m in self.models}
        return rows.pop() if len(rows) == 1 else None

    @property
    def memory_bytes(self) -> int:
        """The models' probabilities in memory as float32 (what loading them whole takes)."""
        return sum(m.n_rows * len(m.classes) * 4 for m in self.models)


def store_contents(folder: str | Path) -> StoreContents:
    """Describe a prediction store from its files' footers and markers, reading no rows.

    Parameters
    ----------
    folder : the store (the ``--out`` of ``score``)

    Returns
    -------
    StoreContents, the models in name order

    Raises
    ------
    EnsembleInputError
        If ``folder`` is not a folder, or a ``.parquet`` file in it is not Parquet.

    Examples
    --------
    >>> contents = store_contents("store")  # doctest: +SKIP
    >>> [(m.name, m.n_rows) for m in contents.models], contents.unfinished  # doctest: +SKIP
    ([('bert', 1000000), ('lr', 1000000)], ())
    """
    import pyarrow.parquet as pq

    from ..io import ID_COLUMN, header_names, model_name

    folder = Path(folder)
    if not folder.is_dir():
        raise EnsembleInputError(f"{folder}: {'not a folder' if folder.exists() else 'no such folder'}")
    models = []
    for path in sorted(folder.glob("*.parquet")):
        if not path.is_file():
            continue
        names = header_names(path)  # refuses absurd footers before pyarrow reads them
        if names is None:
            raise EnsembleInputError(f"{path}: not a Parquet file")
        rows = pq.ParquetFile(path).metadata.num_rows
        models.append(StoredModel(model_name(path), path, rows, tuple(n for n in names if n != ID_COLUMN),
                                  ID_COLUMN in names, path.stat().st_size))
    unfinished = []
    parts_root = folder / PARTS_FOLDER
    if parts_root.is_dir():
        for parts in sorted(p for p in parts_root.iterdir() if p.is_dir()):
            name, _, fingerprint = parts.name.rpartition("-")
            if name and not _done_marker(parts).is_file():
                unfinished.append(UnfinishedRun(name, fingerprint, len(list(parts.glob("part-*.parquet"))), parts))
    return StoreContents(folder, tuple(models), tuple(unfinished))
