"""Language-model figures carry the data and mark the points asked for (no UI)."""

from __future__ import annotations

import numpy as np
import pytest

from ensemble_core.lm import evaluate_fusion
from ensemble_core.lm.figures import model_metrics_figure, simplex_figure, weight_curve_figure
from ensemble_core.lm.landscape import weight_landscape
from tests.conftest import ATTACK_HTML
from tests.lm.conftest import random_scores


def test_weight_curve_plots_perplexity_and_accuracy_and_marks_weights():
    land = weight_landscape(random_scores(2), "linear", resolution=10)
    fig = weight_curve_figure(land, current=[1, 3], suggested=[0.6, 0.4])
    np.testing.assert_array_equal(fig.data[0].y, land.perplexity)
    np.testing.assert_array_equal(fig.data[1].y, land.accuracy)
    assert [s.x0 for s in fig.layout.shapes] == [0.25, 0.6]
    with pytest.raises(ValueError, match="needs two models"):
        weight_curve_figure(weight_landscape(random_scores(3), resolution=2))


def test_simplex_figure_plots_every_point_and_the_best():
    land = weight_landscape(random_scores(3), "loglinear", resolution=6)
    fig = simplex_figure(land, current=[1, 1, 1], suggested=[0.2, 0.3, 0.5])
    np.testing.assert_array_equal(fig.data[0].marker.color, land.perplexity)
    marks = {t.name: (t.a[0], t.b[0], t.c[0]) for t in fig.data[1:]}
    assert marks["best on the grid"] == tuple(land.best)
    assert marks["suggested"] == pytest.approx((0.2, 0.3, 0.5))
    with pytest.raises(ValueError, match="3 weights"):
        simplex_figure(land, current=[1, 1])


def test_model_names_are_shown_as_text():
    scores = random_scores(2)
    scores = type(scores)((ATTACK_HTML, "b"), *[getattr(scores, f) for f in
                                                 ("log_probs", "targets", "doc_starts", "n_bytes", "strides", "seconds")])
    result = evaluate_fusion(scores, None, "linear")
    fig = model_metrics_figure(result.fused, result.models, pool="linear")
    assert "<img" not in "".join(fig.data[0].x) and fig.data[0].y[1] == result.models[ATTACK_HTML].perplexity
    land = weight_landscape(scores, resolution=2)
    assert "<img" not in weight_curve_figure(land).layout.title.text
