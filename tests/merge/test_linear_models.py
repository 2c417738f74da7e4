"""Coefficient averaging of scikit-learn linear models, against the hand computation."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from ensemble_core import EnsembleInputError
from ensemble_core.cli import main
from ensemble_core.merge.linear_models import average_linear_models


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


def test_coefficients_and_intercepts_are_the_weighted_mean(iris):
    X, y = iris
    a = LogisticRegression(C=1.0, max_iter=500).fit(X[::2], y[::2])
    b = LogisticRegression(C=0.1, max_iter=500).fit(X[1::2], y[1::2])
    merged = average_linear_models([a, b], [1, 3])
    for attribute in ("coef_", "intercept_"):
        hand = np.empty_like(getattr(a, attribute))
        for index in np.ndindex(hand.shape):
            hand[index] = 0.25 * getattr(a, attribute)[index] + 0.75 * getattr(b, attribute)[index]
        np.testing.assert_allclose(getattr(merged, attribute), hand, rtol=0, atol=1e-15)
    # a linear model's decision function is linear in its coefficients: the merge averages the logits
    np.testing.assert_allclose(merged.decision_function(X),
                               0.25 * a.decision_function(X) + 0.75 * b.decision_function(X), atol=1e-12)
    assert a.coef_[0, 0] != merged.coef_[0, 0]  # the inputs are unchanged: the merge is a copy
    np.testing.assert_array_equal(merged.classes_, a.classes_)


def test_a_pipeline_merges_its_final_step_when_the_steps_before_are_equal(iris):
    X, y = iris
    scaler = StandardScaler().fit(X)
    a = make_pipeline(scaler, LogisticRegression(C=1.0, max_iter=500)).fit(X[::2], y[::2])
    b = make_pipeline(StandardScaler().fit(X), LogisticRegression(C=0.1, max_iter=500))
    b.steps[0] = ("standardscaler", a.steps[0][1])  # the same fitted scaler, as when both were fitted on one split
    b.steps[1][1].fit(a[:-1].transform(X[1::2]), y[1::2])
    merged = average_linear_models([a, b])
    np.testing.assert_allclose(merged[-1].coef_, 0.5 * a[-1].coef_ + 0.5 * b[-1].coef_, atol=1e-15)
    np.testing.assert_allclose(merged.decision_function(X), 0.5 * a.decision_function(X) + 0.5 * b.decision_function(X),
                               atol=1e-12)


def _pair(iris, kind):
    X, y = iris
    a = LogisticRegression(max_iter=500).fit(X, y)
    if kind == "other class":
        return a, LinearSVC().fit(X, y)
    if kind == "other classes":
        return a, LogisticRegression(max_iter=500).fit(X[y > 0], y[y > 0])
    if kind == "other features":
        return a, LogisticRegression(max_iter=500).fit(X[:, :3], y)
    if kind == "not linear":
        return RandomForestClassifier(n_estimators=2, random_state=0).fit(X, y), \
            RandomForestClassifier(n_estimators=2, random_state=1).fit(X, y)
    return (make_pipeline(StandardScaler(), RidgeClassifier()).fit(X[::2], y[::2]),
            make_pipeline(StandardScaler(), RidgeClassifier()).fit(X[1::2], y[1::2]))


@pytest.mark.parametrize(("kind", "message"), [
    ("other class", "different models: LogisticRegression and LinearSVC"),
    ("other classes", "different classes: [0, 1, 2] and [1, 2]"),
    ("other features", "take 4 and 3 features"),
    ("not linear", "RandomForestClassifier has no coef_"),
    ("other scaler", "pipeline step 'standardscaler' differs"),
])
def test_models_that_differ_are_refused_in_one_line(iris, kind, message):
    with pytest.raises(EnsembleInputError, match=re.escape(message)) as caught:
        average_linear_models(_pair(iris, kind))
    assert "\n" not in str(caught.value)


def test_cli_coef_average_writes_a_skops_file(iris, tmp_path, capsys):
    import skops.io as sio

    from ensemble_core.models.skops_loader import load_skops

    X, y = iris
    a = LogisticRegression(C=1.0, max_iter=500).fit(X[::2], y[::2])
    b = LogisticRegression(C=0.1, max_iter=500).fit(X[1::2], y[1::2])
    for name, model in (("a", a), ("b", b)):
        sio.dump(model, tmp_path / f"{name}.skops")
    out = tmp_path / "ab.skops"
    status = main(["merge", "--method", "coef-average", "--models", str(tmp_path / "a.skops"), str(tmp_path / "b.skops"),
                   "--weights", "3,1", "--out", str(out)])
    assert status == 0 and "coef-average: merged 2 models" in capsys.readouterr().out
    merged = load_skops(out)
    np.testing.assert_allclose(merged.coef_, 0.75 * a.coef_ + 0.25 * b.coef_, atol=1e-15)
    np.testing.assert_allclose(merged.intercept_, 0.75 * a.intercept_ + 0.25 * b.intercept_, atol=1e-15)
    status = main(["merge", "--method", "coef-average", "--models", str(tmp_path / "a.skops"), str(tmp_path / "b.skops"),
                   "--out", str(tmp_path / "ab_dir")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "writes a .skops file" in err
