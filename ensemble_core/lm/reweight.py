"""Fused perplexity and accuracy at a new weighting without another pass over the distributions.

A slider moves the weights; what does not depend on them is computed once
(:class:`ReweightCache`) and each move costs O(tokens × models × candidates):

- **linear pool**, perplexity: exact from each model's probability of the actual token,
  ``p(y_t) = Σ_m w_m p_m(y_t)``;
- **top-1 accuracy** (both pools), exact: the candidates of a token are the union of the
  models' top-k words. A word outside them is outside every model's top k, so its pooled
  score is at most the pool of the models' (k+1)-th largest values (``Σ_m w_m τ_m`` for the
  linear pool, ``Σ_m w_m log τ_m`` for the log-linear one). When the best candidate beats
  that, it is the top-1; the few tokens where it does not are pooled over the whole
  vocabulary;
- **log-linear pool**, perplexity, bounded then refined: the normaliser
  ``Z = Σ_v Π_m p_m(v)^{w_m}`` is the candidates' part ``Z_C`` (exact) plus a rest that
  Hölder's inequality bounds by ``Π_m r_m^{w_m}``, ``r_m`` the mass model ``m`` puts outside
  the candidates. Tokens with the widest bounds are computed over the whole vocabulary
  until the perplexity's interval is within ``tolerance`` (relative) of its midpoint,
  which is reported with the interval; past a quarter of the tokens, all of them are (one
  pass, the cost of recomputing). ``tolerance=0`` computes every token exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._validation import check_weights
from ..combine import soft_vote
from ..registry import LMPool
from .scoring import LMScores

#: Candidates per model and token.
TOP_K = 16
#: The largest relative error of a log-linear perplexity shown (0.1 %).
TOLERANCE = 1e-3


@dataclass(frozen=True)
class QuickMetrics:
    """The fused model's metrics at one weighting.

    Attributes
    ----------
    pool : str
    weights : tuple of float
        Normalised.
    perplexity : float
        Exact for the linear pool; for the log-linear pool the midpoint (in log space) of
        ``perplexity_bounds``.
    perplexity_bounds : (float, float)
        The exact perplexity lies within; equal ends when it is exact.
    bits_per_byte : float
        From the same NLL as ``perplexity``.
    accuracy : float
        Exact.
    full_tokens : int
        Tokens pooled over the whole vocabulary this time (accuracy fallbacks and refinements).
    """

    pool: str
    weights: tuple[float, ...]
    perplexity: float
    perplexity_bounds: tuple[float, float]
    bits_per_byte: float
    accuracy: float
    full_tokens: int

    @property
    def max_relative_error(self) -> float:
        """The most the perplexity shown can be off from the exact one, relative to the exact one."""
        lo, hi = self.perplexity_bounds
        return max(self.perplexity / lo - 1, 1 - self.perplexity / hi)


class ReweightCache:
    """What the fused metrics need that does not depend on the weights.

    Parameters
    ----------
    scores : LMScores
        Kept by reference: the distributions are read again only for fallback tokens.
    top_k : int
        Candidates per model and token (:data:`TOP_K`).
    tolerance : float
        The log-linear perplexity's largest relative error (:data:`TOLERANCE`).

    Examples
    --------
    >>> cache = ReweightCache(scores)  # doctest: +SKIP
    >>> cache.metrics([0.3, 0.7], "loglinear").perplexity  # doctest: +SKIP
    118.23
    """

    def __init__(self, scores: LMScores, *, top_k: int = TOP_K, tolerance: float = TOLERANCE) -> None:
        log_probs, targets = scores.log_probs, scores.targets
        n_models, n_tokens, vocab = log_probs.shape
        k = max(1, min(top_k, vocab - 1))
        rows = np.arange(n_tokens)
        self._scores, self._rows, self.tolerance = scores, rows, tolerance
        self._n_bytes = int(scores.n_bytes.sum())
        self._target_lp = log_probs[:, rows, targets].astype(np.float64)  # (M, T)
        self._target_p = np.exp(self._target_lp)
        tops, log_tau = [], np.empty((n_models, n_tokens))
        for m in range(n_models):
            part = np.argpartition(-log_probs[m], k, axis=1)  # the first k: the top k; then the (k+1)-th
            tops.append(part[:, :k])
            log_tau[m] = log_probs[m][rows, part[:, k]]
        cand = np.sort(np.concatenate(tops, axis=1), axis=1)  # (T, C), sorted: argmax ties go to the lower id
        self._cand = cand
        self._dup = np.zeros(cand.shape, dtype=bool)
        self._dup[:, 1:] = cand[:, 1:] == cand[:, :-1]
        self._cand_lp = np.stack([log_probs[m][rows[:, None], cand] for m in range(n_models)]).astype(np.float64)
        self._cand_p = np.exp(self._cand_lp)
        self._log_tau, self._tau = log_tau, np.exp(log_tau)
        inside = np.where(self._dup, 0.0, self._cand_p).sum(axis=2)  # (M, T): mass on the candidates
        with np.errstate(divide="ignore"):
            self._log_rest = np.log(np.clip(1.0 - inside, 0.0, None))

    def metrics(self, weights: Sequence[float] | np.ndarray | None, pool: LMPool) -> QuickMetrics:
        """The fused perplexity, bits per byte and accuracy at ``weights``.

        Parameters
        ----------
        weights : array-like of shape (n_models,), optional
            ≥ 0, normalised here; default equal.
        pool : {"linear", "loglinear"}

        Returns
        -------
        QuickMetrics
        """
        w = check_weights(weights, self._target_lp.shape[0])
        if pool == "linear":
            return self._linear(w)
        return self._log_linear(w)

    def _full(self, w: np.ndarray, rows: np.ndarray, pool: str) -> np.ndarray:
        """The pooled scores over the whole vocabulary for some tokens: probabilities (linear)
        or unnormalised log-probabilities (log-linear), shape (len(rows), vocab), float32."""
        if rows is self._rows:  # every token: read the distributions where they are
            log_probs = self._scores.log_probs
            return soft_vote(np.exp(log_probs) if pool == "linear" else log_probs, w)
        block = self._scores.log_probs[:, rows]  # a copy of these tokens only
        if pool == "linear":
            np.exp(block, out=block)
        return soft_vote(block, w)

    def _predictions(self, w: np.ndarray, scores_c: np.ndarray, bound: np.ndarray, pool: str) -> tuple[np.ndarray, int]:
        best = scores_c.argmax(axis=1)
        pred = self._cand[self._rows, best]
        unsure = np.flatnonzero(~(scores_c[self._rows, best] > bound))
        if unsure.size:
            pred[unsure] = self._full(w, unsure, pool).argmax(axis=1)
        return pred, int(unsure.size)

    def _result(self, pool, w, nll_lo, nll_hi, pred, full) -> QuickMetrics:
        n = self._rows.shape[0]
        mid = (nll_lo + nll_hi) / 2
        return QuickMetrics(
            pool=pool, weights=tuple(float(x) for x in w), perplexity=math.exp(mid / n),
            perplexity_bounds=(math.exp(nll_lo / n), math.exp(nll_hi / n)),
            bits_per_byte=mid / math.log(2) / self._n_bytes if self._n_bytes else math.nan,
            accuracy=float(np.mean(pred == self._scores.targets)), full_tokens=full,
        )

    def _linear(self, w: np.ndarray) -> QuickMetrics:
        nll = float(-np.log(w @ self._target_p).sum())
        mix = np.einsum("m,mtc->tc", w, self._cand_p)
        pred, full = self._predictions(w, mix, w @ self._tau, "linear")
        return self._result("linear", w, nll, nll, pred, full)

    def _log_linear(self, w: np.ndarray) -> QuickMetrics:
        s = np.einsum("m,mtc->tc", w, self._cand_lp)
        s_y = w @ self._target_lp
        best = s.max(axis=1)
        masked = np.where(self._dup, -np.inf, s)
        lo = best + np.log(np.exp(masked - best[:, None]).sum(axis=1))  # log Z_C
        with np.errstate(invalid="ignore"):  # a weight of 0 on a model with no mass left: 0 * -inf
            log_rest = np.nan_to_num(w[:, None] * self._log_rest, nan=0.0).sum(axis=0)
        hi = np.logaddexp(lo, log_rest)
        gap = hi - lo
        # Refine the widest first until the midpoint is within the tolerance: half the
        # mean gap at most log(1 + tolerance).
        allowed = 2 * math.log1p(self.tolerance) * gap.shape[0] + 1e-12
        order = np.argsort(gap)[::-1]
        left = gap.sum() - np.concatenate([[0.0], np.cumsum(gap[order])])
        n_refine = int(np.argmax(left <= allowed)) if left[-1] <= allowed else gap.shape[0]
        if n_refine > gap.shape[0] // 4:
            # Bounds this loose (models that disagree, or flat ones): one pass over every token
            # costs less than gathering most of them, and gives the top-1 too.
            z = self._full(w, self._rows, "loglinear")
            pred = z.argmax(axis=1)
            log_z = _log_sum_exp(z)
            nll = float((log_z - s_y).sum())
            return self._result("loglinear", w, nll, nll, pred, int(gap.shape[0]))
        pred, full_pred = self._predictions(w, s, w @ self._log_tau, "loglinear")
        refine = order[:n_refine]
        if refine.size:
            lo[refine] = hi[refine] = _log_sum_exp(self._full(w, refine, "loglinear"))
        return self._result("loglinear", w, float((lo - s_y).sum()), float((hi - s_y).sum()), pred,
                            full_pred + int(refine.size))


def _log_sum_exp(z: np.ndarray) -> np.ndarray:
    """Row-wise log Σ exp, float64, overwriting ``z``."""
    top = z.max(axis=1, keepdims=True)
    z -= top
    np.exp(z, out=z)
    return np.log(z.sum(axis=1, dtype=np.float64)) + top[:, 0]
