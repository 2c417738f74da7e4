"""The skops allow-list: the exact types and functions a ``.skops`` file may hold.

Written as imported objects, turned into the dotted names skops writes in a file, so a
name cannot be mistyped and a class is named where it is defined (a name that merely
re-exports a class elsewhere does not match). Every node of a file is checked against
it, including the types skops itself trusts by default (all of scikit-learn's
estimators, ``numpy`` ufuncs...). Nothing here opens, maps, downloads or unpickles a file
when constructed or called: ``numpy.memmap``, ``NpzFile``, ``DataSource``, ``numpy.load``
and friends are absent on purpose, and so is every module-wide rule.

Each kind of skops node rebuilds its object its own way, so each kind has its own list
(:data:`NODE_TYPES`), and a name is accepted only by the node kinds that rebuild it safely:

- an *object* node (``ObjectNode``: ``__new__`` then the state, no constructor) may be
  only an estimator or a scikit-learn internal of :data:`ESTIMATORS`/:data:`INTERNAL_NAMES`
  (a SciPy matrix made this way would skip SciPy's checks of its indices);
- containers (dict, list, tuple, set, bytes, slice...) only the container types
  themselves (a list node *calls* its class with the list's items);
- an *array* node only ``numpy.ndarray`` and the NumPy scalars (it calls a scalar class
  with the array); a *sparse matrix* node only the SciPy sparse classes (rebuilt by
  ``scipy.sparse.load_npz``, which checks them, and then again by :mod:`.skops_checks`);
- the two nodes that call a constructor with the file's arguments take a fixed class
  list: a *tree* node only ``sklearn.tree._tree.Tree``, a *loss* node only the loss
  classes of :data:`LOSS_NAMES` that skops itself allows; nothing else is ever called
  with arguments from the file;
- :data:`FUNCTIONS`: callables a file may hold as values (a ``FunctionTransformer``'s
  ``func``, a ``dtype=`` parameter, a dict's key type, the function inside a
  ``functools.partial``); :data:`BIT_GENERATORS`: what a ``numpy.random.Generator`` may
  be rebuilt on.

A file that needs something else is refused, naming it; a user who made the file (or
trusts its author) may allow more names in ``ENSEMBLE_EXPLORER_TRUST_TYPES``.
"""

from __future__ import annotations

import collections
import functools
import importlib

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import (
    AdaBoostClassifier,
    BaggingClassifier,
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    StackingClassifier,
    VotingClassifier,
)
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.feature_selection import (
    SelectFromModel,
    SelectKBest,
    SelectPercentile,
    VarianceThreshold,
    chi2,
    f_classif,
    mutual_info_classif,
)
from sklearn.impute import KNNImputer, MissingIndicator, SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import (
    LogisticRegression,
    LogisticRegressionCV,
    Perceptron,
    RidgeClassifier,
    RidgeClassifierCV,
    SGDClassifier,
)
from sklearn.multiclass import OneVsOneClassifier, OneVsRestClassifier
from sklearn.naive_bayes import BernoulliNB, CategoricalNB, ComplementNB, GaussianNB, MultinomialNB
from sklearn.neighbors import BallTree, KDTree, KNeighborsClassifier, NearestCentroid, RadiusNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import (
    Binarizer,
    FunctionTransformer,
    KBinsDiscretizer,
    LabelBinarizer,
    LabelEncoder,
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    OneHotEncoder,
    OrdinalEncoder,
    PowerTransformer,
    QuantileTransformer,
    RobustScaler,
    StandardScaler,
)
from sklearn.svm import SVC, LinearSVC, NuSVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor, ExtraTreeClassifier, ExtraTreeRegressor
from sklearn.utils import Bunch
from sklearn.utils.validation import check_array

#: The estimators and transformers a model may be built from.
ESTIMATORS: tuple[type, ...] = (
    # composition
    Pipeline, FeatureUnion, ColumnTransformer, VotingClassifier, StackingClassifier,
    OneVsRestClassifier, OneVsOneClassifier, CalibratedClassifierCV,
    # linear models, SVMs, discriminant analysis
    LogisticRegression, LogisticRegressionCV, SGDClassifier, RidgeClassifier, RidgeClassifierCV, Perceptron,
    LinearSVC, SVC, NuSVC, LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis,
    # trees, forests, boosting (the regressor trees are what gradient boosting fits per stage)
    DecisionTreeClassifier, DecisionTreeRegressor, ExtraTreeClassifier, ExtraTreeRegressor,
    RandomForestClassifier, ExtraTreesClassifier, GradientBoostingClassifier, HistGradientBoostingClassifier,
    AdaBoostClassifier, BaggingClassifier, DummyClassifier,
    # naive Bayes, neighbours, neural networks
    GaussianNB, MultinomialNB, ComplementNB, BernoulliNB, CategoricalNB,
    KNeighborsClassifier, RadiusNeighborsClassifier, NearestCentroid, MLPClassifier,
    # text
    CountVectorizer, TfidfVectorizer, HashingVectorizer, TfidfTransformer,
    # scaling, encoding, imputing, reducing, selecting
    StandardScaler, MinMaxScaler, MaxAbsScaler, RobustScaler, Normalizer, Binarizer, QuantileTransformer,
    PowerTransformer, KBinsDiscretizer, OneHotEncoder, OrdinalEncoder, LabelEncoder, LabelBinarizer,
    FunctionTransformer, SimpleImputer, KNNImputer, MissingIndicator, PCA, TruncatedSVD,
    SelectKBest, SelectPercentile, VarianceThreshold, SelectFromModel,
    IsotonicRegression,
    # k-NN search trees (rebuilt from the model's training data on load, see skops_checks)
    KDTree, BallTree,
)

#: scikit-learn's private classes that fitted estimators above hold, by (module, name): a
#: scikit-learn release may move them, and a missing one only makes its model refused.
INTERNAL_NAMES: tuple[tuple[str, str], ...] = (
    ("sklearn.calibration", "_CalibratedClassifier"),
    ("sklearn.calibration", "_SigmoidCalibration"),
    ("sklearn.ensemble._hist_gradient_boosting.binning", "_BinMapper"),
    ("sklearn.ensemble._hist_gradient_boosting.predictor", "TreePredictor"),
    ("sklearn.neural_network._stochastic_optimizers", "AdamOptimizer"),
    ("sklearn.neural_network._stochastic_optimizers", "SGDOptimizer"),
    # losses and links of logistic regression and gradient boosting (the Python half)
    ("sklearn._loss.loss", "HalfBinomialLoss"),
    ("sklearn._loss.loss", "HalfMultinomialLoss"),
    ("sklearn._loss.loss", "ExponentialLoss"),
    ("sklearn._loss.link", "IdentityLink"),
    ("sklearn._loss.link", "LogitLink"),
    ("sklearn._loss.link", "HalfLogitLink"),
    ("sklearn._loss.link", "MultinomialLogit"),
    ("sklearn._loss.link", "Interval"),
    # a k-NN search tree's metric (the tree itself is rebuilt from the training data on load)
    ("sklearn.metrics._dist_metrics", "EuclideanDistance64"),
    ("sklearn.metrics._dist_metrics", "ManhattanDistance64"),
    ("sklearn.metrics._dist_metrics", "ChebyshevDistance64"),
    ("sklearn.metrics._dist_metrics", "MinkowskiDistance64"),
)

#: The one class a tree node builds (skops calls it with the file's arguments: the
#: feature and class counts; its nodes are checked by :mod:`.skops_checks`).
TREE_NAME: tuple[str, str] = ("sklearn.tree._tree", "Tree")

#: The compiled losses a loss node may build (skops calls the node's *own* class with the
#: file's arguments, so this list, not the general one, decides what is called): those of
#: logistic regression, SGD and gradient boosting, and only where skops allows them too.
LOSS_NAMES: tuple[tuple[str, str], ...] = (
    ("sklearn._loss._loss", "CyHalfBinomialLoss"),
    ("sklearn._loss._loss", "CyHalfMultinomialLoss"),
    ("sklearn._loss._loss", "CyExponentialLoss"),
    ("sklearn.linear_model._sgd_fast", "Hinge"),
    ("sklearn.linear_model._sgd_fast", "SquaredHinge"),
    ("sklearn.linear_model._sgd_fast", "ModifiedHuber"),
)

#: Numbers, booleans and text as NumPy scalars: array elements, ``dtype=`` values.
NUMPY_SCALARS: tuple[type, ...] = (
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float16, np.float32, np.float64, np.longdouble, np.complex64, np.complex128, np.str_, np.bytes_,
)

ARRAY_TYPE_OBJECTS: tuple[type, ...] = (np.ndarray, *NUMPY_SCALARS)

#: SciPy's sparse matrices (rebuilt by ``load_npz``; their indices are checked again after loading).
SPARSE_TYPES: tuple[type, ...] = (sp.csr_matrix, sp.csc_matrix, sp.coo_matrix, sp.csr_array, sp.csc_array,
                                  sp.coo_array)

#: Functions a model may hold. Elementwise NumPy ufuncs without side effects (a
#: ``FunctionTransformer``'s usual ``func``/``inverse_func``); scikit-learn's feature
#: scores (kept by ``SelectKBest``, used only when fitting); ``check_array`` (inside
#: the preprocessor of a histogram gradient boosting model with categorical features).
FUNCTION_OBJECTS: tuple[object, ...] = (
    np.log1p, np.log, np.log2, np.log10, np.exp, np.expm1, np.exp2, np.sqrt, np.cbrt, np.abs, np.square,
    np.negative, np.sign, np.tanh, np.arctan, np.arcsinh,
    chi2, f_classif, mutual_info_classif, check_array,
)

#: Classes a model may hold as values (never instantiated by skops, at most called on data).
TYPE_VALUES: tuple[type, ...] = (str, int, float, bool, *NUMPY_SCALARS)

#: A partial is a function too; the function it wraps and its arguments are checked as
#: every other node is (``partial(numpy.memmap, ...)`` is refused for naming memmap).
WRAPPERS: tuple[type, ...] = (functools.partial,)

#: Bit generators a ``numpy.random.Generator`` may be rebuilt on (skops names them by
#: their ``numpy.random`` attribute).
BIT_GENERATOR_OBJECTS: tuple[type, ...] = (
    np.random.PCG64, np.random.PCG64DXSM, np.random.MT19937, np.random.Philox, np.random.SFC64,
)


def type_name(obj: object) -> str:
    """The dotted name skops writes for a class or function (``module.name`` where it is defined)."""
    from skops.io._utils import get_type_name

    return get_type_name(obj)


def _import(names: tuple[tuple[str, str], ...]) -> tuple[type, ...]:
    found = []
    for module, name in names:
        try:
            found.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def _skops_losses() -> frozenset[str]:
    from skops.io._sklearn import ALLOWED_LOSSES

    return frozenset(type_name(t) for t in ALLOWED_LOSSES)


INTERNALS: tuple[type, ...] = _import(INTERNAL_NAMES)
TREE: tuple[type, ...] = _import((TREE_NAME,))
LOSSES: tuple[type, ...] = tuple(t for t in _import(LOSS_NAMES) if type_name(t) in _skops_losses())

_names = lambda objects: frozenset(type_name(t) for t in objects)  # noqa: E731

#: What each kind of skops node may rebuild, by the node class's name (see the module docstring).
NODE_TYPES: dict[str, frozenset[str]] = {
    "ObjectNode": _names((*ESTIMATORS, *INTERNALS)),
    "DictNode": _names((dict, collections.OrderedDict, Bunch)),
    "ListNode": _names((list,)),
    "TupleNode": _names((tuple,)),
    "SetNode": _names((set,)),
    "BytesNode": _names((bytes,)),
    "BytearrayNode": _names((bytearray,)),
    "SliceNode": _names((slice,)),
    "DTypeNode": _names((np.dtype,)),
    "RandomStateNode": _names((np.random.RandomState,)),
    "RandomGeneratorNode": _names((np.random.Generator,)),
    "NdArrayNode": _names(ARRAY_TYPE_OBJECTS),
    "SparseMatrixNode": _names(SPARSE_TYPES),
    "TreeNode": _names(TREE),
    "LossNode": _names(LOSSES),
}

#: Every class a file may hold, whatever node builds it (for documentation and tests).
TYPES: frozenset[str] = frozenset().union(*NODE_TYPES.values())
ARRAY_TYPES: frozenset[str] = NODE_TYPES["NdArrayNode"]
FUNCTIONS: frozenset[str] = _names((*FUNCTION_OBJECTS, *TYPE_VALUES, *WRAPPERS))
BIT_GENERATORS: frozenset[str] = frozenset(f"numpy.random.{g.__name__}" for g in BIT_GENERATOR_OBJECTS)
