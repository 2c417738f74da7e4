"""Accuracy, macro-F1, log loss, Brier score, calibration error, confusion matrix.

Labels are class indices in ``[0, n_classes)``; probabilities have shape
``(n_samples, n_classes)``. Each function is one vectorised pass and agrees
with its ``sklearn.metrics`` counterpart (see tests/test_metrics.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .decision import decide

#: Probabilities of the true class are clipped here before the log.
LOG_LOSS_EPS = 1e-15
ECE_BINS = 10


def accuracy_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of examples predicted correctly."""
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts with rows = true class, columns = predicted class.

    Returns
    -------
    ndarray of shape (n_classes, n_classes), int64
    """
    cell = np.multiply(y_true, n_classes, dtype=np.intp)
    cell += y_pred  # in place: no second 1M-sized temporary
    flat = np.bincount(cell, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes)


def macro_f1_from_confusion(cm: np.ndarray) -> float:
    """Unweighted mean F1 over the classes that occur as a true or predicted label."""
    tp = np.diag(cm).astype(np.float64)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    denom = 2 * tp + fp + fn
    present = denom > 0
    if not present.any():
        return 0.0
    return float(np.mean(2 * tp[present] / denom[present]))


def macro_f1_score(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """Macro-averaged F1, as ``sklearn.metrics.f1_score(average="macro")``."""
    return macro_f1_from_confusion(confusion_matrix(y_true, y_pred, n_classes))


def true_class_probas(y_true: np.ndarray, probas: np.ndarray) -> np.ndarray:
    """The probability each example gives its true class, shape (n_samples,)."""
    return np.take_along_axis(probas, y_true[:, None], axis=1)[:, 0]


def mean_nll(p_true: np.ndarray, *, axis: int | None = None) -> np.ndarray | float:
    """Mean negative log-likelihood of the true class: ``-mean(log(clip(p, LOG_LOSS_EPS, 1)))``.

    The one place log loss is computed from true-class probabilities (the metrics, the
    weight search, the landscape). The logs are taken in ``p_true``'s own floating dtype
    (float32 stays float32, for speed; pass float64 for the metrics' precision), the
    mean in float64.

    Parameters
    ----------
    p_true : ndarray of any shape, each example's probability of its true class
    axis : the axis of the examples (None: all)

    Examples
    --------
    >>> float(mean_nll(np.array([1.0, np.exp(-2.0)])))
    1.0
    >>> mean_nll(np.array([[0.5, 0.25], [0.5, 0.25]]), axis=0).round(4)
    array([0.6931, 1.3863])
    """
    p = np.clip(p_true, LOG_LOSS_EPS, 1.0)
    np.log(p, out=p)
    return -np.mean(p, axis=axis, dtype=np.float64)


def _log_loss_from_rows(p_true: np.ndarray) -> float:
    return float(mean_nll(p_true.astype(np.float64)))


def log_loss(y_true: np.ndarray, probas: np.ndarray) -> float:
    """Mean negative log-probability of the true class (natural log)."""
    return _log_loss_from_rows(true_class_probas(y_true, probas))


def _brier_from_rows(sum_sq: np.ndarray, p_true: np.ndarray, n_classes: int) -> float:
    """Brier score from each row's sum of squared probabilities and true-class probability."""
    score = float(np.mean(sum_sq, dtype=np.float64) - 2.0 * np.mean(p_true, dtype=np.float64) + 1.0)
    return score / 2.0 if n_classes == 2 else score


def brier_score_loss(y_true: np.ndarray, probas: np.ndarray) -> float:
    """Brier score with scikit-learn's convention.

    Multiclass: mean over examples of the squared distance between the
    probability vector and the one-hot truth (range 0–2). Binary: half of that,
    i.e. the mean squared error of the positive-class probability (range 0–1).
    """
    sum_sq = np.einsum("ij,ij->i", probas, probas, dtype=np.float64)
    return _brier_from_rows(sum_sq, true_class_probas(y_true, probas), probas.shape[1])


def _ece_from_rows(confidence: np.ndarray, correct: np.ndarray, n_bins: int) -> float:
    """ECE from each example's top-label confidence and whether that label is right."""
    conf = confidence.astype(np.float64)
    bins = np.multiply(conf, n_bins).astype(np.intp)
    np.minimum(bins, n_bins - 1, out=bins)
    gap = np.bincount(bins, weights=np.subtract(correct, conf, out=conf), minlength=n_bins)
    return float(np.abs(gap).sum() / len(conf))


def expected_calibration_error(
    y_true: np.ndarray, probas: np.ndarray, *, n_bins: int = ECE_BINS
) -> float:
    """Top-label expected calibration error over equal-width confidence bins.

    ECE = sum over bins of (share of examples in the bin) × |accuracy − mean confidence|.
    """
    pred = decide(probas)
    return _ece_from_rows(probas.max(axis=1), pred == y_true, n_bins)


def calibration_curve(
    y_true: np.ndarray, probas: np.ndarray, *, n_bins: int = ECE_BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bin mean confidence, accuracy and count (for reliability diagrams).

    Empty bins hold NaN confidence and accuracy.
    """
    conf = probas.max(axis=1).astype(np.float64)
    correct = (decide(probas) == y_true).astype(np.float64)
    bins = np.minimum((conf * n_bins).astype(np.intp), n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(bins, weights=conf, minlength=n_bins) / count
        acc = np.bincount(bins, weights=correct, minlength=n_bins) / count
    return mean_conf, acc, count


@dataclass(frozen=True, eq=False)
class ClassifierMetrics:
    """The metrics of one classifier (a model or the ensemble) on the labelled rows.

    ``log_loss`` is None where the classifier gives no probabilities (hard labels,
    hard voting). Brier score and ECE then use its one-hot predictions or vote shares.
    """

    accuracy: float
    macro_f1: float
    log_loss: float | None
    brier: float
    ece: float
    confusion_matrix: np.ndarray

    def to_dict(self) -> dict:
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "log_loss": self.log_loss,
            "brier": self.brier,
            "ece": self.ece,
            "confusion_matrix": self.confusion_matrix.tolist(),
        }


def classifier_metrics(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    probas: np.ndarray,
    *,
    has_probas: bool = True,
) -> ClassifierMetrics:
    """All metrics of one classifier, from one pass of row statistics.

    The top-label confidence is read at ``y_pred`` (no second argmax), so ECE
    uses the classifier's own decisions (a hard vote's tie rule included).

    Parameters
    ----------
    y_true, y_pred : ndarray of shape (n_samples,), int
    probas : ndarray of shape (n_samples, n_classes)
        Probabilities, or one-hot rows / vote shares when ``has_probas`` is False.
    has_probas : bool
        Whether ``probas`` are real probabilities (log loss is reported only then).
    """
    rows = np.arange(probas.shape[0])
    return metrics_from_rows(
        y_true,
        y_pred,
        confidence=probas[rows, y_pred],
        p_true=probas[rows, y_true],
        sum_sq=np.einsum("ij,ij->i", probas, probas),
        n_classes=probas.shape[1],
        has_probas=has_probas,
    )


def metrics_from_rows(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    confidence: np.ndarray,
    p_true: np.ndarray,
    sum_sq: np.ndarray,
    n_classes: int,
    has_probas: bool = True,
) -> ClassifierMetrics:
    """All metrics from per-example statistics, without the probability matrix.

    Every metric needs only these four numbers per example, so a caller that
    produces the probabilities block by block (see :class:`~ensemble_core.EnsembleEvaluator`)
    can take them while each block is still in cache.

    Parameters
    ----------
    y_true, y_pred : ndarray of shape (n_samples,), int
    confidence : ndarray of shape (n_samples,)
        The probability (or vote share) of the predicted class.
    p_true : ndarray of shape (n_samples,)
        The probability (or vote share) of the true class.
    sum_sq : ndarray of shape (n_samples,)
        Each row's sum of squared probabilities (for the Brier score).
    n_classes : int
    has_probas : bool
        Whether these come from real probabilities (log loss is reported only then).
    """
    cm = confusion_matrix(y_true, y_pred, n_classes)
    return ClassifierMetrics(
        accuracy=float(np.trace(cm) / len(y_true)),
        macro_f1=macro_f1_from_confusion(cm),
        log_loss=_log_loss_from_rows(p_true) if has_probas else None,
        brier=_brier_from_rows(sum_sq, p_true, n_classes),
        ece=_ece_from_rows(confidence, y_pred == y_true, ECE_BINS),
        confusion_matrix=cm,
    )


def confusion_benefit(difference: np.ndarray) -> np.ndarray:
    """A change of confusion counts (one classifier's matrix minus another's) scored as news:
    more on the diagonal (right answers) is good, more off it (mistakes) is bad.

    Parameters
    ----------
    difference : ndarray of shape (n_classes, n_classes), rows = true class

    Returns
    -------
    ndarray of shape (n_classes, n_classes), float: > 0 good, < 0 bad

    Examples
    --------
    >>> confusion_benefit(np.array([[5, -5], [3, -3]])).tolist()
    [[5.0, 5.0], [-3.0, -3.0]]
    """
    out = -np.asarray(difference, dtype=np.float64)
    np.fill_diagonal(out, np.diag(difference))
    return out
