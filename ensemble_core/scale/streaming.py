"""Streaming evaluation: the soft vote's metrics over prediction files read by row groups.

A prediction store's files (:mod:`.store`) hold the labels file's rows in its order; here
they and the labels file's ``label`` and ``id`` columns are read a batch of rows at a time,
never whole, joined row by row, and every metric is accumulated
from per-row statistics (the ones :func:`~ensemble_core.metrics.metrics_from_rows` takes):
confusion matrices, the sums behind log loss and Brier, ECE's per-bin gaps, the rows each
model or the ensemble gets right (fixes and breaks against every model, the oracle) and
the rows the models disagree on. Memory: one batch of every file at a time, whatever
the files' size.

The numbers equal :class:`~ensemble_core.EnsembleEvaluator`'s on the same files: counts
exactly, sums in float64 in another order to about 1e-12, the Brier score to float32
rounding (each row's sum of squares is a float32 sum, for the ensemble over the classes
in the evaluator's own order).

Examples
--------
>>> result = stream_soft_evaluation("test.csv", ["store/lr.parquet", "store/bert.parquet"],
...                                 batch_rows=100_000)  # doctest: +SKIP
>>> result.ensemble.accuracy, result.best_name, result.fixes, result.breaks  # doctest: +SKIP
(0.912, 'bert', 31, 12)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._validation import EnsembleInputError
from ..io import fixed_batches, read_key_columns
from ..metrics import ECE_BINS, LOG_LOSS_EPS, ClassifierMetrics, macro_f1_from_confusion


@dataclass
class RowSums:
    """Running sums of one classifier's per-row statistics, enough for every metric."""

    n_classes: int
    n: int = 0
    nll: float = 0.0
    p_true: float = 0.0
    sum_sq: float = 0.0
    confusion: np.ndarray = field(default=None)  # type: ignore[assignment]
    ece_gap: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.confusion = np.zeros((self.n_classes, self.n_classes), dtype=np.int64)
        self.ece_gap = np.zeros(ECE_BINS, dtype=np.float64)

    def add(self, y_true: np.ndarray, y_pred: np.ndarray, probas: np.ndarray) -> None:
        """Add a batch: labels (m,), decisions (m,), probabilities (m, n_classes)."""
        rows = np.arange(len(y_true))
        p_true = probas[rows, y_true].astype(np.float64)
        confidence = probas[rows, y_pred].astype(np.float64)
        self.n += len(y_true)
        self.nll += float(-np.log(np.clip(p_true, LOG_LOSS_EPS, 1.0)).sum())
        self.p_true += float(p_true.sum())
        # Each row's sum of squares in the probabilities' dtype, as the evaluator takes it.
        self.sum_sq += float(np.einsum("ij,ij->i", probas, probas).sum(dtype=np.float64))
        self.confusion += np.bincount(y_true * self.n_classes + y_pred,
                                      minlength=self.n_classes ** 2).reshape(self.n_classes, -1)
        bins = np.minimum((confidence * ECE_BINS).astype(np.intp), ECE_BINS - 1)
        self.ece_gap += np.bincount(bins, weights=(y_pred == y_true) - confidence, minlength=ECE_BINS)

    def metrics(self) -> ClassifierMetrics:
        """The metrics of every row added so far."""
        brier = self.sum_sq / self.n - 2.0 * self.p_true / self.n + 1.0
        return ClassifierMetrics(
            accuracy=float(np.trace(self.confusion) / self.n), macro_f1=macro_f1_from_confusion(self.confusion),
            log_loss=self.nll / self.n, brier=brier / 2.0 if self.n_classes == 2 else brier,
            ece=float(np.abs(self.ece_gap).sum() / self.n), confusion_matrix=self.confusion.copy(),
        )


def _label_classes(path: Path, rows: int) -> tuple[tuple[str, ...], int]:
    """The labels file's classes' keys in class order and its rows, from its ``label`` column
    read ``rows`` at a time (the first pass: classes are sorted, so every label is seen first)."""
    import pandas as pd

    from ..io import LABEL_COLUMN, _key_codes, check_labels, label_key, ordered_classes

    first_rows: dict[str, int] = {}  # each key's first row, in order of first appearance
    n = 0
    for chunk in read_key_columns(path, [LABEL_COLUMN], rows=rows):
        if LABEL_COLUMN not in chunk.columns:
            raise EnsembleInputError(f"{path}: no 'label' column; streaming evaluates labelled rows")
        check_labels(path, chunk[LABEL_COLUMN], first_row=n + 1)
        codes, keys = _key_codes(chunk[LABEL_COLUMN])
        _, first = np.unique(codes, return_index=True)
        for key, row in zip(keys, first):
            first_rows.setdefault(key, n + int(row) + 1)
        n += len(chunk)
    keys = pd.Index(list(first_rows), dtype=object).to_numpy()
    classes, _ = ordered_classes(path, keys, lambda i: first_rows[keys[i]])
    return tuple(label_key(c) for c in classes), n


def _id_mismatch(path: Path, labels: Path, ids, label_ids, start: int) -> EnsembleInputError | None:
    """The error for the first row whose id differs from the labels file's, or None when all
    agree (compared in Arrow as written, then as keys: no Python object per row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from ..io import ID_COLUMN, _id_keys

    raw = pa.array(ids, type=pa.large_string(), from_pandas=True) if ids.dtype.kind in "OUST" else None
    if raw is not None and raw.null_count == 0 and pc.all(pc.equal(raw, label_ids)).as_py():
        return None
    keys = _id_keys(path, ids, first_row=start + 1)
    same = pc.equal(keys, label_ids).to_numpy(zero_copy_only=False)
    if same.all():
        return None
    row = int(np.flatnonzero(~same)[0])
    return EnsembleInputError(
        f"{path}: row {start + row + 1}: {ID_COLUMN} {keys[row].as_py()!r} where {labels.name} has "
        f"{label_ids[row].as_py()!r}; --stream joins the files row by row and needs the labels file's row "
        "order (a prediction store's): evaluate without --stream joins by id"
    )


@dataclass(frozen=True)
class StreamedEvaluation:
    """The soft vote's evaluation, accumulated batch by batch (``classes``: the class keys)."""

    names: tuple[str, ...]
    classes: tuple[str, ...]
    models: tuple[ClassifierMetrics, ...]
    ensemble: ClassifierMetrics
    best_name: str
    fixes: int
    breaks: int
    oracle_accuracy: float
    disagreement_rate: float
    n_rows: int
    weights: tuple[float, ...]


def stream_soft_evaluation(
    labels: str | Path,
    predictions: Sequence[str | Path],
    weights: Sequence[float] | None = None,
    *,
    batch_rows: int = 65_536,
) -> StreamedEvaluation:
    """Evaluate the soft vote of Parquet prediction files without holding any file in memory.

    The labels file is read twice, ``batch_rows`` rows of its ``label`` and ``id`` columns at a
    time: once for its classes (sorted, so every label must be seen first), then beside the
    prediction files, whose rows are joined to the labels' by position. Every file's ``id``,
    where both have one, must then equal the labels file's on each row; the first row where it
    does not is refused (files in another order need ``evaluate`` without ``--stream``, which
    joins by id in memory). Repeated ids are not looked for: that needs every id in memory.

    Parameters
    ----------
    labels : the labels file, CSV or Parquet (its other columns are never read)
    predictions : Parquet prediction files in the labels file's row order (a prediction store's),
        one probability column per class
    weights : one per model (default equal); normalised to sum 1
    batch_rows : rows read from every file at a time; memory grows with it, not with the files

    Raises
    ------
    EnsembleInputError
        On a file that is not Parquet, whose columns are not the labels' classes, that holds
        other rows or ids than the labels file, or rows that are not probabilities (checked as
        ``evaluate`` checks them, batch by batch).
    """
    import pyarrow.parquet as pq

    from ..combine import soft_vote
    from ..decision import decide
    from ..io import (
        ID_COLUMN, LABEL_COLUMN, PREDICTION_COLUMN, _id_keys, _read_probability_columns, class_columns,
        class_indices, model_name,
    )

    labels = Path(labels)
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 1:
        raise EnsembleInputError(f"batch_rows must be a positive integer; got {batch_rows!r}")
    names = tuple(model_name(p) for p in predictions)
    w = np.full(len(predictions), 1.0 / len(predictions)) if weights is None else np.asarray(weights, float)
    if len(w) != len(predictions) or (w < 0).any() or w.sum() <= 0:
        raise EnsembleInputError(f"weights: expected {len(predictions)} non-negative weights, not all 0; got {list(w)}")
    w = w / w.sum()
    keys, n = _label_classes(labels, batch_rows)
    k = len(keys)
    readers = []
    for path in map(Path, predictions):
        if not path.name.lower().endswith((".parquet", ".pq")):
            raise EnsembleInputError(f"{path}: streaming reads Parquet prediction files (a prediction store)")
        file = pq.ParquetFile(path, pre_buffer=False)  # no read-ahead: see fixed_batches
        present = [c.strip() for c in file.schema_arrow.names]
        if PREDICTION_COLUMN in present:
            raise EnsembleInputError(f"{path}: hard labels (a 'prediction' column) are not streamed; "
                                     "give probabilities, or evaluate without --stream")
        columns = class_columns(path, [c for c in present if c != ID_COLUMN], keys)
        if file.metadata.num_rows != n:
            raise EnsembleInputError(f"{path}: {file.metadata.num_rows} rows; {labels.name} has {n}")
        with_ids = ID_COLUMN in present
        readers.append((path, columns, with_ids, fixed_batches(file, ([ID_COLUMN] if with_ids else []) + columns,
                                                               batch_rows)))
    sums = [RowSums(k) for _ in predictions]
    ensemble = RowSums(k)
    fixes = np.zeros(len(predictions), dtype=np.int64)
    breaks = np.zeros(len(predictions), dtype=np.int64)
    oracle = disagree = 0
    probas = np.empty((len(predictions), min(batch_rows, n), k), dtype=np.float32)
    for chunk in read_key_columns(labels, [LABEL_COLUMN, ID_COLUMN], rows=batch_rows):
        start, m = int(chunk.index[0]), len(chunk)
        y = class_indices(labels, LABEL_COLUMN, chunk[LABEL_COLUMN], keys)
        label_ids = _id_keys(labels, chunk[ID_COLUMN], first_row=start + 1) if ID_COLUMN in chunk.columns else None
        for j, (path, columns, with_ids, batches) in enumerate(readers):
            frame = next(batches).to_pandas()
            if label_ids is not None and with_ids:
                mismatch = _id_mismatch(path, labels, frame[ID_COLUMN], label_ids, start)
                if mismatch is not None:
                    raise mismatch
            _read_probability_columns(path, frame, columns, probas[j, :m], first_row=start + 1)
        batch = probas[:, :m]
        decided = np.stack([decide(p) for p in batch])
        correct = decided == y
        for j, p in enumerate(batch):
            sums[j].add(y, decided[j], p)
        combined = soft_vote(batch, w)
        pred = decide(combined)
        ensemble.add(y, pred, combined)
        right = pred == y
        fixes += (right & ~correct).sum(axis=1)
        breaks += (~right & correct).sum(axis=1)
        oracle += int(correct.any(axis=0).sum())
        disagree += int((decided != decided[:1]).any(axis=0).sum())
    models = tuple(s.metrics() for s in sums)
    best = int(np.argmax([m.accuracy for m in models]))
    return StreamedEvaluation(names, keys, models, ensemble.metrics(), names[best], int(fixes[best]),
                              int(breaks[best]), oracle / n, disagree / n, n, tuple(float(x) for x in w))


def stream_refusal(args) -> str | None:
    """The first option of ``evaluate``'s ``args`` a streamed evaluation cannot do, or None."""
    return next((flag for flag, value in (
        ("--strategy other than soft", args.strategy not in (None, "soft")), ("--optimize", args.optimize),
        ("--calibrate", args.calibrate), ("--temperature-scale", args.temperature_scale), ("--config", args.config),
        ("--slice-by", args.slice_by), ("--out", args.out), ("--save-meta", args.save_meta), ("--names", args.names),
        ("--weights by name", isinstance(args.weights, dict)),
    ) if value), None)


def streamed_report(args) -> dict:
    """``evaluate --stream``: the report of :func:`stream_soft_evaluation` with the keys of
    ``evaluate``'s report that a stream can give (no intervals, no McNemar test).

    Raises
    ------
    EnsembleInputError
        On an option a streamed evaluation does not take.
    """
    refused = stream_refusal(args)
    if refused:
        raise EnsembleInputError(f"--stream evaluates the soft vote with fixed weights; it does not take {refused}")
    result = stream_soft_evaluation(args.labels, args.predictions, args.weights, batch_rows=args.batch_rows)
    best = result.names.index(result.best_name)
    return {
        "strategy": "soft", "n_samples": result.n_rows,
        "classes": list(result.classes),
        "weights": list(result.weights), "names": list(result.names), **result.ensemble.to_dict(),
        "models": {name: m.to_dict() for name, m in zip(result.names, result.models)},
        "best_single": {"name": result.best_name, "accuracy": result.models[best].accuracy},
        "gain_over_best": result.ensemble.accuracy - result.models[best].accuracy,
        "oracle_accuracy": result.oracle_accuracy, "disagreement_rate": result.disagreement_rate,
        "fixes": result.fixes, "breaks": result.breaks,
        "notes": [f"streamed {args.batch_rows:,} rows at a time: no confidence intervals or McNemar test"],
    }
