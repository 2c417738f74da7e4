"""``ensemble-explorer lm evaluate``: the numbers of the core, a table, JSON, and one line with exit 2 for bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ensemble_core.cli import main
from ensemble_core.lm import evaluate_fusion, read_documents, score_models

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def eval_text(tmp_path_factory, reviews):
    path = tmp_path_factory.mktemp("lm_cli") / "eval.csv"
    pd.DataFrame({"id": range(40), "review": reviews["text"].iloc[-40:].to_numpy()}).to_csv(path, index=False)
    return path


def _argv(lm_dirs, eval_text, *more):
    return ["lm", "evaluate", "--model", str(lm_dirs["fresh"]), "--model", str(lm_dirs["rotten"]),
            "--text", str(eval_text), "--column", "review", *more]


def test_lm_eval_is_lm_evaluate_under_the_issues_name(capsys, lm_dirs, eval_text):
    argv = _argv(lm_dirs, eval_text, "--pool", "loglinear", "--max-tokens", "200", "--json")
    assert main(argv) == 0
    nested = json.loads(capsys.readouterr().out)
    assert main(["lm-eval", "--models", str(lm_dirs["fresh"]), str(lm_dirs["rotten"]), *argv[6:]]) == 0
    top = json.loads(capsys.readouterr().out)
    assert nested.pop("seconds").keys() == top.pop("seconds").keys()  # measured times differ run to run
    assert top == nested


@pytest.mark.parametrize("pool", ["linear", "loglinear"])
def test_json_report_is_the_cores_numbers(capsys, lm_dirs, lms, eval_text, pool):
    assert main(_argv(lm_dirs, eval_text, "--pool", pool, "--weights", "rotten=3,fresh=1", "--stride", "16",
                      "--json")) == 0
    report = json.loads(capsys.readouterr().out)
    scores = score_models(lms, read_documents(eval_text, column="review"), stride=16)
    expected = evaluate_fusion(scores, [1, 3], pool)
    assert report["pool"] == pool and report["weights"] == [0.25, 0.75]
    assert report["tokens"] == scores.n_tokens and report["documents"] == 40
    for key in ("perplexity", "accuracy", "bits_per_byte"):
        assert report[key] == pytest.approx(getattr(expected.fused, key), rel=1e-6)
        assert report["models"]["rotten"][key] == pytest.approx(getattr(expected.models["rotten"], key), rel=1e-6)
    assert report["strides"] == {"fresh": 16, "rotten": 16}


def test_table(capsys, lm_dirs, eval_text):
    assert main(_argv(lm_dirs, eval_text, "--pool", "loglinear", "--max-tokens", "300")) == 0
    out = capsys.readouterr().out.splitlines()
    assert ", 300 tokens, " in out[0]
    assert out[1].split() == ["weight", "perplexity", "bits/byte", "accuracy"]
    assert out[2].startswith("FUSED (loglinear)") and out[3].split()[:2] == ["fresh", "0.500"]
    assert out[-1].startswith("scoring time per 1,000 tokens: fresh ")


def _bad(lm_dirs, eval_text, tmp_path):
    pickled = shutil.copytree(lm_dirs["fresh"], tmp_path / "pickled")
    (pickled / "model.safetensors").rename(pickled / "pytorch_model.bin")
    (tmp_path / "blank.txt").write_text("\n \n")
    fresh, rotten = str(lm_dirs["fresh"]), str(lm_dirs["rotten"])
    text = ["--text", str(eval_text), "--column", "review"]
    return {
        "missing_dir": (["--model", str(tmp_path / "absent"), *text], "absent: no such model directory"),
        "pickle": (["--model", str(pickled), *text], "refused to load pytorch_model.bin"),
        "tokenizers": (["--model", fresh, "--model", str(lm_dirs["other"]), *text], "the tokenizers differ"),
        "empty_text": (["--model", fresh, "--text", str(tmp_path / "blank.txt")], "no text to score"),
        "zero_weights": (["--model", fresh, "--model", rotten, *text, "--weights", "0,0"], "all weights are 0"),
        "weight_count": (["--model", fresh, "--model", rotten, *text, "--weights", "1,2,3"], "got 3 weights for 2 models"),
        "weight_name": (["--model", fresh, "--model", rotten, *text, "--weights", "fresh=1,gpt2=1"], "'gpt2' is not one of"),
        "pool": (["--model", fresh, *text, "--pool", "product"], "invalid choice: 'product'"),
        "stride": (["--model", fresh, *text, "--stride", "64"], "--stride must be from 1 to 63"),
        "column": (["--model", fresh, "--text", str(eval_text), "--column", "body"], "no text column 'body'"),
    }


@pytest.mark.parametrize("case", ["missing_dir", "pickle", "tokenizers", "empty_text", "zero_weights", "weight_count",
                                  "weight_name", "pool", "stride", "column"])
def test_bad_input_is_one_line_and_exit_2(capsys, lm_dirs, eval_text, tmp_path, case):
    argv, message = _bad(lm_dirs, eval_text, tmp_path)[case]
    assert main(["lm", "evaluate", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ensemble-explorer: error: ") and message in err and "\n" not in err


_LOADED = """
import sys
from ensemble_core.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as exc:
    status = exc.code
print(sorted(m for m in ("numpy", "pandas", "torch", "transformers") if m in sys.modules), file=sys.stderr)
sys.exit(status)
"""


@pytest.mark.parametrize("argv", [["--help"], ["lm", "--help"], ["lm", "evaluate", "--help"], ["lm", "generate", "--help"]])
def test_help_loads_neither_numpy_nor_torch(argv):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", _LOADED, *argv], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "[]"


def test_optimize_reports_held_out_evidence(capsys, lm_dirs, lms, eval_text):
    from ensemble_core.lm.weights import suggest_lm_weights

    assert main(_argv(lm_dirs, eval_text, "--optimize", "--tune-fraction", "0.4", "--seed", "7", "--json")) == 0
    suggestion = json.loads(capsys.readouterr().out)["suggestion"]
    expected = suggest_lm_weights(score_models(lms, read_documents(eval_text, column="review")), "linear",
                                  tune_fraction=0.4, seed=7)
    assert (suggestion["tune_documents"], suggestion["heldout_documents"]) == (16, 24)
    assert suggestion["weights"] == pytest.approx(expected.weights)
    assert suggestion["perplexity"] == pytest.approx(expected.heldout.perplexity, rel=1e-6)
    assert suggestion["uniform"]["perplexity"] == pytest.approx(expected.uniform.perplexity, rel=1e-6)
    assert suggestion["best_single"]["name"] == expected.best_single
    assert main(_argv(lm_dirs, eval_text, "--optimize", "--pool", "loglinear", "--max-tokens", "400")) == 0
    out = capsys.readouterr().out
    assert "suggested loglinear-pool weights (least NLL on " in out and "  equal weights " in out


@pytest.mark.parametrize(("flags", "message"), [
    (["--tune-fraction", "1"], "--tune-fraction must be between 0 and 1"),
    (["--seed", "-1"], "must be a whole number from 0"),
])
def test_bad_optimize_flags_are_one_line(capsys, lm_dirs, eval_text, flags, message):
    assert main(_argv(lm_dirs, eval_text, "--optimize", *flags)) == 2
    assert message in capsys.readouterr().err


def test_generate_prints_the_fused_and_each_models_continuation(capsys, lm_dirs, lms):
    from ensemble_core.lm.generation import Sampling, generate

    argv = ["lm", "generate", "--model", str(lm_dirs["fresh"]), "--model", str(lm_dirs["rotten"]),
            "--prompt", "The film", "--max-new-tokens", "12", "--weights", "rotten=3,fresh=1", "--pool", "loglinear"]
    assert main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    fused = generate(lms, "The film", weights=[1, 3], pool="loglinear", max_new_tokens=12)
    assert report["fused"]["token_ids"] == list(fused.token_ids) and report["fused"]["weights"] == [0.25, 0.75]
    assert report["models"]["rotten"]["text"] == generate(lms[1:], "The film", max_new_tokens=12).text
    assert main([*argv, "--temperature", "0.7", "--top-p", "0.9", "--seed", "5", "--json"]) == 0
    sampled = json.loads(capsys.readouterr().out)["fused"]
    expected = generate(lms, "The film", weights=[1, 3], pool="loglinear", max_new_tokens=12,
                        sampling=Sampling(greedy=False, temperature=0.7, top_p=0.9, seed=5))
    assert sampled["token_ids"] == list(expected.token_ids)
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "prompt: 'The film'" and out[1].startswith("fused (loglinear, fresh=0.250, rotten=0.750; greedy): ")
    assert out[2].startswith("fresh alone: ") and out[-1].startswith("ms per token: fused ")


@pytest.mark.parametrize(("flags", "message"), [
    (["--greedy", "--top-k", "3"], "--greedy and --top-k contradict each other"),
    (["--temperature", "0"], "--temperature must be > 0"),
    (["--max-new-tokens", "0"], "--max-new-tokens must be at least 1"),
    (["--weights", "1,2,3"], "got 3 weights for 1 models"),
])
def test_bad_generate_flags_are_one_line(capsys, lm_dirs, flags, message):
    assert main(["lm", "generate", "--model", str(lm_dirs["fresh"]), "--prompt", "x", *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_models_may_be_given_in_one_flag(capsys, lm_dirs, eval_text):
    base = ["--text", str(eval_text), "--column", "review", "--max-tokens", "200", "--json"]
    assert main(["lm", "evaluate", "--models", str(lm_dirs["fresh"]), str(lm_dirs["rotten"]), *base]) == 0
    one_flag = json.loads(capsys.readouterr().out)
    assert main(_argv(lm_dirs, eval_text, "--max-tokens", "200", "--json")) == 0
    assert json.loads(capsys.readouterr().out)["perplexity"] == one_flag["perplexity"]
    assert one_flag["names"] == ["fresh", "rotten"]
