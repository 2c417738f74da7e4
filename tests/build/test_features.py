"""The lab's features: TF-IDF fitted on the training rows only, numeric columns, or one line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ensemble_core import EnsembleInputError
from ensemble_core.build.features import content_features


def test_text_becomes_tfidf_fitted_on_the_training_rows_only():
    train = pd.DataFrame({"text": ["a good film indeed", "a bad film sadly", "good good acting here"]})
    test = pd.DataFrame({"text": ["unseenword alone", "good film"]})
    f = content_features(train, test)
    assert f.kind == "tfidf" and f.source == "text"
    assert f.test[0].nnz == 0  # no held-out word enters the vocabulary


def test_numeric_columns_are_features():
    train = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4], "note": ["x", "y"]})
    f = content_features(train, train)
    assert f.kind == "numeric" and f.source == "a, b" and np.array_equal(f.train, [[1, 3], [2, 4]])


@pytest.mark.parametrize(
    "train, test, message",
    [
        (pd.DataFrame(index=range(2)), pd.DataFrame(index=range(2)), "the lab needs the examples' content"),
        (pd.DataFrame({"c": ["x", "y"]}), pd.DataFrame({"c": ["x", "y"]}), "no text column and no numeric columns"),
        (pd.DataFrame({"a": [1.0, 2.0]}), pd.DataFrame({"b": [1.0]}), "column 'a' is in the training rows' labels"),
        (pd.DataFrame({"a": [1.0, np.nan]}), pd.DataFrame({"a": [1.0]}), "training rows: column 'a': row 2: not a finite"),
    ],
    ids=["empty", "no-features", "mismatch", "nan"],
)
def test_unusable_content_is_refused_in_one_line(train, test, message):
    with pytest.raises(EnsembleInputError, match=message):
        content_features(train, test)
