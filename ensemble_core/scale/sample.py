"""A stratified sample of a prediction store, drawn in bounded memory, to explore a store larger than memory.

The labels file is read twice, a batch of rows at a time: once to count each label's rows,
then to pick, within each label, rows drawn uniformly without replacement (the sample keeps
each label's share, every label at least once). The prediction files are then read side by
side, a batch at a time, keeping only the rows picked. Memory: the sample and one batch.

Examples
--------
>>> sample = sample_store("test.csv", ["store/lr.parquet", "store/bert.parquet"], 20_000)  # doctest: +SKIP
>>> f"{sample.n_sampled:,} of {sample.n_rows:,} examples"  # doctest: +SKIP
'20,000 of 1,000,000 examples'
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._validation import EnsembleInputError


def allocate(counts: Sequence[int], size: int) -> np.ndarray:
    """Rows to draw per label: ``size`` in all, in proportion to ``counts`` (largest remainders),
    each label at least once (taken from the largest share).

    >>> allocate([900, 90, 10], 100).tolist()
    [90, 9, 1]
    >>> allocate([1000, 1, 1], 10).tolist()
    [8, 1, 1]
    """
    counts = np.asarray(counts, dtype=np.int64)
    if size >= counts.sum():
        return counts.copy()
    if size < len(counts):
        raise EnsembleInputError(f"a stratified sample of {size:,} rows cannot hold each of the {len(counts)} labels")
    share = counts * size / counts.sum()
    take = np.floor(share).astype(np.int64)
    order = np.argsort(-(share - take), kind="stable")
    take[order[: size - take.sum()]] += 1
    for j in np.flatnonzero(take == 0):  # every label at least once, taken from the largest
        take[j] = 1
        take[np.argmax(take)] -= 1
    return take


def stratified_rows(labels: str | Path, size: int, *, seed: int = 0, batch_rows: int = 65_536) -> tuple[np.ndarray, int]:
    """The row numbers (from 0, ascending) of a stratified sample of ``size`` rows of a labels
    file, and the file's rows; all rows when it has no more than ``size``.

    Raises
    ------
    EnsembleInputError
        On a file without a ``label`` column, or ``size`` smaller than its labels' number.
    """
    from ..io import LABEL_COLUMN, read_key_columns

    labels = Path(labels)
    counts: dict[object, int] = {}
    for chunk in read_key_columns(labels, [LABEL_COLUMN], rows=batch_rows):
        if LABEL_COLUMN not in chunk.columns:
            raise EnsembleInputError(f"{labels}: no 'label' column; a stratified sample needs labels")
        for key, c in chunk[LABEL_COLUMN].value_counts(sort=False, dropna=False).items():
            counts[key] = counts.get(key, 0) + int(c)
    keys = list(counts)
    n = sum(counts.values())
    if size >= n:
        return np.arange(n), n
    rng = np.random.default_rng(seed)
    take = allocate([counts[k] for k in keys], size)
    # Each label's chosen ranks among its own rows, in file order.
    chosen = {k: np.sort(rng.choice(counts[k], t, replace=False)) for k, t in zip(keys, take)}
    seen = dict.fromkeys(keys, 0)
    picked = []
    for chunk in read_key_columns(labels, [LABEL_COLUMN], rows=batch_rows):
        column = chunk[LABEL_COLUMN]
        for key, rows in column.groupby(column, sort=False, dropna=False).indices.items():
            ranks = seen[key] + np.arange(len(rows))
            picked.append(chunk.index.to_numpy()[rows[np.isin(ranks, chosen[key])]])
            seen[key] += len(rows)
    return np.sort(np.concatenate(picked)), n


@dataclass(frozen=True)
class StoreSample:
    """A sample of a store as Parquet files in memory: the labels' ``id`` and ``label`` columns,
    and one prediction file per model (``(file name, bytes)``), the rows ``rows`` of ``n_rows``."""

    n_rows: int
    rows: np.ndarray = field(repr=False)
    labels: bytes = field(repr=False)
    predictions: tuple[tuple[str, bytes], ...] = field(repr=False)

    @property
    def n_sampled(self) -> int:
        return len(self.rows)


def _rows_of(batches, rows: np.ndarray):
    """The tables' rows at ``rows`` (ascending, counted across the batches), one table."""
    import pyarrow as pa

    kept, start = [], 0
    for table in batches:
        lo, hi = np.searchsorted(rows, [start, start + table.num_rows])
        if hi > lo:
            kept.append(table.take(pa.array(rows[lo:hi] - start)))
        start += table.num_rows
    return pa.concat_tables(kept)


def _parquet_bytes(table) -> bytes:
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def sample_store(
    labels: str | Path, predictions: Sequence[str | Path], size: int, *, seed: int = 0, batch_rows: int = 65_536,
) -> StoreSample:
    """A stratified sample (by label) of ``size`` rows of a labels file and its Parquet prediction
    files (in its row order, a store's), read in bounded memory.

    Parameters
    ----------
    labels : the labels file (CSV or Parquet); only its ``id`` and ``label`` columns are kept
    predictions : the store's Parquet prediction files
    size : rows in the sample (all rows when the file has no more)
    seed : the draw's seed
    batch_rows : rows read at a time

    Raises
    ------
    EnsembleInputError
        On a prediction file that is not Parquet or holds another number of rows.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..io import ID_COLUMN, LABEL_COLUMN, fixed_batches, read_key_columns

    rows, n = stratified_rows(labels, size, seed=seed, batch_rows=batch_rows)
    label_table = _rows_of((pa.Table.from_pandas(c, preserve_index=False)
                            for c in read_key_columns(labels, [ID_COLUMN, LABEL_COLUMN], rows=batch_rows)), rows)
    files = []
    for path in map(Path, predictions):
        if not path.name.lower().endswith((".parquet", ".pq")):
            raise EnsembleInputError(f"{path}: a store's sample reads Parquet prediction files")
        file = pq.ParquetFile(path, pre_buffer=False)
        if file.metadata.num_rows != n:
            raise EnsembleInputError(f"{path}: {file.metadata.num_rows} rows; {Path(labels).name} has {n}")
        files.append((f"{path.stem}.parquet",
                      _parquet_bytes(_rows_of(fixed_batches(file, file.schema_arrow.names, batch_rows), rows))))
    return StoreSample(n, rows, _parquet_bytes(label_table), tuple(files))
