"""skops_checks: structures that compiled code indexes without bounds checks are refused
when their indices point outside, and a k-NN search tree is rebuilt, not trusted."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_iris

from ensemble_core import EnsembleInputError
from ensemble_core.models.skops_checks import check_content

X, Y = load_iris(return_X_y=True)


def test_a_genuine_model_of_each_checked_kind_passes():
    from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.svm import SVC

    for model in (RandomForestClassifier(n_estimators=3, random_state=0), GradientBoostingClassifier(n_estimators=3),
                  HistGradientBoostingClassifier(max_iter=3), SVC()):
        check_content("m.skops", model.fit(X, Y))


@pytest.mark.parametrize(
    "edit",
    [
        lambda state: state.update(node_count=state["node_count"] + 5),
        lambda state: state["nodes"]["left_child"].__setitem__(0, 0),  # a loop: prediction would never end
        lambda state: state["nodes"]["feature"].__setitem__(0, 10_000),
    ],
    ids=["count-past-storage", "child-not-after-parent", "feature-past-data"],
)
def test_a_decision_tree_with_indices_out_of_range_is_refused(edit):
    from sklearn.tree import DecisionTreeClassifier

    model = DecisionTreeClassifier(random_state=0).fit(X, Y)
    state = model.tree_.__getstate__()  # what a skops file stores, edited as a crafted one would be
    edit(state)
    model.tree_.__setstate__(state)
    with pytest.raises(EnsembleInputError, match=r"m\.skops: refused: a decision tree"):
        check_content("m.skops", model)


def test_a_forest_whose_tree_takes_other_features_is_refused():
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    forest = RandomForestClassifier(n_estimators=2, random_state=0).fit(X, Y)
    forest.estimators_[1] = DecisionTreeClassifier().fit(X[:, :2], Y)
    with pytest.raises(EnsembleInputError, match="holds a tree that does not take its 4 features"):
        check_content("m.skops", forest)


def test_gradient_boosting_with_more_trees_per_stage_than_outputs_is_refused():
    from sklearn.ensemble import GradientBoostingClassifier

    model = GradientBoostingClassifier(n_estimators=2).fit(X, Y)
    model.estimators_ = np.concatenate([model.estimators_, model.estimators_], axis=1)
    with pytest.raises(EnsembleInputError, match="stages hold the wrong number of trees"):
        check_content("m.skops", model)
    model.n_trees_per_iteration_ = model.estimators_.shape[1]
    with pytest.raises(EnsembleInputError, match="start does not match its trees"):
        check_content("m.skops", model)


@pytest.mark.parametrize("field, value", [("left", 10_000), ("feature_idx", 99)])
def test_a_histogram_gradient_boosting_tree_out_of_range_is_refused(field, value):
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_iter=2).fit(X, Y)
    nodes = model._predictors[0][0].nodes
    nodes[field][np.flatnonzero(nodes["is_leaf"] == 0)[0]] = value
    with pytest.raises(EnsembleInputError, match="histogram gradient boosting tree has node or feature indices"):
        check_content("m.skops", model)


def test_a_categorical_split_on_a_numeric_feature_is_refused():
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_iter=2).fit(X, Y)
    nodes = model._predictors[0][0].nodes
    nodes["is_categorical"][np.flatnonzero(nodes["is_leaf"] == 0)[0]] = 1
    with pytest.raises(EnsembleInputError, match="histogram gradient boosting tree"):
        check_content("m.skops", model)


@pytest.mark.parametrize("attribute", ["_n_support", "_intercept_", "_dual_coef_"])
def test_an_svm_whose_counts_disagree_is_refused(attribute):
    from sklearn.svm import SVC

    model = SVC().fit(X, Y)
    setattr(model, attribute, getattr(model, attribute)[:1])
    with pytest.raises(EnsembleInputError, match="SVC's support vectors, coefficients and intercepts do not agree"):
        check_content("m.skops", model)


def test_an_svm_with_a_precomputed_kernel_is_refused():
    from sklearn.svm import SVC

    model = SVC().fit(X, Y)
    model.kernel = "precomputed"
    with pytest.raises(EnsembleInputError, match="kernel='precomputed'"):
        check_content("m.skops", model)


def test_a_knn_search_tree_is_rebuilt_from_the_training_data():
    from sklearn.neighbors import KNeighborsClassifier

    model = KNeighborsClassifier(algorithm="kd_tree").fit(X, Y)
    expected = model.predict_proba(X)
    crafted = model._tree
    check_content("m.skops", model)
    assert model._tree is not crafted
    np.testing.assert_array_equal(model.predict_proba(X), expected)


def test_a_sparse_matrix_with_columns_past_its_end_is_refused():
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(max_iter=1000).fit(X, Y).sparsify()
    assert sp.issparse(model.coef_)
    model.coef_.indices[0] = 1_000
    with pytest.raises(EnsembleInputError, match="a sparse matrix with invalid indices"):
        check_content("m.skops", model)


def test_a_vectorizer_reading_files_is_refused():
    from sklearn.feature_extraction.text import HashingVectorizer

    with pytest.raises(EnsembleInputError, match=r"HashingVectorizer has input='file'.*only input='content'"):
        check_content("m.skops", {"vectorizer": HashingVectorizer(input="file")})
