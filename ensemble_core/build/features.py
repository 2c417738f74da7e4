"""The lab's inputs: features from the labels file's content columns.

A text column (a median of at least 3 words a row, as the slices count text) becomes TF-IDF
features fitted on the training rows only; otherwise every numeric content column is a
feature. Anything else is refused in one line.

Examples
--------
>>> import pandas as pd
>>> train = pd.DataFrame({"a": [1.0, 2.0], "b": [0, 1]})
>>> content_features(train, train).train.shape
(2, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import EnsembleInputError, first_true_row
from ..report.slices import TEXT_MIN_WORDS

#: TF-IDF keeps at most this many terms (the lab answers in seconds).
MAX_TERMS = 20_000


@dataclass(frozen=True, eq=False)
class Features:
    """Training and held-out features, and what they were made from (``source``: the text column's
    name, or the numeric columns' names joined)."""

    train: object
    test: object
    kind: str
    source: str


def _text_column(content: pd.DataFrame) -> str | None:
    for c in content.columns:
        col = content[c]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            continue
        present = col.dropna().astype(str)
        if len(present) and np.median(present.str.split().str.len()) >= TEXT_MIN_WORDS:
            return str(c)
    return None


def content_features(train: pd.DataFrame | None, test: pd.DataFrame | None, *, text_column: str | None = None) -> Features:
    """Features for the lab from the content of the training and held-out rows.

    Parameters
    ----------
    train, test : the content columns of the two labels files (same columns)
    text_column : use this text column (default: the first text column, else the numeric columns)
    """
    if train is None or test is None or train.shape[1] == 0:
        raise EnsembleInputError("the lab needs the examples' content (text or feature columns) in the labels files")
    missing = [c for c in train.columns if c not in test.columns]
    if missing:
        raise EnsembleInputError(f"column {missing[0]!r} is in the training rows' labels file but not the held-out one's")
    column = text_column or _text_column(train)
    if column is not None:
        if column not in train.columns:
            raise EnsembleInputError(f"no column {column!r} in the labels file; it has {', '.join(map(repr, train.columns))}")
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(max_features=MAX_TERMS, sublinear_tf=True)
        return Features(vec.fit_transform(train[column].fillna("").astype(str)),
                        vec.transform(test[column].fillna("").astype(str)), "tfidf", column)
    numeric = [c for c in train.columns if pd.api.types.is_numeric_dtype(train[c]) and not pd.api.types.is_bool_dtype(train[c])]
    if not numeric:
        raise EnsembleInputError("the labels file has no text column and no numeric columns to learn from")
    out = []
    for name, frame in (("training", train), ("held-out", test)):
        x = frame[numeric].to_numpy(dtype=np.float64)
        bad = ~np.isfinite(x)
        if bad.any():
            row = first_true_row(bad.any(axis=1))
            col = numeric[int(np.flatnonzero(bad[row - 1])[0])]
            raise EnsembleInputError(f"{name} rows: column {col!r}: row {row}: not a finite number")
        out.append(x)
    return Features(out[0], out[1], "numeric", ", ".join(map(str, numeric)))
