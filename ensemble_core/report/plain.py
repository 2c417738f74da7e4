"""The ensemble's result in plain sentences, for people who do not read confidence intervals:
what the dashboard's presentation mode shows under its large numbers.

Every number is read from the ``evaluate --json`` summary (:mod:`.summary`), so a plain
sentence never says something the precise numbers do not.

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

from __future__ import annotations


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
    if low > 0:
        return ("This improvement is very unlikely to be luck: on thousands of resampled copies of the examples it "
                f"stays between {_points(low)} and {_points(high)} points.")
    if high < 0:
        return ("The combination is reliably worse here: on thousands of resampled copies of the examples it loses "
                f"between {_points(-high)[1:]} and {_points(-low)[1:]} points.")
    return ("The difference could be luck: on thousands of resampled copies of the examples it ranges from "
            f"{_points(low)} to {_points(high)} points.")


def plain_sentences(summary: dict) -> list[str]:
    """Four sentences without jargon: the accuracies per 100 examples, fixes and breaks, whether the
    gain is luck (:func:`evidence_sentence`), and the ceiling some model being right sets.

    Parameters
    ----------
    summary : the ``evaluate --json`` summary (:func:`.summary.evaluation_summary`, as JSON values)
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
