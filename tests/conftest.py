"""Shared fixtures: small prediction sets built from scikit-learn's bundled datasets."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


#: Text an attacker puts in a file or a link: a remote image, a link, HTML, LaTeX, an icon
#: (Streamlit renders markdown; plotly renders <a href> in chart texts).
ATTACK_IMAGE = "![x](http://evil.example/p.png)"
ATTACK_LINK = "[click](https://evil.example)"
ATTACK_HTML = "<img src=x onerror=alert(1)>"
ATTACK_MATH = "$x$"
ATTACK_ICON = ":material/warning:"
ATTACK_ANCHOR = '<a href="https://evil.example">cat</a>'
ATTACK_REVIEW = (f"Great film! {ATTACK_IMAGE} {ATTACK_LINK}\n\n{ATTACK_HTML} {ATTACK_MATH} {ATTACK_ICON} "
                 "https://evil.example/raw")
#: File names cannot hold "/" (and a browser sends '"' in an upload's name as %22): model
#: names carry the same attacks without them.
ATTACK_MODEL_NAMES = ("[click](https:evil.example)", "<a href='https:evil.example'>rf",
                      "$x$ :material_warning: <img src=x onerror=alert(1)>")
ATTACK_CLASSES = (ATTACK_IMAGE, ATTACK_ANCHOR)
ATTACK_LABELS_NAME = f"{ATTACK_HTML} [data](https:evil.example).csv"
ATTACK_ID_PREFIX = "[id](https://evil.example)"


def crafted_files(n: int = 40, seed: int = 3) -> tuple[tuple[str, bytes], list[tuple[str, bytes]]]:
    """A labelled data set whose review text, class labels, ids, file names and model names
    all carry markup: ``((labels name, CSV bytes), [(prediction file name, CSV bytes), ...])``,
    one prediction file per name in :data:`ATTACK_MODEL_NAMES` (the first the most accurate)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    ids = [f"{ATTACK_ID_PREFIX}{i}" for i in range(n)]
    labels = pd.DataFrame({"id": ids, "label": np.array(ATTACK_CLASSES)[y], "text": [ATTACK_REVIEW] * n})
    predictions = []
    for skill, name in zip((2.0, 1.0, 0.2), ATTACK_MODEL_NAMES):
        p = rng.uniform(0.05, 0.95, n)
        p = np.where(y == 0, p ** (1 / (1 + skill)), p ** (1 + skill))  # skill pushes p towards the true class
        frame = pd.DataFrame({"id": ids, ATTACK_CLASSES[0]: p, ATTACK_CLASSES[1]: 1 - p})
        predictions.append((f"{name}.csv", frame.to_csv(index=False).encode()))
    return (ATTACK_LABELS_NAME, labels.to_csv(index=False).encode()), predictions


def labels_only_files(folder, n: int = 400, seed: int = 0):
    """The issue-12 case on disk: three classes, five models with probabilities and ``llm``, a
    labels-only model (a ``prediction`` column) right on about 82% of the rows, the best single
    model. With its bare one-hot row the geometric mean *is* ``llm`` on every row.

    Returns (labels path, [prediction paths], the labels-only model's labels as class indices).
    """
    import pandas as pd

    from ensemble_core import write_predictions

    rng = np.random.default_rng(seed)
    classes = np.array(["a", "b", "c"])
    y = rng.integers(0, 3, n)
    ids = [f"r{i}" for i in range(n)]
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"id": ids, "label": classes[y], "text": [f"example {i}" for i in range(n)]}).to_csv(
        folder / "labels.csv", index=False)
    paths = []
    for m, skill in enumerate([1.0, 1.2, 0.8, 1.5, 0.9]):
        z = rng.normal(size=(n, 3))
        z[np.arange(n), y] += skill
        write_predictions(folder / f"m{m}.csv", classes, probas=np.exp(z) / np.exp(z).sum(1, keepdims=True), ids=ids)
        paths.append(folder / f"m{m}.csv")
    llm = np.where(rng.random(n) < 0.82, y, rng.integers(0, 3, n))
    write_predictions(folder / "llm.csv", classes, labels=llm, ids=ids)
    paths.append(folder / "llm.csv")
    return folder / "labels.csv", paths, llm


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


def _shown(markdown: str) -> str:
    """The text a markdown source shows when its user-derived parts went through
    :func:`dashboard.text.literal`: backslash escapes and word joiners dropped."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")


@pytest.fixture
def shown():
    """``shown(markdown)``: the text a label, alert or markdown element shows (see :func:`_shown`)."""
    return _shown
