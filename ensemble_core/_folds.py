"""Shuffled k-fold splits over the labelled rows, shared by the cross-fitted tuners."""

from __future__ import annotations

import numpy as np

from ._validation import EnsembleInputError


def kfold_test_indices(y_true: np.ndarray, folds: int, seed: int) -> list[np.ndarray]:
    """The test rows of each fold: stratified where every present class can fill every fold.

    Stratification keeps each fold's class mix close to the whole; with a class
    rarer than ``folds`` it is impossible, and a plain shuffled k-fold is used.

    Parameters
    ----------
    y_true : ndarray of shape (n_samples,), class indices
    folds : int, at least 2
    seed : int, shuffling seed

    Returns
    -------
    list of ``folds`` sorted index arrays that partition ``range(n_samples)``.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    n = y_true.shape[0]
    if folds < 2:
        raise EnsembleInputError(f"folds must be at least 2; got {folds}")
    if n < folds:
        raise EnsembleInputError(f"{folds}-fold cross-validation needs at least {folds} examples; got {n}")
    counts = np.bincount(y_true)
    if counts[counts > 0].min() >= folds:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    else:
        splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    return [np.sort(test) for _, test in splitter.split(np.zeros(n), y_true)]
