"""The interpolation curve: end points equal `score`'s predictions, a midpoint equals the
merged directory scored, the output curve is the soft vote, and the barrier."""

from __future__ import annotations

import numpy as np
import pytest

from ensemble_core.combine import soft_vote
from ensemble_core.decision import decide
from ensemble_core.io import LabelsFile
from ensemble_core.merge.checks import read_merge_inputs
from ensemble_core.merge.interpolate import alpha_grid, barrier, interpolation_curve
from ensemble_core.merge.methods import linear_merge
from ensemble_core.metrics import log_loss
from ensemble_core.models.scoring import score_model
from ensemble_core.models.transformers_loader import load_transformers


def _score(folder, labels):
    return score_model(load_transformers(folder, name=folder.name), labels.content, classes=labels.classes)


@pytest.fixture(scope="module")
def curve(tiny_models, splits):
    labels = LabelsFile(splits["heldout"])
    return labels, interpolation_curve(
        tiny_models["a"], tiny_models["b"], labels.content, classes=labels.classes, y_true=labels.y_true, points=5
    )


def test_end_points_reproduce_the_end_models_exactly(curve, tiny_models):
    labels, c = curve
    np.testing.assert_array_equal(c.probas[0], _score(tiny_models["a"], labels))
    np.testing.assert_array_equal(c.probas[-1], _score(tiny_models["b"], labels))


def test_a_midpoint_equals_the_merged_directory_scored(curve, tiny_models, tmp_path):
    labels, c = curve
    linear_merge(read_merge_inputs([tiny_models["a"], tiny_models["b"]]), tmp_path / "mid", weights=[0.75, 0.25])
    np.testing.assert_array_equal(c.probas[1], _score(tmp_path / "mid", labels))
    assert c.weight_space.accuracy[1] == float(np.mean(decide(c.probas[1]) == labels.y_true))
    assert c.weight_space.log_loss[1] == log_loss(labels.y_true, c.probas[1])


def test_output_curve_is_the_soft_vote_of_the_end_models(curve):
    labels, c = curve
    for k, alpha in enumerate(c.alphas):
        mixed = soft_vote(np.stack([c.probas[0], c.probas[-1]]), np.array([1 - alpha, alpha]))
        assert c.output_space.accuracy[k] == float(np.mean(decide(mixed) == labels.y_true))
        assert c.output_space.log_loss[k] == pytest.approx(log_loss(labels.y_true, mixed), rel=1e-12)
    assert c.output_space.accuracy[0] == c.weight_space.accuracy[0]
    assert c.output_space.log_loss[-1] == c.weight_space.log_loss[-1]


def test_json_keys(curve):
    d = curve[1].to_dict()
    assert d["alphas"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert set(d["weight_space"]) == set(d["output_space"]) == {"accuracy", "log_loss"}
    assert set(d["barrier"]) == {"accuracy", "alpha", "log_loss"}


def test_barrier_is_the_worst_drop_below_the_line():
    alphas = alpha_grid(5)
    acc = np.array([0.8, 0.7, 0.5, 0.85, 0.9])
    loss = np.array([0.5, 0.6, 0.9, 0.4, 0.3])
    b = barrier(alphas, acc, loss)
    # the line: 0.8, 0.825, 0.85, 0.875, 0.9 → drops 0, 0.125, 0.35, 0.025, 0
    assert b.accuracy == pytest.approx(0.35)
    assert b.alpha == 0.5
    # loss line: 0.5, 0.45, 0.4, 0.35, 0.3 → rises 0, 0.15, 0.5, 0.05, 0
    assert b.log_loss == pytest.approx(0.5)
    assert barrier(alphas, np.array([0.8, 0.9, 0.9, 0.9, 0.8]), loss * 0 + 1).accuracy == 0.0


@pytest.mark.parametrize("points", [1, 0, 2.5, True])
def test_points_must_be_at_least_two(points):
    with pytest.raises(ValueError, match="--points"):
        alpha_grid(points)


def test_alpha_grid_is_tenths():
    assert alpha_grid().tolist() == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]


def test_texts_are_tokenised_once_for_all_points(tiny_models, splits, monkeypatch):
    from ensemble_core.models import transformers_loader

    calls = []
    real = transformers_loader.load_tokenizer

    class Counting:
        def __init__(self, tokenizer):
            self._tokenizer = tokenizer

        def __call__(self, texts, **kwargs):
            calls.append(len(texts))
            return self._tokenizer(texts, **kwargs)

        def __getattr__(self, name):
            return getattr(self._tokenizer, name)

    monkeypatch.setattr(transformers_loader, "load_tokenizer", lambda folder: Counting(real(folder)))
    labels = LabelsFile(splits["heldout"])
    interpolation_curve(tiny_models["a"], tiny_models["b"], labels.content, classes=labels.classes,
                        y_true=labels.y_true, points=4)
    assert calls == [32, 28]  # one call per batch of 60 rows, not one per batch and point
