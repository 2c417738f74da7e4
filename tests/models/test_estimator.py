"""What a scikit-learn model reads (text or named features), and refusing non-classifiers."""

from __future__ import annotations

import numpy as np
import pytest

from ensemble_core import EnsembleInputError
from ensemble_core.models.estimator import estimator_model


def _wrap(estimator):
    return estimator_model(estimator, name="m", kind="skops", content_hash="0" * 64, source="m.skops")


def test_model_fitted_on_a_dataframe_reads_its_named_features(wine):
    df, pipe = wine
    model = _wrap(pipe)
    features = df.drop(columns="label")
    assert model.input == "features"
    assert model.feature_names == tuple(features.columns)
    assert model.n_features == features.shape[1]
    np.testing.assert_allclose(model.predict_proba(features.to_numpy()), pipe.predict_proba(features))


def test_model_fitted_on_an_array_has_no_feature_names(fitted_models):
    models, X, _ = fitted_models["iris"]
    model = _wrap(models[1])
    assert (model.input, model.feature_names, model.n_features) == ("features", None, 4)
    assert model.classes == ("0", "1", "2")


def test_feature_union_of_vectorizers_reads_text():
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    pipe = make_pipeline(make_union(TfidfVectorizer(), CountVectorizer(analyzer="char")), LogisticRegression())
    pipe.fit(["good", "bad", "great", "awful"], [1, 0, 1, 0])
    assert _wrap(pipe).input == "text"


def test_classifier_without_predict_proba_is_refused():
    from sklearn.svm import LinearSVC

    svc = LinearSVC().fit(np.eye(4), [0, 1, 0, 1])
    with pytest.raises(EnsembleInputError, match="LinearSVC, not a fitted classifier with predict_proba"):
        _wrap(svc)
