"""Labels-only models: the one treatment of a model that gives a class, not probabilities.

A prediction file with a ``prediction`` column (an LLM asked for an answer, a rule, a
model without ``predict_proba``) gives one class per example. Used as a one-hot row it
distorts every combination that reads rows: in the geometric mean the zeros, clipped to
1e-7, are a veto (the ensemble then *is* that model), in a soft average it speaks with
full certainty, and a log loss computed from it measures the clipping, not the model.

The treatment, applied once, where a :class:`~ensemble_core.predictions.PredictionSet` is
built, so the evaluator, stacking, the weight search, calibration, the landscape and every
page see the same rows:

- **which models**: :func:`is_labels_only` (the loader decides: a ``prediction`` column);
- **its row**: one-hot, label-smoothed with a stated ε
  (:data:`~ensemble_core.registry.LABELS_ONLY_SMOOTHING`, 0.1 unless the user changes it):
  ``(1 − ε)`` on its label plus ``ε / K`` on every class (:func:`smoothed_rows`);
- **no log loss**: its own log loss is a dash, a combination of labels-only models only has
  none, and comparisons by log loss leave it out;
- **a warning when it dominates** (:func:`dominance`): where its label differs from the other
  members' weighted vote, the ensemble follows it on at least
  :data:`~ensemble_core.registry.LABELS_ONLY_DOMINANCE` of those rows.

Its own accuracy, macro-F1, Brier score and ECE are those of the labels it gave (one-hot).

Examples
--------
>>> smoothed_rows(np.array([0, 2]), 3, 0.1)
array([[0.93333334, 0.03333334, 0.03333334],
       [0.03333334, 0.03333334, 0.93333334]], dtype=float32)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import registry
from ._validation import EnsembleInputError
from .decision import DECISION_ATOL, decide

if TYPE_CHECKING:
    from .predictions import PredictionSet

DEFAULT_SMOOTHING = registry.LABELS_ONLY_SMOOTHING


def check_smoothing(epsilon: float, *, source: str = "label smoothing ε") -> float:
    """ε as a float in :data:`~ensemble_core.registry.LABELS_ONLY_SMOOTHING_RANGE`, else a one-line error.

    >>> check_smoothing(0.2)
    0.2
    >>> check_smoothing(0.7)
    Traceback (most recent call last):
    ...
    ensemble_core._validation.EnsembleInputError: label smoothing ε must be from 0 to 0.5; got 0.7
    """
    low, high = registry.LABELS_ONLY_SMOOTHING_RANGE
    try:
        value = float(epsilon)
    except (TypeError, ValueError):
        value = float("nan")
    if not low <= value <= high:
        raise EnsembleInputError(f"{source} must be from {low:g} to {high:g}; got {epsilon!r}")
    return value


def is_labels_only(pset: PredictionSet) -> np.ndarray:
    """Which models of ``pset`` gave labels only, shape (n_models,), bool (a copy).

    The one rule every consumer asks: a model is labels-only when its prediction file held a
    ``prediction`` column (:func:`ensemble_core.io.read_aligned_predictions`), whatever its rows
    hold now.
    """
    return np.array(pset.hard, dtype=bool)


def has_log_loss(pset: PredictionSet) -> bool:
    """Whether combinations of ``pset``'s models have a log loss: not when every one is labels-only
    (their probabilities would be ε's, not the models')."""
    return not is_labels_only(pset).all()


def one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Class indices as one-hot rows, shape ``labels.shape + (n_classes,)``, float32."""
    return np.eye(n_classes, dtype=np.float32)[labels]


def smoothed_rows(labels: np.ndarray, n_classes: int, epsilon: float) -> np.ndarray:
    """A labels-only model's rows: ``(1 − ε)`` one-hot plus ``ε / K`` everywhere.

    Parameters
    ----------
    labels : ndarray of shape (n_samples,), class indices
    n_classes : int
    epsilon : float, in :data:`~ensemble_core.registry.LABELS_ONLY_SMOOTHING_RANGE`

    Returns
    -------
    ndarray of shape (n_samples, n_classes), float32; rows sum to 1
    """
    rows = one_hot(labels, n_classes)
    rows *= np.float32(1.0 - epsilon)
    rows += np.float32(epsilon / n_classes)
    return rows


def smooth(probas: np.ndarray, hard: np.ndarray, epsilon: float) -> np.ndarray:
    """``probas`` with each labels-only model's rows replaced by :func:`smoothed_rows` of its
    labels (read from its rows by :func:`~ensemble_core.decision.decide`, so smoothing rows that
    are already smoothed, with any ε below 1, gives the same rows as smoothing the one-hot ones).

    Parameters
    ----------
    probas : ndarray of shape (n_models, n_samples, n_classes)
    hard : ndarray of shape (n_models,), bool
    epsilon : float

    Returns
    -------
    ndarray of the same shape, float32: ``probas`` itself when no model is labels-only, else a copy.

    Examples
    --------
    >>> p = np.array([[[1, 0]], [[0.7, 0.3]]], dtype=np.float32)
    >>> smooth(p, np.array([True, False]), 0.5)[:, 0]
    array([[0.75, 0.25],
           [0.7 , 0.3 ]], dtype=float32)
    """
    hard = np.asarray(hard, bool)
    if not hard.any():
        return probas
    out = np.array(probas, dtype=np.float32)
    for m in np.flatnonzero(hard):
        out[m] = smoothed_rows(decide(out[m]), out.shape[2], epsilon)
    return out


def smooth_labels_only(pset: PredictionSet, epsilon: float) -> PredictionSet:
    """The same set with its labels-only models smoothed with ``epsilon`` instead (itself when it
    has none, or already has that ε)."""
    from dataclasses import replace

    epsilon = check_smoothing(epsilon)
    if not is_labels_only(pset).any() or epsilon == pset.smoothing:
        return pset
    return replace(pset, smoothing=epsilon)


def describe(names: tuple[str, ...] | list[str], epsilon: float, n_classes: int) -> str:
    """The note shown wherever labels-only models take part, naming them and ε.

    >>> describe(["llm"], 0.1, 3)
    'llm gives labels only: it enters each combination as its one-hot row label-smoothed with ε = 0.1 (0.933 on its label, 0.0333 on each other class) and has no log loss'
    """
    one = len(names) == 1
    return (f"{', '.join(names)} {'gives' if one else 'give'} labels only: {'it' if one else 'each'} enters "
            f"each combination as its one-hot row label-smoothed with ε = {epsilon:g} "
            f"({1 - epsilon + epsilon / n_classes:.3g} on its label, {epsilon / n_classes:.3g} on each other class) "
            f"and {'has' if one else 'they have'} no log loss")


@dataclass(frozen=True)
class Dominance:
    """A labels-only model that decides a combination alone.

    Attributes
    ----------
    model : int, its index
    rows : int, examples where its label differs from the other members' weighted vote
    share : float, of those, the share where the ensemble predicts its label
    """

    model: int
    rows: int
    share: float


def dominance(labels: np.ndarray, hard: np.ndarray, weights: np.ndarray, y_pred: np.ndarray, *,
              n_classes: int) -> tuple[Dominance, ...]:
    """The labels-only members (positive weight) that the ensemble follows against all the others.

    For each, the rows where its label differs from the weighted hard vote of the other members
    (:func:`~ensemble_core.combine.hard_vote`); when there are at least
    :data:`~ensemble_core.registry.LABELS_ONLY_DOMINANCE_MIN_ROWS` of them and the ensemble's
    prediction is its label on at least :data:`~ensemble_core.registry.LABELS_ONLY_DOMINANCE` of
    them, it dominates: its one-hot row outweighs everyone else's evidence.

    Parameters
    ----------
    labels : ndarray of shape (n_models, n_samples), each member's class
    hard : ndarray of shape (n_models,), bool, from :func:`is_labels_only`
    weights : ndarray of shape (n_models,), non-negative
    y_pred : ndarray of shape (n_samples,), the ensemble's classes

    Examples
    --------
    >>> labels = np.array([[0] * 20, [1] * 20, [1] * 20])
    >>> dominance(labels, np.array([True, False, False]), np.ones(3), np.zeros(20, int), n_classes=2)
    (Dominance(model=0, rows=20, share=1.0),)
    """
    weights = np.asarray(weights, dtype=np.float64)
    found = []
    for m in np.flatnonzero(np.asarray(hard, bool) & (weights > 0)):
        others = weights.copy()
        others[m] = 0.0
        if others.sum() <= 0:
            continue
        differ = labels[m] != others_vote(labels, others / others.sum(), n_classes)
        rows = int(np.count_nonzero(differ))
        if rows < registry.LABELS_ONLY_DOMINANCE_MIN_ROWS:
            continue
        share = float(np.mean(y_pred[differ] == labels[m][differ]))
        if share >= registry.LABELS_ONLY_DOMINANCE:
            found.append(Dominance(int(m), rows, share))
    return tuple(found)


#: Above this many classes :func:`others_vote` is hard voting itself (class-major passes cost K each).
_CLASS_MAJOR_MAX = 32


def others_vote(labels: np.ndarray, weights: np.ndarray, n_classes: int) -> np.ndarray:
    """The weighted hard vote (:func:`~ensemble_core.combine.hard_vote`'s classes: the same sums in
    the same order, the same tie rule; tested equal), on the slider's path.

    Class-major for up to 32 classes: NumPy's row-wise top class over a few classes costs more
    than the votes themselves (measured at 100,000 rows × 6 models: about 7 ms against 40-50 ms
    for ``hard_vote`` on a loaded machine).

    Parameters
    ----------
    labels : ndarray of shape (n_models, n_samples)
    weights : ndarray of shape (n_models,), normalised (sum 1)
    """
    if n_classes > _CLASS_MAJOR_MAX:
        from .combine import hard_vote

        return hard_vote(labels, weights, n_classes)[0]
    n = labels.shape[1]
    shares = np.zeros((n_classes, n))
    for m in np.flatnonzero(weights > 0):
        for c in range(n_classes):
            shares[c] += weights[m] * (labels[m] == c)
    level = shares.max(axis=0) - DECISION_ATOL  # decide's rule: the first class within atol of the top
    vote = np.full(n, n_classes - 1, dtype=np.intp)
    for c in reversed(range(n_classes - 1)):
        vote[shares[c] >= level] = c
    return vote


def dominance_note(name: str, found: Dominance, epsilon: float) -> str:
    """The warning for one dominating labels-only model."""
    return (f"{name} (labels only) decides this combination alone: on the {found.rows:,} examples where its label "
            f"differs from the other models' weighted vote, the ensemble follows it on {found.share:.0%}; "
            f"raise the label smoothing (ε = {epsilon:g} now) or lower its weight to let the others count")
