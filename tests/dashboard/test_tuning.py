"""dashboard.tuning without a UI: suggested weights as slider positions."""

import numpy as np
import pytest

from dashboard.view import WEIGHT_MAX, WEIGHT_STEP
from dashboard.tuning import slider_weights


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ([0.9, 0.1, 0.0], {"a": 3.0, "b": 0.3, "c": 0.0}),  # Caruana: 9 picks and 1 of 10
        ([0.5, 0.5, 0.0], {"a": 3.0, "b": 3.0, "c": 0.0}),
        ([0.6, 0.395, 0.005], {"a": 3.0, "b": 2.0, "c": 0.0}),  # below half a step of the largest: off
    ],
    ids=["caruana shares", "tie", "tiny weight"],
)
def test_slider_weights_put_the_largest_at_the_end_in_whole_steps(weights, expected):
    got = slider_weights(("a", "b", "c"), np.array(weights))
    assert got == expected
    assert all(round(v / WEIGHT_STEP, 6).is_integer() and 0 <= v <= WEIGHT_MAX for v in got.values())
