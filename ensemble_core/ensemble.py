"""The ensemble evaluator: everything that does not depend on the weights is
computed once; a re-weighting is one pass over the probability array.

Examples
--------
>>> import numpy as np
>>> from ensemble_core import PredictionSet, EnsembleEvaluator
>>> p = np.array([[[0.9, 0.1], [0.4, 0.6]], [[0.6, 0.4], [0.2, 0.8]]], dtype=np.float32)
>>> ev = EnsembleEvaluator(PredictionSet(p, np.array([0, 1]), np.array(["a", "b"]), ("m1", "m2")))
>>> ev.evaluate("soft", [3, 1]).metrics.accuracy
1.0

Each strategy is one entry of :data:`~ensemble_core.registry.STRATEGY_SPECS`; its
``evaluate_path`` names its step here (:func:`soft_rows`, :func:`hard_rows`,
:func:`geometric_rows`, :func:`stacking_rows`): ``(evaluator, weights, *, meta, folds,
seed) -> Combined``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from . import registry
from ._lazy import Lazy
from ._validation import EnsembleInputError, check_weights
from .combine import log_probas, model_labels, output_block, soft_vote
from .decision import LOG_POOL_ATOL, decide
from .labels_only import dominance, dominance_note, is_labels_only, one_hot
from .metrics import ClassifierMetrics, classifier_metrics, metrics_from_rows
from .predictions import PredictionSet
from .stacking import cross_fit_stacking, make_meta_learner

#: Rows of the ensemble's output (rows × classes) finished at a time, at most: each block
#: stays in cache while its top class is taken, it is normalised (geometric) and its
#: per-example statistics are read (see :class:`~ensemble_core.combine.ClassMajorBlock`).
BLOCK_ROWS = 8192
#: Cells (rows × classes) per block at most, so that blocks stay cache-sized with many classes.
BLOCK_CELLS = 8192 * 10


@dataclass(frozen=True, eq=False)
class EnsembleResult:
    """The ensemble's predictions and metrics for one strategy and set of weights.

    Attributes
    ----------
    strategy : str
    weights : ndarray of shape (n_models,) or None
        Normalised weights; None for stacking, which ignores weights.
    y_pred : ndarray of shape (n_samples,), class indices
    probas : ndarray of shape (n_samples, n_classes)
        Probabilities (soft, geometric, stacking out-of-fold) or vote shares (hard).
    has_probas : bool
        False for hard voting: ``probas`` are vote shares and log loss is None.
    metrics : ClassifierMetrics
    gain : float
        Ensemble accuracy minus the best single model's.
    fixes, breaks : int
        Examples the ensemble gets right and the best single model wrong, and the reverse.
    notes : tuple of str
        Things the user should know (weights ignored by stacking, say).
    warnings : tuple of str
        Things that make the numbers mislead: a labels-only model that decides the
        combination alone (:func:`~ensemble_core.labels_only.dominance`).
    labels_only : tuple of str
        The labels-only models whose (label-smoothed) rows enter this combination: those with
        a positive weight, or all for stacking; none for hard voting, which reads only labels.
    """

    strategy: str
    weights: np.ndarray | None
    y_pred: np.ndarray
    probas: np.ndarray
    has_probas: bool
    metrics: ClassifierMetrics
    gain: float
    fixes: int
    breaks: int
    notes: tuple[str, ...] = ()
    labels_only: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


class EnsembleEvaluator:
    """Evaluate strategies and weights over one :class:`PredictionSet`.

    Learned at construction (weights-independent): each model's labels and
    metrics, the best single model, oracle accuracy and disagreement rate.
    Log-probabilities (geometric) and stacking predictions are computed on first
    use and kept.

    Thread-safe: the dashboard shares one evaluator between browser sessions. Nothing
    changes after construction except those two, and each is built once, under a lock
    (:class:`~ensemble_core._lazy.Lazy`), however many threads ask for it at once.
    """

    def __init__(self, pset: PredictionSet) -> None:
        self.pset = pset
        y = pset.y_true
        self.labels_ = model_labels(pset.probas)
        self.correct_ = self.labels_ == y[None, :]
        labels_only = is_labels_only(pset)
        # A labels-only model is scored on the labels it gave (one-hot), not on its smoothed row.
        self.model_metrics_: dict[str, ClassifierMetrics] = {
            name: classifier_metrics(y, self.labels_[m],
                                     one_hot(self.labels_[m], pset.n_classes) if labels_only[m] else pset.probas[m],
                                     has_probas=not labels_only[m])
            for m, name in enumerate(pset.names)
        }
        acc = self.correct_.mean(axis=1)
        self.best_index_ = int(np.argmax(acc))
        self.best_name_ = pset.names[self.best_index_]
        self.best_accuracy_ = float(acc[self.best_index_])
        self.oracle_accuracy_ = float(self.correct_.any(axis=0).mean())
        self.disagreement_rate_ = float((self.labels_ != self.labels_[:1]).any(axis=0).mean())
        self._log_p: Lazy[np.ndarray] = Lazy(partial(log_probas, pset.probas))
        self._stacked: dict[tuple[str, int, int], Lazy[np.ndarray]] = {}
        self._stacked_lock = threading.Lock()  # guards the dict; each entry builds under its own

    @property
    def log_probas_(self) -> np.ndarray:
        """Clipped log-probabilities, shape (n_models, n_samples, n_classes), computed once."""
        return self._log_p.get()

    def stacked_probas(self, *, meta="logistic", folds: int = 5, seed: int = 0) -> np.ndarray:
        """Out-of-fold stacked probabilities, computed once per (meta, folds, seed); settings
        asked for at the same time by different threads are fitted side by side.

        ``meta``: a built-in meta-learner's name or an unfitted scikit-learn classifier
        (see :func:`~ensemble_core.stacking.make_meta_learner`; an instance is keyed by
        identity: change its parameters and pass a new one).
        """
        key = (meta, folds, seed)
        with self._stacked_lock:
            entry = self._stacked.get(key)
            if entry is None:
                p = self.pset
                entry = self._stacked[key] = Lazy(partial(
                    cross_fit_stacking, p.probas, p.y_true, p.classes, meta=meta, folds=folds, seed=seed
                ))
        return entry.get()

    def _weights_for(self, spec: registry.StrategySpec, weights) -> np.ndarray | None:
        """Normalised weights, or None for a strategy that ignores them (which still
        refuses malformed weights)."""
        if spec.uses_weights:
            return check_weights(weights, self.pset.n_models)
        if weights is not None:
            check_weights(weights, self.pset.n_models)
        return None

    def by_blocks(self, out: np.ndarray, finish: Callable[[object, slice], np.ndarray]) -> Combined:
        """Finish the ensemble's output ``out`` (n_samples × n_classes, float32) block by
        block while each block is in cache: ``finish(block, rows)`` loads the rows into the
        block (:func:`~ensemble_core.combine.output_block`) and returns their top classes;
        each example's statistics for the metrics are then read from the loaded block.

        For a few classes a block is finished class-major
        (:class:`~ensemble_core.combine.ClassMajorBlock`: NumPy's row-wise argmax over a
        few classes costs more than the weighted sum itself), row-wise for many.
        """
        p = self.pset
        n, k = p.n_samples, p.n_classes
        y_pred = np.empty(n, dtype=np.intp)
        confidence, p_true, sum_sq = (np.empty(n, dtype=np.float32) for _ in range(3))
        step = max(1, min(BLOCK_ROWS, BLOCK_CELLS // k, n))
        block = output_block(k, step)
        for start in range(0, n, step):
            rows = slice(start, min(start + step, n))
            y_pred[rows] = finish(block, rows)
            block.row_stats(rows.stop - start, y_pred[rows], p.y_true[rows],
                            out=(confidence[rows], p_true[rows], sum_sq[rows]))
        return Combined(y_pred, out, {"confidence": confidence, "p_true": p_true, "sum_sq": sum_sq})

    def evaluate(
        self,
        strategy: str = "soft",
        weights=None,
        *,
        meta="logistic",
        folds: int = 5,
        seed: int = 0,
    ) -> EnsembleResult:
        """Combine and score. Stacking numbers are out-of-fold (see :mod:`.stacking`).

        A re-weighting (hard, soft, geometric) reads the probability array (for
        hard voting, the models' labels) once.

        Parameters
        ----------
        strategy : a name in :data:`~ensemble_core.registry.STRATEGIES`
        weights : one non-negative number per model (normalised here); None for equal
            weights; ignored (but checked) by strategies that learn their own
        meta : stacking's meta-learner: a name in
            :data:`~ensemble_core.registry.META_LEARNERS` or an unfitted scikit-learn
            classifier (cloned, as ``StackingClassifier`` does with ``final_estimator``)
        """
        try:
            spec = registry.strategy(strategy)
        except KeyError:
            raise EnsembleInputError(
                f"unknown strategy {strategy!r}; expected one of {', '.join(registry.STRATEGIES)}"
            ) from None
        w = self._weights_for(spec, weights)
        p = self.pset
        y = p.y_true
        labels_only = is_labels_only(p)
        # A combination of labels-only models alone has no log loss: its probabilities would be ε's.
        has_probas = spec.has_probabilities and not (
            spec.uses_weights and labels_only[w > 0].all()
        )
        combined = spec.evaluate()(self, w, meta=meta, folds=folds, seed=seed)
        y_pred, probas = combined.y_pred, combined.probas
        if combined.row_stats is None:
            metrics = classifier_metrics(y, y_pred, probas, has_probas=has_probas)
        else:
            metrics = metrics_from_rows(
                y, y_pred, n_classes=p.n_classes, has_probas=has_probas, **combined.row_stats
            )
        correct = y_pred == y
        best = self.correct_[self.best_index_]
        notes = []
        if not spec.uses_weights and weights is not None:
            notes.append(f"{strategy} ignores the weights: the meta-learner learns how to combine the models")
        notes += combined.notes
        # Hard voting reads only labels: there a labels-only model is like any other.
        taking_part = (labels_only if w is None else labels_only & (w > 0)) & spec.has_probabilities
        warnings = []
        if spec.uses_weights and taking_part.any():
            warnings = [dominance_note(p.names[d.model], d, p.smoothing)
                        for d in dominance(self.labels_, labels_only, w, y_pred, n_classes=p.n_classes)]
        return EnsembleResult(
            strategy=strategy,
            weights=w,
            y_pred=y_pred,
            probas=probas,
            has_probas=has_probas,
            metrics=metrics,
            gain=metrics.accuracy - self.best_accuracy_,
            fixes=int(np.count_nonzero(correct & ~best)),
            breaks=int(np.count_nonzero(~correct & best)),
            notes=tuple(notes),
            labels_only=tuple(p.names[m] for m in np.flatnonzero(taking_part)),
            warnings=tuple(warnings),
        )


@dataclass(frozen=True, eq=False)
class Combined:
    """What one strategy's evaluator step returns.

    Attributes
    ----------
    y_pred : ndarray of shape (n_samples,), class indices
    probas : ndarray of shape (n_samples, n_classes), probabilities or vote shares
    row_stats : dict of arrays of shape (n_samples,) or None
        ``confidence``, ``p_true`` and ``sum_sq`` for
        :func:`~ensemble_core.metrics.metrics_from_rows` when read on the way; None: the
        metrics are computed from ``probas``.
    notes : tuple of str
    """

    y_pred: np.ndarray
    probas: np.ndarray
    row_stats: dict | None
    notes: tuple[str, ...] = ()


def _output(evaluator: EnsembleEvaluator) -> np.ndarray:
    return np.empty((evaluator.pset.n_samples, evaluator.pset.n_classes), dtype=np.float32)


def soft_rows(evaluator: EnsembleEvaluator, weights: np.ndarray, **_) -> Combined:
    """Soft voting: the weighted sum over the whole (C-contiguous) array in one BLAS
    matrix-vector product (on an idle machine as fast as ``probas.sum()``, twice as fast as
    summing model by model per block: 26 ms against 55 ms at 1M × 10 × 10, the sum 25 ms),
    then the top class block by block."""
    out = soft_vote(evaluator.pset.probas, weights, out=_output(evaluator))

    def finish(block, rows: slice) -> np.ndarray:
        block.load(out[rows])
        return block.top_class(rows.stop - rows.start)

    return evaluator.by_blocks(out, finish)


def geometric_rows(evaluator: EnsembleEvaluator, weights: np.ndarray, **_) -> Combined:
    """Geometric voting: the weighted mean log-probabilities (one product, as soft voting),
    decided on them with :data:`~ensemble_core.decision.LOG_POOL_ATOL` (as the landscape
    does), then normalised block by block."""
    out = soft_vote(evaluator.log_probas_, weights, out=_output(evaluator))

    def finish(block, rows: slice) -> np.ndarray:
        m = rows.stop - rows.start
        block.load(out[rows])
        top = block.top_class(m, atol=LOG_POOL_ATOL)
        block.normalise_log_pool(m)
        return top

    return evaluator.by_blocks(out, finish)


def hard_rows(evaluator: EnsembleEvaluator, weights: np.ndarray, **_) -> Combined:
    """Hard voting: each block's weighted vote shares from the models' labels."""
    out = _output(evaluator)

    def finish(block, rows: slice) -> np.ndarray:
        return block.load_votes(evaluator.labels_[:, rows], weights, out[rows])

    return evaluator.by_blocks(out, finish)


def stacking_rows(evaluator: EnsembleEvaluator, weights: None, *, meta="logistic", folds: int = 5,
                  seed: int = 0) -> Combined:
    """Stacking: out-of-fold probabilities of the meta-learner (computed once and kept)."""
    make_meta_learner(meta, seed=seed)  # an unknown name fails before any work
    probas = evaluator.stacked_probas(meta=meta, folds=folds, seed=seed)
    note = f"stacking metrics are out-of-fold ({folds}-fold cross-fitting, seed {seed})"
    return Combined(decide(probas), probas, None, (note,))
