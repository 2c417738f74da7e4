"""The fused model's perplexity and accuracy over the weights of two or three language models.

Two models: along ``w`` in [0, 1] (weights ``(w, 1 - w)``); three: over the triangular grid
of the simplex (:func:`ensemble_core.landscape.simplex_grid`). Every point is the exact
pool (:func:`ensemble_core.lm.pools.fuse`), one pass over the distributions per point:
size the resolution to the tokens (50,000 tokens × 3 models × 500 words took 0.2–0.6 s a
point on two busy cores).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..landscape import simplex_grid
from ..registry import LMPool
from .pools import fuse, lm_metrics
from .scoring import LMScores


@dataclass(frozen=True, eq=False)
class LMLandscape:
    """Metrics of the fused model at points of the weight simplex.

    Attributes
    ----------
    pool : str
    names : tuple of str
    weights : ndarray of shape (n_points, n_models), rows on the simplex
    perplexity : ndarray of shape (n_points,)
    accuracy : ndarray of shape (n_points,)
    resolution : int
        Grid steps per unit weight.
    """

    pool: str
    names: tuple[str, ...]
    weights: np.ndarray
    perplexity: np.ndarray
    accuracy: np.ndarray
    resolution: int

    @property
    def best(self) -> np.ndarray:
        """The grid point of lowest perplexity, shape (n_models,)."""
        return self.weights[int(np.argmin(self.perplexity))]


def weight_landscape(scores: LMScores, pool: LMPool = "linear", *, resolution: int = 20) -> LMLandscape:
    """The fused perplexity and top-1 accuracy over a grid of two or three models' weights.

    Parameters
    ----------
    scores : LMScores of 2 or 3 models
    pool : {"linear", "loglinear"}
    resolution : int
        Steps per unit weight: ``resolution + 1`` points for two models,
        ``(r + 1)(r + 2) / 2`` for three.

    Returns
    -------
    LMLandscape

    Raises
    ------
    EnsembleInputError
        For other numbers of models or a resolution below 1.

    Examples
    --------
    >>> land = weight_landscape(scores, "linear", resolution=10)  # doctest: +SKIP
    >>> land.weights.shape, land.perplexity.shape  # doctest: +SKIP
    ((11, 2), (11,))
    """
    grid = simplex_grid(resolution, len(scores.names))
    n_bytes = int(scores.n_bytes.sum())
    metrics = [lm_metrics(fuse(scores.log_probs, w, pool), scores.targets, n_bytes) for w in grid]
    return LMLandscape(pool, scores.names, grid, np.array([m.perplexity for m in metrics]),
                       np.array([m.accuracy for m in metrics]), resolution)
