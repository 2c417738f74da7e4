"""Pools of language models' next-token distributions, and the metrics of a fused model.

Pure NumPy over the arrays :func:`ensemble_core.lm.scoring.score_models` produces:
``log_probs`` of shape (n_models, n_tokens, vocab_size), each row a log-softmax.

- **linear** pool: ``p(y) = Σ_m w_m p_m(y)``, a mixture (the interpolated language model);
- **log-linear** pool: ``log p(y) = Σ_m w_m log p_m(y) − log Z``, renormalised. Averaging
  the models' raw logits with the same weights is the same distribution: each model's
  log-softmax differs from its logits by a constant per position, which the
  renormalisation removes.

Weights are ≥ 0 and normalised to sum 1 (:func:`ensemble_core.check_weights`).
Metrics (:func:`lm_metrics`): perplexity ``exp(mean NLL)``, bits per byte ``Σ NLL / ln 2 /
UTF-8 bytes``, and next-token top-1 accuracy under teacher forcing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._validation import check_weights
from ..combine import soft_vote
from ..registry import LMPool, lm_pool


def _log_weights(log_probs: np.ndarray, weights: Sequence[float] | np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    w = check_weights(weights, log_probs.shape[0])
    return w, np.flatnonzero(w > 0)


def linear_pool(log_probs: np.ndarray, weights: Sequence[float] | np.ndarray | None = None) -> np.ndarray:
    """The mixture ``Σ_m w_m p_m``, as log-probabilities.

    Computed as a log-sum-exp over the models, shifted by the element-wise maximum, so a
    token every model finds very unlikely keeps a finite log-probability.

    Parameters
    ----------
    log_probs : ndarray of shape (n_models, n_tokens, vocab_size)
        Each model's log-softmax.
    weights : array-like of shape (n_models,), optional
        ≥ 0, not all 0; normalised here. Default: equal.

    Returns
    -------
    ndarray of shape (n_tokens, vocab_size), of ``log_probs``' dtype

    Examples
    --------
    >>> lp = np.log(np.array([[[0.5, 0.5]], [[0.9, 0.1]]]))
    >>> np.exp(linear_pool(lp, [1, 1])).round(3)
    array([[0.7, 0.3]])
    """
    w, used = _log_weights(log_probs, weights)
    top = log_probs[used[0]].copy()
    for m in used[1:]:
        np.maximum(top, log_probs[m], out=top)
    total = np.zeros_like(top)
    scratch = np.empty_like(top)
    for m in used:
        np.subtract(log_probs[m], top, out=scratch)
        np.exp(scratch, out=scratch)
        scratch *= w[m]
        total += scratch
    np.log(total, out=total)
    total += top
    return total


def log_linear_pool(log_probs: np.ndarray, weights: Sequence[float] | np.ndarray | None = None) -> np.ndarray:
    """The renormalised weighted mean of log-probabilities, ``Σ_m w_m log p_m − log Z``.

    Parameters
    ----------
    log_probs : ndarray of shape (n_models, n_tokens, vocab_size)
        Each model's log-softmax (or raw logits: the result is the same).
    weights : array-like of shape (n_models,), optional
        ≥ 0, not all 0; normalised here. Default: equal.

    Returns
    -------
    ndarray of shape (n_tokens, vocab_size), of ``log_probs``' dtype; each row a log-softmax.

    Examples
    --------
    >>> lp = np.log(np.array([[[0.5, 0.5]], [[0.9, 0.1]]]))
    >>> np.exp(log_linear_pool(lp, [1, 1])).round(3)
    array([[0.75, 0.25]])
    """
    w = check_weights(weights, log_probs.shape[0])
    z = soft_vote(np.ascontiguousarray(log_probs), w)
    return log_softmax(z, out=z)


def log_softmax(z: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
    """Row-wise ``z − logsumexp(z)`` (over the last axis), in place when ``out is z``."""
    out = np.subtract(z, z.max(axis=-1, keepdims=True), out=out)
    out -= np.log(np.exp(out).sum(axis=-1, keepdims=True))
    return out


def fuse(log_probs: np.ndarray, weights: Sequence[float] | np.ndarray | None, pool: LMPool) -> np.ndarray:
    """The pool named ``pool`` (see :data:`ensemble_core.registry.LM_POOL_SPECS`).

    Returns
    -------
    ndarray of shape (n_tokens, vocab_size): fused log-probabilities.
    """
    return lm_pool(pool).implementation()(log_probs, weights)


def token_nll(log_p: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Each token's negative log-likelihood in nats.

    Parameters
    ----------
    log_p : ndarray of shape (n_tokens, vocab_size)
    targets : ndarray of shape (n_tokens,), int

    Returns
    -------
    ndarray of shape (n_tokens,), float64
    """
    return -log_p[np.arange(targets.shape[0]), targets].astype(np.float64)


@dataclass(frozen=True)
class LMMetrics:
    """How well a (fused) language model predicts a text.

    Attributes
    ----------
    n_tokens : int
        Tokens scored.
    n_bytes : int
        UTF-8 bytes of the scored text.
    nll : float
        Mean negative log-likelihood per token, nats.
    perplexity : float
        ``exp(nll)``.
    bits_per_byte : float
        Total NLL in bits over the bytes: comparable across tokenizers.
    accuracy : float
        Share of tokens that are the distribution's top-1 (teacher forcing; the first
        highest-probability token on a tie).
    """

    n_tokens: int
    n_bytes: int
    nll: float
    perplexity: float
    bits_per_byte: float
    accuracy: float

    def to_dict(self) -> dict[str, float | int]:
        return {"tokens": self.n_tokens, "bytes": self.n_bytes, "nll": self.nll, "perplexity": self.perplexity,
                "bits_per_byte": self.bits_per_byte, "accuracy": self.accuracy}


def lm_metrics(log_p: np.ndarray, targets: np.ndarray, n_bytes: int) -> LMMetrics:
    """Perplexity, bits per byte and top-1 accuracy of one next-token distribution per token.

    Parameters
    ----------
    log_p : ndarray of shape (n_tokens, vocab_size)
    targets : ndarray of shape (n_tokens,), int
    n_bytes : int
        UTF-8 bytes of the scored text.

    Returns
    -------
    LMMetrics

    Examples
    --------
    >>> lp = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]]))
    >>> m = lm_metrics(lp, np.array([0, 2]), n_bytes=4)
    >>> round(m.perplexity, 4), m.accuracy
    (4.4721, 0.5)
    """
    nll = token_nll(log_p, targets)
    total = float(nll.sum())
    mean = total / nll.shape[0]
    return LMMetrics(
        n_tokens=int(nll.shape[0]),
        n_bytes=int(n_bytes),
        nll=mean,
        perplexity=math.exp(mean),
        bits_per_byte=total / math.log(2) / n_bytes if n_bytes else math.nan,
        accuracy=float(np.mean(log_p.argmax(axis=-1) == targets)),
    )


@dataclass(frozen=True)
class FusionResult:
    """Each model's metrics and the fused model's, on one text.

    Attributes
    ----------
    pool : str
    weights : tuple of float
        Normalised, in the models' order.
    fused : LMMetrics
    models : dict of str to LMMetrics
        By model name, in order.
    """

    pool: str
    weights: tuple[float, ...]
    fused: LMMetrics
    models: dict[str, LMMetrics]

    def to_dict(self) -> dict:
        """The JSON report: the fused metrics at the top, each model's under ``models``."""
        return {"pool": self.pool, "weights": list(self.weights), **self.fused.to_dict(),
                "models": {name: m.to_dict() for name, m in self.models.items()}}


def evaluate_fusion(scores, weights: Sequence[float] | np.ndarray | None = None, pool: LMPool = "linear") -> FusionResult:
    """Fuse the models of ``scores`` and measure them and the fusion.

    Parameters
    ----------
    scores : LMScores
    weights : array-like of shape (n_models,), optional
        Default: equal.
    pool : {"linear", "loglinear"}

    Returns
    -------
    FusionResult
    """
    w = check_weights(weights, len(scores.names))
    n_bytes = int(scores.n_bytes.sum())
    models = {name: lm_metrics(scores.log_probs[i], scores.targets, n_bytes) for i, name in enumerate(scores.names)}
    fused = lm_metrics(fuse(scores.log_probs, w, pool), scores.targets, n_bytes)
    return FusionResult(pool, tuple(float(x) for x in w), fused, models)
