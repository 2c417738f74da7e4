"""``ensemble-explorer merge`` and ``interpolate``: results `score` loads, JSON, exit 2 on bad input."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import load_file

from ensemble_core.cli import main


def test_merge_writes_a_directory_that_score_loads(tiny_models, splits, tmp_path, capsys):
    out = tmp_path / "merged"
    assert main(["merge", "--models", str(tiny_models["a"]), str(tiny_models["b"]), "--weights", "0.3,0.7",
                 "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["method"] == "linear" and report["weights"] == [0.3, 0.7]
    a, b = (load_file(tiny_models[k] / "model.safetensors") for k in ("a", "b"))
    merged = load_file(out / "model.safetensors")
    for name in a:
        expected = 0.3 * a[name].astype(np.float64) + 0.7 * b[name].astype(np.float64)
        np.testing.assert_array_equal(merged[name], expected.astype(np.float32))
    assert main(["score", "--model", str(out), "--data", str(splits["heldout"]), "--out", str(tmp_path / "p.csv"),
                 "--no-cache"]) == 0
    assert len(pd.read_csv(tmp_path / "p.csv")) == 60


def test_task_arithmetic_and_named_weights(tiny_models, tmp_path, capsys):
    out = tmp_path / "ta"
    assert main(["merge", "--method", "task-arithmetic", "--models", str(tiny_models["a"]), str(tiny_models["b"]),
                 "--base", str(tiny_models["base"]), "--weights", "b=0.5,a=0.25", "--out", str(out)]) == 0
    assert json.loads((out / "merge.json").read_text())["weights"] == [0.25, 0.5]
    assert "task-arithmetic: merged 2 models" in capsys.readouterr().out


@pytest.mark.slow
def test_greedy_soup_reports_held_out_numbers(tiny_models, splits, tmp_path, capsys):
    models = [str(tiny_models[k]) for k in ("a", "b", "c")]
    assert main(["merge", "--method", "greedy-soup", "--models", *models, "--tune-labels", str(splits["tune"]),
                 "--heldout-labels", str(splits["heldout"]), "--out", str(tmp_path / "soup"), "--json"]) == 0
    soup = json.loads(capsys.readouterr().out)["greedy_soup"]
    assert set(soup["heldout"]) == {"soup", "best_single", "output_ensemble"}
    assert soup["kept"][0] == soup["order"][0]


def test_interpolate_json(tiny_models, splits, tmp_path, capsys):
    assert main(["interpolate", "--models", str(tiny_models["a"]), str(tiny_models["c"]), "--labels",
                 str(splits["heldout"]), "--points", "3", "--json", "--cache-dir", str(tmp_path / "cache")]) == 0
    curve = json.loads(capsys.readouterr().out)
    assert curve["alphas"] == [0.0, 0.5, 1.0]
    assert len(curve["weight_space"]["accuracy"]) == len(curve["output_space"]["log_loss"]) == 3
    assert curve["barrier"]["accuracy"] >= 0
    # a second run reads every point from the cache and prints the same numbers
    assert main(["interpolate", "--models", str(tiny_models["a"]), str(tiny_models["c"]), "--labels",
                 str(splits["heldout"]), "--points", "3", "--json", "--cache-dir", str(tmp_path / "cache")]) == 0
    assert json.loads(capsys.readouterr().out) == curve


def _pickled(tiny_models, tmp_path):
    folder = tmp_path / "pickled"
    shutil.copytree(tiny_models["a"], folder)
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04")
    return folder


def _relabelled(tiny_models, tmp_path):
    folder = tmp_path / "relabelled"
    shutil.copytree(tiny_models["a"], folder)
    config = json.loads((folder / "config.json").read_text())
    config["id2label"] = {"0": "good", "1": "bad"}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def _wider(tiny_models, tmp_path):
    from transformers import AutoTokenizer

    from ensemble_core.merge._tiny import init_classifier, save_classifier, tiny_bert_config

    tokenizer = AutoTokenizer.from_pretrained(tiny_models["a"], local_files_only=True)
    return save_classifier(init_classifier(tiny_bert_config(len(tokenizer), labels=["fresh", "rotten"],
                                                            hidden_size=16), seed=0), tokenizer, tmp_path / "wide")


def _other_heads(tiny_models, tmp_path):
    folder = tmp_path / "heads"
    shutil.copytree(tiny_models["a"], folder)
    config = json.loads((folder / "config.json").read_text())
    config["num_attention_heads"] = 4
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize(("make", "extra", "message"), [
    (_pickled, [], "refused to load pytorch_model.bin"),
    (_relabelled, [], "different label maps: id2label[0] is 'fresh' and 'good'"),
    (_wider, [], "tensor 'bert.embeddings.LayerNorm.bias' has shape [32] and [16]"),
    (_other_heads, [], "different architectures: config num_attention_heads is 2 and 4"),
    (None, ["--method", "task-arithmetic"], "needs --base"),
    (None, ["--method", "greedy-soup"], "needs --tune-labels"),
    (None, ["--weights", "1,2,3"], "expected one weight per model (2); got 3"),
])
def test_bad_input_is_one_line_and_exit_2(tiny_models, tmp_path, capsys, make, extra, message):
    second = make(tiny_models, tmp_path) if make else tiny_models["b"]
    capsys.readouterr()  # what building the variant printed
    status = main(["merge", "--models", str(tiny_models["a"]), str(second), *extra, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("ensemble-explorer: error:")
    assert message in err
    assert not (tmp_path / "o" / "model.safetensors").exists()


def test_interpolate_takes_two_models(tiny_models, splits, capsys):
    status = main(["interpolate", "--models", str(tiny_models["a"]), str(tiny_models["b"]), str(tiny_models["c"]),
                   "--labels", str(splits["heldout"])])
    assert status == 2 and "exactly two models" in capsys.readouterr().err
