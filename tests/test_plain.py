"""ensemble_core.plain: the headline numbers in plain words, checked against the numbers."""

from __future__ import annotations

import numpy as np
import pytest

from ensemble_core import EnsembleEvaluator, plain
from ensemble_core.demo import load_demo
from ensemble_core.report.html import headline_sentence
from ensemble_core.significance import gain_statistics


def test_the_headline_counts_what_the_evaluator_counts():
    ev = EnsembleEvaluator(load_demo("digits"))
    result = ev.evaluate("soft")
    best = ev.correct_[ev.best_index_]
    right = result.y_pred == ev.pset.y_true
    fixes, breaks = int((right & ~best).sum()), int((~right & best).sum())  # by hand
    text = plain.headline(n_models=ev.pset.n_models, n_samples=ev.pset.n_samples, accuracy=result.metrics.accuracy,
                          best_name=ev.best_name_, best_accuracy=ev.best_accuracy_, fixes=result.fixes,
                          breaks=result.breaks)
    assert (result.fixes, result.breaks) == (fixes, breaks)
    assert f"fixes {fixes} example" in text and f"breaks {breaks} it got right" in text
    assert f"right on {right.mean():.1%} of {ev.pset.n_samples:,} examples" in text
    # The report says it in the same words.
    assert headline_sentence({"names": ev.pset.names, "n_samples": ev.pset.n_samples, "accuracy": right.mean(),
                              "best_single": {"name": ev.best_name_, "accuracy": ev.best_accuracy_},
                              "fixes": fixes, "breaks": breaks}) == text


@pytest.mark.parametrize("gain, word", [(0.02, "2.0 points better"), (-0.031, "3.1 points worse"),
                                        (0.0004, "the same")])
def test_the_headline_says_better_worse_or_the_same(gain, word):
    text = plain.headline(n_models=3, n_samples=1000, accuracy=0.8 + gain, best_name="m", best_accuracy=0.8,
                          fixes=1, breaks=0)
    assert f": {word}." in text and "fixes 1 example m got wrong" in text


@pytest.mark.parametrize("shift, start", [(0.3, "Very likely real: "), (-0.3, "Very likely real, and a loss"),
                                          (0.0, "Could be luck")])
def test_the_gain_reading_follows_the_interval(shift, start):
    rng = np.random.default_rng(1)
    best = rng.random(3000) < 0.7
    flip = rng.random(3000) < abs(shift)
    ensemble = (best | flip) if shift > 0 else (best & ~flip) if shift < 0 else best.copy()
    stats = gain_statistics(ensemble, best, seed=0)
    assert (stats.gain_ci[0] > 0, stats.gain_ci[1] < 0) == (shift > 0, shift < 0)
    assert plain.gain_reading(stats, baseline="m").startswith(start)


def test_the_headroom_counts_the_examples_a_perfect_combiner_adds():
    assert plain.headroom_reading(n_samples=540, accuracy=500 / 540, oracle_accuracy=538 / 540).startswith(
        "On 38 more examples at least one model is right")
    assert plain.headroom_reading(n_samples=540, accuracy=539 / 540, oracle_accuracy=1.0).startswith(
        "On 1 more example at least")
