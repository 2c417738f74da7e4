"""Coefficient averaging of scikit-learn linear models: the weight-space merge of models whose
weights are ``coef_`` and ``intercept_``.

Models merge when they are the same estimator class with the same classes (``classes_``, in
order), the same number of features (and the same ``feature_names_in_`` when they have them),
and the same ``coef_`` shape; a :class:`~sklearn.pipeline.Pipeline` merges its final step
when every step before it is the same fitted transformer (compared by ``joblib.hash`` of its
state: a TF-IDF vocabulary learnt on other text gives other features). The merged model is a
copy of the first with ``coef_ = Σ w_i·coef_i`` and ``intercept_ = Σ w_i·intercept_i``
(weights on the simplex). Anything else is refused in one line naming the first difference.

For a linear model the averaged coefficients give the average *decision function*
(``X·coef_ᵀ + intercept_``) exactly, so the merge equals averaging the models' logits
(not their probabilities).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._validation import EnsembleInputError
from .methods import MergeResult, simplex_weights

#: The fitted attributes that are averaged.
AVERAGED = ("coef_", "intercept_")


def _final_step(model):
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        return model.steps[-1][1]
    return model


def _check_pair(first, other, a: str, b: str) -> None:
    from joblib import hash as state_hash
    from sklearn.pipeline import Pipeline

    if type(first) is not type(other):
        raise EnsembleInputError(f"{a} and {b} are different models: {type(first).__name__} and {type(other).__name__}")
    if isinstance(first, Pipeline):
        if len(first.steps) != len(other.steps):
            raise EnsembleInputError(f"{a} and {b}: pipelines of {len(first.steps)} and {len(other.steps)} steps")
        for (name, x), (_, y) in zip(first.steps[:-1], other.steps[:-1]):
            if type(x) is not type(y) or state_hash(x) != state_hash(y):
                raise EnsembleInputError(
                    f"{a} and {b}: pipeline step {name!r} differs ({type(x).__name__} fitted on other data gives other "
                    "features); only the final linear step is averaged"
                )
        first, other = first.steps[-1][1], other.steps[-1][1]
        if type(first) is not type(other):
            raise EnsembleInputError(
                f"{a} and {b} end in different models: {type(first).__name__} and {type(other).__name__}")
    for attribute in AVERAGED:
        if not hasattr(first, attribute):
            raise EnsembleInputError(f"{a}: {type(first).__name__} has no {attribute}; only linear models "
                                     "(coef_ and intercept_) are averaged")
    if hasattr(first, "classes_") and not np.array_equal(first.classes_, other.classes_):
        raise EnsembleInputError(f"{a} and {b} have different classes: {np.asarray(first.classes_).tolist()} and {np.asarray(other.classes_).tolist()}")
    if getattr(first, "n_features_in_", None) != getattr(other, "n_features_in_", None):
        raise EnsembleInputError(f"{a} and {b} take {first.n_features_in_} and {other.n_features_in_} features")
    names_a, names_b = getattr(first, "feature_names_in_", None), getattr(other, "feature_names_in_", None)
    if (names_a is None) != (names_b is None) or (names_a is not None and not np.array_equal(names_a, names_b)):
        raise EnsembleInputError(f"{a} and {b} have different feature names")
    for attribute in AVERAGED:
        x, y = np.shape(getattr(first, attribute)), np.shape(getattr(other, attribute))
        if x != y:
            raise EnsembleInputError(f"{a} and {b}: {attribute} has shape {list(x)} and {list(y)}")


def average_linear_models(models: Sequence[object], weights: Sequence[float] | None = None, *,
                          names: Sequence[str] | None = None):
    """A copy of ``models[0]`` whose ``coef_`` and ``intercept_`` are the weighted means of all models'.

    Parameters
    ----------
    models : fitted scikit-learn linear models (or pipelines ending in one), all alike (see the module)
    weights : one per model, normalised to sum 1 (default equal)
    names : the models' names for messages (default ``model 0``, ``model 1``, …)

    Returns
    -------
    the merged estimator (the first model's class; the inputs are unchanged)

    Raises
    ------
    EnsembleInputError
        Fewer than two models, bad weights, or models that differ (one line naming the first difference).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]), np.array([0, 1, 1, 0])
    >>> a, b = LogisticRegression().fit(X, y), LogisticRegression(C=0.1).fit(X, y)
    >>> m = average_linear_models([a, b], [3, 1])
    >>> np.allclose(m.coef_, 0.75 * a.coef_ + 0.25 * b.coef_)
    True
    """
    if len(models) < 2:
        raise EnsembleInputError(f"merging needs at least two models; got {len(models)}")
    names = list(names) if names is not None else [f"model {i}" for i in range(len(models))]
    w = simplex_weights(weights, len(models))
    for other, name in zip(models[1:], names[1:]):
        _check_pair(models[0], other, names[0], name)
    merged = copy.deepcopy(models[0])
    target = _final_step(merged)
    for attribute in AVERAGED:
        values = [np.asarray(getattr(_final_step(m), attribute), dtype=np.float64) for m in models]
        acc = w[0] * values[0]
        for weight, value in zip(w[1:], values[1:]):
            acc = acc + weight * value
        original = getattr(target, attribute)
        setattr(target, attribute, acc.astype(np.asarray(original).dtype) if np.ndim(original) else
                type(original)(acc))
    return merged


def coef_average(models: Sequence[str | Path], out: str | Path, *, weights: Sequence[float] | None = None,
                 **_: object) -> MergeResult:
    """Average the coefficients of ``.skops`` linear models (read through the skops allow-list) and
    save the merged model as ``out`` (a ``.skops`` file).

    Raises
    ------
    EnsembleInputError
        A model that is not a ``.skops`` file or that the loader refuses, an ``out`` that is not a new
        ``.skops`` path, or anything :func:`average_linear_models` refuses.

    Examples
    --------
    >>> coef_average(["a.skops", "b.skops"], "ab.skops")  # doctest: +SKIP
    """
    import zipfile

    import skops.io as sio

    from ..models.skops_loader import load_skops

    started = time.perf_counter()
    paths, out = [Path(m) for m in models], Path(out)
    for path in paths:
        if path.suffix.lower() != ".skops":
            raise EnsembleInputError(f"{path}: coefficient averaging takes .skops scikit-learn models")
    if out.suffix.lower() != ".skops":
        raise EnsembleInputError(f"--out {out}: coefficient averaging writes a .skops file; give a path ending in .skops")
    if out.exists():
        raise EnsembleInputError(f"--out {out}: exists; name a new file")
    loaded = [load_skops(p) for p in paths]
    w = simplex_weights(weights, len(paths))
    merged = average_linear_models(loaded, w, names=[str(p) for p in paths])
    out.write_bytes(sio.dumps(merged, compression=zipfile.ZIP_DEFLATED))
    final = _final_step(merged)
    return MergeResult(
        out=out, method="coef-average", models=tuple(str(p) for p in paths), weights=tuple(float(x) for x in w),
        n_parameters=int(sum(np.size(getattr(final, a)) for a in AVERAGED)), seconds=time.perf_counter() - started,
    )
