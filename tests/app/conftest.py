"""AppTest fixtures: the app's entry point and a small prediction set on disk."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from ensemble_core import write_predictions

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
#: Generous: the first run of a session imports scikit-learn and plotly.
TIMEOUT = 60


@pytest.fixture(autouse=True)
def _restore_main_module():
    """Streamlit's script runner installs the app script as ``sys.modules["__main__"]``
    and leaves it there; a later test in the same worker that starts a ``spawn``
    process would then re-run that script in the child. Put the real one back."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


def _run_page(page: str | None = None, query: dict[str, str | list[str]] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


def _metric_value(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


@pytest.fixture
def run_page():
    """``run_page(page=None, query=None)``: run the Start page (with an optional
    shared-link query), then switch to ``page`` (e.g. ``dashboard.navigation.ENSEMBLE.path``)."""
    return _run_page


@pytest.fixture
def metric_value():
    """``metric_value(at, label_start)``: the value of the first metric whose label starts so."""
    return _metric_value


@pytest.fixture(scope="session")
def small_set_files(tmp_path_factory) -> tuple[Path, Path]:
    """A labels file (with a text column) and a folder of three models' prediction files.

    Returns (labels path, predictions folder).
    """
    rng = np.random.default_rng(7)
    root = tmp_path_factory.mktemp("small_set")
    classes = np.array(["cat", "dog", "owl"])
    n = 60
    y = np.repeat(np.arange(3), n // 3)
    ids = [f"ex{i:03d}" for i in range(n)]
    pd.DataFrame({"id": ids, "label": classes[y], "text": [f"example {i}" for i in range(n)]}).to_csv(
        root / "labels.csv", index=False
    )
    folder = root / "predictions"
    for name, skill in [("alpha", 2.5), ("beta", 1.5), ("gamma", 0.5)]:
        logits = rng.normal(size=(n, 3))
        logits[np.arange(n), y] += skill
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        write_predictions(folder / f"{name}.csv", classes, probas=p, ids=ids)
    return root / "labels.csv", folder


@pytest.fixture(scope="session")
def tiny_lms(tmp_path_factory) -> tuple[Path, list[Path], Path]:
    """Two tiny GPT-2s sharing a tokenizer (trained on fresh and on rotten reviews, as in tests/lm)
    and an evaluation text of 40 reviews, under one root. Built once per test session (~3 s).

    Returns (root, model directories, text file).
    """
    import torch

    from ensemble_core.lm._tiny import build_model, train_tokenizer

    reviews = pd.read_csv(ROOT / "demo_data" / "sentiment" / "train.csv").head(2000)
    root = tmp_path_factory.mktemp("lm_root")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the machine is shared; the models are too small to gain from more
    try:
        tokenizer = train_tokenizer(reviews["text"], vocab_size=500)
        dirs = [build_model(root / label, tokenizer, reviews.loc[reviews["label"] == label, "text"], seed=seed,
                            steps=30, batch_size=8) for seed, label in enumerate(("fresh", "rotten"))]
    finally:
        torch.set_num_threads(threads)
    text = root / "eval.txt"
    text.write_text("\n".join(reviews["text"].tail(40)), encoding="utf-8")
    return root, dirs, text


#: The Data page's "Read these files" (labels file and predictions folder by path).
FOLDER_SUBMIT = "FormSubmitter:folder_form-Read these files"


@pytest.fixture
def small_set_loaded(small_set_files, monkeypatch) -> AppTest:
    """The Data page after reading :func:`small_set_files` by path (the root set to their folder)."""
    from dashboard.navigation import DATA

    labels, folder = small_set_files
    monkeypatch.setenv("ENSEMBLE_EXPLORER_ROOT", str(labels.parent))
    at = _run_page(DATA.path)
    at.text_input(key="path_labels").input(str(labels))
    at.text_input(key="path_predictions").input(str(folder))
    at.button(key=FOLDER_SUBMIT).click().run()
    return at
