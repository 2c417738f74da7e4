"""What a loaded skops model must also satisfy, beyond holding only allowed types.

A type on the allow-list can still be given hostile *content*. Text vectorizers can
be told to read each example as a file name. Several estimators keep indices that
compiled code follows without bounds checks (a decision tree's child and feature
indices, a histogram gradient boosting predictor's nodes, a k-NN search tree, libsvm's
support vector counts, a sparse matrix's column indices): a crafted file could make
predicting read or write outside an array. Each such structure is checked here, right
after loading and before any prediction; a k-NN search tree is rebuilt from the model's
own training data instead (deterministic, so predictions are unchanged). Text vectorizers
may only tokenize with a known, linear-time pattern and n-grams of bounded length, and
every estimator's ``n_jobs`` is reset: a file must not decide how many threads scoring
starts.
"""

from __future__ import annotations

import functools

import numpy as np

from .._validation import EnsembleInputError
from .skops_loader import library_text

#: The token patterns a word vectorizer may use: scikit-learn's default, words of one
#: character too, and whitespace-separated tokens. A pattern from a file is a program run
#: on every example, and one that backtracks (``(?:.|.)*@``) never ends; these match in
#: time linear in the text. A model with another pattern is refused, naming it.
SAFE_TOKEN_PATTERNS: frozenset[str] = frozenset({
    r"(?u)\b\w\w+\b", r"(?u)\b\w+\b", r"\b\w\w+\b", r"\b\w+\b", r"(?u)\S+", r"\S+",
})

#: The longest n-grams a vectorizer may build, by analyzer. An example of L characters
#: yields about L n-grams of each length, whose text alone takes about L·n²/2 characters:
#: with (1, 10) character n-grams a 100 kB review makes some 5 MB of strings, with
#: (1, 10**6) one 3 kB review took 4 GB. Genuine models use 1–3 word n-grams and 2–6
#: character n-grams.
MAX_NGRAM: dict[str, int] = {"word": 5, "char": 10, "char_wb": 10}

#: The most features a histogram gradient boosting model with a preprocessor may claim:
#: its preprocessor is run on one row of that many zeros to learn its output's width.
MAX_HGB_FEATURES = 1_000_000


def _objects(root: object) -> list[object]:
    """Every object reachable from ``root`` through containers and attributes, each once."""
    seen: set[int] = set()
    found: list[object] = []
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, int, float, bool)):
            continue
        seen.add(id(obj))
        found.append(obj)
        if isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif isinstance(obj, np.ndarray):
            if obj.dtype == object:
                stack.extend(obj.flat)
        elif isinstance(obj, functools.partial):
            stack.extend([obj.func, *obj.args, *obj.keywords.values()])
        elif hasattr(obj, "__dict__"):
            stack.extend(vars(obj).values())
    return found


def _refuse(source: object, what: str) -> EnsembleInputError:
    return EnsembleInputError(f"{source}: refused: {what} (a damaged or crafted file)")


def _check_coo(source: object, matrix) -> None:
    """A COO matrix's coordinates: integer arrays as long as its data, inside its shape.
    (SciPy checks them when a matrix is built from its arguments, not when one is rebuilt
    from its state; and converting one to CSR writes wherever a row index points.)"""
    data, shape = getattr(matrix, "data", None), getattr(matrix, "shape", None)
    coords = getattr(matrix, "coords", None)
    if coords is None:
        coords = (getattr(matrix, "row", None), getattr(matrix, "col", None))
    ok = (isinstance(data, np.ndarray) and data.ndim == 1 and isinstance(shape, tuple)
          and isinstance(coords, tuple) and len(coords) == len(shape))
    if ok:
        for axis, coord in zip(shape, coords):
            if not (isinstance(coord, np.ndarray) and coord.ndim == 1 and coord.dtype.kind in "iu"
                    and len(coord) == len(data) and isinstance(axis, (int, np.integer))
                    and (len(coord) == 0 or (coord.min() >= 0 and coord.max() < axis))):
                ok = False
                break
    if not ok:
        raise _refuse(source, "a sparse matrix with coordinates outside its shape")


def _check_sparse(source: object, matrix) -> None:
    if matrix.format == "coo":
        _check_coo(source, matrix)
        return
    if matrix.format not in ("csr", "csc"):
        raise _refuse(source, f"a sparse matrix in {matrix.format!r} format")
    try:
        matrix.check_format(full_check=True)
    except ValueError as exc:
        raise _refuse(source, f"a sparse matrix with invalid indices ({library_text(exc)})") from None


def _check_vectorizer(source: object, vectorizer) -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    name = type(vectorizer).__name__
    if getattr(vectorizer, "input", "content") != "content":
        raise EnsembleInputError(
            f"{source}: refused: its {name} has input={vectorizer.input!r}, which reads the file each example "
            "names; only input='content' (the text itself) is allowed"
        )
    _check_analysis(source, vectorizer)
    vocabulary = getattr(vectorizer, "vocabulary_", None) if isinstance(vectorizer, CountVectorizer) else None
    if vocabulary is not None:
        # The column of each term: a permutation of 0..n-1, or the sparse matrix it builds
        # has columns past its end.
        try:
            columns = np.fromiter(vocabulary.values(), dtype=np.int64, count=len(vocabulary))
        except (TypeError, ValueError, AttributeError, OverflowError):
            raise _refuse(source, f"its {name}'s vocabulary does not map terms to column numbers") from None
        if not np.array_equal(np.sort(columns), np.arange(len(columns))):
            raise _refuse(source, f"its {name}'s vocabulary does not number its {len(columns)} columns 0 to "
                                  f"{len(columns) - 1}")


def _check_analysis(source: object, vectorizer) -> None:
    """How a vectorizer cuts text: a known analyzer, no code (preprocessor, tokenizer), a
    token pattern from :data:`SAFE_TOKEN_PATTERNS`, bounded n-grams (:data:`MAX_NGRAM`)."""
    import codecs

    name = type(vectorizer).__name__
    analyzer = getattr(vectorizer, "analyzer", None)
    if not isinstance(analyzer, str) or analyzer not in MAX_NGRAM:
        raise EnsembleInputError(f"{source}: refused: its {name} has analyzer={analyzer!r}; allowed: "
                                 f"{', '.join(map(repr, MAX_NGRAM))}")
    for attr in ("preprocessor", "tokenizer"):
        if getattr(vectorizer, attr, None) is not None:
            raise EnsembleInputError(f"{source}: refused: its {name} has a custom {attr} (code run on every "
                                     "example); only the built-in one is allowed")
    pattern = getattr(vectorizer, "token_pattern", None)
    if analyzer == "word" and pattern not in SAFE_TOKEN_PATTERNS:
        shown = repr(pattern) if len(repr(pattern)) <= 80 else repr(pattern)[:80] + "…"
        raise EnsembleInputError(f"{source}: refused: its {name} has token_pattern={shown}; allowed: "
                                 f"{', '.join(map(repr, sorted(SAFE_TOKEN_PATTERNS)))} (a pattern is a program "
                                 "run on every example)")
    stop_words = getattr(vectorizer, "stop_words", None)
    if not (stop_words is None or stop_words == "english" or (
            isinstance(stop_words, (list, tuple, set, frozenset)) and all(isinstance(w, str) for w in stop_words))):
        raise EnsembleInputError(f"{source}: refused: its {name}'s stop_words are neither 'english' nor a list of "
                                 "words")
    ngram = getattr(vectorizer, "ngram_range", None)
    if not (isinstance(ngram, tuple) and len(ngram) == 2
            and all(isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_)) for n in ngram)
            and 1 <= ngram[0] <= ngram[1] <= MAX_NGRAM[analyzer]):
        shown = repr(ngram) if len(repr(ngram)) <= 80 else repr(ngram)[:80] + "…"
        raise EnsembleInputError(f"{source}: refused: its {name} has ngram_range={shown}; with "
                                 f"analyzer={analyzer!r} at most (1, {MAX_NGRAM[analyzer]}) (longer n-grams take "
                                 "memory growing with their length squared on every example)")
    encoding = getattr(vectorizer, "encoding", "utf-8")
    try:
        text_codec = isinstance(encoding, str) and codecs.lookup(encoding)._is_text_encoding
    except LookupError:
        text_codec = False
    if not text_codec or getattr(vectorizer, "decode_error", "strict") not in ("strict", "ignore", "replace"):
        raise EnsembleInputError(f"{source}: refused: its {name} decodes bytes with an unknown encoding or "
                                 "error handler")


def _check_tree(source: object, tree, n_features: int | None = None) -> None:
    """A fitted decision tree: node count within its storage, each split's children after it
    and inside the tree (so prediction ends), each split's feature inside the data."""
    count, capacity = int(tree.node_count), int(tree.capacity)
    if not 0 < count <= capacity:
        raise _refuse(source, f"a decision tree claims {count} nodes but stores {capacity}")
    left, right, feature = tree.children_left, tree.children_right, tree.feature
    index = np.arange(count)
    leaf = left == -1
    inner = ~leaf
    if (
        np.any(leaf != (right == -1))
        or np.any(left[inner] <= index[inner]) or np.any(left[inner] >= count)
        or np.any(right[inner] <= index[inner]) or np.any(right[inner] >= count)
        or np.any(feature[inner] < 0) or np.any(feature[inner] >= tree.n_features)
    ):
        raise _refuse(source, "a decision tree has node or feature indices out of range")
    if n_features is not None and int(tree.n_features) != int(n_features):
        raise _refuse(source, f"a decision tree for {tree.n_features} features in a model for {n_features}")


def _n_features(source: object, estimator) -> int:
    value = getattr(estimator, "n_features_in_", None)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise _refuse(source, f"its {type(estimator).__name__} does not say how many features it takes")
    return int(value)


def _check_tree_estimators(source: object, ensemble) -> None:
    """Forests and gradient boosting hand the data to their trees unchecked: every tree must
    take exactly the ensemble's features."""
    from sklearn.tree._classes import BaseDecisionTree

    n_features = _n_features(source, ensemble)
    trees = np.asarray(getattr(ensemble, "estimators_", []), dtype=object).ravel()
    for tree in trees:
        if not isinstance(tree, BaseDecisionTree) or _n_features(source, tree) != n_features:
            raise _refuse(source, f"its {type(ensemble).__name__} holds a tree that does not take its "
                                  f"{n_features} features")


def _check_gradient_boosting(source: object, model) -> None:
    """The per-stage trees fill a (rows, trees per stage) array in compiled code: the
    init estimator's raw predictions must have exactly that many columns."""
    estimators = getattr(model, "estimators_", None)
    if not isinstance(estimators, np.ndarray) or estimators.ndim != 2 or estimators.size == 0:
        raise _refuse(source, "a gradient boosting model without a (stages, trees per stage) array of trees")
    if estimators.shape[1] != getattr(model, "n_trees_per_iteration_", None):
        raise _refuse(source, "a gradient boosting model whose stages hold the wrong number of trees")
    try:
        raw = model._raw_predict_init(np.zeros((1, _n_features(source, model))))
    except EnsembleInputError:
        raise
    except Exception as exc:
        raise _refuse(source, f"a gradient boosting model whose start cannot be computed ({library_text(exc)})") \
            from None
    if np.shape(raw) != (1, estimators.shape[1]):
        raise _refuse(source, "a gradient boosting model whose start does not match its trees")


def _check_hist_gradient_boosting(source: object, model) -> None:
    """Each predictor's nodes: children after the node and inside the tree, features inside
    the data, categorical splits on categorical features with a bitset that exists."""
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE

    n_features = _n_features(source, model)
    categorical = getattr(getattr(model, "_bin_mapper", None), "is_categorical_", None)
    categorical = np.zeros(n_features, dtype=bool) if categorical is None else np.asarray(categorical, dtype=bool)
    if categorical.shape != (n_features,):
        raise _refuse(source, "a histogram gradient boosting model whose binning does not match its features")
    preprocessor = getattr(model, "_preprocessor", None)
    if preprocessor is not None:
        # The predictors index the preprocessor's output, not the data: it must be as wide
        # as the features they are checked against below.
        if n_features > MAX_HGB_FEATURES:
            raise _refuse(source, f"a histogram gradient boosting model claiming {n_features:,} features")
        try:
            width = np.shape(preprocessor.transform(np.zeros((1, n_features))))
        except Exception as exc:
            raise _refuse(source, "a histogram gradient boosting model whose preprocessor cannot run "
                                  f"({library_text(exc)})") from None
        if width != (1, n_features):
            raise _refuse(source, f"a histogram gradient boosting model whose preprocessor gives {width[-1]} "
                                  f"columns for its {n_features} features")
    for predictors in getattr(model, "_predictors", []):
        for predictor in predictors:
            nodes = getattr(predictor, "nodes", None)
            if not isinstance(nodes, np.ndarray) or nodes.dtype != PREDICTOR_RECORD_DTYPE or nodes.ndim != 1 \
                    or len(nodes) == 0:
                raise _refuse(source, "a histogram gradient boosting tree without proper nodes")
            count = len(nodes)
            inner = nodes["is_leaf"] == 0
            index = np.arange(count)[inner]
            left, right = nodes["left"][inner].astype(np.int64), nodes["right"][inner].astype(np.int64)
            feature = nodes["feature_idx"][inner]
            bad = (np.any(left <= index) or np.any(left >= count) or np.any(right <= index)
                   or np.any(right >= count) or np.any(feature < 0) or np.any(feature >= n_features))
            split_on_category = nodes["is_categorical"][inner] != 0
            for name in ("raw_left_cat_bitsets", "binned_left_cat_bitsets"):
                bitsets = getattr(predictor, name, None)
                if not isinstance(bitsets, np.ndarray) or bitsets.ndim != 2 or bitsets.shape[1] != 8:
                    bad = True
                elif np.any(nodes["bitset_idx"][inner][split_on_category] >= bitsets.shape[0]):
                    bad = True
            if bad or not np.all(categorical[feature[split_on_category]]):
                raise _refuse(source, "a histogram gradient boosting tree has node or feature indices out of range")


def _check_libsvm(source: object, model) -> None:
    """libsvm reads the support vectors, coefficients and intercepts by the counts it is
    given: they must agree."""
    name = type(model).__name__
    if model.kernel not in ("linear", "poly", "rbf", "sigmoid"):
        raise EnsembleInputError(f"{source}: refused: its {name} has kernel={model.kernel!r}; allowed: "
                                 "'linear', 'poly', 'rbf', 'sigmoid'")
    try:
        vectors = model.support_vectors_
        n_support = np.asarray(model._n_support)
        n_class = len(n_support)
        n_vectors = vectors.shape[0]
        pairs = (n_class * (n_class - 1) // 2,)
        ok = (
            vectors.ndim == 2 and vectors.shape[1] == _n_features(source, model)
            and int(n_support.sum()) == n_vectors and len(model.support_) == n_vectors
            and model._dual_coef_.shape == (n_class - 1, n_vectors)
            and np.shape(model._intercept_) == pairs and len(model.classes_) == n_class
            # no Platt scaling (empty: predict_proba refuses), or one pair per class pair
            and np.shape(model._probA) == np.shape(model._probB) and np.shape(model._probA) in ((0,), pairs)
        )
    except (AttributeError, TypeError, ValueError):
        ok = False
    if not ok:
        raise _refuse(source, f"its {name}'s support vectors, coefficients and intercepts do not agree")


def _rebuild_neighbors_tree(source: object, model) -> None:
    from sklearn.neighbors import BallTree, KDTree

    method = getattr(model, "_fit_method", None)
    if method in (None, "brute"):
        return
    if method not in ("kd_tree", "ball_tree"):
        raise _refuse(source, f"a neighbours model searching with {method!r}")
    data = getattr(model, "_fit_X", None)
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[0] != getattr(model, "n_samples_fit_", -1):
        raise _refuse(source, "a neighbours model without its training data")
    tree_class = KDTree if method == "kd_tree" else BallTree
    try:
        model._tree = tree_class(data, model.leaf_size, metric=model.effective_metric_,
                                 **(model.effective_metric_params_ or {}))
    except Exception as exc:
        raise _refuse(source, f"a neighbours model whose search tree cannot be rebuilt ({library_text(exc)})") \
            from None


def check_content(source: object, obj: object) -> None:
    """Check (and where needed rebuild) every structure of a loaded object that the
    allow-list alone cannot vouch for; see the module docstring.

    Raises
    ------
    EnsembleInputError
        Naming the file and what is wrong with it.
    """
    import scipy.sparse as sp
    from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
    from sklearn.ensemble._forest import BaseForest
    from sklearn.feature_extraction.text import _VectorizerMixin
    from sklearn.neighbors._base import NeighborsBase
    from sklearn.svm._base import BaseLibSVM
    from sklearn.tree._classes import BaseDecisionTree
    from sklearn.tree._tree import Tree

    objects = _objects(obj)
    boosted = []
    for item in objects:  # first every structure on its own...
        if sp.issparse(item):
            _check_sparse(source, item)
        elif isinstance(item, _VectorizerMixin):
            _check_vectorizer(source, item)
        elif isinstance(item, Tree):
            _check_tree(source, item)
        elif isinstance(item, BaseDecisionTree) and hasattr(item, "tree_"):
            _check_tree(source, item.tree_, _n_features(source, item))
        elif isinstance(item, BaseLibSVM) and hasattr(item, "support_vectors_"):
            _check_libsvm(source, item)
        elif isinstance(item, NeighborsBase):
            _rebuild_neighbors_tree(source, item)
        elif isinstance(item, HistGradientBoostingClassifier) and hasattr(item, "_predictors"):
            boosted.append(item)
        if isinstance(item, (BaseForest, GradientBoostingClassifier)) and hasattr(item, "estimators_"):
            _check_tree_estimators(source, item)
            if isinstance(item, GradientBoostingClassifier):
                boosted.append(item)
    _reset_n_jobs(objects)
    for model in boosted:  # ...then what runs (checked) parts: an init estimator, a preprocessor
        if isinstance(model, GradientBoostingClassifier):
            _check_gradient_boosting(source, model)
        else:
            _check_hist_gradient_boosting(source, model)


def _reset_n_jobs(objects: list[object]) -> None:
    """Every estimator's ``n_jobs`` back to None (one job, unless the caller sets a joblib
    backend): a file asking for a million starts a thread per tree."""
    from sklearn.base import BaseEstimator

    for item in objects:
        if isinstance(item, BaseEstimator) and "n_jobs" in vars(item):
            item.n_jobs = None
