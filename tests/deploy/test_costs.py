"""Costs: the sidecar, what the user enters, and the one rule that picks between them."""

from __future__ import annotations

import json

import pytest

from ensemble_core._validation import EnsembleInputError
from ensemble_core.deploy.costs import (
    ModelCost, costs_for, measure_call, model_cost, parse_costs, read_cost, sidecar_path, write_cost,
)


@pytest.mark.parametrize("name, sidecar", [("rf.csv", "rf.cost.json"), ("rf.csv.gz", "rf.cost.json"),
                                           ("a.b.parquet", "a.b.cost.json")])
def test_sidecar_sits_next_to_the_prediction_file(tmp_path, name, sidecar):
    assert sidecar_path(tmp_path / name) == tmp_path / sidecar


def test_measured_cost_round_trips_and_counts_per_thousand_rows(tmp_path):
    model = tmp_path / "m.skops"
    model.write_bytes(b"x" * 1234)
    import time

    result, cost = measure_call(lambda: time.sleep(0.02) or 7, name="m", n_rows=500, batch_size=64,
                                model_path=model)
    assert result == 7 and cost.size_bytes == 1234 and cost.batch_size == 64
    assert 40 <= cost.ms_per_1000 < 400  # 20 ms for 500 rows is 40 ms per 1,000
    write_cost(tmp_path / "m.csv", cost)
    assert read_cost(tmp_path / "m.csv") == cost


def test_entered_cost_wins_over_the_sidecar_which_wins_over_nothing(tmp_path):
    write_cost(tmp_path / "rf.csv", ModelCost("rf", 9.0, "measured", batch_size=32))
    assert model_cost("rf", tmp_path / "rf.csv", {"rf": 2.0}) == ModelCost("rf", 2.0, "entered")
    assert model_cost("rf", tmp_path / "rf.csv").source == "measured"
    assert model_cost("knn", tmp_path / "knn.csv") is None
    with pytest.raises(EnsembleInputError, match=r"no cost for model 'knn'.*--costs knn=MS"):
        costs_for(["rf", "knn"], [tmp_path / "rf.csv", tmp_path / "knn.csv"])
    with pytest.raises(EnsembleInputError, match="'svm', which is not a loaded model"):
        costs_for(["rf"], [tmp_path / "rf.csv"], {"svm": 1.0})


@pytest.mark.parametrize("text, match", [
    ("rf", "expected name=ms pairs"), ("rf=x", "expected name=ms pairs"), ("=3", "expected name=ms pairs"),
    ("rf=-1", "finite number >= 0"), ("rf=nan", "finite number >= 0"), ("rf=1,rf=2", "twice"),
])
def test_bad_costs_text(text, match):
    with pytest.raises(EnsembleInputError, match=match):
        parse_costs(text)


@pytest.mark.parametrize("content, match", [
    ("not json", "not JSON"), ("[1]", "expected a JSON object"), ('{"ms_per_1000": -2}', "finite number >= 0"),
    ('{"ms_per_1000": 1, "source": "guessed"}', "'source' must be"),
    ('{"ms_per_1000": 1, "size_bytes": 1.5}', "'size_bytes' must be a whole number"),
])
def test_bad_sidecar(tmp_path, content, match):
    sidecar_path(tmp_path / "rf.csv").write_text(content)
    with pytest.raises(EnsembleInputError, match=match):
        read_cost(tmp_path / "rf.csv")


def test_hand_written_sidecar_defaults_to_entered(tmp_path):
    sidecar_path(tmp_path / "rf.csv").write_text(json.dumps({"ms_per_1000": 5}))
    assert read_cost(tmp_path / "rf.csv") == ModelCost("", 5.0, "entered")
