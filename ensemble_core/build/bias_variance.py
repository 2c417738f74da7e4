"""Bias and variance of 0–1 loss, after Domingos (2000), "A unified bias-variance decomposition
for zero-one and squared loss", AAAI 2000, with the noise term taken as zero (the labels are
all we know of the truth).

For each test row x and predictions from models trained on D resamples of the training rows:
the *main prediction* y_m(x) is the most frequent one (ties to the class that sorts first);
*bias* B(x) = [y_m(x) ≠ y]; *variance* V(x) = P_D(prediction ≠ y_m(x)); and the expected loss
is exactly B(x) + c(x)·V(x), with c(x) = 1 where B(x) = 0 and c(x) = −P_D(prediction = y |
prediction ≠ y_m(x)) where B(x) = 1: variance adds to the loss on unbiased rows and takes from
it on biased ones. Averaged over the rows: loss = bias + unbiased variance − biased variance.

Examples
--------
>>> preds = np.array([[0, 1], [0, 1], [1, 1]])  # 3 resamples × 2 rows
>>> d = domingos_decomposition(preds, np.array([0, 0]), n_classes=2)
>>> round(d.loss, 4), d.bias, round(d.variance, 4), round(d.net_variance, 4)
(0.6667, 0.5, 0.1667, 0.1667)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._threads import limited
from .._validation import EnsembleInputError

#: Resamples at most (each trains a model).
MAX_ROUNDS = 100


@dataclass(frozen=True)
class BiasVariance:
    """Domingos' decomposition averaged over the test rows (all as shares of rows).

    ``loss`` = ``bias`` + ``unbiased_variance`` − ``biased_variance``; ``variance`` is the mean
    of V(x) over all rows; ``net_variance`` = ``loss`` − ``bias``.
    """

    loss: float
    bias: float
    variance: float
    unbiased_variance: float
    biased_variance: float
    net_variance: float
    rounds: int


def domingos_decomposition(predictions: np.ndarray, y_true: np.ndarray, *, n_classes: int) -> BiasVariance:
    """Decompose the 0–1 loss of predictions made by models trained on different resamples.

    Parameters
    ----------
    predictions : ndarray of shape (n_rounds, n_samples), class indices
    y_true : ndarray of shape (n_samples,), class indices
    n_classes : int
    """
    predictions = np.asarray(predictions)
    rounds, n = predictions.shape
    if rounds < 2 or n == 0 or y_true.shape != (n,):
        raise EnsembleInputError(
            f"the decomposition needs at least 2 resamples of the same rows; got {rounds} × {n} predictions "
            f"for {y_true.shape[0]} labels"
        )
    counts = np.zeros((n, n_classes), dtype=np.int64)
    np.add.at(counts, (np.broadcast_to(np.arange(n), predictions.shape), predictions), 1)
    main = counts.argmax(axis=1)  # the first of the most frequent classes
    rows = np.arange(n)
    biased = main != y_true
    variance = 1.0 - counts[rows, main] / rounds
    loss = 1.0 - counts[rows, y_true] / rounds
    # On biased rows, P(prediction = y | prediction ≠ y_m) · V(x) = P(prediction = y).
    helped = np.where(biased, counts[rows, y_true] / rounds, 0.0)
    return BiasVariance(
        loss=float(loss.mean()), bias=float(biased.mean()), variance=float(variance.mean()),
        unbiased_variance=float(np.where(biased, 0.0, variance).mean()), biased_variance=float(helped.mean()),
        net_variance=float(loss.mean() - biased.mean()), rounds=rounds,
    )


def bias_variance(make_model, X_train, y_train: np.ndarray, X_test, y_test: np.ndarray, *, n_classes: int,
                  rounds: int = 10, seed: int = 0) -> BiasVariance:
    """Train ``make_model(round)`` on ``rounds`` bootstrap resamples of the training rows and
    decompose its held-out 0–1 loss (:func:`domingos_decomposition`).

    Parameters
    ----------
    make_model : callable (round: int) -> unfitted classifier predicting class indices
    rounds : 2 to :data:`MAX_ROUNDS`
    """
    if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or not 2 <= rounds <= MAX_ROUNDS:
        raise EnsembleInputError(f"rounds must be a whole number from 2 to {MAX_ROUNDS}; got {rounds!r}")
    rng = np.random.default_rng(seed)
    y_train = np.asarray(y_train)
    predictions = np.empty((rounds, len(y_test)), dtype=np.intp)
    with limited("build"):
        for r in range(rounds):
            sample = rng.integers(0, len(y_train), len(y_train))
            model = make_model(r).fit(X_train[sample], y_train[sample])
            predictions[r] = model.predict(X_test)
    return domingos_decomposition(predictions, np.asarray(y_test), n_classes=n_classes)
