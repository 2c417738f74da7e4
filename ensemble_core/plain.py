"""The headline numbers in plain words, for people who do not read confidence intervals.

"Oracle headroom", "McNemar p", "fixes / breaks" and log loss are precise and stay where
practitioners look for them; next to them, these sentences say the same in words a demo
audience follows. The dashboard (Start and Ensemble pages, and the Ensemble page's
presentation mode) and the HTML report (:func:`ensemble_core.report.html.headline_sentence`)
take their sentences from here, so the words never differ from the numbers or from each
other. What a gain's interval says (:func:`verdict`) is decided once.
"""

from __future__ import annotations

from typing import Literal

from .significance import GainStatistics

Verdict = Literal["real", "loss", "luck"]


def verdict(gain_ci: tuple[float, float]) -> Verdict:
    """What a gain's paired bootstrap 95 % interval says: ``"real"`` (all above 0), ``"loss"``
    (all below 0) or ``"luck"`` (it straddles 0).

    >>> verdict((0.01, 0.03)), verdict((-0.03, -0.01)), verdict((-0.01, 0.02))
    ('real', 'loss', 'luck')
    """
    low, high = gain_ci
    return "real" if low > 0 else "loss" if high < 0 else "luck"


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
    said = verdict(stats.gain_ci)
    if said == "real":
        return f"Very likely real: on new examples like these, the ensemble should also beat {baseline}."
    if said == "loss":
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


def _points(x: float) -> str:
    return f"{100 * x:+.1f}"


def evidence_sentence(gain_ci: tuple[float, float]) -> str:
    """Whether the gain is luck, in words, from its paired bootstrap 95 % interval.

    Examples
    --------
    >>> evidence_sentence((-0.01, 0.02))
    'The difference could be luck: on thousands of resampled copies of the examples it ranges from -1.0 to +2.0 points.'
    """
    low, high = gain_ci
    said = verdict(gain_ci)
    if said == "real":
        return ("This improvement is very unlikely to be luck: on thousands of resampled copies of the examples it "
                f"stays between {_points(low)} and {_points(high)} points.")
    if said == "loss":
        return ("The combination is reliably worse here: on thousands of resampled copies of the examples it loses "
                f"between {_points(-high)[1:]} and {_points(-low)[1:]} points.")
    return ("The difference could be luck: on thousands of resampled copies of the examples it ranges from "
            f"{_points(low)} to {_points(high)} points.")


def plain_sentences(summary: dict) -> list[str]:
    """Four sentences without jargon: the accuracies per 100 examples, fixes and breaks, whether the
    gain is luck (:func:`evidence_sentence`), and the ceiling some model being right sets.

    Parameters
    ----------
    summary : the ``evaluate --json`` summary (:func:`.report.summary.evaluation_summary`, as JSON
        values), so a plain sentence never says something the precise numbers do not

    Examples
    --------
    >>> s = {"n_samples": 1000, "accuracy": 0.912, "best_single": {"name": "forest", "accuracy": 0.887},
    ...      "gain_over_best": 0.025, "gain_ci": [0.012, 0.038], "fixes": 60, "breaks": 35, "oracle_accuracy": 0.97}
    >>> for sentence in plain_sentences(s):
    ...     print(sentence)
    Out of every 100 examples, the combination gets about 91 right; the best single model, forest, gets about 89.
    It corrects 60 mistakes forest makes and makes 35 new ones: 25 more right answers out of 1,000.
    This improvement is very unlikely to be luck: on thousands of resampled copies of the examples it stays between +1.2 and +3.8 points.
    On 97% of the examples at least one of the models is right: the most any way of combining them could reach.
    """
    best = summary["best_single"]
    name = best["name"]
    net = summary["fixes"] - summary["breaks"]
    if net > 0:
        change = f"{net:,} more right answers out of {summary['n_samples']:,}"
    elif net < 0:
        change = f"{-net:,} fewer right answers out of {summary['n_samples']:,}"
    else:
        change = "as many right answers as before"
    return [
        f"Out of every 100 examples, the combination gets about {round(100 * summary['accuracy'])} right; the best "
        f"single model, {name}, gets about {round(100 * best['accuracy'])}.",
        f"It corrects {summary['fixes']:,} mistakes {name} makes and makes {summary['breaks']:,} new ones: {change}.",
        evidence_sentence(tuple(summary["gain_ci"])),
        f"On {round(100 * summary['oracle_accuracy'])}% of the examples at least one of the models is right: the most "
        "any way of combining them could reach.",
    ]
