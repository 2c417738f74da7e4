"""Distillation: one student trained on the ensemble's outputs over a transfer set.

The **transfer set** is labelled rows with their content (feature columns or a text column)
and the members' predictions on them (e.g. the demo's ``train`` split, the members' own
training rows, where their predictions are in-sample and over-confident; or ``val``, which no
member saw); the **held-out** split is only ever scored, never trained or selected on.
The teacher is the ensemble as the user combines it (strategy and weights) on the transfer
set. The loss, per row averaged over the transfer set:

.. math::

    (1-\\lambda)\\,\\mathrm{CE}(y, s) + \\lambda\\,T^2\\,\\mathrm{KL}(\\mathrm{softmax}(\\log t / T)
    \\,\\|\\, \\mathrm{softmax}(z / T))

with ``t`` the teacher's probabilities, ``z`` the student's logits and ``s = softmax(z)``
(Hinton et al., 2015; ``T²`` keeps the soft term's gradients on the hard term's scale).
Defaults: ``λ = 0.5``, ``T = 2``.

Students (:data:`~ensemble_core.registry.STUDENT_SPECS`): softmax regression or a one-hidden-
layer MLP, on standardised feature columns or on TF-IDF of a text column (fitted on the
transfer set only). They are trained in torch (scikit-learn's estimators take no soft
targets), then written into the matching scikit-learn objects (``LogisticRegression`` /
``MLPClassifier`` after a ``StandardScaler`` or ``TfidfVectorizer`` in a ``Pipeline``) and
saved as ``.skops``, which ``score`` loads through the safe loader.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .. import registry
from .._threads import import_torch, limited
from .._validation import EnsembleInputError
from ..decision import decide
from ..metrics import classifier_metrics
from ..predictions import PredictionSet
from . import DEFAULT_ALPHA, DEFAULT_TEMPERATURE, Stopped

#: ``progress(done, total)``: called after each epoch (``total`` the epochs of the whole run).
Progress = Callable[[int, int], None]
#: ``should_stop()``: asked between mini-batches; True stops the run (:class:`~ensemble_core.deploy.Stopped`).
ShouldStop = Callable[[], bool]


@dataclass(frozen=True)
class StudentSettings:
    """How a student is trained.

    Attributes
    ----------
    kind : a name in :data:`~ensemble_core.registry.STUDENTS`
    alpha : λ, the soft term's share of the loss, in [0, 1]
    temperature : T > 0
    epochs, batch_size, learning_rate : Adam over shuffled mini-batches
    hidden : the MLP's hidden units
    max_features : TF-IDF vocabulary size
    seed : initialisation and shuffling
    """

    kind: str = "logistic"
    alpha: float = DEFAULT_ALPHA
    temperature: float = DEFAULT_TEMPERATURE
    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 0.05
    hidden: int = 64
    max_features: int = 5000
    seed: int = 0

    def __post_init__(self):
        try:
            registry.student(self.kind)
        except KeyError as exc:
            raise EnsembleInputError(str(exc.args[0])) from None
        if not (0.0 <= self.alpha <= 1.0):
            raise EnsembleInputError(f"--alpha must be in [0, 1]; got {self.alpha:g}")
        if not (self.temperature > 0 and math.isfinite(self.temperature)):
            raise EnsembleInputError(f"--temperature must be a finite number > 0; got {self.temperature:g}")
        for name in ("epochs", "batch_size", "hidden", "max_features"):
            if getattr(self, name) < 1:
                raise EnsembleInputError(f"{name} must be at least 1; got {getattr(self, name)}")


def distillation_loss(logits, y, teacher, *, alpha: float, temperature: float):
    """(1−λ)·CE(y, softmax(z)) + λ·T²·KL(softmax(log t / T) ‖ softmax(z / T)), averaged over rows.

    Parameters
    ----------
    logits : torch tensor of shape (n, n_classes), the student's
    y : torch tensor of shape (n,), int64 class indices
    teacher : torch tensor of shape (n, n_classes), the teacher's probabilities
    alpha, temperature : λ and T; a term with weight 0 is not computed

    Examples
    --------
    >>> torch = import_torch()
    >>> z = torch.tensor([[2.0, 0.0]]); t = torch.tensor([[0.5, 0.5]])
    >>> round(float(distillation_loss(z, torch.tensor([0]), t, alpha=1.0, temperature=1.0)), 4)
    0.4338
    """
    torch = import_torch()
    functional = torch.nn.functional
    loss = logits.new_zeros(())
    if alpha < 1:
        loss = loss + (1 - alpha) * functional.cross_entropy(logits, y)
    if alpha > 0:
        t = temperature
        soft_teacher = torch.softmax(torch.log(teacher.clamp_min(1e-7)) / t, dim=1)
        log_student = torch.log_softmax(logits / t, dim=1)
        kl = functional.kl_div(log_student, soft_teacher, reduction="batchmean")
        loss = loss + alpha * t * t * kl
    return loss


class _Student:
    """A fitted preprocessor and a torch module, trained by :func:`fit_student`."""

    def __init__(self, kind: str, preprocess, module, classes: np.ndarray):
        self.kind, self.preprocess, self.module, self.classes = kind, preprocess, module, classes


def _preprocessor(kind: registry.StudentSpec, settings: StudentSettings):
    if kind.input == "text":
        from sklearn.feature_extraction.text import TfidfVectorizer

        return TfidfVectorizer(max_features=settings.max_features, sublinear_tf=True, dtype=np.float32)
    from sklearn.preprocessing import StandardScaler

    return StandardScaler()


def student_inputs(content, spec: registry.StudentSpec, *, text_column: str | None,
                   feature_columns: Sequence[str] | None, where: str):
    """What the student reads from a split's content: its text Series or feature DataFrame.

    Raises
    ------
    EnsembleInputError
        On a missing column, non-numeric features, or content of the wrong kind for the student.
    """
    import pandas as pd

    if spec.input == "text":
        if feature_columns:
            raise EnsembleInputError(f"student {spec.name!r} reads text; give --text-column, not --feature-columns")
        column = text_column or ("text" if "text" in content.columns else None)
        if column is None:
            texts = [c for c in content.columns if content[c].dtype == object]
            if len(texts) != 1:
                raise EnsembleInputError(f"{where}: student {spec.name!r} needs a text column; give --text-column "
                                         f"(columns: {', '.join(map(str, content.columns)) or 'none'})")
            column = texts[0]
        if column not in content.columns:
            raise EnsembleInputError(f"{where}: no column {column!r} for --text-column")
        return content[column].fillna("").astype(str)
    if text_column:
        raise EnsembleInputError(f"student {spec.name!r} reads feature columns; give --feature-columns, not --text-column")
    columns = list(feature_columns) if feature_columns else list(content.columns)
    missing = [c for c in columns if c not in content.columns]
    if missing:
        raise EnsembleInputError(f"{where}: no feature column {missing[0]!r}")
    if not columns:
        raise EnsembleInputError(f"{where}: no content columns (features or text) to train a student on")
    frame = content[columns]
    bad = [c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise EnsembleInputError(f"{where}: column {bad[0]!r} is not numeric; student {spec.name!r} needs numeric "
                                 "feature columns (a text column needs a tfidf-* student)")
    return frame


def _module(spec: registry.StudentSpec, n_in: int, n_out: int, hidden: int):
    torch = import_torch()
    if spec.hidden:
        return torch.nn.Sequential(torch.nn.Linear(n_in, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, n_out))
    return torch.nn.Sequential(torch.nn.Linear(n_in, n_out))


def _batch(torch, x, rows: np.ndarray):
    part = x[rows]
    if hasattr(part, "toarray"):  # TF-IDF: a batch of rows made dense (128 × 5,000 float32: 2.5 MB)
        return torch.from_numpy(part.toarray().astype(np.float32, copy=False))
    return torch.from_numpy(np.ascontiguousarray(part, dtype=np.float32))


def fit_student(x_raw, y: np.ndarray, teacher: np.ndarray | None, classes: np.ndarray,
                settings: StudentSettings, *, progress: Progress | None = None,
                should_stop: ShouldStop | None = None, epochs_before: int = 0,
                epochs_total: int | None = None) -> _Student:
    """Train a student on the transfer set.

    Parameters
    ----------
    x_raw : the transfer set's text Series or feature DataFrame (:func:`student_inputs`)
    y : ndarray of shape (n,), int class indices
    teacher : ndarray of shape (n, n_classes), the ensemble's probabilities; None with ``alpha == 0``
    classes : the dataset's classes
    settings : :class:`StudentSettings`
    progress : called ``progress(epochs_before + epoch, epochs_total)`` after each epoch
    should_stop : asked before each mini-batch; when it says True, :class:`~ensemble_core.deploy.Stopped`
        is raised (with the epochs completed)
    epochs_before, epochs_total : where this run sits in a longer one (default: alone)

    Raises
    ------
    Stopped
        When ``should_stop()`` said so.
    """
    torch = import_torch()
    spec = registry.student(settings.kind)
    if teacher is None and settings.alpha > 0:
        raise EnsembleInputError("a soft-label loss (alpha > 0) needs the teacher's probabilities")
    prep = _preprocessor(spec, settings)
    with limited("distill"):
        x = prep.fit_transform(x_raw)
        if not hasattr(x, "tocsr"):
            x = np.asarray(x, dtype=np.float32)
        torch.manual_seed(settings.seed)
        module = _module(spec, x.shape[1], len(classes), settings.hidden)
        optimiser = torch.optim.Adam(module.parameters(), lr=settings.learning_rate)
        y_t = torch.from_numpy(np.array(y, dtype=np.int64))  # a copy: torch wants writable memory
        t_t = None if teacher is None else torch.from_numpy(np.asarray(teacher, dtype=np.float32))
        rng = np.random.default_rng(settings.seed)
        n = len(y)
        total = settings.epochs if epochs_total is None else epochs_total
        for epoch in range(settings.epochs):
            order = rng.permutation(n)
            for start in range(0, n, settings.batch_size):
                if should_stop is not None and should_stop():
                    raise Stopped(epochs_before + epoch, total)
                rows = order[start:start + settings.batch_size]
                rows_t = torch.from_numpy(rows)
                logits = module(_batch(torch, x, rows))
                loss = distillation_loss(logits, y_t[rows_t], None if t_t is None else t_t[rows_t],
                                         alpha=settings.alpha, temperature=settings.temperature)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
            if progress is not None:
                progress(epochs_before + epoch + 1, total)
    return _Student(settings.kind, prep, module, np.asarray(classes))


def to_pipeline(student: _Student):
    """The student as a scikit-learn ``Pipeline`` (preprocessor, then ``LogisticRegression`` or
    ``MLPClassifier`` holding the trained weights), which the safe ``.skops`` loader accepts.
    Two classes become one output (``σ(z₁ − z₀)`` is ``softmax(z)``'s second column)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import LabelBinarizer

    layers = [m for m in student.module if hasattr(m, "weight")]
    weights = [m.weight.detach().numpy().astype(np.float64).T for m in layers]  # (in, out)
    biases = [m.bias.detach().numpy().astype(np.float64) for m in layers]
    k = len(student.classes)
    if k == 2:
        weights[-1] = (weights[-1][:, 1] - weights[-1][:, 0])[:, None]
        biases[-1] = np.array([biases[-1][1] - biases[-1][0]])
    n_in = weights[0].shape[0]
    if len(layers) == 1:
        clf = LogisticRegression()
        clf.coef_, clf.intercept_ = weights[0].T.copy(), biases[0]
    else:
        clf = MLPClassifier(hidden_layer_sizes=(weights[0].shape[1],), activation="relu")
        clf.coefs_, clf.intercepts_ = weights, biases
        clf.n_layers_, clf.n_outputs_ = len(layers) + 1, weights[-1].shape[1]
        clf.out_activation_ = "logistic" if k == 2 else "softmax"
        clf._label_binarizer = LabelBinarizer().fit(student.classes)
    clf.classes_ = student.classes
    clf.n_features_in_ = n_in
    return Pipeline([("features", student.preprocess), ("student", clf)])


@dataclass(frozen=True)
class RowReport:
    """One line of the side-by-side report on the held-out split."""

    name: str
    accuracy: float
    log_loss: float | None
    agreement: float | None
    ms_per_1000: float | None
    size_bytes: int | None
    cost_source: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DistillReport:
    """The student, the same student on hard labels only (λ = 0), the ensemble and each
    member, on the held-out split; and where the student was saved."""

    student: RowReport
    hard_label_student: RowReport
    ensemble: RowReport
    members: tuple[RowReport, ...]
    student_path: str
    settings: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"student": self.student.to_dict(), "hard_label_student": self.hard_label_student.to_dict(),
                "ensemble": self.ensemble.to_dict(), "members": [m.to_dict() for m in self.members],
                "student_path": self.student_path, "settings": self.settings, "notes": list(self.notes)}


def _dump(pipeline) -> bytes:
    """The ``.skops`` bytes, deflated: skops writes a TF-IDF vocabulary as verbose JSON (4.5 MB
    for the sentiment demo's tfidf-logistic student, 1.0 MB deflated)."""
    import zipfile

    import skops.io as sio

    return sio.dumps(pipeline, compression=zipfile.ZIP_DEFLATED)


def _row(name, y, probas, reference, *, ms, size, source=None) -> RowReport:
    pred = decide(probas)
    m = classifier_metrics(y, pred, probas, has_probas=True)
    return RowReport(name, m.accuracy, m.log_loss, None if reference is None else float(np.mean(pred == reference)),
                     ms, size, source)


def _score_pipeline(pipeline, x_raw, classes) -> tuple[np.ndarray, float]:
    """Held-out probabilities, float32 as ``score`` writes them, and ms per 1,000 rows."""
    from .costs import measure_call

    with limited("distill"):
        pipeline.predict_proba(x_raw[:8])  # warm-up: the first call pays for lazy imports and allocations
        probas, cost = measure_call(lambda: pipeline.predict_proba(x_raw), name="student",
                                    n_rows=len(x_raw), batch_size=len(x_raw))
    return np.clip(np.asarray(probas, dtype=np.float64), 0.0, 1.0).astype(np.float32), cost.ms_per_1000


def distill(
    transfer: PredictionSet,
    held_out: PredictionSet,
    *,
    settings: StudentSettings,
    out: str | Path,
    strategy: str = "soft",
    weights=None,
    text_column: str | None = None,
    feature_columns: Sequence[str] | None = None,
    member_costs: Sequence | None = None,
    meta: str = "logistic",
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> DistillReport:
    """Train the student (and the λ = 0 student beside it) on ``transfer``; save the student
    to ``out`` (``.skops``); report everything on ``held_out``.

    Parameters
    ----------
    transfer, held_out : prediction sets with ``content``, the same classes and the same
        members (matched by name)
    settings : :class:`StudentSettings`
    out : where to save the student (``.skops``; the transformer student: a new folder)
    strategy, weights, meta : the ensemble the student learns from (``meta``: stacking's meta-learner)
    progress, should_stop : as :func:`fit_student`'s, over both students' epochs (``2 × epochs``);
        nothing is saved when the run stops
    member_costs : per member (held-out order), a :class:`~ensemble_core.deploy.costs.ModelCost` or None

    Raises
    ------
    EnsembleInputError
        On sets whose classes or members differ, content that does not fit the student, or
        an output that is not ``.skops``.
    Stopped
        When ``should_stop()`` said so.
    """
    from ..ensemble import EnsembleEvaluator

    out = Path(out)
    spec = registry.student(settings.kind)
    if spec.saves == "skops" and out.suffix.lower() != ".skops":
        raise EnsembleInputError(f"{out}: the student is saved as .skops; give a path ending in .skops")
    if spec.saves == "transformers" and (out.suffix or (out.exists() and any(out.iterdir()))):
        raise EnsembleInputError(f"{out}: the {spec.name} student is saved as a transformers folder; give a new "
                                 "folder's path (no suffix)")
    if [str(c) for c in transfer.classes] != [str(c) for c in held_out.classes]:
        raise EnsembleInputError("the transfer set and the held-out split have different classes: "
                                 f"{list(transfer.classes)} and {list(held_out.classes)}")
    missing = sorted(set(held_out.names) ^ set(transfer.names))
    if missing:
        side = "transfer set" if missing[0] in held_out.names else "held-out split"
        raise EnsembleInputError(f"member {missing[0]!r} has no predictions on the {side}; "
                                 "give the same members on both (matched by name)")
    transfer = transfer.select(list(held_out.names))
    for pset, where in ((transfer, "transfer set"), (held_out, "held-out split")):
        if pset.content is None or len(pset.content.columns) == 0:
            raise EnsembleInputError(f"{where}: no content columns (features or text); the student needs the rows' content")
    x_train = student_inputs(transfer.content, spec, text_column=text_column, feature_columns=feature_columns,
                             where="transfer set")
    x_test = student_inputs(held_out.content, spec, text_column=text_column, feature_columns=feature_columns,
                            where="held-out split")
    teacher = EnsembleEvaluator(transfer).evaluate(strategy, weights, meta=meta)
    if not teacher.has_probas:
        raise EnsembleInputError(f"the {strategy} ensemble gives no probabilities here; the soft term needs them")
    classes = held_out.classes
    run = {"progress": progress, "should_stop": should_stop, "epochs_total": 2 * settings.epochs}
    hard_settings = StudentSettings(**{**asdict(settings), "alpha": 0.0})
    if spec.saves == "transformers":
        scored = _transformer_students(x_train, x_test, transfer.y_true, teacher.probas, classes, settings,
                                       hard_settings, out, run)
    else:
        scored = _linear_students(x_train, x_test, transfer.y_true, teacher.probas, classes, settings,
                                  hard_settings, out, run)
    (soft_p, soft_ms, soft_size), (hard_p, hard_ms, hard_size) = scored

    held_eval = EnsembleEvaluator(held_out)
    ensemble = held_eval.evaluate(strategy, weights, meta=meta)
    reference = ensemble.y_pred
    y = held_out.y_true
    costs = list(member_costs) if member_costs is not None else [None] * held_out.n_models
    members = tuple(
        _row(name, y, held_out.probas[m], reference,
             ms=None if costs[m] is None else costs[m].ms_per_1000,
             size=None if costs[m] is None else costs[m].size_bytes,
             source=None if costs[m] is None else costs[m].source)
        for m, name in enumerate(held_out.names)
    )
    known = all(c is not None for c in costs)
    ens_probas = ensemble.probas.astype(np.float32)
    ens = _row(f"ensemble ({strategy})", y, ens_probas, reference,
               ms=sum(c.ms_per_1000 for c in costs) if known else None,
               size=sum(c.size_bytes for c in costs) if known and all(c.size_bytes is not None for c in costs)
               else None,
               source="sum of the members'" if known else None)
    notes = []
    if not known:
        notes.append("members without a cost (no NAME.cost.json beside their held-out prediction file, no --costs): "
                     "the ensemble's cost is unknown")
    return DistillReport(
        student=_row(f"student ({settings.kind}, λ={settings.alpha:g}, T={settings.temperature:g})", y, soft_p,
                     reference, ms=soft_ms, size=soft_size, source="measured"),
        hard_label_student=_row(f"student ({settings.kind}, λ=0)", y, hard_p, reference, ms=hard_ms,
                                size=hard_size, source="measured"),
        ensemble=ens, members=members, student_path=str(out), settings=asdict(settings), notes=tuple(notes),
    )



def _linear_students(x_train, x_test, y, teacher, classes, settings, hard_settings, out: Path, run):
    """Train the student and its λ = 0 twin (scikit-learn pipelines), save the student as ``.skops``;
    each one's held-out probabilities, ms per 1,000 and size."""
    soft = fit_student(x_train, y, teacher, classes, settings, **run)
    hard = fit_student(x_train, y, None, classes, hard_settings, epochs_before=settings.epochs, **run)
    soft_pipe, hard_pipe = to_pipeline(soft), to_pipeline(hard)
    soft_bytes = _dump(soft_pipe)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(soft_bytes)
    return ((*_score_pipeline(soft_pipe, x_test, classes), len(soft_bytes)),
            (*_score_pipeline(hard_pipe, x_test, classes), len(_dump(hard_pipe))))


def _transformer_students(x_train, x_test, y, teacher, classes, settings, hard_settings, out: Path, run):
    """As :func:`_linear_students` for the transformer student: both saved as transformers folders
    (the twin in a temporary one) and scored through ``score``'s loader."""
    import shutil
    import tempfile

    from .costs import size_on_disk
    from .transformer_student import fit_transformer_student

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        twin = Path(tmp) / "hard"
        fit_transformer_student(x_train, y, teacher, classes, settings, out, **run)
        try:
            fit_transformer_student(x_train, y, None, classes, hard_settings, twin, epochs_before=settings.epochs,
                                    **run)
        except BaseException:
            shutil.rmtree(out, ignore_errors=True)  # a stopped run keeps nothing
            raise
        return ((*_score_saved(out, x_test, classes), size_on_disk(out)),
                (*_score_saved(twin, x_test, classes), size_on_disk(twin)))


def _score_saved(path: Path, texts, classes) -> tuple[np.ndarray, float]:
    """A saved model's held-out probabilities and ms per 1,000 rows, as ``score`` computes them."""
    import pandas as pd

    from ..models.loading import load_model
    from ..models.scoring import score_model
    from .costs import measure_call

    model = load_model(path, name="student")
    frame = pd.DataFrame({"text": texts.to_numpy()})
    score_model(model, frame[:8], classes=classes, text_column="text")  # warm-up: loads the network
    probas, cost = measure_call(lambda: score_model(model, frame, classes=classes, text_column="text"),
                                name="student", n_rows=len(frame), batch_size=model.batch_size)
    return np.asarray(probas, dtype=np.float32), cost.ms_per_1000
