"""Where language models disagree, token by token, and what the fusion makes of it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..registry import LMPool
from .pools import fuse, token_nll
from .scoring import LMScores


@dataclass(frozen=True, eq=False)
class TokenComparison:
    """Per scored token: which model gives the actual token most probability, and who gets it right.

    Attributes
    ----------
    names : tuple of str
    winner : ndarray of shape (n_tokens,), int
        The model giving the actual token the highest probability (the first on a tie).
    model_surprisal : ndarray of shape (n_models, n_tokens), float64
        Each model's ``-log2 p(actual token)``, bits.
    fused_surprisal : ndarray of shape (n_tokens,), float64
        The fused model's, bits.
    model_correct : ndarray of shape (n_models, n_tokens), bool
        Whether the model's top-1 next token is the actual one.
    fused_correct : ndarray of shape (n_tokens,), bool
    """

    names: tuple[str, ...]
    winner: np.ndarray
    model_surprisal: np.ndarray
    fused_surprisal: np.ndarray
    model_correct: np.ndarray
    fused_correct: np.ndarray

    @property
    def win_share(self) -> dict[str, float]:
        """The share of tokens each model wins."""
        counts = np.bincount(self.winner, minlength=len(self.names)) / self.winner.shape[0]
        return {name: float(c) for name, c in zip(self.names, counts)}

    def fixes_and_breaks(self, model: int) -> tuple[int, int]:
        """Tokens the fusion gets right (top-1) and ``model`` wrong, and the reverse."""
        ours, theirs = self.fused_correct, self.model_correct[model]
        return int(np.sum(ours & ~theirs)), int(np.sum(~ours & theirs))


def token_comparison(
    scores: LMScores, weights: Sequence[float] | np.ndarray | None = None, pool: LMPool = "linear"
) -> TokenComparison:
    """Compare the models and their fusion at every scored token.

    Parameters
    ----------
    scores : LMScores
    weights : array-like of shape (n_models,), optional
    pool : {"linear", "loglinear"}

    Returns
    -------
    TokenComparison

    Examples
    --------
    >>> cmp = token_comparison(scores, [0.5, 0.5], "linear")  # doctest: +SKIP
    >>> cmp.win_share  # doctest: +SKIP
    {'fresh': 0.47, 'rotten': 0.53}
    """
    rows = np.arange(scores.n_tokens)
    actual = scores.log_probs[:, rows, scores.targets].astype(np.float64)  # (n_models, n_tokens)
    fused = fuse(scores.log_probs, weights, pool)
    return TokenComparison(
        names=scores.names,
        winner=actual.argmax(axis=0),
        model_surprisal=-actual / math.log(2),
        fused_surprisal=token_nll(fused, scores.targets) / math.log(2),
        model_correct=scores.log_probs.argmax(axis=-1) == scores.targets,
        fused_correct=fused.argmax(axis=-1) == scores.targets,
    )


def most_contested(comparison: TokenComparison, n: int = 20) -> np.ndarray:
    """The ``n`` tokens where the models disagree most about the actual token: the widest gap
    between the most and the least surprised model, widest first (earlier tokens first on a tie).

    Returns
    -------
    ndarray of shape (min(n, n_tokens),), int: token rows

    Examples
    --------
    >>> s = np.array([[1.0, 5.0, 2.0], [1.5, 0.5, 6.0]])
    >>> cmp = TokenComparison(("a", "b"), s.argmin(0), s, s.mean(0), s < 1, s.mean(0) < 1)
    >>> most_contested(cmp, 2).tolist()
    [1, 2]
    """
    spread = comparison.model_surprisal.max(axis=0) - comparison.model_surprisal.min(axis=0)
    return np.argsort(-spread, kind="stable")[:n]
