"""A merged model against the models it was made of and their output ensemble, on held-out rows.

The merged model runs once per prediction; the output ensemble (the soft vote of all models,
equal weights) runs every model. Both are scored through
:func:`ensemble_core.models.score_model`, as ``score`` would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..combine import soft_vote
from ..metrics import log_loss
from .methods import LabelledSplit, _accuracy, _probas


@dataclass(frozen=True)
class ComparisonRow:
    """One contender: its name, what it is (``merged``, ``model``, ``output ensemble``), how
    many models run per prediction, and its accuracy and log loss."""

    name: str
    kind: str
    models_run: int
    accuracy: float
    log_loss: float


@dataclass(frozen=True)
class MergeComparison:
    """The merged model (first row), each model, and the output ensemble (last row), on
    ``n_samples`` held-out rows."""

    rows: tuple[ComparisonRow, ...]
    n_samples: int

    @property
    def merged(self) -> ComparisonRow:
        return self.rows[0]

    @property
    def best_single(self) -> ComparisonRow:
        """The most accurate single model (the first of equals)."""
        return max((r for r in self.rows if r.kind == "model"), key=lambda r: r.accuracy)

    @property
    def output_ensemble(self) -> ComparisonRow:
        return self.rows[-1]


def compare_merged(
    merged: str | Path, models: Sequence[str | Path], split: LabelledSplit, *, cache=None
) -> MergeComparison:
    """Score the merged directory, each model and their equal-weight soft vote on ``split``.

    Parameters
    ----------
    merged : the merged transformers directory (``merge``'s ``--out``)
    models : the directories it was merged from
    split : the held-out rows (not the rows a greedy soup was chosen on)
    cache : a :class:`~ensemble_core.models.cache.PredictionCache`, or None

    Returns
    -------
    MergeComparison

    Examples
    --------
    >>> c = compare_merged("soup", ["a", "b"], heldout)  # doctest: +SKIP
    >>> c.merged.accuracy - c.best_single.accuracy  # doctest: +SKIP
    0.0125
    """
    y = np.asarray(split.y_true)
    members = np.stack([_probas(Path(m), split, cache) for m in models])
    ensemble = soft_vote(members, np.full(len(models), 1.0 / len(models)))
    merged_probas = _probas(Path(merged), split, cache)
    rows = [ComparisonRow(Path(merged).name, "merged", 1, _accuracy(merged_probas, y), log_loss(y, merged_probas))]
    rows += [ComparisonRow(Path(m).name, "model", 1, _accuracy(p, y), log_loss(y, p)) for m, p in zip(models, members)]
    rows.append(ComparisonRow("output ensemble (soft vote)", "output ensemble", len(models),
                              _accuracy(ensemble, y), log_loss(y, ensemble)))
    return MergeComparison(tuple(rows), len(y))
