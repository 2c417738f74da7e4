"""Small models the model tests build themselves: skops pipelines, ONNX exports, a tiny BERT."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

POSITIVE = [
    "a great and moving film", "I loved every minute of it", "wonderful acting and a clever story",
    "funny, warm and beautifully shot", "the best film of the year", "a delight from start to finish",
    "smart, sharp and surprisingly tender", "brilliant performances all round", "an absolute joy to watch",
    "charming and very funny", "a moving story told with care", "gorgeous, clever and kind",
]
NEGATIVE = [
    "dull, boring and far too long", "a terrible waste of time", "the plot makes no sense at all",
    "flat acting and a lazy script", "I walked out halfway", "painfully slow and utterly predictable",
    "a mess from start to finish", "not funny, not clever, not good", "the worst film of the year",
    "boring characters and a silly story", "tedious and badly shot", "a lazy, joyless sequel",
]


@pytest.fixture(scope="session")
def text_data() -> pd.DataFrame:
    """24 short reviews, labels 'fresh'/'rotten', ids r0..r23, interleaved."""
    texts, labels = [], []
    for pos, neg in zip(POSITIVE, NEGATIVE):
        texts += [pos, neg]
        labels += ["fresh", "rotten"]
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts, "label": labels})


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def text_pipelines(text_data, model_dir):
    """TF-IDF + {logistic regression, complement NB, random forest}, fitted and saved with skops.

    Returns a dict name -> (fitted pipeline, path of its .skops file).
    """
    import skops.io as sio
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import ComplementNB
    from sklearn.pipeline import make_pipeline

    out = {}
    for name, est in [
        ("tfidf_lr", LogisticRegression()),
        ("tfidf_cnb", ComplementNB()),
        ("tfidf_rf", RandomForestClassifier(n_estimators=15, random_state=0)),
    ]:
        pipe = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), est)
        pipe.fit(text_data["text"].tolist(), text_data["label"].to_numpy())
        path = model_dir / f"{name}.skops"
        sio.dump(pipe, path)
        out[name] = (pipe, path)
    return out


@pytest.fixture(scope="session")
def wine():
    """The wine data as a DataFrame (named feature columns, text labels), and a fitted
    scaler + logistic regression pipeline: (df, pipeline)."""
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    bunch = load_wine(as_frame=True)
    df = bunch.data.copy()
    df["label"] = np.array(["barolo", "grignolino", "barbera"])[bunch.target]
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    pipe.fit(bunch.data, df["label"])
    return df, pipe


@pytest.fixture(scope="session")
def wine_skops(wine, model_dir) -> Path:
    import skops.io as sio

    path = model_dir / "wine_lr.skops"
    sio.dump(wine[1], path)
    return path


@pytest.fixture(scope="session")
def wine_onnx(wine, model_dir) -> dict[str, Path]:
    """The wine pipeline exported with skl2onnx, with ZipMap and without."""
    from skl2onnx import to_onnx

    df, pipe = wine
    X = df.drop(columns="label").to_numpy(dtype=np.float32)
    paths = {}
    for kind, options in [("zipmap", None), ("matrix", {"zipmap": False})]:
        onx = to_onnx(pipe, X[:1], options=options)
        path = model_dir / f"wine_{kind}.onnx"
        path.write_bytes(onx.SerializeToString())
        paths[kind] = path
    return paths


def _tiny_tokenizer(folder: Path):
    """A WordPiece tokenizer trained on the test reviews, as a transformers fast tokenizer."""
    from ensemble_core.models._tiny import train_wordpiece_tokenizer

    return train_wordpiece_tokenizer(POSITIVE + NEGATIVE, folder)


def _tiny_config(vocab_size: int, **kwargs):
    from transformers import BertConfig

    # A wide initialisation so an untrained network's outputs differ visibly between texts.
    return BertConfig(
        vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=64, initializer_range=0.5, **kwargs,
    )


@pytest.fixture(scope="session")
def tiny_bert(model_dir):
    """A 2-layer BERT sequence classifier (classes rotten, fresh — not sorted) saved as a
    transformers directory with safetensors: (torch model, tokenizer, folder)."""
    import torch
    from transformers import BertForSequenceClassification

    torch.manual_seed(0)
    folder = model_dir / "tiny_bert"
    tokenizer = _tiny_tokenizer(folder)
    config = _tiny_config(len(tokenizer), id2label={0: "rotten", 1: "fresh"}, label2id={"rotten": 0, "fresh": 1})
    model = BertForSequenceClassification(config).eval()
    model.save_pretrained(folder, safe_serialization=True)
    return model, tokenizer, folder


@pytest.fixture(scope="session")
def embedding_head(model_dir, text_data):
    """An embedding-head directory: a tiny BERT encoder folder and a logistic-regression head
    fitted on its mean-pooled, normalised embeddings: (encoder, tokenizer, head, folder)."""
    import json

    import skops.io as sio
    import torch
    from sklearn.linear_model import LogisticRegression
    from transformers import BertModel

    from ensemble_core.models.embedding_head import embed

    torch.manual_seed(1)
    folder = model_dir / "minilm_head"
    encoder_dir = folder / "encoder"
    tokenizer = _tiny_tokenizer(encoder_dir)
    encoder = BertModel(_tiny_config(len(tokenizer))).eval()
    encoder.save_pretrained(encoder_dir, safe_serialization=True)
    X = embed(tokenizer, encoder, text_data["text"].tolist(), max_length=32, normalize=True)
    head = LogisticRegression(C=10.0).fit(X, text_data["label"])
    sio.dump(head, folder / "head.skops")
    spec = {
        "kind": "sentence-embedding-head", "version": 1, "encoder": {"path": "encoder"},
        "pooling": "mean", "normalize": True, "max_length": 32, "head": "head.skops",
    }
    (folder / "ensemble_model.json").write_text(json.dumps(spec))
    return encoder, tokenizer, head, folder
