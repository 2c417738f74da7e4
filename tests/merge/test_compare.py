"""A merged model against its models and their output ensemble: the numbers are the scored models'."""

from __future__ import annotations

import numpy as np

from ensemble_core.combine import soft_vote
from ensemble_core.decision import decide
from ensemble_core.io import LabelsFile
from ensemble_core.merge.compare import compare_merged
from ensemble_core.merge.methods import LabelledSplit, merge_models
from ensemble_core.metrics import log_loss
from ensemble_core.models.scoring import score_model
from ensemble_core.models.transformers_loader import load_transformers


def test_rows_are_the_merged_model_each_model_and_the_soft_vote(tiny_models, splits, tmp_path):
    labels = LabelsFile(splits["heldout"])
    split = LabelledSplit(labels.content, labels.classes, labels.y_true)
    models = [tiny_models["a"], tiny_models["b"]]
    merge_models("uniform-soup", models, tmp_path / "soup")
    c = compare_merged(tmp_path / "soup", models, split)
    probas = {f.name: score_model(load_transformers(f, name=f.name), labels.content, classes=labels.classes)
              for f in (tmp_path / "soup", *models)}
    vote = soft_vote(np.stack([probas["a"], probas["b"]]), np.array([0.5, 0.5]))
    expected = [*probas.values(), vote]
    assert [r.name for r in c.rows] == ["soup", "a", "b", "output ensemble (soft vote)"]
    assert [r.models_run for r in c.rows] == [1, 1, 1, 2]
    for row, p in zip(c.rows, expected):
        assert row.accuracy == float(np.mean(decide(p) == labels.y_true))
        assert row.log_loss == log_loss(labels.y_true, p)
    assert c.best_single.accuracy == max(c.rows[1].accuracy, c.rows[2].accuracy)
    assert c.n_samples == len(labels.y_true) and c.merged is c.rows[0] and c.output_ensemble is c.rows[-1]
