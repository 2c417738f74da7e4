"""Shared fixtures: small prediction sets built from scikit-learn's bundled datasets."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def random_probas(rng: np.random.Generator, n_models: int, n_samples: int, n_classes: int) -> np.ndarray:
    """Dirichlet probabilities of shape (n_models, n_samples, n_classes), float32."""
    return rng.dirichlet(np.ones(n_classes), size=(n_models, n_samples)).astype(np.float32)


@pytest.fixture(scope="session")
def fitted_models():
    """Fitted classifiers and their test split for several bundled datasets.

    Returns a dict: dataset id -> (models, X_test, y_test) with string labels for wine
    and integer labels elsewhere.
    """
    from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    out = {}
    for name, loader in [
        ("iris", load_iris),
        ("wine-strings", load_wine),
        ("breast_cancer", load_breast_cancer),
        ("digits", load_digits),
    ]:
        X, y = loader(return_X_y=True)
        if name == "wine-strings":
            y = np.array(["barolo", "grignolino", "barbera"])[y]
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.4, random_state=0, stratify=y)
        models = [
            make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X_tr, y_tr),
            RandomForestClassifier(n_estimators=30, random_state=0).fit(X_tr, y_tr),
            GaussianNB().fit(X_tr, y_tr),
            KNeighborsClassifier(n_neighbors=7).fit(X_tr, y_tr),
        ]
        out[name] = (models, X_te, y_te)
    return out
