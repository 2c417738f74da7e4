"""Where the models disagree: per-example measures and model-by-model diversity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._threads import limited
from .combine import model_labels, vote_index, vote_shares
from .predictions import PredictionSet


def vote_entropy(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Entropy (natural log) of the unweighted vote distribution, per example.

    0 when all models agree; ``log(min(n_models, n_classes))`` at most.

    Parameters
    ----------
    labels : ndarray of shape (n_models, n_samples), class indices
    """
    n_models, n_samples = labels.shape
    share = vote_shares(vote_index(labels, n_classes), np.full(n_models, 1.0 / n_models), n_samples, n_classes)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(share > 0, share * np.log(share), 0.0)
    return -terms.sum(axis=1)


def example_disagreement(
    pset: PredictionSet,
    labels: np.ndarray,
    y_pred: np.ndarray,
    probas: np.ndarray,
) -> pd.DataFrame:
    """One row per example: each model's label and confidence, the ensemble's, and
    how much the models disagree.

    Parameters
    ----------
    pset : the prediction set
    labels : ndarray of shape (n_models, n_samples), each model's class index
    y_pred : ndarray of shape (n_samples,), the ensemble's class index
    probas : ndarray of shape (n_samples, n_classes), the ensemble's probabilities or vote shares

    Returns
    -------
    DataFrame with columns ``id`` (when the set has ids), ``true``, ``ensemble``,
    ``ensemble_confidence``, ``<name>`` and ``<name>_confidence`` per model,
    ``vote_entropy``, ``disagree_share`` (share of models whose label differs from
    the ensemble's), ``true_proba_spread`` (standard deviation over models of the
    probability given to the true class), ``n_correct`` (models right), and
    ``ensemble_correct``.
    """
    classes = np.asarray(pset.classes, dtype=object)
    n = pset.n_samples
    rows = np.arange(n)
    cols: dict[str, object] = {}
    if pset.ids is not None:
        cols["id"] = pset.ids
    cols["true"] = classes[pset.y_true]
    cols["ensemble"] = classes[y_pred]
    cols["ensemble_confidence"] = probas[rows, y_pred].astype(np.float32)
    for m, name in enumerate(pset.names):
        cols[name] = classes[labels[m]]
        cols[f"{name}_confidence"] = pset.probas[m, rows, labels[m]]
    cols["vote_entropy"] = vote_entropy(labels, pset.n_classes)
    cols["disagree_share"] = (labels != y_pred[None, :]).mean(axis=0)
    true_p = np.take_along_axis(pset.probas, pset.y_true[None, :, None], axis=2)[:, :, 0]
    cols["true_proba_spread"] = true_p.std(axis=0)
    cols["n_correct"] = (labels == pset.y_true[None, :]).sum(axis=0)
    cols["ensemble_correct"] = y_pred == pset.y_true
    return pd.DataFrame(cols)


@dataclass(frozen=True, eq=False)
class DiversityMatrices:
    """Model-by-model diversity, each an (n_models, n_models) array in ``names`` order.

    disagreement : share of examples where the two models predict different labels
    kappa : Cohen's kappa between the two models' predicted labels
    q_statistic : Yule's Q over correct/wrong (1 = they err together, −1 = never both)
    double_fault : share of examples both models get wrong
    error_correlation : Pearson correlation of the two models' error indicators
    """

    names: tuple[str, ...]
    disagreement: np.ndarray
    kappa: np.ndarray
    q_statistic: np.ndarray
    double_fault: np.ndarray
    error_correlation: np.ndarray


def agreement_and_kappa(labels: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise share of equal labels, and Cohen's kappa (NaN where chance agreement is 1).

    Parameters
    ----------
    labels : ndarray of shape (n_models, n_samples), int class indices

    Returns
    -------
    agree, kappa : ndarrays of shape (n_models, n_models)
    """
    n_models, n = labels.shape
    agree = np.zeros((n_models, n_models))
    freq = np.empty((n_models, n_classes))
    for c in range(n_classes):  # one class at a time keeps memory at n_models × n_samples
        is_c = (labels == c).astype(np.float32)
        agree += is_c @ is_c.T
        freq[:, c] = is_c.sum(axis=1)
    agree /= n
    freq /= n
    chance = freq @ freq.T
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = (agree - chance) / (1.0 - chance)
    return agree, kappa


def diversity_matrices(pset: PredictionSet, labels: np.ndarray | None = None) -> DiversityMatrices:
    """Pairwise diversity of the models (weights-independent: compute once).

    Parameters
    ----------
    pset : the prediction set
    labels : optional precomputed :func:`~ensemble_core.combine.model_labels`, shape (n_models, n_samples)
    """
    if labels is None:
        labels = model_labels(pset.probas)
    n = pset.n_samples
    correct = (labels == pset.y_true[None, :]).astype(np.float64)
    wrong = 1.0 - correct
    with limited("diversity"):
        n11 = correct @ correct.T
        n00 = wrong @ wrong.T
        n10 = correct @ wrong.T
        n01 = wrong @ correct.T
        agree, kappa = agreement_and_kappa(labels, pset.n_classes)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = (n11 * n00 - n01 * n10) / (n11 * n00 + n01 * n10)
        err_c = np.corrcoef(wrong) if wrong.shape[0] > 1 else np.ones((1, 1))
    np.fill_diagonal(q, 1.0)
    return DiversityMatrices(
        names=pset.names,
        disagreement=1.0 - agree,
        kappa=kappa,
        q_statistic=q,
        double_fault=n00 / n,
        error_correlation=np.atleast_2d(err_c),
    )
