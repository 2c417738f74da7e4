"""Small transfer/held-out splits with members' predictions on both (the demo ships none on train)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def _write_split(d, name, frame, y, models, classes):
    frame = frame.reset_index(drop=True)
    labels = pd.DataFrame({"id": np.arange(len(frame)), "label": np.asarray(classes)[y]})
    pd.concat([labels, frame], axis=1).to_csv(d / f"{name}.csv", index=False)
    (d / name).mkdir()
    for model_name, model in models.items():
        p = model.predict_proba(frame)
        out = pd.DataFrame(p, columns=[str(c) for c in classes])
        out.insert(0, "id", np.arange(len(frame)))
        out.to_csv(d / name / f"{model_name}.csv", index=False)


@pytest.fixture(scope="session")
def feature_splits(tmp_path_factory):
    """Three members trained on their own 200 rows; a 240-row transfer set and a 240-row
    held-out split with their predictions (6 numeric features, 3 classes)."""
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.tree import DecisionTreeClassifier

    d = tmp_path_factory.mktemp("distill_features")
    x, y = make_classification(680, n_features=6, n_informative=4, n_redundant=0, n_classes=3,
                               n_clusters_per_class=1, random_state=0)
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(6)])
    classes = np.array(["a", "b", "c"])
    fit, rows = frame[:200], y[:200]
    models = {"lr": LogisticRegression(max_iter=500).fit(fit, rows), "nb": GaussianNB().fit(fit, rows),
              "tree": DecisionTreeClassifier(max_depth=3, random_state=0).fit(fit, rows)}
    _write_split(d, "transfer", frame[200:440], y[200:440], models, classes)
    _write_split(d, "held_out", frame[440:], y[440:], models, classes)
    return d


@pytest.fixture(scope="session")
def text_splits(tmp_path_factory):
    """Two text members (TF-IDF + logistic, naive Bayes) on 2-class reviews; 120 + 120 rows."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(0)
    good, bad, filler = ["great", "fine", "lovely", "fun"], ["awful", "dull", "bad", "boring"], ["film", "plot", "cast", "the"]
    y = rng.integers(0, 2, 360)
    texts = [" ".join(rng.choice((good if c else bad) * 2 + filler, 6)) for c in y]
    frame = pd.DataFrame({"text": texts})
    classes = np.array(["neg", "pos"])
    d = tmp_path_factory.mktemp("distill_text")
    fit = frame["text"][:120]
    models = {"lr": make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(fit, y[:120]),
              "nb": make_pipeline(TfidfVectorizer(), MultinomialNB()).fit(fit, y[:120])}

    class _Column:  # the members read the text column of a frame
        def __init__(self, model):
            self.model = model

        def predict_proba(self, f):
            return self.model.predict_proba(f["text"])

    _write_split(d, "transfer", frame[120:240], y[120:240], {k: _Column(m) for k, m in models.items()}, classes)
    _write_split(d, "held_out", frame[240:], y[240:], {k: _Column(m) for k, m in models.items()}, classes)
    return d
