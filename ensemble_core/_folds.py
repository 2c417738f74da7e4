"""The k-fold split every cross-fitted computation uses: stratified, rare classes spread.

One rule for stacking, calibration and the weight search (see :mod:`._crossfit`):
scikit-learn's shuffled ``StratifiedKFold`` allocation, for every mix of labels. The
rows, sorted by class, are dealt to the folds round robin, so each fold gets each
class's share to within one row; then each class's fold numbers are shuffled among its
rows with ``seed``. A class with fewer rows than folds therefore has each row in a
different fold: every training split holds all of its rows but one, so a model fitted
on the other folds sees the class wherever it can (a class of one row is missing only
from its own fold's training split).

scikit-learn warns on such a class and refuses when every class has one; the
allocation is the same rule either way, so it is computed here, and equals
``StratifiedKFold(folds, shuffle=True, random_state=seed)`` wherever that accepts the
labels (tested).

Examples
--------
>>> import numpy as np
>>> y = np.array([0, 0, 0, 0, 0, 0, 1, 1])  # class 1: fewer rows than folds
>>> tests = kfold_test_indices(y, 3, seed=0)
>>> [int(np.isin(t, [6, 7]).sum()) for t in tests]  # never both in one fold
[1, 1, 0]
"""

from __future__ import annotations

import numpy as np

from ._validation import EnsembleInputError


def fold_of_each_row(y_true: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Which fold's test rows each row is in (see the module docstring for the rule).

    Parameters
    ----------
    y_true : ndarray of shape (n_samples,), class indices
    folds : int, at least 2 and at most ``n_samples``
    seed : int, shuffling seed

    Returns
    -------
    ndarray of shape (n_samples,), int, each in ``range(folds)``; every fold has rows.

    Raises
    ------
    EnsembleInputError
        With fewer than 2 folds or fewer rows than folds.
    """
    y_true = np.asarray(y_true)
    n = y_true.shape[0]
    if folds < 2:
        raise EnsembleInputError(f"folds must be at least 2; got {folds}")
    if n < folds:
        raise EnsembleInputError(f"{folds}-fold cross-validation needs at least {folds} examples; got {n}")
    # Classes numbered by first appearance, as scikit-learn does: the seed's shuffles go to
    # the classes in that order.
    _, first, inverse = np.unique(y_true, return_index=True, return_inverse=True)
    rank = np.empty(first.shape[0], np.intp)
    rank[np.argsort(first)] = np.arange(first.shape[0])
    encoded = rank[inverse.reshape(-1)]
    n_classes = first.shape[0]
    dealt = np.sort(encoded)
    allocation = np.stack([np.bincount(dealt[f::folds], minlength=n_classes) for f in range(folds)])
    rng = np.random.RandomState(seed)
    fold = np.empty(n, np.intp)
    rows_by_class = np.split(np.argsort(encoded, kind="stable"), np.cumsum(np.bincount(encoded))[:-1])
    for k, rows in enumerate(rows_by_class):
        folds_for_class = np.repeat(np.arange(folds), allocation[:, k])
        rng.shuffle(folds_for_class)
        fold[rows] = folds_for_class
    return fold


def kfold_test_indices(y_true: np.ndarray, folds: int, seed: int) -> list[np.ndarray]:
    """The test rows of each fold (:func:`fold_of_each_row`).

    Parameters
    ----------
    y_true : ndarray of shape (n_samples,), class indices
    folds : int, at least 2
    seed : int, shuffling seed

    Returns
    -------
    list of ``folds`` sorted index arrays that partition ``range(n_samples)``.
    """
    fold = fold_of_each_row(y_true, folds, seed)
    order = np.argsort(fold, kind="stable")  # rows ascending within each fold
    return np.split(order, np.cumsum(np.bincount(fold, minlength=folds))[:-1])
