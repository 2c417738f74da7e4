"""Shared checks: weights normalised exactly, messages on one line with nothing a terminal acts on."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ensemble_core._validation import check_weights, one_line


@pytest.mark.parametrize("weights", [[1, 6], [1, 2, 4], [0.3, 0.3, 0.4], [3, 0, 1]], ids=str)
def test_weights_are_divided_by_their_sum_once(weights):
    """Dividing by the largest first changed the last digits of --json weights (0.3 → 0.29999999999999993)."""
    w = np.asarray(weights, dtype=np.float64)
    np.testing.assert_array_equal(check_weights(weights, len(weights)), w / w.sum())
    assert check_weights([0.3, 0.3, 0.4], 3).tolist() == [0.3, 0.3, 0.4]


def test_weights_whose_sum_overflows_are_still_normalised_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(check_weights([1e308, 1e308], 2), [0.5, 0.5])
        np.testing.assert_allclose(check_weights([1e308, 1e308, 0], 3), [0.5, 0.5, 0.0])


@pytest.mark.parametrize(
    "message, shown",
    [
        ("label 'a\rEVIL'", r"label 'a\rEVIL'"),
        ("label 'a\nb'\n", r"label 'a\nb'"),
        ("a\r\nb", r"a\nb"),
        ("bell\x07 escape\x1b[2J del\x7f", r"bell\x07 escape\x1b[2J del\x7f"),
        ("line\u2028separator", r"line\u2028separator"),
        ("café, 東京, a tab\tescaped", r"café, 東京, a tab\tescaped"),
    ],
    ids=["carriage-return", "newline", "crlf", "control", "unicode-line-separator", "printable-unicode"],
)
def test_one_line_escapes_everything_not_printable(message, shown):
    assert one_line(message) == shown
    assert one_line(message).isprintable()


def test_errors_raised_together_keep_each_problem_in_order():
    from ensemble_core._validation import EnsembleInputError, InputProblems, map_all, raise_together

    raise_together([])  # nothing to raise
    single = EnsembleInputError("a.csv: bad")
    with pytest.raises(EnsembleInputError) as err:
        raise_together([single])
    assert err.value is single

    def check(name: str) -> str:
        if name.startswith("bad"):
            raise EnsembleInputError(f"{name}: bad")
        if name == "two":
            raise InputProblems(["x: one", "y: two"])
        return name

    with pytest.raises(InputProblems) as err:
        map_all(check, ["ok", "bad1", "two", "bad2"])
    assert err.value.problems == ("bad1: bad", "x: one", "y: two", "bad2: bad")
    assert map_all(check, ["ok", "fine"]) == ["ok", "fine"]
