"""Which rows AdaBoost leans on: the sample weights before each round.

scikit-learn's ``AdaBoostClassifier`` (discrete SAMME) keeps each round's member, its weight
and its weighted error, but not the rows' weights. They follow from what it keeps: start
uniform; after round t, multiply the weight of every row member t got wrong by
exp(α_t) and renormalise. A check that they are the very weights it used: each round's
weighted error recomputed with them equals ``estimator_errors_``.

Examples
--------
>>> from sklearn.datasets import load_iris
>>> from sklearn.ensemble import AdaBoostClassifier
>>> X, y = load_iris(return_X_y=True)
>>> model = AdaBoostClassifier(n_estimators=5, random_state=0).fit(X, y)
>>> w = adaboost_sample_weights(model, X, y)
>>> w.shape, bool(np.allclose(w.sum(axis=1), 1))
((5, 150), True)
"""

from __future__ import annotations

import numpy as np


def adaboost_sample_weights(model, X, y: np.ndarray) -> np.ndarray:
    """The rows' weights before each of a fitted AdaBoost's rounds.

    Parameters
    ----------
    model : fitted ``sklearn.ensemble.AdaBoostClassifier`` (fitted without sample weights)
    X, y : the rows it was fitted on

    Returns
    -------
    ndarray of shape (n_rounds, n_samples): row t holds the weights round t trained with (sum 1)
    """
    y = np.asarray(y)
    n_rounds = len(model.estimators_)
    weights = np.empty((n_rounds, len(y)))
    w = np.full(len(y), 1.0 / len(y))
    for t, (member, alpha) in enumerate(zip(model.estimators_, model.estimator_weights_)):
        weights[t] = w
        incorrect = member.predict(X) != y
        w = np.exp(np.log(w) + alpha * incorrect * (w > 0))
        w /= w.sum()
    return weights


def weighted_errors(model, X, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each round's weighted error under ``weights`` (n_rounds, n_samples): equals the model's
    ``estimator_errors_`` when the weights are the ones it trained with."""
    y = np.asarray(y)
    return np.array([np.average(m.predict(X) != y, weights=w) for m, w in zip(model.estimators_, weights)])


def leaned_on(weights: np.ndarray, n: int = 10) -> np.ndarray:
    """The ``n`` rows weighing most before the last round, heaviest first (lower rows first on a tie).

    Parameters
    ----------
    weights : ndarray of shape (n_rounds, n_samples), from :func:`adaboost_sample_weights`

    Returns
    -------
    ndarray of shape (min(n, n_samples),), int

    >>> leaned_on(np.array([[0.25] * 4, [0.1, 0.4, 0.1, 0.4]]), 3).tolist()
    [1, 3, 0]
    """
    return np.argsort(-weights[-1], kind="stable")[:n]
