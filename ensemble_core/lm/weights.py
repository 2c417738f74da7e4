"""Pool weights that hold up: fitted on a tune split of the documents, reported on the rest.

- linear pool: the mixture weights by EM (:func:`em_mixture_weights`), the classic way to
  interpolate language models; each iteration never lowers the likelihood;
- log-linear pool: the weights that minimise the mean NLL (:func:`log_linear_weights`), a
  convex problem in the weights, solved by L-BFGS over the simplex.

:func:`suggest_lm_weights` splits the documents (never tokens of one document) at random,
fits on one part and reports the suggested weights on the other against equal weights and
each model alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import EnsembleInputError
from ..registry import LMPool
from .pools import LMMetrics, evaluate_fusion, log_linear_pool
from .scoring import LMScores


@dataclass(frozen=True)
class EMFit:
    """Mixture weights found by EM.

    Attributes
    ----------
    weights : ndarray of shape (n_models,)
        Non-negative, sum 1.
    log_likelihoods : tuple of float
        Mean log-likelihood per token before each iteration and after the last:
        non-decreasing.
    """

    weights: np.ndarray
    log_likelihoods: tuple[float, ...]


def em_mixture_weights(target_log_probs: np.ndarray, *, max_iter: int = 500, tol: float = 1e-9) -> EMFit:
    """EM for the weights of a linear pool, from each model's log-probability of the actual tokens.

    E-step: each model's responsibility for token ``t``, ``r_mt = w_m p_mt / Σ_k w_k p_kt``;
    M-step: ``w_m = mean_t r_mt``. Starts from equal weights; stops when the mean
    log-likelihood gains less than ``tol`` or after ``max_iter`` iterations.

    Parameters
    ----------
    target_log_probs : ndarray of shape (n_models, n_tokens)
        ``log p_m(actual token)``: what the linear pool's likelihood depends on.

    Returns
    -------
    EMFit

    Examples
    --------
    >>> lp = np.log([[0.5, 0.5, 0.5], [0.9, 0.1, 0.9]])
    >>> em_mixture_weights(lp).weights.round(2)
    array([0.58, 0.42])
    """
    a = np.asarray(target_log_probs, dtype=np.float64)
    w = np.full(a.shape[0], 1.0 / a.shape[0])
    history: list[float] = []
    for _ in range(max_iter + 1):
        with np.errstate(divide="ignore"):  # a weight EM has set to 0 stays 0
            joint = np.log(w)[:, None] + a
        top = joint.max(axis=0)
        log_mix = top + np.log(np.exp(joint - top).sum(axis=0))
        history.append(float(log_mix.mean()))
        if len(history) > 1 and history[-1] - history[-2] < tol or len(history) > max_iter:
            break
        w = np.exp(joint - log_mix).mean(axis=1)
        w /= w.sum()
    return EMFit(w, tuple(history))


def log_linear_nll(log_probs: np.ndarray, targets: np.ndarray, weights: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean NLL of the log-linear pool and its gradient in the (normalised) weights.

    ``dL/dw_m = mean_t (E_q[log p_m] − log p_m(y_t))`` where ``q`` is the pooled distribution.

    Parameters
    ----------
    log_probs : ndarray of shape (n_models, n_tokens, vocab_size)
    targets : ndarray of shape (n_tokens,)
    weights : ndarray of shape (n_models,), normalised

    Returns
    -------
    (float, ndarray of shape (n_models,))
    """
    fused = log_linear_pool(log_probs, weights)
    rows = np.arange(targets.shape[0])
    nll = float(-fused[rows, targets].astype(np.float64).mean())
    q = np.exp(fused, out=fused)
    expected = np.einsum("tv,mtv->m", q, log_probs, dtype=np.float64) / targets.shape[0]
    actual = log_probs[:, rows, targets].astype(np.float64).mean(axis=1)
    return nll, expected - actual


def log_linear_weights(log_probs: np.ndarray, targets: np.ndarray, *, max_iter: int = 200) -> np.ndarray:
    """The log-linear pool's weights minimising its mean NLL on these tokens.

    ``w = softmax(θ)``, minimised by L-BFGS from equal weights with the gradient of
    :func:`log_linear_nll`; equal weights and each model alone are candidates too, so the
    result is never worse on these tokens than any of them.

    Parameters
    ----------
    log_probs : ndarray of shape (n_models, n_tokens, vocab_size)
    targets : ndarray of shape (n_tokens,)

    Returns
    -------
    ndarray of shape (n_models,), non-negative, sums to 1.
    """
    from scipy.optimize import minimize

    n_models = log_probs.shape[0]

    def softmax(theta: np.ndarray) -> np.ndarray:
        w = np.exp(theta - theta.max())
        return w / w.sum()

    def loss_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = softmax(theta)
        loss, g = log_linear_nll(log_probs, targets, w)
        return loss, w * (g - w @ g)

    res = minimize(loss_and_grad, np.zeros(n_models), jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iter, "gtol": 1e-9, "ftol": 1e-12})
    candidates = [softmax(res.x), np.full(n_models, 1.0 / n_models), *np.eye(n_models)]
    return min(candidates, key=lambda w: log_linear_nll(log_probs, targets, w)[0])


@dataclass(frozen=True)
class LMWeightSuggestion:
    """Pool weights fitted on tune documents, with held-out evidence.

    Attributes
    ----------
    pool : str
    weights : dict of str to float
        By model name; sum 1.
    tune_documents, heldout_documents : int
    tune : LMMetrics
        The suggestion on the documents it was fitted on (optimistic).
    heldout : LMMetrics
        The suggestion on the other documents.
    uniform : LMMetrics
        Equal weights, held out.
    models : dict of str to LMMetrics
        Each model alone, held out.
    best_single : str
        The model alone with the lowest held-out perplexity (chosen with hindsight: a
        baseline the suggestion has to beat).
    """

    pool: str
    weights: dict[str, float]
    tune_documents: int
    heldout_documents: int
    tune: LMMetrics
    heldout: LMMetrics
    uniform: LMMetrics
    models: dict[str, LMMetrics]
    best_single: str

    def to_dict(self) -> dict:
        best = self.models[self.best_single]
        return {
            "pool": self.pool, "weights": dict(self.weights),
            "tune_documents": self.tune_documents, "heldout_documents": self.heldout_documents,
            "perplexity": self.heldout.perplexity, "heldout": self.heldout.to_dict(), "tune": self.tune.to_dict(),
            "uniform": self.uniform.to_dict(), "best_single": {"name": self.best_single, **best.to_dict()},
            "models": {name: m.to_dict() for name, m in self.models.items()},
        }


def split_documents(n_documents: int, tune_fraction: float, seed: int) -> np.ndarray:
    """A random tune mask over documents, with at least one document on each side.

    Raises
    ------
    EnsembleInputError
        For a fraction outside (0, 1) or fewer than two documents.
    """
    if not 0 < tune_fraction < 1:
        raise EnsembleInputError(f"--tune-fraction must be between 0 and 1; got {tune_fraction}")
    if n_documents < 2:
        raise EnsembleInputError(f"fitting weights needs at least 2 documents (tune and held out); got {n_documents}")
    n_tune = min(max(int(round(tune_fraction * n_documents)), 1), n_documents - 1)
    mask = np.zeros(n_documents, dtype=bool)
    mask[np.random.default_rng(seed).permutation(n_documents)[:n_tune]] = True
    return mask


def suggest_lm_weights(
    scores: LMScores, pool: LMPool = "linear", *, tune_fraction: float = 0.5, seed: int = 0
) -> LMWeightSuggestion:
    """Fit the pool's weights on a random part of the documents; measure them on the rest.

    Parameters
    ----------
    scores : LMScores
    pool : {"linear", "loglinear"}
        EM for linear, NLL minimisation for log-linear.
    tune_fraction : float
        Share of the documents to fit on.
    seed : int
        Which documents.

    Returns
    -------
    LMWeightSuggestion

    Examples
    --------
    >>> s = suggest_lm_weights(scores, "linear")  # doctest: +SKIP
    >>> s.heldout.perplexity < s.uniform.perplexity  # doctest: +SKIP
    True
    """
    mask = split_documents(scores.n_documents, tune_fraction, seed)
    tune, held = scores.documents(mask), scores.documents(~mask)
    if pool == "linear":
        rows = np.arange(tune.n_tokens)
        weights = em_mixture_weights(tune.log_probs[:, rows, tune.targets]).weights
    else:
        weights = log_linear_weights(tune.log_probs, tune.targets)
    suggested = evaluate_fusion(held, weights, pool)
    models = suggested.models
    return LMWeightSuggestion(
        pool=pool,
        weights={name: float(w) for name, w in zip(scores.names, suggested.weights)},
        tune_documents=tune.n_documents,
        heldout_documents=held.n_documents,
        tune=evaluate_fusion(tune, weights, pool).fused,
        heldout=suggested.fused,
        uniform=evaluate_fusion(held, None, pool).fused,
        models=models,
        best_single=min(models, key=lambda name: models[name].perplexity),
    )
