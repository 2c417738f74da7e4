"""Per-example disagreement and the diversity matrices, against sklearn and plain loops."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from ensemble_core import EnsembleEvaluator, PredictionSet, diversity_matrices, example_disagreement, vote_entropy
from tests.conftest import random_probas


@pytest.fixture(scope="module")
def pset():
    rng = np.random.default_rng(0)
    n, k = 300, 4
    y = rng.integers(0, k, size=n)
    probas = random_probas(rng, 4, n, k)
    # make the models informative and correlated so the statistics are not all ~0
    boost = rng.random((4, n)) < np.array([0.7, 0.6, 0.5, 0.3])[:, None]
    probas[boost, y[None, :].repeat(4, 0)[boost]] += 2.0
    probas /= probas.sum(axis=2, keepdims=True)
    return PredictionSet(probas, y, np.array(list("abcd")), ("m1", "m2", "m3", "m4"), ids=np.arange(n))


def test_kappa_matches_sklearn(pset):
    labels = pset.probas.argmax(axis=2)
    d = diversity_matrices(pset)
    for i in range(4):
        for j in range(4):
            assert d.kappa[i, j] == pytest.approx(cohen_kappa_score(labels[i], labels[j]), abs=1e-9)


def test_pairwise_statistics_match_plain_counts(pset):
    labels = pset.probas.argmax(axis=2)
    right = labels == pset.y_true
    d = diversity_matrices(pset)
    for i in range(4):
        for j in range(4):
            a, b = right[i], right[j]
            n11, n00 = np.sum(a & b), np.sum(~a & ~b)
            n10, n01 = np.sum(a & ~b), np.sum(~a & b)
            assert d.disagreement[i, j] == pytest.approx(np.mean(labels[i] != labels[j]))
            assert d.double_fault[i, j] == pytest.approx(n00 / len(a))
            if i != j:
                assert d.q_statistic[i, j] == pytest.approx((n11 * n00 - n01 * n10) / (n11 * n00 + n01 * n10))
            assert d.error_correlation[i, j] == pytest.approx(np.corrcoef(~a, ~b)[0, 1])
    np.testing.assert_allclose(np.diag(d.disagreement), 0)
    np.testing.assert_allclose(d.q_statistic, d.q_statistic.T)


def test_vote_entropy_bounds():
    agree = np.array([[1, 0], [1, 2], [1, 1]])
    h = vote_entropy(agree, 3)
    assert h[0] == pytest.approx(0.0)
    assert h[1] == pytest.approx(np.log(3))


def test_example_table_columns_and_values(pset):
    ev = EnsembleEvaluator(pset)
    res = ev.evaluate("soft")
    table = example_disagreement(pset, ev.labels_, res.y_pred, res.probas)
    assert len(table) == pset.n_samples
    for col in ["id", "true", "ensemble", "ensemble_confidence", "m1", "m1_confidence", "vote_entropy",
                "disagree_share", "true_proba_spread", "n_correct", "ensemble_correct"]:
        assert col in table.columns
    row = 5
    expected_share = np.mean(ev.labels_[:, row] != res.y_pred[row])
    assert table["disagree_share"][row] == pytest.approx(expected_share)
    assert table["true"][row] == pset.classes[pset.y_true[row]]
    true_p = pset.probas[:, row, pset.y_true[row]]
    assert table["true_proba_spread"][row] == pytest.approx(true_p.std(), rel=1e-5)
    assert table["m2_confidence"][row] == pytest.approx(pset.probas[1, row].max())
    assert table["ensemble_correct"].mean() == pytest.approx(res.metrics.accuracy)
