"""Causal LM directories: loaded safely, refused in one line, fused only with one vocabulary."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from ensemble_core import EnsembleInputError
from ensemble_core.lm import check_same_vocabulary, load_causal_lm, load_causal_lms, vocabulary_hash


@pytest.fixture()
def lm_copy(lm_dirs, tmp_path):
    """A copy of the fresh model's folder a test may damage."""
    return shutil.copytree(lm_dirs["fresh"], tmp_path / "fresh")


def test_loads_a_safetensors_gpt2_directory(lm_dirs, reference_models):
    import torch

    lm = load_causal_lm(lm_dirs["fresh"])
    assert (lm.name, lm.context, lm.vocab_size) == ("fresh", 64, 500)
    assert lm.n_parameters == sum(p.numel() for p in lm.model.parameters()) > 0
    assert not lm.model.training
    # The tied output layer loaded, not left random: the same logits as the saved network.
    ids = torch.tensor([[1, 2, 3, 4]])
    with torch.no_grad():
        torch.testing.assert_close(lm.model(ids.to(lm.device)).logits.cpu(), reference_models["fresh"](ids).logits)


def test_two_models_with_one_tokenizer_share_a_vocabulary_hash(lms, lm_dirs):
    assert lms[0].vocabulary_hash == lms[1].vocabulary_hash
    assert load_causal_lm(lm_dirs["other"]).vocabulary_hash != lms[0].vocabulary_hash


def test_the_hash_is_of_the_vocabulary_not_the_files(lm_copy, lms):
    from transformers import AutoTokenizer

    # Saved again elsewhere, under another folder name, without tokenizer_config.json's extras.
    tokenizer = AutoTokenizer.from_pretrained(lm_copy)
    tokenizer.save_pretrained(lm_copy.parent / "resaved")
    assert vocabulary_hash(AutoTokenizer.from_pretrained(lm_copy.parent / "resaved")) == lms[0].vocabulary_hash
    # One merge changed: the same file names, another tokenizer.
    path = lm_copy / "tokenizer.json"
    data = json.loads(path.read_text())
    merges = data["model"]["merges"]
    merges[-1], merges[-2] = merges[-2], merges[-1]
    path.write_text(json.dumps(data))
    assert load_causal_lm(lm_copy).vocabulary_hash != lms[0].vocabulary_hash


def test_models_with_different_tokenizers_are_refused_naming_both(lm_dirs):
    with pytest.raises(EnsembleInputError, match=rf"^{lm_dirs['other']} and {lm_dirs['fresh']}: the tokenizers differ"):
        load_causal_lms([lm_dirs["fresh"], lm_dirs["other"]])


def test_names_must_differ(lm_dirs):
    with pytest.raises(EnsembleInputError, match="two models are called 'fresh'"):
        load_causal_lms([lm_dirs["fresh"], lm_dirs["fresh"]])
    assert [m.name for m in load_causal_lms([lm_dirs["fresh"]] * 2, names=["a", "b"])] == ["a", "b"]


def test_no_models_is_refused():
    with pytest.raises(EnsembleInputError, match="no language models"):
        check_same_vocabulary([])


def _edit_json(path, **changes):
    content = json.loads(path.read_text())
    content.update(changes)
    path.write_text(json.dumps(content))


def _pickled(folder):
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")


def _config_auto_map(folder):
    _edit_json(folder / "config.json", auto_map={"AutoModelForCausalLM": "evil.M"})


def _tokenizer_auto_map(folder):
    _edit_json(folder / "tokenizer_config.json", auto_map={"AutoTokenizer": [None, "evil.T"]})


def _fifo(folder):
    os.mkfifo(folder / "vocab.json")


def _no_tokenizer(folder):
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (folder / name).unlink()


def _outward_link(folder):
    (folder / "merges.txt").symlink_to("/etc/passwd")


def _corrupt_weights(folder):
    (folder / "model.safetensors").write_bytes(b"\x00" * 64)


@pytest.mark.parametrize(("damage", "message"), [
    (_pickled, r"refused to load pytorch_model\.bin.*pickle"),
    (_config_auto_map, r"config\.json: refused: auto_map .*remote code"),
    (_tokenizer_auto_map, r"tokenizer_config\.json: refused: auto_map"),
    (_fifo, "refused: a FIFO inside a model directory"),
    (_no_tokenizer, "has no tokenizer"),
    (_outward_link, "outside the model directory"),
    (_corrupt_weights, "could not load the model"),
], ids=lambda x: getattr(x, "__name__", "")[1:])
def test_unsafe_or_broken_directories_are_refused_in_one_line(lm_copy, damage, message):
    damage(lm_copy)
    with pytest.raises(EnsembleInputError, match=message) as info:
        load_causal_lm(lm_copy)
    assert "\n" not in str(info.value)


def test_missing_directory_is_refused(tmp_path):
    with pytest.raises(EnsembleInputError, match="no such model directory"):
        load_causal_lm(tmp_path / "absent")


def test_remote_code_never_runs(lm_copy, tmp_path):
    marker = tmp_path / "ran"
    (lm_copy / "evil.py").write_text(f"import os\nos.mkdir({str(marker)!r})\n")
    _edit_json(lm_copy / "config.json", auto_map={"AutoConfig": "evil.C", "AutoModelForCausalLM": "evil.M"})
    with pytest.raises(EnsembleInputError, match="auto_map"):
        load_causal_lm(lm_copy)
    assert not marker.exists()


def test_a_classifier_directory_is_not_a_causal_lm(lm_dirs, tmp_path):
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    folder = tmp_path / "classifier"
    tokenizer = AutoTokenizer.from_pretrained(lm_dirs["fresh"])
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64, id2label={0: "rotten", 1: "fresh"})
    BertForSequenceClassification(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    with pytest.raises(EnsembleInputError, match=r"lacks weights the model needs \(cls\.predictions.*"
                       r"Is it a causal language model\?"):
        load_causal_lm(folder)
