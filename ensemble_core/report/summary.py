"""The ``evaluate --json`` summary of one evaluated ensemble: what the CLI prints, what the
HTML report shows, and what the dashboard's "Download report" embeds, built in one place.

Examples
--------
>>> import numpy as np
>>> from ensemble_core import EnsembleEvaluator, PredictionSet
>>> probas = np.array([[[0.9, 0.1], [0.2, 0.8]], [[0.6, 0.4], [0.4, 0.6]]])
>>> pset = PredictionSet(probas, np.array([0, 1]), np.array(["no", "yes"]), ("a", "b"))
>>> ev = EnsembleEvaluator(pset)
>>> s = evaluation_summary(pset, ev.evaluate("soft"), ev)
>>> s["accuracy"], s["best_single"]["name"], s["gain_over_best"]
(1.0, 'a', 0.0)
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from .slices import Slicing, slice_table


def evaluation_summary(pset, result, evaluator, *, seed: int = 0) -> dict:
    """The JSON-able summary of ``evaluate``: metrics of the ensemble and of each model, the gain
    over the best single model with its bootstrap interval and McNemar's p, oracle and disagreement.

    Parameters
    ----------
    pset : PredictionSet of the included models; result : EnsembleResult; evaluator : EnsembleEvaluator over ``pset``
    seed : the bootstrap's seed
    """
    from ..io import label_key
    from ..labels_only import describe
    from ..significance import describe_gain, gain_statistics

    stats = gain_statistics(result.y_pred == pset.y_true, evaluator.correct_[evaluator.best_index_], seed=seed)
    return {
        "strategy": result.strategy,
        "n_samples": pset.n_samples,
        "classes": [label_key(c) for c in pset.classes],
        "weights": None if result.weights is None else [float(w) for w in result.weights],
        "names": list(pset.names),
        **result.metrics.to_dict(),
        "models": {name: m.to_dict() for name, m in evaluator.model_metrics_.items()},
        "best_single": {"name": evaluator.best_name_, "accuracy": evaluator.best_accuracy_},
        "gain_over_best": result.gain,
        "accuracy_ci": list(stats.accuracy_ci),
        "gain_ci": list(stats.gain_ci),
        "mcnemar_p": stats.mcnemar.p_value,
        "gain_summary": describe_gain(stats, baseline=evaluator.best_name_),
        "oracle_accuracy": evaluator.oracle_accuracy_,
        "disagreement_rate": evaluator.disagreement_rate_,
        "fixes": result.fixes,
        "breaks": result.breaks,
        # How labels-only models entered the combination comes first: every number depends on it.
        "notes": ([describe(result.labels_only, pset.smoothing, pset.n_classes)] if result.labels_only else [])
        + list(result.notes) + list(result.warnings),
    }


def slice_rows(pset, result, evaluator, slicings: Sequence[Slicing], *, seed: int = 0) -> list[dict]:
    """The summary's ``slices``: one dict per slice of every slicing (``column`` first, then
    :class:`~.slices.SliceResult`'s fields), the ensemble against the best single model."""
    correct, best = result.y_pred == pset.y_true, evaluator.correct_[evaluator.best_index_]
    return [{"column": s.column, **row.to_dict()} for s in slicings for row in slice_table(correct, best, s, seed=seed)]


def json_default(obj):
    """``json.dumps``'s ``default`` for NumPy scalars and arrays."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def as_json(summary: dict) -> dict:
    """The summary exactly as ``evaluate --json`` prints it (NumPy values as plain numbers)."""
    return json.loads(json.dumps(summary, allow_nan=False, default=json_default))
