"""The headline numbers in plain words, for people who do not read confidence intervals.

"Oracle headroom", "McNemar p", "fixes / breaks" and log loss are precise and stay where
practitioners look for them; next to them, these sentences say the same in words a demo
audience follows. The dashboard (Start and Ensemble pages) and the HTML report
(:func:`ensemble_core.report.html.headline_sentence`) take their sentences from here, so
the words never differ from the numbers or from each other.
"""

from __future__ import annotations

from .significance import GainStatistics


def _count(n: int, noun: str) -> str:
    """``1 example``, ``2 examples``."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def headline(
    *,
    n_models: int,
    n_samples: int,
    accuracy: float,
    best_name: str,
    best_accuracy: float,
    fixes: int,
    breaks: int,
) -> str:
    """What combining does against the best single model, in two plain sentences.

    Examples
    --------
    >>> headline(n_models=5, n_samples=1600, accuracy=0.8456, best_name="tiny_bert", best_accuracy=0.8256,
    ...          fixes=251, breaks=219)
    'Combining the 5 models is right on 84.6% of 1,600 examples, against 82.6% for the best single model (tiny_bert): 2.0 points better. It fixes 251 examples tiny_bert got wrong and breaks 219 it got right.'
    >>> headline(n_models=2, n_samples=10, accuracy=0.5, best_name="a", best_accuracy=0.5, fixes=1, breaks=1)
    'Combining the 2 models is right on 50.0% of 10 examples, against 50.0% for the best single model (a): the same. It fixes 1 example a got wrong and breaks 1 it got right.'
    """
    gain = accuracy - best_accuracy
    change = "the same" if abs(gain) < 0.0005 else f"{abs(gain) * 100:.1f} points {'better' if gain > 0 else 'worse'}"
    return (
        f"Combining the {n_models} models is right on {accuracy:.1%} of {_count(n_samples, 'example')}, against "
        f"{best_accuracy:.1%} for the best single model ({best_name}): {change}. It fixes "
        f"{_count(fixes, 'example')} {best_name} got wrong and breaks {breaks:,} it got right."
    )


def gain_reading(stats: GainStatistics, *, baseline: str) -> str:
    """Whether the gain is likely to hold on new examples, from its paired bootstrap interval
    (the precise terms: :func:`~ensemble_core.significance.describe_gain`).

    Examples
    --------
    >>> from ensemble_core.significance import gain_statistics
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> best = rng.random(2000) < 0.8
    >>> better = best | (rng.random(2000) < 0.3)
    >>> gain_reading(gain_statistics(better, best, seed=0), baseline="forest")
    'Very likely real: on new examples like these, the ensemble should also beat forest.'
    >>> gain_reading(gain_statistics(best, best, seed=0), baseline="forest")
    'Could be luck: the difference is within what chance gives on this many examples, so on new ones it could go either way.'
    """
    low, high = stats.gain_ci
    if low > 0:
        return f"Very likely real: on new examples like these, the ensemble should also beat {baseline}."
    if high < 0:
        return f"Very likely real, and a loss: on new examples like these, {baseline} alone should do better."
    return ("Could be luck: the difference is within what chance gives on this many examples, so on new ones "
            "it could go either way.")


def headroom_reading(*, n_samples: int, accuracy: float, oracle_accuracy: float) -> str:
    """What the oracle headroom means: how many more examples a perfect combiner of the same
    models would get right.

    Examples
    --------
    >>> headroom_reading(n_samples=1600, accuracy=0.8456, oracle_accuracy=0.9481)
    'On 164 more examples at least one model is right: a perfect way of combining these models would get them too.'
    >>> headroom_reading(n_samples=100, accuracy=0.9, oracle_accuracy=0.9)
    'Whenever any model is right, the ensemble is right too: no way of combining these models does better.'
    """
    more = round((oracle_accuracy - accuracy) * n_samples)
    if more <= 0:
        return "Whenever any model is right, the ensemble is right too: no way of combining these models does better."
    return (f"On {_count(more, 'more example')} at least one model is right: a perfect way of combining these "
            "models would get them too.")
