"""score_model: dataset class order, column checks, progress, and the cache's hits and invalidation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from ensemble_core import EnsembleInputError
from ensemble_core.models import PredictionCache, load_model, score_model


def _counting(model):
    """The model with its predict calls counted: (model, calls) where calls[0] is the count."""
    calls = [0]

    def predict(batch):
        calls[0] += 1
        return model._predict(batch)

    return dataclasses.replace(model, _predict=predict), calls


@pytest.fixture(scope="module")
def lr(text_pipelines):
    return load_model(text_pipelines["tfidf_lr"][1])


def test_columns_follow_the_dataset_class_order(lr, text_pipelines, text_data):
    pipe = text_pipelines["tfidf_lr"][0]
    expected = pipe.predict_proba(text_data["text"].tolist())
    forward = score_model(lr, text_data, classes=["fresh", "rotten"])
    backward = score_model(lr, text_data, classes=["rotten", "fresh"])
    assert forward.dtype == np.float32 and forward.shape == (24, 2)
    np.testing.assert_allclose(forward, expected, atol=1e-7)
    np.testing.assert_array_equal(backward, forward[:, ::-1])


def test_integer_dataset_labels_match_integer_model_classes(fitted_models):
    from ensemble_core.models.estimator import estimator_model

    models, X, y = fitted_models["digits"]
    model = estimator_model(models[0], name="lr", kind="skops", content_hash="h", source="lr")
    df = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    classes = np.unique(y)
    probas = score_model(model, df, classes=classes, feature_columns=list(df.columns), batch_size=100)
    np.testing.assert_allclose(probas, models[0].predict_proba(X), atol=1e-6)


def test_named_features_are_read_by_name_in_any_column_order(wine):
    df, pipe = wine
    from ensemble_core.models.estimator import estimator_model

    model = estimator_model(pipe, name="wine", kind="skops", content_hash="h", source="wine")
    shuffled = df[list(df.columns[::-1])]
    classes = sorted(df["label"].unique())
    expected = pipe.predict_proba(df.drop(columns="label"))[:, [list(pipe.classes_).index(c) for c in classes]]
    np.testing.assert_allclose(score_model(model, shuffled, classes=classes), expected, atol=1e-6)
    # The same names listed in another order are still read by name, never by position.
    names = list(model.feature_names)[::-1]
    np.testing.assert_allclose(score_model(model, df, classes=classes, feature_columns=names), expected, atol=1e-6)


def test_progress_reports_after_each_batch(lr, text_data):
    seen = []
    score_model(lr, text_data, classes=["fresh", "rotten"], batch_size=10, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(10, 24), (20, 24), (24, 24)]


def test_text_column_is_found_or_named(lr, text_data):
    renamed = text_data.rename(columns={"text": "review"})
    # The only text column besides label and id is used without being named.
    np.testing.assert_array_equal(
        score_model(lr, renamed, classes=["fresh", "rotten"]), score_model(lr, text_data, classes=["fresh", "rotten"])
    )
    two = renamed.assign(author="someone")
    with pytest.raises(EnsembleInputError, match="name the text column"):
        score_model(lr, two, classes=["fresh", "rotten"])
    assert score_model(lr, two, classes=["fresh", "rotten"], text_column="review").shape == (24, 2)


@pytest.mark.parametrize(
    "kwargs, data_change, message",
    [
        ({"classes": ["fresh", "rotten", "meh"]}, None, r"the model has no class 'meh'"),
        ({"classes": ["fresh"]}, None, r"the data has no class 'rotten'"),
        ({"classes": ["pos", "neg"]}, None, r"\(fresh, rotten\) do not match the data's \(pos, neg\): no class in common"),
        ({"text_column": "nope"}, None, r"no text column 'nope'"),
        ({"feature_columns": ["a"]}, None, "reads text, not feature columns"),
        ({"batch_size": 0}, None, "batch size must be a positive integer"),
        ({}, lambda d: d.head(0), "the dataset has no rows"),
        ({}, lambda d: d.assign(text=d["text"].where(d.index != 4)), r"column 'text': row 5: text is missing"),
    ],
    ids=["model-lacks-class", "data-lacks-class", "disjoint-classes", "no-text-column", "features-for-text", "batch-size", "empty",
         "missing-text"],
)
def test_refused_inputs(lr, text_data, kwargs, data_change, message):
    data = data_change(text_data) if data_change else text_data
    kwargs = {"classes": ["fresh", "rotten"], **kwargs}
    with pytest.raises(EnsembleInputError, match=message):
        score_model(lr, data, **kwargs)


@pytest.mark.parametrize(
    "kwargs, data_change, message",
    [
        ({}, lambda d: d.drop(columns="alcohol"), r"no feature column 'alcohol'"),
        ({}, lambda d: d.assign(ash=d["ash"].astype(object).where(d.index != 2, "n/a")),
         r"column 'ash': row 3: 'n/a' is not a number"),
        ({"feature_columns": ["alcohol", "ash"]}, None, "takes 13 features; got 2 feature columns"),
        ({"text_column": "alcohol"}, None, "reads feature columns, not text"),
        ({}, lambda d: d.assign(ash=d["ash"].where(d.index != 4, np.inf)), r"column 'ash': row 5: inf is not a finite number"),
        ({}, lambda d: d.assign(ash=d["ash"].astype(object).where(d.index != 4, "-inf")),
         r"column 'ash': row 5: '-inf' is not a finite number"),
    ],
    ids=["missing-feature", "not-a-number", "wrong-count", "text-for-features", "infinite", "infinite-text"],
)
def test_refused_feature_inputs(wine, wine_skops, kwargs, data_change, message):
    df, _ = wine
    model = load_model(wine_skops)
    data = data_change(df) if data_change else df
    with pytest.raises(EnsembleInputError, match=message):
        score_model(model, data, classes=sorted(df["label"].unique()), **kwargs)


def test_unnamed_features_need_their_columns(wine, wine_onnx):
    df, _ = wine
    model = load_model(wine_onnx["matrix"])
    classes = sorted(df["label"].unique())
    features = [c for c in df.columns if c != "label"]
    named = score_model(model, df, classes=classes, feature_columns=features)
    # Exactly as many other columns as the model takes: all of them, in the file's order.
    np.testing.assert_array_equal(score_model(model, df, classes=classes), named)
    with pytest.raises(EnsembleInputError, match=r"does not record their names; give the feature columns \(13\)"):
        score_model(model, df.assign(extra=1.0), classes=classes)


def test_outputs_that_are_not_probabilities_are_refused(lr, text_data):
    bad = dataclasses.replace(lr, _predict=lambda batch: np.full((len(batch), 2), 0.7))
    with pytest.raises(EnsembleInputError, match=r"row 1: the model's outputs \[0.7, 0.7\] are not probabilities"):
        score_model(bad, text_data, classes=["fresh", "rotten"])


def test_second_score_reads_the_cache_without_calling_the_model(lr, text_data, tmp_path):
    model, calls = _counting(lr)
    cache = PredictionCache(tmp_path)
    first = score_model(model, text_data, classes=["fresh", "rotten"], batch_size=5, cache=cache)
    assert calls[0] == 5
    progress = []
    second = score_model(model, text_data, classes=["fresh", "rotten"], cache=cache,
                         progress=lambda d, t: progress.append((d, t)))
    assert calls[0] == 5 and progress == [(24, 24)]
    np.testing.assert_array_equal(first, second)
    assert (cache.hits, cache.misses) == (1, 1)


def test_cache_is_invalidated_by_model_data_mapping_and_class_order(text_pipelines, text_data, tmp_path):
    cache = PredictionCache(tmp_path)
    lr = load_model(text_pipelines["tfidf_lr"][1])
    nb = load_model(text_pipelines["tfidf_cnb"][1])
    classes = ["fresh", "rotten"]
    base = score_model(lr, text_data, classes=classes, cache=cache)
    variants = [
        (nb, text_data, classes, {}),  # another model file
        (lr, text_data.assign(text=text_data["text"].str.upper()), classes, {}),  # other data
        (lr, text_data.assign(review=text_data["text"]), classes, {"text_column": "review"}),  # other mapping
        (lr, text_data, ["rotten", "fresh"], {}),  # other class order
    ]
    for i, (model, data, cls, kwargs) in enumerate(variants, start=1):
        model, calls = _counting(model)
        score_model(model, data, classes=cls, cache=cache, **kwargs)
        assert calls[0] == 1, f"variant {i} was served from the cache"
    assert cache.hits == 0
    np.testing.assert_array_equal(score_model(lr, text_data, classes=classes, cache=cache), base)
    assert cache.hits == 1


def test_changed_model_file_misses_the_cache(text_pipelines, text_data, tmp_path):
    import skops.io as sio
    from sklearn.base import clone

    pipe, path = text_pipelines["tfidf_lr"]
    copy = tmp_path / "lr.skops"
    copy.write_bytes(path.read_bytes())
    cache = PredictionCache(tmp_path / "cache")
    score_model(load_model(copy), text_data, classes=["fresh", "rotten"], cache=cache)
    # Refit with another regularisation and overwrite the same path.
    sio.dump(clone(pipe).set_params(logisticregression__C=0.1).fit(text_data["text"], text_data["label"]), copy)
    model, calls = _counting(load_model(copy))
    score_model(model, text_data, classes=["fresh", "rotten"], cache=cache)
    assert calls[0] == 1 and cache.hits == 0


def test_unwritable_cache_warns_but_scores(lr, text_data, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.warns(UserWarning, match="prediction cache not written"):
        probas = score_model(lr, text_data, classes=["fresh", "rotten"], cache=PredictionCache(blocker / "sub"))
    assert probas.shape == (24, 2)
