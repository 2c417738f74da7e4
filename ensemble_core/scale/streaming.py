"""Streaming evaluation: the soft vote's metrics over prediction files read by row groups.

A prediction store's files (:mod:`.store`) hold the labels file's rows in its order; here
they are read a batch of rows at a time, never whole, and every metric is accumulated
from per-row statistics (the ones :func:`~ensemble_core.metrics.metrics_from_rows` takes):
confusion matrices, the sums behind log loss and Brier, ECE's per-bin gaps, the rows each
model or the ensemble gets right (fixes and breaks against every model, the oracle) and
the rows the models disagree on. Memory: one batch of every file at a time.

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


def _fixed_batches(file, columns: list[str], rows: int):
    """The file's columns in tables of exactly ``rows`` rows (the last may be shorter), whatever
    its row groups: every file of a store then yields the same rows at each step."""
    import pyarrow as pa

    pending, held = [], 0
    for batch in file.iter_batches(batch_size=rows, columns=columns):
        pending.append(batch)
        held += batch.num_rows
        while held >= rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield pa.Table.from_batches(pending)


def _same_ids(got, want) -> bool:
    """Whether two Arrow id columns hold the same strings in the same order (a null never matches)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(got) != len(want):
        return False
    return pc.all(pc.equal(got.cast(pa.large_string()), want.cast(pa.large_string())), skip_nulls=False).as_py() is True


@dataclass(frozen=True)
class StreamedEvaluation:
    """The soft vote's evaluation, accumulated batch by batch."""

    names: tuple[str, ...]
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
    """Evaluate the soft vote of Parquet prediction files without holding them in memory.

    Parameters
    ----------
    labels : the labels file (read whole: its labels and ids)
    predictions : Parquet prediction files in the labels file's row order (a prediction store's)
    weights : one per model (default equal); normalised to sum 1
    batch_rows : rows read from every file at a time

    Raises
    ------
    EnsembleInputError
        On a file that is not Parquet, lacks a class column, holds other ids or rows in
        another order than the labels file, or rows that are not probabilities.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..combine import soft_vote
    from ..decision import decide
    from ..io import ID_COLUMN, SUM_TOLERANCE, LabelsFile, model_name

    truth = LabelsFile(labels)
    keys, n, k = list(truth.keys), len(truth.y_true), len(truth.keys)
    names = tuple(model_name(p) for p in predictions)
    w = np.full(len(predictions), 1.0 / len(predictions)) if weights is None else np.asarray(weights, float)
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 1:
        raise EnsembleInputError(f"batch_rows must be a positive integer; got {batch_rows!r}")
    if len(w) != len(predictions) or (w < 0).any() or w.sum() <= 0:
        raise EnsembleInputError(f"weights: expected {len(predictions)} non-negative weights, not all 0; got {list(w)}")
    w = w / w.sum()
    readers = []
    for path in predictions:
        if not str(path).lower().endswith((".parquet", ".pq")):
            raise EnsembleInputError(f"{path}: streaming reads Parquet prediction files (a prediction store)")
        file = pq.ParquetFile(path)
        absent = [c for c in keys if c not in file.schema_arrow.names]
        if absent:
            raise EnsembleInputError(f"{path}: no probability column {', '.join(map(repr, absent))}")
        if file.metadata.num_rows != n:
            raise EnsembleInputError(f"{path}: {file.metadata.num_rows} rows; the labels file has {n}")
        columns = ([ID_COLUMN] if truth.ids is not None else []) + keys
        readers.append((path, _fixed_batches(file, columns, batch_rows)))
    # Compared in Arrow, batch by batch (no Python object per row).
    label_ids = None if truth.ids is None else pa.array(np.asarray(truth.ids, dtype=str))
    sums = [RowSums(k) for _ in predictions]
    ensemble = RowSums(k)
    fixes = np.zeros(len(predictions), dtype=np.int64)
    breaks = np.zeros(len(predictions), dtype=np.int64)
    oracle = disagree = 0
    start = 0
    while start < n:
        blocks = []
        for path, batches in readers:
            batch = next(batches)
            stop = start + batch.num_rows
            if label_ids is not None and not _same_ids(batch.column(ID_COLUMN), label_ids.slice(start, stop - start)):
                raise EnsembleInputError(f"{path}: rows {start + 1}-{stop}: ids differ from the labels file's "
                                         "(streaming needs the labels file's row order, as a prediction store has)")
            p = np.column_stack([batch.column(c).to_numpy(zero_copy_only=False) for c in keys]).astype(np.float32)
            bad = ~np.isfinite(p).all(axis=1) | (p < 0).any(axis=1) | (p > 1).any(axis=1)
            bad |= np.abs(p.sum(axis=1, dtype=np.float64) - 1.0) > SUM_TOLERANCE
            if bad.any():
                raise EnsembleInputError(f"{path}: row {start + int(np.flatnonzero(bad)[0]) + 1}: "
                                         f"not probabilities (each in [0, 1], summing to 1 ±{SUM_TOLERANCE:g})")
            blocks.append(p)
        y = truth.y_true[start:start + len(blocks[0])]
        probas = np.stack(blocks)
        labels_ = np.stack([decide(p) for p in probas])
        correct = labels_ == y
        for m, p in enumerate(probas):
            sums[m].add(y, labels_[m], p)
        combined = soft_vote(probas, w)
        pred = decide(combined)
        ensemble.add(y, pred, combined)
        right = pred == y
        fixes += (right & ~correct).sum(axis=1)
        breaks += (~right & correct).sum(axis=1)
        oracle += int(correct.any(axis=0).sum())
        disagree += int((labels_ != labels_[:1]).any(axis=0).sum())
        start += len(y)
    models = tuple(s.metrics() for s in sums)
    best = int(np.argmax([m.accuracy for m in models]))
    return StreamedEvaluation(names, models, ensemble.metrics(), names[best], int(fixes[best]), int(breaks[best]),
                              oracle / n, disagree / n, n, tuple(float(x) for x in w))


def streamed_report(args) -> dict:
    """``evaluate --stream``: the report of :func:`stream_soft_evaluation` with the keys of
    ``evaluate``'s report that a stream can give (no intervals, no McNemar test).

    Raises
    ------
    EnsembleInputError
        On an option a streamed evaluation does not take.
    """
    from ..io import LabelsFile, label_key

    refused = [flag for flag, value in (
        ("--strategy other than soft", args.strategy not in (None, "soft")), ("--optimize", args.optimize),
        ("--calibrate", args.calibrate), ("--temperature-scale", args.temperature_scale), ("--config", args.config), ("--slice-by", args.slice_by),
        ("--out", args.out), ("--save-meta", args.save_meta), ("--names", args.names),
        ("--weights by name", isinstance(args.weights, dict)),
    ) if value]
    if refused:
        raise EnsembleInputError(f"--stream evaluates the soft vote with fixed weights; it does not take {refused[0]}")
    result = stream_soft_evaluation(args.labels, args.predictions, args.weights, batch_rows=args.batch_rows)
    best = result.names.index(result.best_name)
    return {
        "strategy": "soft", "n_samples": result.n_rows,
        "classes": [label_key(c) for c in LabelsFile(args.labels).classes],
        "weights": list(result.weights), "names": list(result.names), **result.ensemble.to_dict(),
        "models": {name: m.to_dict() for name, m in zip(result.names, result.models)},
        "best_single": {"name": result.best_name, "accuracy": result.models[best].accuracy},
        "gain_over_best": result.ensemble.accuracy - result.models[best].accuracy,
        "oracle_accuracy": result.oracle_accuracy, "disagreement_rate": result.disagreement_rate,
        "fixes": result.fixes, "breaks": result.breaks,
        "notes": [f"streamed {args.batch_rows:,} rows at a time: no confidence intervals or McNemar test"],
    }
