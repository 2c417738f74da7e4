"""transformers directories: a tiny BERT scores as the torch model does; unsafe or broken folders are refused."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from ensemble_core import EnsembleInputError
from ensemble_core.models import load_model, score_model


@pytest.fixture()
def bert_copy(tiny_bert, tmp_path):
    """A copy of the tiny BERT folder a test may damage."""
    return shutil.copytree(tiny_bert[2], tmp_path / "bert")


def test_probabilities_agree_with_the_torch_model(tiny_bert, text_data):
    import torch

    net, tokenizer, folder = tiny_bert
    model = load_model(folder)
    assert (model.kind, model.input, model.name) == ("transformers", "text", "tiny_bert")
    assert model.classes == ("rotten", "fresh")  # id2label order, not sorted
    texts = text_data["text"].tolist()
    with torch.no_grad():
        logits = net(**tokenizer(texts, padding=True, return_tensors="pt")).logits
    expected = torch.softmax(logits, dim=-1).numpy()
    assert np.ptp(expected[:, 0]) > 0.01  # the outputs really vary between texts
    np.testing.assert_allclose(model.predict_proba(texts), expected, atol=1e-5)


def test_scores_in_the_dataset_class_order(tiny_bert, text_data):
    model = load_model(tiny_bert[2])
    texts = text_data["text"].tolist()[:5]
    probas = score_model(model, text_data.head(5), classes=["fresh", "rotten"], batch_size=2)
    np.testing.assert_allclose(probas, model.predict_proba(texts)[:, ::-1], atol=1e-6)


def test_long_texts_are_truncated(tiny_bert):
    model = load_model(tiny_bert[2])
    # 500 words is far beyond the 64 positions the tiny model has.
    probas = model.predict_proba(["great film " * 250, "boring"])
    assert probas.shape == (2, 2) and np.allclose(probas.sum(axis=1), 1)


def test_pickled_weights_are_refused(bert_copy):
    (bert_copy / "model.safetensors").rename(bert_copy / "pytorch_model.bin")
    with pytest.raises(EnsembleInputError, match=r"refused to load pytorch_model\.bin.*pickle"):
        load_model(bert_copy)


def test_folder_without_weights_is_refused(bert_copy):
    (bert_copy / "model.safetensors").unlink()
    with pytest.raises(EnsembleInputError, match="has no model.safetensors"):
        load_model(bert_copy)


def test_folder_without_tokenizer_is_refused(bert_copy):
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (bert_copy / name).unlink()
    with pytest.raises(EnsembleInputError, match="has no tokenizer"):
        load_model(bert_copy)


def _edit_config(folder, **changes):
    path = folder / "config.json"
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))


def test_generic_label_names_cannot_match_the_data(bert_copy, text_data):
    _edit_config(bert_copy, id2label={"0": "LABEL_0", "1": "LABEL_1"}, label2id={"LABEL_0": 0, "LABEL_1": 1})
    model = load_model(bert_copy)
    with pytest.raises(EnsembleInputError, match="generic id2label names"):
        score_model(model, text_data, classes=["fresh", "rotten"])


def test_multi_label_model_is_refused(bert_copy):
    _edit_config(bert_copy, problem_type="multi_label_classification")
    with pytest.raises(EnsembleInputError, match="multi-label"):
        load_model(bert_copy)


def test_unknown_architecture_is_one_clear_error(bert_copy):
    # A model type transformers does not know would need remote code, which is never run.
    _edit_config(bert_copy, model_type="my-custom-net", auto_map={"AutoModelForSequenceClassification": "x.Y"})
    model = load_model(bert_copy)
    with pytest.raises(EnsembleInputError, match="could not load the (model|tokenizer)"):
        model.predict_proba(["hello"])


def test_corrupt_weights_are_one_clear_error(bert_copy):
    (bert_copy / "model.safetensors").write_bytes(b"\x00" * 64)
    model = load_model(bert_copy)
    with pytest.raises(EnsembleInputError, match="could not load the model"):
        model.predict_proba(["hello"])


def test_weights_without_the_classification_head_are_refused(bert_copy):
    # A base model saved with an id2label: transformers would initialise the head at random.
    from safetensors.torch import load_file, save_file

    weights = load_file(bert_copy / "model.safetensors")
    save_file({k: v for k, v in weights.items() if not k.startswith("classifier.")},
              bert_copy / "model.safetensors", metadata={"format": "pt"})
    model = load_model(bert_copy)
    with pytest.raises(EnsembleInputError, match=r"lacks weights the model needs \(classifier\.bias, classifier\.weight\)"):
        model.predict_proba(["hello"])


def test_remote_code_in_the_folder_never_runs(bert_copy, tmp_path):
    # auto_map names code shipped in the folder; loading must use transformers' own BERT.
    marker = tmp_path / "ran"
    (bert_copy / "evil.py").write_text(
        f"import os\nos.mkdir({str(marker)!r})\n"
        "from transformers import BertConfig as C, BertForSequenceClassification as M, PreTrainedTokenizerFast as T\n"
    )
    _edit_config(bert_copy, auto_map={"AutoConfig": "evil.C", "AutoModelForSequenceClassification": "evil.M"})
    tokenizer_config = json.loads((bert_copy / "tokenizer_config.json").read_text())
    tokenizer_config["auto_map"] = {"AutoTokenizer": [None, "evil.T"]}
    (bert_copy / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    probas = load_model(bert_copy).predict_proba(["a great film"])
    assert probas.shape == (1, 2) and not marker.exists()


@pytest.mark.parametrize("text", ["[1, 2]", "{not json", "null"], ids=["list", "broken", "null"])
def test_a_config_that_is_not_a_json_object_is_refused_even_under_python_O(bert_copy, text):
    """A real check, not an ``assert`` (``python -O`` strips those: the list went through)."""
    import subprocess
    import sys

    (bert_copy / "config.json").write_text(text)
    with pytest.raises(EnsembleInputError, match=r"config\.json: not a valid JSON object"):
        load_model(bert_copy)
    code = (
        "import sys\nfrom ensemble_core import EnsembleInputError\nfrom ensemble_core.models import load_model\n"
        f"try:\n    load_model({str(bert_copy)!r})\nexcept EnsembleInputError as e:\n    sys.exit(0 if 'not a valid JSON object' in str(e) else 3)\n"
        "sys.exit(4)\n"
    )
    assert subprocess.run([sys.executable, "-O", "-c", code], timeout=120).returncode == 0
