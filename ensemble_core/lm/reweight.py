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

The bounds cost a pass over the candidates; when even cheaper bounds (Hölder over the
candidates too, and Jensen's inequality below the rest: O(tokens × models)) show that more
than a quarter of the tokens would need refining, that pass is skipped: same decision, same
numbers. The exact pass (:func:`log_linear_normaliser`) pools cache-sized blocks of tokens
(pool, top-1, log-sum-exp while the block is in cache) on :func:`~ensemble_core._threads.workers`
threads; its floor is one ``exp`` per token and word.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .._threads import workers
from .._validation import check_weights
from ..combine import soft_vote
from ..registry import LMPool
from .scoring import LMScores

#: Candidates per model and token.
TOP_K = 16
#: The largest relative error of a log-linear perplexity shown (0.1 %).
TOLERANCE = 1e-3
#: Bytes of one model's distributions per block of the exact log-linear pass: the block, its
#: pooled scores and a scratch array stay in a core's cache between the steps (measured in
#: BENCHMARKS.md, "Language models").
BLOCK_BYTES = 1 << 17


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
            self._log_inside = np.log(inside)
        # Jensen below the rest: Σ_{v∉C} exp(s(v)) ≥ n · exp(mean_{v∉C} s(v)), and the mean is
        # linear in the weights: each model's mean log-probability outside the candidates.
        n_cand = (~self._dup).sum(axis=1)  # (T,)
        self._log_n_rest = np.log(np.maximum(vocab - n_cand, 1))
        outside = log_probs.sum(axis=2, dtype=np.float64) - np.where(self._dup, 0.0, self._cand_lp).sum(axis=2)
        self._mean_rest_lp = np.where(n_cand < vocab, outside / np.maximum(vocab - n_cand, 1), -np.inf)
        self._own_top1 = np.stack([log_probs[m].argmax(axis=1) for m in range(n_models)])  # (M, T)

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
        n = self._rows.shape[0]
        s_y = w @ self._target_lp
        used = w > 0
        if used.sum() == 1:  # one model: the pool is that model (its log-softmax: log Z = 0)
            m = int(np.argmax(used))
            nll = float(-self._target_lp[m].sum())
            return self._result("loglinear", w, nll, nll, self._own_top1[m], 0)
        log_rest = self._log_rest_bound(w)
        if _tokens_to_refine(self._least_gap(w, log_rest), self.tolerance) > n // 4:
            # Even the least the bounds can be off needs more than a quarter of the tokens
            # refined, so the bounds' own gaps do too: skip them, the whole pass is all that is left.
            return self._exact_log_linear(w, s_y)
        s, lo = self._candidate_part(w)
        hi = np.logaddexp(lo, log_rest)
        gap = hi - lo
        n_refine = _tokens_to_refine(gap, self.tolerance)
        if n_refine > n // 4:
            # Bounds this loose (models that disagree, or flat ones): one pass over every token
            # costs less than gathering most of them, and gives the top-1 too.
            return self._exact_log_linear(w, s_y)
        pred, full_pred = self._predictions(w, s, w @ self._log_tau, "loglinear")
        refine = np.argsort(gap)[::-1][:n_refine]
        if refine.size:
            lo[refine] = hi[refine] = log_linear_normaliser(self._scores.log_probs, w, refine)[0]
        return self._result("loglinear", w, float((lo - s_y).sum()), float((hi - s_y).sum()), pred,
                            full_pred + int(refine.size))

    def _log_rest_bound(self, w: np.ndarray) -> np.ndarray:
        """Hölder's bound on the log of the mass outside the candidates, shape (n_tokens,)."""
        with np.errstate(invalid="ignore"):  # a weight of 0 on a model with no mass left: 0 * -inf
            return np.nan_to_num(w[:, None] * self._log_rest, nan=0.0, neginf=-np.inf).sum(axis=0)

    def _candidate_part(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The pooled scores of the candidates (n_tokens, n_candidates) and ``log Z_C``, exact."""
        s = np.einsum("m,mtc->tc", w, self._cand_lp)
        best = s.max(axis=1)
        masked = np.where(self._dup, -np.inf, s)
        return s, best + np.log(np.exp(masked - best[:, None]).sum(axis=1))

    def _least_gap(self, w: np.ndarray, log_rest: np.ndarray) -> np.ndarray:
        """At most the bounds' gap ``log(1 + rest bound / Z_C)`` at every token, in O(tokens × models):
        ``Z_C`` bounded above by Hölder's inequality, the rest below by Jensen's (never above its
        own upper bound, which rounding could otherwise cross)."""
        used = w > 0
        z_c_hi = w[used] @ self._log_inside[used]
        rest_lo = np.minimum(self._log_n_rest + w[used] @ self._mean_rest_lp[used], log_rest)
        with np.errstate(over="ignore", invalid="ignore"):
            return np.log1p(np.exp(rest_lo - z_c_hi))

    def _exact_log_linear(self, w: np.ndarray, s_y: np.ndarray) -> QuickMetrics:
        log_z, pred = log_linear_normaliser(self._scores.log_probs, w)
        nll = float((log_z - s_y).sum())
        return self._result("loglinear", w, nll, nll, pred, int(self._rows.shape[0]))


def _tokens_to_refine(gap: np.ndarray, tolerance: float) -> int:
    """How many of the widest gaps to close for the rest to be within ``tolerance``: the midpoint
    of the summed bounds is within it when half the mean gap is at most log(1 + tolerance).
    More tokens for wider gaps, never fewer."""
    allowed = 2 * math.log1p(tolerance) * gap.shape[0] + 1e-12
    order = np.argsort(gap)[::-1]
    left = gap.sum() - np.concatenate([[0.0], np.cumsum(gap[order])])
    return int(np.argmax(left <= allowed)) if left[-1] <= allowed else gap.shape[0]


def log_linear_normaliser(log_probs: np.ndarray, weights: np.ndarray,
                          rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The log-linear pool's log-normaliser and top-1 at every token (or at ``rows``), exactly.

    ``log Z_t = log Σ_v exp(Σ_m w_m log p_m(v))``: pooled (float32, as
    :func:`~ensemble_core.lm.pools.log_linear_pool`), shifted by each token's maximum and summed
    in float64, in blocks of :data:`BLOCK_BYTES` per model, so that the pooled block stays in
    cache from the pool to the sum; the blocks are shared among
    :func:`~ensemble_core._threads.workers` threads (``"lm_reweight"``).

    Parameters
    ----------
    log_probs : ndarray of shape (n_models, n_tokens, vocab_size), float32
    weights : ndarray of shape (n_models,)
        Normalised.
    rows : ndarray of int, optional
        Only these tokens.

    Returns
    -------
    log_z : ndarray of shape (n_rows,), float64
    top1 : ndarray of shape (n_rows,), int
        The first word of highest pooled score.

    Examples
    --------
    >>> lp = np.log(np.array([[[0.5, 0.5]], [[0.9, 0.1]]], dtype=np.float32))
    >>> log_z, top1 = log_linear_normaliser(lp, np.array([0.5, 0.5]))
    >>> np.exp(log_z).round(3), top1
    (array([0.894]), array([0]))
    """
    n_models, n_tokens, vocab = log_probs.shape
    n = n_tokens if rows is None else rows.shape[0]
    log_z, top1 = np.empty(n), np.empty(n, dtype=np.intp)
    per_block = max(1, BLOCK_BYTES // (log_probs.itemsize * vocab))
    starts = np.arange(0, n, per_block)
    parts = np.array_split(starts, workers("lm_reweight", starts.shape[0]))

    def run(part: np.ndarray) -> None:
        pooled = np.empty((per_block, vocab), dtype=log_probs.dtype)
        scratch = np.empty_like(pooled)
        for start in part:
            stop = min(start + per_block, n)
            block = log_probs[:, start:stop] if rows is None else log_probs[:, rows[start:stop]]
            z = soft_vote(block, weights, out=pooled[: stop - start], scratch=scratch[: stop - start])
            best = z.argmax(axis=1)
            top = z[np.arange(stop - start), best]
            z -= top[:, None]
            np.exp(z, out=z)
            log_z[start:stop] = np.log(z.sum(axis=1, dtype=np.float64)) + top
            top1[start:stop] = best

    if len(parts) == 1:
        run(parts[0])
    else:
        with ThreadPoolExecutor(max_workers=len(parts), thread_name_prefix="lm-reweight") as pool:
            list(pool.map(run, parts))
    return log_z, top1
