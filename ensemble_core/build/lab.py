"""The Build lab: how bagging, random subspaces, random forests and boosting grow an ensemble.

Each method is scikit-learn's own estimator, fitted once with the largest number of
members; the curve for k members is what scikit-learn's estimator with
``n_estimators=k`` and the same seed predicts (the first k members' averaged
probabilities for bagging, subspaces and forests — their members are drawn in order
from one seed; the staged predictions for boosting), tested against fitting each size
directly. Along the curve: train and held-out accuracy, the single base learner's for
reference, and the members' diversity (mean pairwise disagreement on the held-out rows).

Examples
--------
>>> from sklearn.datasets import load_iris
>>> X, y = load_iris(return_X_y=True)
>>> curve = growth_curve("bagging", X[::2], y[::2], X[1::2], y[1::2], base="tree", n_members=5, seed=0)
>>> curve.sizes.tolist()
[1, 2, 3, 4, 5]
>>> bool(curve.test_accuracy[-1] >= 0.9)
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from .._threads import limited
from .._validation import EnsembleInputError
from ..registry import BASE_LEARNERS, BUILD_METHODS, base_learner, build_method

#: The lab answers within seconds on the demos: at most this many members and training rows.
MAX_MEMBERS = 200
MAX_TRAIN_ROWS = 20_000


@dataclass(frozen=True, eq=False)
class GrowthCurve:
    """Accuracy and diversity of a growing ensemble.

    Attributes
    ----------
    method, base : str; sizes : ndarray of shape (n_points,), member counts
    train_accuracy, test_accuracy : ndarrays of shape (n_points,)
    base_train_accuracy, base_test_accuracy : float, one base learner alone (same seed)
    diversity : ndarray of shape (n_points,), mean pairwise disagreement of the first k members'
        held-out predictions (NaN for one member, and for boosting's gradient-boosting stages, whose
        members are regression trees without class predictions of their own)
    test_probas : ndarray of shape (n_test, n_classes), the full ensemble's held-out probabilities
    member_test_labels : ndarray of shape (n_members, n_test), each member's held-out class (or None)
    member_test_probas : ndarray of shape (n_members, n_test, n_classes), each member's own held-out
        probabilities, columns in the ensemble's class order (None for gradient boosting, whose members
        are regression trees)
    """

    method: str
    base: str
    sizes: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    base_train_accuracy: float
    base_test_accuracy: float
    diversity: np.ndarray
    test_probas: np.ndarray
    member_test_labels: np.ndarray | None
    member_test_probas: np.ndarray | None = None


def make_base_learner(base: str, *, seed: int = 0):
    """An unfitted base learner from the registry (``tree`` or ``logistic``)."""
    return base_learner(base).implementation()(seed)


def make_ensemble(method: str, base: str, n_members: int, *, seed: int = 0):
    """The unfitted scikit-learn ensemble ``method`` of ``n_members`` members of ``base``."""
    return build_method(method).implementation()(make_base_learner(base, seed=seed), n_members, seed)


def _check(method: str, base: str, n_members: int, X_train, y_train) -> None:
    if method not in BUILD_METHODS:
        raise EnsembleInputError(f"unknown build method {method!r}; expected one of {', '.join(BUILD_METHODS)}")
    if base not in BASE_LEARNERS:
        raise EnsembleInputError(f"unknown base learner {base!r}; expected one of {', '.join(BASE_LEARNERS)}")
    if not build_method(method).takes_base and base != "tree":
        raise EnsembleInputError(f"{method} grows trees of its own; choose base 'tree'")
    if isinstance(n_members, bool) or not isinstance(n_members, (int, np.integer)) or not 1 <= n_members <= MAX_MEMBERS:
        raise EnsembleInputError(f"members must be a whole number from 1 to {MAX_MEMBERS}; got {n_members!r}")
    if len(y_train) > MAX_TRAIN_ROWS:
        raise EnsembleInputError(
            f"the lab trains on at most {MAX_TRAIN_ROWS:,} rows (to answer in seconds); got {len(y_train):,}"
        )
    if len(np.unique(y_train)) < 2:
        raise EnsembleInputError("the training rows hold one class only; the lab needs at least two")


def _mean_disagreement(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Mean pairwise disagreement of the first k members, for every k (NaN for k = 1)."""
    from ..disagreement import agreement_and_kappa

    agree, _ = agreement_and_kappa(labels, n_classes)
    dis = 1.0 - agree
    k = np.arange(1, labels.shape[0] + 1)
    # Sum over pairs within the first k members: the lower triangle's cumulative sums.
    lower = np.tril(dis, -1)
    pair_sums = np.cumsum(lower.sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(k > 1, pair_sums / (k * (k - 1) / 2), np.nan)


def _member_probas(members, X, classes: np.ndarray, features=None, *, indices: bool = True) -> np.ndarray:
    """Each member's probabilities, (n_members, n, n_classes), columns in ``classes`` order.

    Bagging and forests fit their members on class indices (``indices``); boosting's members on the
    classes themselves. A member trained on a bootstrap sample may have seen fewer classes: its columns
    go where its classes are (scikit-learn places them the same way), the others stay 0.
    """
    out = np.zeros((len(members), X.shape[0], len(classes)))
    for k, member in enumerate(members):
        Xk = X if features is None else X[:, features[k]]
        columns = member.classes_.astype(np.intp) if indices else np.searchsorted(classes, member.classes_)
        out[k][:, columns] = member.predict_proba(Xk)
    return out


def _averaged_stages(member_probas: np.ndarray) -> np.ndarray:
    """Probabilities of the first k members averaged, for every k: (n_members, n, n_classes)."""
    k = np.arange(1, member_probas.shape[0] + 1)[:, None, None]
    return np.cumsum(member_probas, axis=0) / k


def growth_curve(
    method: str,
    X_train,
    y_train: np.ndarray,
    X_test,
    y_test: np.ndarray,
    *,
    base: str = "tree",
    n_members: int = 50,
    seed: int = 0,
    should_stop: Callable[[int], bool] | None = None,
) -> GrowthCurve:
    """Fit ``method`` with ``n_members`` members and measure it at every size from 1 to ``n_members``.

    With ``should_stop``, members are fitted one at a time (the same members, seed for seed) and
    ``should_stop(k)`` is asked after the k-th: when it returns True the growth stops there and the
    curve covers the first k members (what ``n_members=k`` gives).

    Parameters
    ----------
    method : a name from ``registry.BUILD_METHODS`` (bagging, subspaces, forest, adaboost, gbm)
    X_train, X_test : arrays (or sparse matrices) of shape (n, n_features)
    y_train, y_test : ndarrays of shape (n,), class indices
    base : a name from ``registry.BASE_LEARNERS`` (forest and gbm grow trees: base must be ``tree``)
    n_members : 1 to :data:`MAX_MEMBERS`
    should_stop : callable (members built so far) -> bool, or None to fit all members at once
    """
    _check(method, base, n_members, X_train, y_train)
    with limited("build"):
        return _growth_curve(method, X_train, np.asarray(y_train), X_test, np.asarray(y_test), base, n_members, seed,
                             should_stop)


def fit_growing(model, X, y, should_stop: Callable[[int], bool]):
    """Fit a scikit-learn ensemble member by member, asking ``should_stop(k)`` after the k-th member
    (never after the last); True stops it there, with the first k members fitted.

    Bagging and forests grow by ``warm_start`` (scikit-learn draws the same seeds as one fit); gradient
    boosting through ``fit``'s ``monitor``; AdaBoost, which has neither, through its per-round step.
    """
    from sklearn.ensemble import AdaBoostClassifier, GradientBoostingClassifier

    n = model.n_estimators
    if isinstance(model, GradientBoostingClassifier):
        return model.fit(X, y, monitor=lambda i, _model, _locals: i + 1 < n and bool(should_stop(i + 1)))
    if isinstance(model, AdaBoostClassifier):
        stoppable = _stoppable_adaboost()(**model.get_params(deep=False))
        stoppable.should_stop = should_stop
        return stoppable.fit(X, y)
    for k in range(1, n + 1):
        model.set_params(n_estimators=k, warm_start=True).fit(X, y)
        if k < n and should_stop(k):
            break
    return model


@cache
def _stoppable_adaboost() -> type:
    from sklearn.ensemble import AdaBoostClassifier

    class StoppableAdaBoost(AdaBoostClassifier):
        """AdaBoost asking ``should_stop`` between rounds. ``_boost`` is scikit-learn's one step per round;
        returning no sample weights is its own way of ending early (the members so far stay)."""

        should_stop: Callable[[int], bool] = staticmethod(lambda k: False)

        def _boost(self, iboost, X, y, sample_weight, random_state):
            if iboost and self.should_stop(iboost):
                return None, None, None
            return super()._boost(iboost, X, y, sample_weight, random_state)

    return StoppableAdaBoost


def _growth_curve(method, X_train, y_train, X_test, y_test, base, n_members, seed, should_stop=None) -> GrowthCurve:
    from ..decision import decide

    model = make_ensemble(method, base, n_members, seed=seed)
    model = model.fit(X_train, y_train) if should_stop is None else fit_growing(model, X_train, y_train, should_stop)
    classes = model.classes_
    single = make_base_learner(base, seed=seed).fit(X_train, y_train)
    staged = build_method(method).staged
    features = getattr(model, "estimators_features_", None)
    member_probas = None
    if staged:
        train_stages = np.stack(list(model.staged_predict_proba(X_train)))
        test_stages = np.stack(list(model.staged_predict_proba(X_test)))
        if hasattr(model, "estimators_") and np.ndim(model.estimators_) == 1:  # AdaBoost: classifiers
            member_probas = _member_probas(model.estimators_, X_test, classes, indices=False)
    else:
        train_stages = _averaged_stages(_member_probas(model.estimators_, X_train, classes, features))
        member_probas = _member_probas(model.estimators_, X_test, classes, features)
        test_stages = _averaged_stages(member_probas)
    sizes = np.arange(1, train_stages.shape[0] + 1)
    train_acc = np.array([np.mean(classes[decide(p)] == y_train) for p in train_stages])
    test_acc = np.array([np.mean(classes[decide(p)] == y_test) for p in test_stages])
    member_labels = None
    diversity = np.full(sizes.size, np.nan)
    if hasattr(model, "estimators_") and np.ndim(model.estimators_) == 1:
        outputs = [m.predict(X_test if features is None else X_test[:, features[k]])
                   for k, m in enumerate(model.estimators_)]
        # Boosting's members predict the classes themselves; bagging's and forests', class indices.
        member_labels = np.stack([np.searchsorted(classes, o) if staged else o.astype(np.intp) for o in outputs])
        diversity = _mean_disagreement(member_labels, len(classes))[: sizes.size]
    return GrowthCurve(
        method=method, base=base, sizes=sizes, train_accuracy=train_acc, test_accuracy=test_acc,
        base_train_accuracy=float(np.mean(single.predict(X_train) == y_train)),
        base_test_accuracy=float(np.mean(single.predict(X_test) == y_test)),
        diversity=diversity, test_probas=test_stages[-1], member_test_labels=member_labels,
        member_test_probas=member_probas,
    )


# The registry's factories: (base learner or None, members, seed) -> unfitted ensemble.

def tree_learner(seed: int):
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(random_state=seed)


def logistic_learner(seed: int):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


def bagging(base, n_members: int, seed: int):
    from sklearn.ensemble import BaggingClassifier

    return BaggingClassifier(base, n_estimators=n_members, random_state=seed)


def random_subspaces(base, n_members: int, seed: int):
    from sklearn.ensemble import BaggingClassifier

    return BaggingClassifier(base, n_estimators=n_members, bootstrap=False, max_features=0.5, random_state=seed)


def random_forest(base, n_members: int, seed: int):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=n_members, random_state=seed)


def adaboost(base, n_members: int, seed: int):
    from sklearn.base import clone
    from sklearn.ensemble import AdaBoostClassifier

    if base.__class__.__name__ == "DecisionTreeClassifier":
        base = clone(base).set_params(max_depth=1)  # stumps: boosting's classic weak learner
    return AdaBoostClassifier(base, n_estimators=n_members, random_state=seed)


def gradient_boosting(base, n_members: int, seed: int):
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(n_estimators=n_members, max_depth=3, random_state=seed)
