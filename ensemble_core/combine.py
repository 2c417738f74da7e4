"""Hard, soft and geometric combination: pure functions over arrays.

Each takes what does not depend on the weights (labels, probabilities or
log-probabilities), computed once, and the weights; each costs one pass over
that array.
"""

from __future__ import annotations

import numpy as np

from ._threads import limited
from .decision import DECISION_ATOL, decide
from .registry import STRATEGIES, Strategy  # noqa: F401 - defined in registry, kept importable from here

#: Probabilities are clipped here before taking logs (geometric pooling, log loss).
LOG_EPS = 1e-7


def model_labels(probas: np.ndarray) -> np.ndarray:
    """Each model's predicted class index, by :func:`~ensemble_core.decision.decide`.

    Parameters
    ----------
    probas : ndarray of shape (n_models, n_samples, n_classes)

    Returns
    -------
    ndarray of shape (n_models, n_samples), int

    Examples
    --------
    >>> model_labels(np.array([[[0.4999997, 0.5000003], [0.1, 0.9]]], dtype=np.float32))
    array([[0, 1]])
    """
    return decide(probas)


def probability_scores(probas: np.ndarray) -> np.ndarray:
    """What soft voting adds up with the weights: the probabilities themselves."""
    return probas


def vote_scores(probas: np.ndarray) -> np.ndarray:
    """What hard voting adds up with the weights: each model's label, one-hot.

    Returns
    -------
    ndarray of shape (n_models, n_samples, n_classes), float32
    """
    return np.eye(probas.shape[-1], dtype=np.float32)[model_labels(probas)]


def vote_index(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Where each model's vote lands in a flattened (n_samples, n_classes) array.

    Weights-independent: compute once, reuse for every re-weighting.

    Parameters
    ----------
    labels : ndarray of shape (n_models, n_samples), int

    Returns
    -------
    ndarray of shape (n_models * n_samples,), int
    """
    n_samples = labels.shape[1]
    return (np.arange(n_samples)[None, :] * n_classes + labels).ravel()


def vote_shares(index: np.ndarray, weights: np.ndarray, n_samples: int, n_classes: int) -> np.ndarray:
    """Weighted share of votes each class gets.

    Parameters
    ----------
    index : ndarray of shape (n_models * n_samples,), from :func:`vote_index`
    weights : ndarray of shape (n_models,), normalised (sum 1)

    Returns
    -------
    ndarray of shape (n_samples, n_classes), float64; rows sum to 1.
    """
    shares = np.bincount(index, weights=np.repeat(weights, n_samples), minlength=n_samples * n_classes)
    return shares.reshape(n_samples, n_classes)


def hard_vote(
    labels: np.ndarray, weights: np.ndarray, n_classes: int, *, index: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted majority vote, decided on the vote shares by
    :func:`~ensemble_core.decision.decide` (ties go to the class that sorts first).

    ``index`` is ``vote_index(labels, n_classes)`` when the caller keeps it.

    Returns
    -------
    y_pred : ndarray of shape (n_samples,), int
    shares : ndarray of shape (n_samples, n_classes)
        The weighted vote shares, usable as the ensemble's confidence.

    Examples
    --------
    >>> labels = np.array([[0, 1], [1, 1], [1, 0]])
    >>> hard_vote(labels, np.array([0.5, 0.25, 0.25]), 2)[0]
    array([0, 1])
    """
    if index is None:
        index = vote_index(labels, n_classes)
    shares = vote_shares(index, weights, labels.shape[1], n_classes)
    return decide(shares), shares


def soft_vote(probas: np.ndarray, weights: np.ndarray, *, out: np.ndarray | None = None,
              scratch: np.ndarray | None = None) -> np.ndarray:
    """Weighted arithmetic mean of the models' probabilities.

    Parameters
    ----------
    probas : ndarray of shape (n_models, n_samples, n_classes)
        May be a slice of rows (``probas[:, start:stop]``) of a larger array.
    weights : ndarray of shape (n_models,), normalised to sum 1.
    out : ndarray of shape (n_samples, n_classes), C-contiguous, optional
        Where to write the result.
    scratch : ndarray like ``out``, optional
        Working space for a row slice, reused by a caller that walks many blocks (a block of
        more than 128 KB would otherwise be a fresh allocation, page faults included, each time).

    Returns
    -------
    ndarray of shape (n_samples, n_classes), of ``probas``' dtype (float32)
    """
    n_models = probas.shape[0]
    w = np.asarray(weights, dtype=probas.dtype)
    if out is None:
        out = np.empty(probas.shape[1:], dtype=probas.dtype)
    if probas.flags.c_contiguous:
        # One matrix-vector product over the flattened array: a single pass in BLAS.
        with limited("reweight"):
            np.dot(w, probas.reshape(n_models, -1), out=out.reshape(-1))
        return out
    # A row slice (the evaluator's cache-sized blocks): BLAS gemv with the huge
    # leading dimension of a slice was measured up to 20x slower than the data it
    # reads, so accumulate model by model while the block stays in cache.
    np.multiply(probas[0], w[0], out=out)
    if scratch is None:
        scratch = np.empty_like(out)
    for m in range(1, n_models):
        np.multiply(probas[m], w[m], out=scratch)
        out += scratch
    return out


def log_probas(probas: np.ndarray, eps: float = LOG_EPS) -> np.ndarray:
    """log(clip(probas, eps, 1)); computed once, reused by every geometric re-weighting."""
    out = np.clip(probas, eps, 1.0)
    return np.log(out, out=out)  # in place: one array the size of probas, not two


def geometric_vote(log_p: np.ndarray, weights: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
    """The log-linear pool: weighted mean of log-probabilities, renormalised.

    Parameters
    ----------
    log_p : ndarray of shape (n_models, n_samples, n_classes)
        Clipped log-probabilities (see :func:`log_probas`).
    weights : ndarray of shape (n_models,), normalised to sum 1.
    out : ndarray of shape (n_samples, n_classes), C-contiguous, optional
        Where to write the result.

    Returns
    -------
    ndarray of shape (n_samples, n_classes), float32; rows sum to 1.
    """
    return normalise_log_pool(soft_vote(log_p, weights, out=out))


def normalise_log_pool(z: np.ndarray) -> np.ndarray:
    """Log-scores (..., n_classes) → probabilities (softmax over the last axis), in place.

    The one log-pool normalisation: geometric voting's weighted mean log-probabilities,
    temperature-scaled log-probabilities (:mod:`.calibration`).

    Examples
    --------
    >>> normalise_log_pool(np.log(np.array([[1.0, 3.0]])))
    array([[0.25, 0.75]])
    """
    z -= z.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= np.einsum("...k->...", z)[..., None]  # ~3x faster than z.sum(axis=-1) over a few classes
    return z


#: Up to this many classes the evaluator finishes blocks class-major; above it rows are
#: long enough for NumPy's row-wise operations, and a per-class loop would cost more
#: (see :func:`output_block`). Measured on 3 models × 3M cells: soft voting class-major
#: against row-wise 9.8 / 16.1 ms at 16 classes, 10.4 / 12.0 at 32, 10.0 / 9.6 at 48,
#: 12.1 / 6.9 at 64.
CLASS_MAJOR_MAX_CLASSES = 32


class ClassMajorBlock:
    """Finishes blocks of the ensemble's output (rows × classes) class-major.

    A block is copied transposed, classes × rows, so that every per-class step — the
    top class (:func:`~ensemble_core.decision.decide`), the geometric pool's normalisation, each example's
    statistics — is one contiguous vector operation. NumPy's row-wise
    ``argmax``/``max`` over ten columns pays a per-row overhead (measured at
    1M × 10: ``argmax(axis=1)`` 26 ms, ``max(axis=1)`` 55 ms, the same maximum over
    the transposed array 3 ms). Made for a few classes: its loops run once per class.

    Parameters
    ----------
    n_classes : int
    rows : int
        The largest block it will be given.
    """

    def __init__(self, n_classes: int, rows: int):
        self.rows = rows
        self.scores = np.empty((n_classes, rows), dtype=np.float32)
        self._top = np.empty(rows, dtype=np.float32)
        self._ahead = np.empty(rows, dtype=bool)
        self._below = np.empty(rows, dtype=bool)
        self._index = np.empty(rows, dtype=np.int8 if n_classes <= 127 else np.int32)
        self._offsets = np.arange(rows)
        self._out: np.ndarray | None = None
        self._votes: np.ndarray | None = None  # (classes, rows) float64, made on the first hard vote
        self._top64: np.ndarray | None = None

    def load(self, block: np.ndarray) -> None:
        """Take ``block`` (m × classes, m ≤ rows, float32): a view of the output, which
        :meth:`normalise_log_pool` overwrites."""
        self._out = block
        np.copyto(self.scores[:, : block.shape[0]], block.T)

    def top_class(self, m: int, *, atol: float = DECISION_ATOL) -> np.ndarray:
        """The loaded block's top class per row, exactly as
        :func:`~ensemble_core.decision.decide` decides on the same float32 scores.

        The first class within ``atol`` of the row's maximum: counted as the run
        of leading classes strictly below ``max - atol`` (NaN-free scores).
        """
        scores = self.scores[:, :m]
        top = np.maximum.reduce(scores, axis=0, out=self._top[:m])
        top -= np.float32(atol)
        return self._first_reaching(scores, top)

    def _first_reaching(self, scores: np.ndarray, level: np.ndarray) -> np.ndarray:
        """Per column, the first class whose score is at least ``level``: the run of
        leading classes strictly below it."""
        m = scores.shape[1]
        ahead, below, index = self._ahead[:m], self._below[:m], self._index[:m]
        np.less(scores[0], level, out=ahead)
        index[...] = ahead
        for c in range(1, scores.shape[0] - 1):
            np.less(scores[c], level, out=below)
            np.logical_and(ahead, below, out=ahead)
            np.add(index, ahead.view(np.int8), out=index)
        return index

    def load_votes(self, labels: np.ndarray, weights: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Hard voting on a block: each class's weighted share of the models' votes,
        written into ``out`` (m × classes, float32) and loaded; returns the winners,
        exactly as :func:`hard_vote` decides (the float64 shares, summed in the same
        order, by :func:`~ensemble_core.decision.decide`).

        Parameters
        ----------
        labels : ndarray of shape (n_models, m), int: each model's predicted class
        weights : ndarray of shape (n_models,), normalised
        """
        m = labels.shape[1]
        if self._votes is None:
            self._votes = np.empty_like(self.scores, dtype=np.float64)
            self._top64 = np.empty(self.rows, dtype=np.float64)
        votes = self._votes[:, :m]
        votes.fill(0.0)
        flat = self._votes.reshape(-1)  # element (c, r) sits at c * rows + r
        offsets = self._offsets[:m]
        for model, w in zip(labels, weights):
            flat[model * self.rows + offsets] += w  # one vote per row: no repeated index
        top = np.maximum.reduce(votes, axis=0, out=self._top64[:m])
        top -= DECISION_ATOL
        index = self._first_reaching(votes, top)
        np.copyto(self.scores[:, :m], votes)
        self._out = out
        np.copyto(out, self.scores[:, :m].T)
        return index

    def normalise_log_pool(self, m: int) -> None:
        """The loaded block of mean log-probabilities → probabilities, written back into
        the output (:func:`normalise_log_pool`, class-major: the same steps along the
        other axis)."""
        z = self.scores[:, :m]
        z -= np.maximum.reduce(z, axis=0, out=self._top[:m])
        np.exp(z, out=z)
        z /= z.sum(axis=0)
        np.copyto(self._out, z.T)

    def row_stats(
        self, m: int, pred: np.ndarray, y_true: np.ndarray, *, out: tuple[np.ndarray, np.ndarray, np.ndarray]
    ) -> None:
        """Each loaded row's probability of its predicted class, of its true class,
        and its sum of squares, written into the three arrays of ``out`` (m each)."""
        flat = self.scores.reshape(-1)  # element (c, r) of the block sits at c * rows + r
        offsets = self._offsets[:m]
        confidence, p_true, sum_sq = out
        flat.take(pred.astype(np.intp, copy=False) * self.rows + offsets, out=confidence, mode="clip")
        flat.take(y_true.astype(np.intp, copy=False) * self.rows + offsets, out=p_true, mode="clip")
        z = self.scores[:, :m]
        np.einsum("ij,ij->j", z, z, out=sum_sq)


class RowMajorBlock:
    """The same steps as :class:`ClassMajorBlock`, row-wise on the output itself: for
    many classes, where rows are long (NumPy's row-wise operations are then efficient)
    and a transposed copy would neither be cheap nor stay in cache."""

    def __init__(self, n_classes: int, rows: int):
        self._out: np.ndarray | None = None
        self._local = np.arange(rows)

    def load(self, block: np.ndarray) -> None:
        self._out = block

    def load_votes(self, labels: np.ndarray, weights: np.ndarray, out: np.ndarray) -> np.ndarray:
        pred, shares = hard_vote(labels, weights, out.shape[1])
        out[...] = shares
        self._out = out
        return pred

    def top_class(self, m: int, *, atol: float = DECISION_ATOL) -> np.ndarray:
        return decide(self._out, atol=atol)

    def normalise_log_pool(self, m: int) -> None:
        normalise_log_pool(self._out)

    def row_stats(
        self, m: int, pred: np.ndarray, y_true: np.ndarray, *, out: tuple[np.ndarray, np.ndarray, np.ndarray]
    ) -> None:
        z, local = self._out, self._local[:m]
        confidence, p_true, sum_sq = out
        confidence[...] = z[local, pred]
        p_true[...] = z[local, y_true]
        np.einsum("ij,ij->i", z, z, out=sum_sq)


def output_block(n_classes: int, rows: int) -> ClassMajorBlock | RowMajorBlock:
    """Scratch space for finishing blocks of ``rows`` rows of an ensemble's output:
    class-major for up to :data:`CLASS_MAJOR_MAX_CLASSES` classes, else row-wise."""
    if n_classes <= CLASS_MAJOR_MAX_CLASSES:
        return ClassMajorBlock(n_classes, rows)
    return RowMajorBlock(n_classes, rows)
