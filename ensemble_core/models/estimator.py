"""Wrap a fitted scikit-learn classifier (from skops or a trusted pickle) as a LoadedModel."""

from __future__ import annotations

import numpy as np

from .._validation import EnsembleInputError
from .base import TABULAR_BATCH_SIZE, InputKind, LoadedModel, ModelKind, class_keys


def _reads_text(estimator) -> bool:
    """Whether the estimator takes raw strings: its first step is a text vectorizer."""
    from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer
    from sklearn.pipeline import FeatureUnion, Pipeline

    first = estimator
    while isinstance(first, Pipeline):
        first = first.steps[0][1]
    if isinstance(first, FeatureUnion):
        parts = [t for _, t in first.transformer_list if t not in ("drop", None)]
        return bool(parts) and all(isinstance(t, (CountVectorizer, HashingVectorizer)) for t in parts)
    return isinstance(first, (CountVectorizer, HashingVectorizer))


def estimator_model(
    estimator, *, name: str, kind: ModelKind, content_hash: str, source: str
) -> LoadedModel:
    """A :class:`LoadedModel` around a fitted scikit-learn classifier.

    Text if the first step is a text vectorizer (TF-IDF, counts, hashing); else
    features, named by ``feature_names_in_`` when the model was fitted on a DataFrame.

    Raises
    ------
    EnsembleInputError
        If the object is not a fitted classifier with ``predict_proba``.
    """
    if not hasattr(estimator, "predict_proba") or not hasattr(estimator, "classes_"):
        what = type(estimator).__name__
        raise EnsembleInputError(
            f"{source}: holds a {what}, not a fitted classifier with predict_proba and classes_ "
            "(for SVC, fit with probability=True; for a model without probabilities write its "
            "labels to a prediction file's 'prediction' column instead)"
        )
    classes = class_keys(source, estimator.classes_)
    input_kind: InputKind = "text" if _reads_text(estimator) else "features"
    names = getattr(estimator, "feature_names_in_", None)
    feature_names = None if input_kind == "text" or names is None else tuple(str(n) for n in names)
    n_features = getattr(estimator, "n_features_in_", None) if input_kind == "features" else None

    def predict(batch) -> np.ndarray:
        if input_kind == "text":
            return estimator.predict_proba(list(batch))
        if feature_names is not None:
            # Fitted on a DataFrame: pass one, so scikit-learn checks nothing is mislabelled.
            import pandas as pd

            return estimator.predict_proba(pd.DataFrame(np.asarray(batch), columns=list(feature_names)))
        return estimator.predict_proba(np.asarray(batch))

    return LoadedModel(
        name=name,
        kind=kind,
        classes=classes,
        input=input_kind,
        feature_names=feature_names,
        content_hash=content_hash,
        source=source,
        n_features=None if n_features is None else int(n_features),
        batch_size=TABULAR_BATCH_SIZE,
        _predict=predict,
    )
