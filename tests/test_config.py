"""The Ensemble page's exported config, read back: every field validated, one line per problem."""

from __future__ import annotations

import json

import pytest

from ensemble_core import EnsembleConfig, EnsembleInputError, read_config
from ensemble_core.config import weights_by_name
from ensemble_core.explore import ensemble_config


def test_the_pages_export_reads_back(tmp_path):
    exported = ensemble_config("soft", ["a", "b"], {"a": 2.0, "b": 0.5, "c": 1.0}, excluded=["c"])
    exported["temperatures"] = {"a": 1.5, "b": 0.8}
    (tmp_path / "c.json").write_text(json.dumps(exported))
    cfg = read_config(tmp_path / "c.json")
    assert cfg == EnsembleConfig("soft", ("a", "b"), {"a": 2.0, "b": 0.5}, excluded=("c",), temperatures={"a": 1.5, "b": 0.8})
    stacking = EnsembleConfig.from_dict(ensemble_config("stacking", ["a"], {}, meta="mlp", folds=3, seed=4))
    assert (stacking.weights, stacking.meta, stacking.folds, stacking.seed) == (None, "mlp", 3, 4)


@pytest.mark.parametrize(
    "obj, match",
    [
        ({"strategy": "soft", "models": []}, "'models' must name at least one model"),
        ({"strategy": "soft", "models": ["a", "a"], "weights": {"a": 1}}, "'models' names 'a' twice"),
        ({"strategy": "soft", "models": ["a"], "weights": {"a": 1}, "excluded": ["a"]}, "'a' is both in 'models' and in 'excluded'"),
        ({"strategy": "soft", "models": ["a"], "weights": {"a": 1, "b": 1}}, "'weights' names 'b', which is not in 'models'"),
        ({"strategy": "soft", "models": ["a"], "weights": {"a": True}}, "'weights': 'a' must be a number >= 0; got True"),
        ({"strategy": "stacking", "models": ["a"], "meta": "xgb"}, "'meta' must be one of logistic, gbm, mlp; got 'xgb'"),
        ({"strategy": "stacking", "models": ["a"], "folds": 1}, "'folds' must be a whole number of at least 2; got 1"),
        ({"strategy": "soft", "models": ["a"], "weights": {"a": 1}, "temperatures": {}}, "'temperatures' has no temperature for model 'a'"),
    ],
    ids=["no-models", "model-twice", "both-in-and-out", "weight-for-unknown", "boolean-weight", "bad-meta", "one-fold", "no-temperature"],
)
def test_bad_configs_name_the_key(obj, match):
    with pytest.raises(EnsembleInputError, match=match):
        EnsembleConfig.from_dict(obj, source="c.json")


def test_a_config_file_is_bounded(tmp_path, monkeypatch):
    from ensemble_core import config

    monkeypatch.setattr(config, "MAX_CONFIG_BYTES", 10)
    (tmp_path / "c.json").write_text(json.dumps({"strategy": "soft"}))
    with pytest.raises(EnsembleInputError, match=r"c\.json: 20 bytes is too large for an ensemble config"):
        read_config(tmp_path / "c.json")


def test_weights_by_name():
    assert weights_by_name({"b": 2, "a": 1}, ["a", "b"]) == [1.0, 2.0]
    with pytest.raises(EnsembleInputError, match=r"--weights: 'z' is not one of the models \(a, b\)"):
        weights_by_name({"a": 1, "b": 1, "z": 1}, ["a", "b"])
