"""The weight landscape: every grid point is the exact pool."""

from __future__ import annotations

import numpy as np
import pytest

from ensemble_core import EnsembleInputError
from ensemble_core.lm import evaluate_fusion
from ensemble_core.lm.landscape import weight_landscape
from tests.lm.conftest import random_scores


@pytest.mark.parametrize(("n_models", "points"), [(2, 11), (3, 66)])
@pytest.mark.parametrize("pool", ["linear", "loglinear"])
def test_every_point_is_the_exact_fusion(n_models, points, pool):
    scores = random_scores(n_models)
    land = weight_landscape(scores, pool, resolution=10)
    assert land.weights.shape == (points, n_models) and land.names == scores.names
    for i in (0, points // 2, points - 1):
        fused = evaluate_fusion(scores, land.weights[i], pool).fused
        assert (land.perplexity[i], land.accuracy[i]) == (fused.perplexity, fused.accuracy)
    assert land.perplexity[np.argmin(land.perplexity)] == evaluate_fusion(scores, land.best, pool).fused.perplexity


def test_a_corner_is_one_model_alone():
    scores = random_scores(2)
    land = weight_landscape(scores, "loglinear", resolution=4)
    alone = evaluate_fusion(scores, [1, 0], "loglinear").models["m0"]
    assert land.perplexity[-1] == pytest.approx(alone.perplexity)  # weights (1, 0) come last


def test_four_models_are_refused():
    with pytest.raises(EnsembleInputError, match="needs 2 or 3 models; got 4"):
        weight_landscape(random_scores(4), resolution=4)
