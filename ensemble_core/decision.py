"""The one rule that turns scores into a predicted class.

Every path that picks a class uses :func:`decide` or a fast path tested equal to it:
each member's own label, hard voting (on vote shares), soft voting (on probabilities),
geometric voting (on the pooled log-probabilities), stacking, the weight landscape,
the weight search and the metrics that need a label.

The rule: **the first class whose score is within** :data:`DECISION_ATOL` **of the
row's maximum**. Scores that differ by less than that are a tie, and a tie goes to
the class that sorts first (scikit-learn's rule for voting). The tolerance is there
because the same ensemble reaches its scores by different roads — BLAS sums the
models in float32 in one order, the landscape in float64 in another, a single model
is its own "ensemble" — and the roads differ by a few units in the last place; a
class must not win or lose by that. It is absolute, applied to probabilities and
vote shares (both in [0, 1]): a float32 probability near 1 has a resolution of
6e-8, so 1e-6 is some 16 units in the last place, and no probability difference
that means anything is that small.

Geometric voting decides on the pooled log-probabilities (the log of the normalised
pool plus a per-row constant), with :data:`LOG_POOL_ATOL`: two classes whose pooled
probabilities ``q`` and ``1 - q`` are within :data:`DECISION_ATOL` of each other are
exactly those whose log-scores are within ``log((1 + atol) / (1 - atol))``. So for two
classes it is the same rule as on the probabilities (an "ensemble" of one model decides
as the model), for more classes a slightly narrower band, and in every case linear in
the weights, which keeps the weight landscape exact.
"""

from __future__ import annotations

import math

import numpy as np

#: Scores within this of the row's maximum tie for the top; the first such class wins.
DECISION_ATOL = 1e-6
#: The same tolerance on log-probability scores (geometric voting; see the module docstring).
LOG_POOL_ATOL = math.log((1 + DECISION_ATOL) / (1 - DECISION_ATOL))


def decide(scores: np.ndarray, *, atol: float = DECISION_ATOL) -> np.ndarray:
    """The top class of each row: the first class within ``atol`` of the row's maximum.

    The threshold ``max - atol`` is computed in the scores' own floating dtype, so fast
    paths that work on the same float32 (or float64) values decide exactly the same.

    Parameters
    ----------
    scores : ndarray of shape (..., n_classes)
        Probabilities, vote shares or pooled log-probabilities; the last axis is the class.
    atol : float

    Returns
    -------
    ndarray of shape (...,), int (np.intp)

    Examples
    --------
    >>> decide(np.array([[0.4999997, 0.5000003], [0.2, 0.8], [0.5, 0.5]]))
    array([0, 1, 0])
    >>> decide(np.array([[0.3, 0.3, 0.4]]), atol=0.2)
    array([0])
    """
    scores = np.asarray(scores)
    if not np.issubdtype(scores.dtype, np.floating):
        scores = scores.astype(np.float64)
    top = scores.max(axis=-1, keepdims=True)
    level = top - scores.dtype.type(atol)
    return (scores >= level).argmax(axis=-1)
