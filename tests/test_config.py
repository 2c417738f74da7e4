"""The Ensemble page's exported config, read back: every field validated, one line per problem."""

from __future__ import annotations

import json
import os

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
        ({"strategy": "stacking", "models": ["a"], "seed": 2**32}, r"'seed' must be a whole number from 0 to 4294967295; got 4294967296"),
        ({"strategy": "stacking", "models": ["a"], "seed": -1}, r"'seed' must be a whole number from 0 to 4294967295; got -1"),
        ({"strategy": "soft", "models": ["a"], "weights": {"a": 1}, "temperatures": {"a": 1e-39}}, r"'temperatures': 'a' must be from 0\.001 to 1000 \(the range temperature scaling fits\); got 1e-39"),
        ({"strategy": "soft", "models": ["a"], "weights": {"a": 1}, "temperatures": {"a": 1e6}}, r"'temperatures': 'a' must be from 0\.001 to 1000"),
        ({"strategy": "soft", "models": ["a"], "weights": {"a": 1}, "temperature": {"a": 2}}, r"unknown key 'temperature'; a config has strategy, models"),
    ],
    ids=["no-models", "model-twice", "both-in-and-out", "weight-for-unknown", "boolean-weight", "bad-meta", "one-fold", "no-temperature",
         "seed-too-large", "seed-negative", "temperature-tiny", "temperature-huge", "typo-key"],
)
def test_bad_configs_name_the_key(obj, match):
    with pytest.raises(EnsembleInputError, match=match):
        EnsembleConfig.from_dict(obj, source="c.json")


def test_a_config_file_is_bounded(tmp_path, monkeypatch):
    from ensemble_core import config

    monkeypatch.setattr(config, "MAX_CONFIG_BYTES", 10)
    (tmp_path / "c.json").write_text(json.dumps({"strategy": "soft"}))
    with pytest.raises(EnsembleInputError, match=r"c\.json: refused: 20 bytes, expected at most 10"):
        read_config(tmp_path / "c.json")
    monkeypatch.setattr(config, "MAX_CONFIG_BYTES", 2**20)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(EnsembleInputError, match=r"fifo: refused: .*not a regular file"):
        read_config(tmp_path / "fifo")


def test_a_config_with_a_byte_order_mark_reads(tmp_path):
    (tmp_path / "c.json").write_bytes(b"\xef\xbb\xbf" + json.dumps({"strategy": "soft", "models": ["a"], "weights": {"a": 1}}).encode())
    assert read_config(tmp_path / "c.json").models == ("a",)


@pytest.mark.parametrize(
    "text, match",
    [
        ('{"strategy": "soft", "models": ["a"], "weights": {"a": 1}, "strategy": "hard"}', r"key 'strategy' appears twice in one object"),
        ('{"strategy": "soft", "models": ["a"], "weights": {"a": 1, "a": 2}}', r"key 'a' appears twice in one object"),
    ],
    ids=["top-level", "in-weights"],
)
def test_a_repeated_key_is_refused_not_the_last_kept(tmp_path, text, match):
    (tmp_path / "c.json").write_text(text)
    with pytest.raises(EnsembleInputError, match=r"c\.json: " + match):
        read_config(tmp_path / "c.json")


def test_weights_by_name():
    assert weights_by_name({"b": 2, "a": 1}, ["a", "b"]) == [1.0, 2.0]
    with pytest.raises(EnsembleInputError, match=r"--weights: 'z' is not one of the models \(a, b\)"):
        weights_by_name({"a": 1, "b": 1, "z": 1}, ["a", "b"])


def test_apply_to_selects_the_configs_models_and_scales_them():
    import numpy as np

    from ensemble_core import PredictionSet
    from ensemble_core.calibration import apply_temperatures

    rng = np.random.default_rng(0)
    probas = rng.dirichlet(np.ones(2), size=(3, 10)).astype(np.float32)
    pset = PredictionSet(probas, np.arange(10) % 2, np.array(["x", "y"]), ("a", "b", "c"))
    cfg = EnsembleConfig("soft", ("b", "a"), {"a": 1.0, "b": 1.0}, excluded=("c",), temperatures={"a": 2.0, "b": 0.5})
    scaled, notes, temperatures = cfg.apply_to(pset, source="c.json")
    assert scaled.names == ("a", "b") and temperatures == [2.0, 0.5]
    np.testing.assert_array_equal(scaled.probas, apply_temperatures(probas[:2], [2.0, 0.5]))
    assert "temperature-scaled" in notes[0]
    assert EnsembleConfig("soft", ("a", "b", "c"), None).apply_to(pset)[1:] == ([], None)
    with pytest.raises(EnsembleInputError, match=r"c\.json: model 'c' is neither in its 'models' nor in 'excluded'"):
        EnsembleConfig("soft", ("a", "b"), None).apply_to(pset, source="c.json")
    with pytest.raises(EnsembleInputError, match=r"c\.json: no prediction file for model 'd'"):
        EnsembleConfig("soft", ("a", "d"), None, excluded=("b", "c")).apply_to(pset, source="c.json")


@pytest.mark.parametrize("text", ['{"strategy": "soft", "models": ["a"], "weights": {"a": 1}, "models": ["a"]}',
                                  "{strategy: soft}", "[1, 2]", '{"strategy": "soft"}'])
def test_pasted_text_and_a_file_are_read_by_one_rule(tmp_path, text):
    from ensemble_core.config import parse_config

    (tmp_path / "c.json").write_text(text)
    with pytest.raises(EnsembleInputError) as from_file:
        read_config(tmp_path / "c.json")
    with pytest.raises(EnsembleInputError) as pasted:
        parse_config(text, source=tmp_path / "c.json")
    assert str(pasted.value) == str(from_file.value)
    assert "\n" not in str(pasted.value)


def test_pasted_text_is_bounded_too():
    from ensemble_core.config import MAX_CONFIG_BYTES, parse_config

    with pytest.raises(EnsembleInputError, match="the pasted config: .* too large"):
        parse_config(" " * (MAX_CONFIG_BYTES + 1), source="the pasted config")


def test_check_models_refuses_a_loaded_model_the_config_does_not_know():
    cfg = EnsembleConfig("soft", ("a",), {"a": 1.0}, excluded=("b",))
    cfg.check_models(["b", "a"])
    with pytest.raises(EnsembleInputError, match="model 'c' is neither in its 'models' nor in 'excluded'"):
        cfg.check_models(["a", "c"], source="x.json")
