"""Every option the command line and the dashboard offer, declared once.

One small frozen spec per option, grouped by family: combination strategies,
stacking meta-learners, weight-search methods, model loader kinds, the table
formats files may have and the pools that fuse language models. Each spec
carries what its consumers need (name, label, one-line help, formula, whether
it yields probabilities) and names the function that implements it as
``"module:attribute"``, imported only when asked for (:meth:`Spec.implementation`).
The module itself imports nothing beyond the standard library, so that building
the command line's parser (and ``--help``) loads neither NumPy nor pandas.

Adding an option is one entry here plus its function and its tests: the command
line's choices, the URL parser, the widgets, the evaluator and the Learn page
iterate over these tuples.

Examples
--------
>>> [s.name for s in STRATEGY_SPECS]
['hard', 'soft', 'geometric', 'stacking']
>>> strategy("geometric").has_probabilities
True
>>> strategy("vote")
Traceback (most recent call last):
...
KeyError: "unknown strategy 'vote'; expected one of hard, soft, geometric, stacking"
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Spec:
    """One option: its name (what files, links and the command line say), its label and
    one-line help (what people read), and where its implementation lives."""

    name: str
    label: str
    help: str
    implementation_path: str = ""

    def implementation(self) -> Any:
        """The function or class that implements the option, imported on first use."""
        return resolve(self.implementation_path)


def resolve(path: str) -> Any:
    """The object a ``"module:attribute"`` path names, importing the module."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class StrategySpec(Spec):
    """A way to combine the members' predictions.

    ``has_probabilities``: whether the combination yields class probabilities (log loss,
    calibration and confidence apply) rather than vote shares; ``uses_weights``: whether
    the user's weights count (stacking learns its own); ``uses_meta_learner``: whether a
    meta-learner (:data:`META_LEARNER_SPECS`) is fitted; ``pools_probabilities``: whether
    the result is the weighted average of the members' probabilities (so labels-only
    members give vote shares, and its log loss over the weights is a mixture's);
    ``log_scores``: whether it decides on log-probabilities (with
    :data:`ensemble_core.decision.LOG_POOL_ATOL`); ``formula``: LaTeX of the rule, for the Learn page and help.

    Besides ``implementation_path`` (the pure function over arrays), three paths name
    what the other consumers call: ``evaluate_path`` the evaluator's step
    ``(evaluator, weights, *, meta, folds, seed) -> Combined``
    (:mod:`ensemble_core.ensemble`); ``latex_path`` the rule with the current weights
    ``(names, weights, *, meta) -> list[Equation]``, LaTeX equations
    (:func:`ensemble_core.explore.formula_latex`, :func:`~ensemble_core.explore.formula_pieces`);
    ``scores_path`` what the weights add up linearly, ``(probas) -> scores`` of the same
    shape, for the weight landscape (empty: the strategy is not a linear pool).
    """

    formula: str = ""
    #: One sentence under the formula, where a symbol in it needs saying (e.g. a normaliser).
    formula_note: str = ""
    has_probabilities: bool = True
    uses_weights: bool = True
    uses_meta_learner: bool = False
    pools_probabilities: bool = False
    log_scores: bool = False
    evaluate_path: str = ""
    latex_path: str = ""
    scores_path: str = ""

    def evaluate(self) -> Any:
        """The evaluator's step for this strategy (see :mod:`ensemble_core.ensemble`)."""
        return resolve(self.evaluate_path)

    def latex(self) -> Any:
        """``(names, weights, *, meta) -> list[Equation]``: the rule with the current weights, as LaTeX."""
        return resolve(self.latex_path)

    def scores(self) -> Any:
        """``(probas) -> scores``: what the weights add up (linear pools only)."""
        return resolve(self.scores_path)


@dataclass(frozen=True)
class MetaLearnerSpec(Spec):
    """A built-in stacking meta-learner; ``implementation()`` is a factory
    ``(seed: int) -> unfitted scikit-learn classifier``."""


@dataclass(frozen=True)
class MethodSpec(Spec):
    """A weight-search method (how suggested weights are chosen). ``implementation()`` is
    ``(probas, y_true, *, rounds, init_size, bags, seed, rows, shared) -> (weights, path, n_kept)``
    (``rows``: the rows to fit on, None for all; ``shared``: arrays of all rows made once,
    ``weight_search.Shared``); ``metric`` (``"log_loss"`` or ``"accuracy"``) is what it
    optimises, and how the baseline best single model is picked; ``selects``: it adds up the
    models' probabilities (so the shared arrays include them class-major)."""

    metric: str = "log_loss"
    selects: bool = False


@dataclass(frozen=True)
class LoaderSpec(Spec):
    """A kind of model file or directory: ``suffixes`` (files) or ``directory`` (a folder
    recognised by its contents: ``recognise_path`` names ``(folder) -> bool``; the first
    kind that recognises a folder loads it); ``needs_trust`` for formats that can run code;
    ``uploadable`` for the kinds the dashboard accepts as uploaded bytes.

    ``implementation()`` loads one: ``(path, data, *, name, content_hash) -> LoadedModel``
    for a file (``data``: its bytes, read once and bounded; ``content_hash``: their SHA-256),
    ``(folder, *, name) -> LoadedModel`` for a directory, whose content hash
    ``hash_path`` names: ``(folder) -> str``, cheap (hashing, no parsing).
    """

    suffixes: tuple[str, ...] = ()
    directory: bool = False
    needs_trust: bool = False
    uploadable: bool = False
    recognise_path: str = ""
    hash_path: str = ""

    def recognises(self, folder: Any) -> bool:
        """Whether ``folder`` (a directory) is a model of this kind."""
        return bool(self.recognise_path) and resolve(self.recognise_path)(folder)

    def content_hash(self, folder: Any) -> str:
        """A directory model's content hash (see ``hash_path``)."""
        return resolve(self.hash_path)(folder)


@dataclass(frozen=True)
class LMPoolSpec(Spec):
    """A way to fuse causal language models' next-token distributions; ``implementation()``
    is ``(log_probs (n_models, n_tokens, vocab), weights) -> fused log-probabilities``;
    ``formula``: LaTeX of the rule."""

    formula: str = ""


@dataclass(frozen=True)
class TableFormatSpec(Spec):
    """A format of labels and prediction files, by file-name ending: CSV (``gzip``:
    compressed) or Parquet (``parquet``)."""

    suffixes: tuple[str, ...] = ()
    parquet: bool = False
    gzip: bool = False


STRATEGY_SPECS: tuple[StrategySpec, ...] = (
    StrategySpec(
        "hard", "Hard voting", "Each model votes for its top class; the weights count the votes.",
        "ensemble_core.combine:hard_vote",
        formula=r"\hat y(x) = \arg\max_c \sum_m w_m [\hat y_m(x) = c]", has_probabilities=False,
        evaluate_path="ensemble_core.ensemble:hard_rows", latex_path="ensemble_core.explore:hard_latex",
        scores_path="ensemble_core.combine:vote_scores",
    ),
    StrategySpec(
        "soft", "Soft voting (weighted average)", "The weighted average of the models' probabilities.",
        "ensemble_core.combine:soft_vote",
        formula=r"p(c \mid x) = \sum_m w_m\, p_m(c \mid x)", pools_probabilities=True,
        evaluate_path="ensemble_core.ensemble:soft_rows", latex_path="ensemble_core.explore:soft_latex",
        scores_path="ensemble_core.combine:probability_scores",
    ),
    StrategySpec(
        "geometric", "Geometric averaging",
        "The weighted average of log-probabilities (a product of probabilities), renormalised: "
        "a model that is sure a class is impossible can veto it.",
        "ensemble_core.combine:geometric_vote",
        formula=r"\log p(c \mid x) = \sum_m w_m \log p_m(c \mid x) - \log Z(x)", log_scores=True,
        formula_note="Z(x) renormalises the weighted product so the probabilities sum to 1.",
        evaluate_path="ensemble_core.ensemble:geometric_rows", latex_path="ensemble_core.explore:geometric_latex",
        scores_path="ensemble_core.combine:log_probas",
    ),
    StrategySpec(
        "stacking", "Stacking",
        "A meta-learner learns how to combine the models' probabilities; every number is out-of-fold.",
        "ensemble_core.stacking:cross_fit_stacking",
        formula=r"p(c \mid x) = g\big(p_1(x), \dots, p_M(x)\big)_c", uses_weights=False, uses_meta_learner=True,
        evaluate_path="ensemble_core.ensemble:stacking_rows", latex_path="ensemble_core.explore:stacking_latex",
    ),
)

META_LEARNER_SPECS: tuple[MetaLearnerSpec, ...] = (
    MetaLearnerSpec("logistic", "Logistic regression", "A multinomial logistic regression on the members' "
                    "probabilities.", "ensemble_core.stacking:logistic_meta"),
    MetaLearnerSpec("gbm", "Gradient boosting", "Histogram gradient boosting (30 rounds of depth-3 trees) on "
                    "the members' probabilities: can learn interactions.", "ensemble_core.stacking:gbm_meta"),
    MetaLearnerSpec("mlp", "Small neural network (MLP)", "One hidden layer of 32 units, early stopping.",
                    "ensemble_core.stacking:mlp_meta"),
)

METHOD_SPECS: tuple[MethodSpec, ...] = (
    MethodSpec("caruana", "Caruana selection (25 rounds, log loss)",
               "Greedy selection with replacement (AutoGluon's weighted ensemble), weight = share of picks.",
               "ensemble_core.weight_search:caruana_weights", selects=True),
    MethodSpec("logloss", "Log loss (continuous weights)",
               "The weights that minimise the soft vote's log loss over all weightings.",
               "ensemble_core.weight_search:logloss_weights"),
    MethodSpec("accuracy", "Caruana selection on accuracy",
               "The same selection judged by accuracy (ties broken by log loss).",
               "ensemble_core.weight_search:accuracy_weights", metric="accuracy", selects=True),
)

# Directory kinds are tried in this order: a folder with ensemble_model.json is an
# embedding-head model even when it also looks like a transformers directory.
LOADER_SPECS: tuple[LoaderSpec, ...] = (
    LoaderSpec("skops", "scikit-learn (.skops)", "A scikit-learn model saved with skops; only allow-listed "
               "types load.", "ensemble_core.models.loading:load_skops_model", suffixes=(".skops",),
               uploadable=True),
    LoaderSpec("onnx", "ONNX (.onnx)", "An ONNX classifier, run in a capped worker process.",
               "ensemble_core.models.loading:load_onnx_model", suffixes=(".onnx",), uploadable=True),
    LoaderSpec("embedding_head", "Sentence-embedding model with a head (ensemble_model.json)",
               "A directory with ensemble_model.json: a local sentence encoder and a classifier head.",
               "ensemble_core.models.embedding_head:load_embedding_head", directory=True,
               recognise_path="ensemble_core.models.embedding_head:is_embedding_head_dir",
               hash_path="ensemble_core.models.embedding_head:embedding_head_hash"),
    LoaderSpec("transformers", "Hugging Face transformers directory",
               "config.json, model.safetensors and tokenizer files; local files only, no remote code.",
               "ensemble_core.models.transformers_loader:load_transformers", directory=True,
               recognise_path="ensemble_core.models.transformers_loader:is_transformers_dir",
               hash_path="ensemble_core.models.loading:directory_hash"),
    LoaderSpec("pickle", "Pickle or joblib (trusted files only)", "Runs code when loaded: refused unless "
               "trusted explicitly.", "ensemble_core.models.loading:load_pickle_model",
               suffixes=(".pkl", ".pickle", ".joblib"), needs_trust=True),
)

LM_POOL_SPECS: tuple[LMPoolSpec, ...] = (
    LMPoolSpec(
        "linear", "Linear pool (mixture)",
        "The weighted average of the models' next-token probabilities: the classic interpolated language model.",
        "ensemble_core.lm.pools:linear_pool",
        formula=r"p(y \mid x) = \sum_m w_m\, p_m(y \mid x)",
    ),
    LMPoolSpec(
        "loglinear", "Log-linear pool (product of experts)",
        "The weighted average of log-probabilities, renormalised; averaging the models' raw logits "
        "gives the same distribution.",
        "ensemble_core.lm.pools:log_linear_pool",
        formula=r"\log p(y \mid x) = \sum_m w_m \log p_m(y \mid x) - \log Z(x)",
    ),
)

TABLE_FORMAT_SPECS: tuple[TableFormatSpec, ...] = (
    TableFormatSpec("csv", "CSV", "Comma-separated text with a header row.", suffixes=(".csv",)),
    TableFormatSpec("csv.gz", "Gzipped CSV", "CSV compressed with gzip.", suffixes=(".csv.gz",), gzip=True),
    TableFormatSpec("parquet", "Parquet", "Apache Parquet.", suffixes=(".parquet", ".pq"), parquet=True),
)


@dataclass(frozen=True)
class BuildMethodSpec(Spec):
    """A way to build an ensemble from one base learner (the Build lab); ``implementation()`` is a
    factory ``(base learner, members, seed) -> unfitted scikit-learn ensemble``. ``takes_base``:
    whether the user's base learner is used (forests and gradient boosting grow their own trees);
    ``staged``: whether the curve comes from scikit-learn's staged predictions (boosting) rather
    than from averaging the first k members."""

    takes_base: bool = True
    staged: bool = False


BUILD_METHOD_SPECS: tuple[BuildMethodSpec, ...] = (
    BuildMethodSpec("bagging", "Bagging", "Each member learns from a bootstrap sample of the rows; their "
                    "probabilities are averaged.", "ensemble_core.build.lab:bagging"),
    BuildMethodSpec("subspaces", "Random subspaces", "Each member sees all rows but a random half of the "
                    "features.", "ensemble_core.build.lab:random_subspaces"),
    BuildMethodSpec("forest", "Random forest", "Bagged decision trees that also pick among a random subset "
                    "of features at every split.", "ensemble_core.build.lab:random_forest", takes_base=False),
    BuildMethodSpec("adaboost", "AdaBoost", "Members learn one after another, each on rows re-weighted "
                    "towards the previous members' mistakes (SAMME; trees become stumps).",
                    "ensemble_core.build.lab:adaboost", staged=True),
    BuildMethodSpec("gbm", "Gradient boosting", "Each new tree fits the remaining error of the ensemble "
                    "so far (depth-3 trees).", "ensemble_core.build.lab:gradient_boosting",
                    takes_base=False, staged=True),
)

BASE_LEARNER_SPECS: tuple[Spec, ...] = (
    Spec("tree", "Decision tree", "Fully grown (low bias, high variance): bagging's classic partner.",
         "ensemble_core.build.lab:tree_learner"),
    Spec("logistic", "Logistic regression", "A linear model (high bias, low variance).",
         "ensemble_core.build.lab:logistic_learner"),
)


@dataclass(frozen=True)
class EngineSpec(Spec):
    """Where ``score`` runs the models: ``implementation()`` is the engine class
    (:mod:`ensemble_core.scale.engines`); ``extra``: the optional dependency group it needs
    (``pip install ensemble-explorer[<extra>]``), empty when the core suffices; ``module``:
    the module that extra installs (whether it is installed is whether that imports)."""

    extra: str = ""
    module: str = ""


ENGINE_SPECS: tuple[EngineSpec, ...] = (
    EngineSpec("local", "This process", "Scores every shard here, one after another.",
               "ensemble_core.scale.engines:LocalEngine"),
    EngineSpec("ray", "Ray (local or a cluster)", "Scores shards on a pool of Ray actors, each loading the "
               "model once: a local Ray, or a cluster joined with --address.",
               "ensemble_core.scale.engines:RayEngine", extra="scale", module="ray"),
)


@dataclass(frozen=True)
class StudentSpec(Spec):
    """A distillation student (:mod:`ensemble_core.deploy.distill`): what it reads (``input``:
    numeric feature columns, or a text column through TF-IDF fitted on the transfer set) and
    whether it has a hidden layer (an MLP) or none (softmax regression); ``saves``: a ``.skops``
    pipeline, or a transformers directory (the transformer student)."""

    input: Literal["features", "text"] = "features"
    hidden: bool = False
    saves: Literal["skops", "transformers"] = "skops"


STUDENT_SPECS: tuple[StudentSpec, ...] = (
    StudentSpec("logistic", "Logistic regression", "Softmax regression on standardised feature columns.",
                "ensemble_core.deploy.distill:fit_student"),
    StudentSpec("mlp", "Small MLP", "One hidden ReLU layer on standardised feature columns.",
                "ensemble_core.deploy.distill:fit_student", hidden=True),
    StudentSpec("tfidf-logistic", "TF-IDF + logistic regression", "Softmax regression on TF-IDF of a text "
                "column.", "ensemble_core.deploy.distill:fit_student", input="text"),
    StudentSpec("tfidf-mlp", "TF-IDF + small MLP", "One hidden ReLU layer on TF-IDF of a text column.",
                "ensemble_core.deploy.distill:fit_student", input="text", hidden=True),
    StudentSpec("transformer", "Small transformer (BERT)", "A 2-layer BERT built from a config (the demo's tiny "
                "BERT architecture) with a WordPiece vocabulary learnt from the transfer set, trained from scratch on "
                "a text column; saved as a transformers folder.",
                "ensemble_core.deploy.transformer_student:fit_transformer_student", input="text", hidden=True,
                saves="transformers"),
)


@dataclass(frozen=True)
class CompressionSpec(Spec):
    """A way to compress a saved student (:mod:`ensemble_core.deploy.compress`); ``suffix``: the
    file it writes."""

    suffix: str = ".skops"


COMPRESSION_SPECS: tuple[CompressionSpec, ...] = (
    CompressionSpec("prune", "Magnitude pruning", "The smallest weights (a chosen share) set to zero for good.",
                    "ensemble_core.deploy.compress:prune", suffix=".skops"),
    CompressionSpec("int8", "Dynamic int8 (ONNX)", "An ONNX export whose weights onnxruntime quantises to int8.",
                    "ensemble_core.deploy.compress:to_int8_onnx", suffix=".onnx"),
)


@dataclass(frozen=True)
class MergeMethodSpec(Spec):
    """A way to merge models in weight space (:mod:`ensemble_core.merge.methods`); ``implementation()``
    is ``(inputs, out, *, weights, tune, heldout, cache) -> MergeResult``. ``needs_base``: a base
    (pre-trained) model is given and is the last input; ``takes_weights``: ``--weights`` count
    (simplex weights, or λ per task vector); ``needs_tune``: chosen on a labelled tune split;
    ``formula``: LaTeX of the rule; ``model_kind``: what it merges — ``transformers``
    directories, or ``sklearn`` linear models in ``.skops`` files (``implementation()`` is then
    ``(paths, out, *, weights) -> MergeResult``)."""

    formula: str = ""
    needs_base: bool = False
    takes_weights: bool = True
    needs_tune: bool = False
    model_kind: str = "transformers"


MERGE_METHOD_SPECS: tuple[MergeMethodSpec, ...] = (
    MergeMethodSpec("linear", "Linear interpolation", "The weighted mean of the models' parameters, weights on "
                    "the simplex (normalised; default equal); two models at α are weights 1−α, α.",
                    "ensemble_core.merge.methods:linear_merge", formula=r"\theta = \sum_i w_i\,\theta_i"),
    MergeMethodSpec("uniform-soup", "Uniform soup", "The plain mean of all models' parameters.",
                    "ensemble_core.merge.methods:uniform_soup",
                    formula=r"\theta = \frac{1}{k}\sum_i \theta_i", takes_weights=False),
    MergeMethodSpec("greedy-soup", "Greedy soup", "Models in order of tune accuracy; each joins the soup only "
                    "if the soup's tune accuracy does not drop (Wortsman et al. 2022).",
                    "ensemble_core.merge.methods:greedy_soup",
                    formula=r"\theta = \frac{1}{|S|}\sum_{i \in S} \theta_i", takes_weights=False, needs_tune=True),
    MergeMethodSpec("task-arithmetic", "Task arithmetic", "The base plus the weighted sum of task vectors "
                    "(each model minus the base); λ default 1 each.",
                    "ensemble_core.merge.methods:task_arithmetic",
                    formula=r"\theta = \theta_0 + \sum_i \lambda_i(\theta_i - \theta_0)", needs_base=True),
    MergeMethodSpec("ties", "TIES-merging", "Task vectors trimmed to their largest 20% per tensor, a sign elected "
                    "per entry, and the agreeing values averaged onto the base (Yadav et al. 2023).",
                    "ensemble_core.merge.methods:ties_merge",
                    formula=r"\theta = \theta_0 + \operatorname{mean}_{i:\,\operatorname{sgn}\tau_i=\gamma}\lambda_i\hat\tau_i",
                    needs_base=True),
    MergeMethodSpec("coef-average", "Coefficient averaging (scikit-learn)", "Linear models (.skops) with the same "
                    "classes and features: coef_ and intercept_ averaged with weights on the simplex (default equal).",
                    "ensemble_core.merge.linear_models:coef_average",
                    formula=r"W = \sum_i w_i\,W_i,\quad b = \sum_i w_i\,b_i", model_kind="sklearn"),
)


def _by_name(specs, family: str, name: str):
    for spec in specs:
        if spec.name == name:
            return spec
    raise KeyError(f"unknown {family} {name!r}; expected one of {', '.join(s.name for s in specs)}")


def strategy(name: str) -> StrategySpec:
    """The strategy called ``name`` (``KeyError`` naming the choices if there is none)."""
    return _by_name(STRATEGY_SPECS, "strategy", name)


def meta_learner(name: str) -> MetaLearnerSpec:
    """The built-in meta-learner called ``name``."""
    return _by_name(META_LEARNER_SPECS, "meta-learner", name)


def method(name: str) -> MethodSpec:
    """The weight-search method called ``name``."""
    return _by_name(METHOD_SPECS, "method", name)


def loader(name: str) -> LoaderSpec:
    """The loader kind called ``name``."""
    return _by_name(LOADER_SPECS, "loader kind", name)


def build_method(name: str) -> BuildMethodSpec:
    """The Build lab's method called ``name``."""
    return _by_name(BUILD_METHOD_SPECS, "build method", name)


def merge_method(name: str) -> MergeMethodSpec:
    """The weight-space merge method called ``name``."""
    return _by_name(MERGE_METHOD_SPECS, "merge method", name)


def base_learner(name: str) -> Spec:
    """The Build lab's base learner called ``name``."""
    return _by_name(BASE_LEARNER_SPECS, "base learner", name)


def loader_for_file(file_name: str) -> LoaderSpec | None:
    """The loader kind whose suffix ``file_name`` ends with (any case), or None.

    >>> loader_for_file("forest.SKOPS").name, loader_for_file("notes.txt")
    ('skops', None)
    """
    lower = file_name.lower()
    return next((s for s in LOADER_SPECS if s.suffixes and lower.endswith(s.suffixes)), None)


def table_format(file_name: str) -> TableFormatSpec | None:
    """The table format whose suffix ``file_name`` ends with (any case), or None.

    >>> table_format("preds.csv.gz").name, table_format("preds.pq").name, table_format("preds.txt")
    ('csv.gz', 'parquet', None)
    """
    lower = file_name.lower()
    return next((s for s in TABLE_FORMAT_SPECS if lower.endswith(s.suffixes)), None)


def engine(name: str) -> EngineSpec:
    """The scoring engine called ``name``."""
    return _by_name(ENGINE_SPECS, "engine", name)


def student(name: str) -> StudentSpec:
    """The distillation student called ``name``; KeyError naming the known ones."""
    return _by_name(STUDENT_SPECS, "student", name)


def compression(name: str) -> CompressionSpec:
    """The compression method called ``name``; KeyError naming the known ones."""
    return _by_name(COMPRESSION_SPECS, "compression method", name)


def lm_pool(name: str) -> LMPoolSpec:
    """The language-model pool called ``name``."""
    return _by_name(LM_POOL_SPECS, "pool", name)


#: The strategy whose weights the weight search suggests (its evidence is for this strategy only).
SUGGESTED_STRATEGY = "soft"

#: A labels-only model (a prediction file with a ``prediction`` column) enters every combination
#: as its one-hot row label-smoothed with this ε: (1 − ε) on its label plus ε / K on every class
#: (see :mod:`ensemble_core.labels_only`). 0.1 is the usual label-smoothing value (Szegedy et al.,
#: 2016). Changed with ``--labels-only-smoothing`` and on the Data & models page.
LABELS_ONLY_SMOOTHING = 0.1
#: The ε a user may choose: 0 (the bare one-hot row, a veto in the geometric mean) to 0.5 (the
#: model's own label still holds more than half the row's mass).
LABELS_ONLY_SMOOTHING_RANGE = (0.0, 0.5)
#: A labels-only model *dominates* a combination when, on the rows where its label differs from the
#: other members' weighted vote, the ensemble sides with it at least this often (and on at least
#: :data:`LABELS_ONLY_DOMINANCE_MIN_ROWS` such rows): then it decides alone, and a note says so.
LABELS_ONLY_DOMINANCE = 0.9
LABELS_ONLY_DOMINANCE_MIN_ROWS = 10

#: ``evaluate``'s memory budget unless ``--memory-budget`` sets one: this fraction of the machine's
#: RAM for the prediction files' arrays (float32). Loading them whole takes several times the arrays
#: (the parsed frames, the evaluator's copies): a quarter leaves room for that and for the rest of
#: the machine. Over the budget, ``evaluate`` streams (:mod:`ensemble_core.scale.budget`).
MEMORY_BUDGET_FRACTION = 0.25
#: The app opens a store over the memory budget on a stratified sample (by label) of at most this
#: many rows (fewer where the budget holds fewer): enough that a class of 1% has 2,000 rows, few
#: enough that the sliders' recomputation stays interactive.
STORE_SAMPLE_ROWS = 200_000

#: The names alone, for argparse choices and quick membership tests.
STRATEGIES: tuple[str, ...] = tuple(s.name for s in STRATEGY_SPECS)
META_LEARNERS: tuple[str, ...] = tuple(s.name for s in META_LEARNER_SPECS)
METHODS: tuple[str, ...] = tuple(s.name for s in METHOD_SPECS)
LOADER_KINDS: tuple[str, ...] = tuple(s.name for s in LOADER_SPECS)
BUILD_METHODS: tuple[str, ...] = tuple(s.name for s in BUILD_METHOD_SPECS)
BASE_LEARNERS: tuple[str, ...] = tuple(s.name for s in BASE_LEARNER_SPECS)
LM_POOLS: tuple[str, ...] = tuple(s.name for s in LM_POOL_SPECS)
ENGINES: tuple[str, ...] = tuple(s.name for s in ENGINE_SPECS)
STUDENTS: tuple[str, ...] = tuple(s.name for s in STUDENT_SPECS)
COMPRESSIONS: tuple[str, ...] = tuple(s.name for s in COMPRESSION_SPECS)
MERGE_METHODS: tuple[str, ...] = tuple(s.name for s in MERGE_METHOD_SPECS)
#: Every ending a labels or prediction file may have, longest first (".csv.gz" before ".csv").
TABLE_SUFFIXES: tuple[str, ...] = tuple(sorted((x for s in TABLE_FORMAT_SPECS for x in s.suffixes),
                                               key=len, reverse=True))
#: Every ending a model file may have.
MODEL_SUFFIXES: tuple[str, ...] = tuple(x for s in LOADER_SPECS for x in s.suffixes)

Strategy = Literal["hard", "soft", "geometric", "stacking"]
MetaLearner = Literal["logistic", "gbm", "mlp"]
Method = Literal["caruana", "logloss", "accuracy"]
LMPool = Literal["linear", "loglinear"]
