"""The interpolation figure: both curves in both panels, the ends' straight line, the barrier where there is one."""

from __future__ import annotations

import numpy as np
import pytest

from ensemble_core.merge.figures import interpolation_figure
from ensemble_core.merge.interpolate import Barrier, CurveMetrics, InterpolationCurve, barrier


def _curve(weight_accuracy):
    alphas = (0.0, 0.5, 1.0)
    loss = (0.3, 0.7, 0.4)
    return InterpolationCurve(("m/a", "m/<b>"), alphas, CurveMetrics(weight_accuracy, loss),
                              CurveMetrics((0.9, 0.92, 0.8), (0.3, 0.25, 0.4)),
                              barrier(np.array(alphas), np.array(weight_accuracy), np.array(loss)))


def test_a_barrier_is_drawn_from_the_curve_up_to_the_straight_line():
    fig = interpolation_figure(_curve((0.9, 0.6, 0.8)))
    assert [t.name for t in fig.data[:3]] == ["weights averaged (one model)", "outputs averaged (both models run)",
                                              "straight line between the ends"]
    assert len(fig.data) == 7
    mark = fig.data[-1]
    assert mark.name == "barrier: 25.0 points"
    assert list(mark.x) == [0.5, 0.5] and list(mark.y) == pytest.approx([0.6, 0.85])
    assert list(fig.data[3].y) == [0.3, 0.7, 0.4]  # the log-loss panel's weight-space curve
    assert fig.layout.xaxis.title.text == "α (0 = a, 1 = &lt;b&gt;)"  # names shown literally


def test_no_barrier_no_mark():
    fig = interpolation_figure(_curve((0.9, 0.86, 0.8)))
    assert len(fig.data) == 6 and not any(t.name.startswith("barrier") for t in fig.data)
    assert Barrier(0.0, 0.0, 0.0).accuracy == 0.0
