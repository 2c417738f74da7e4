"""The Build lab's shared work: a demo's training and held-out features, and the lab's results,
cached (features once per demo for every session; curves and decompositions per choice)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from ensemble_core import EnsembleInputError
from ensemble_core.build.bias_variance import BiasVariance, bias_variance
from ensemble_core.build.features import Features, content_features
from ensemble_core.build.lab import GrowthCurve, growth_curve, make_base_learner, make_ensemble
from ensemble_core.demo import DEMOS
from ensemble_core.io import LabelsFile

from . import keys as K
from .sources import DataSource, FileEntry

#: The members slider's top on the page (the core allows up to MAX_MEMBERS; this keeps the lab within seconds).
MEMBERS_SHOWN = 100
#: Fewer members where each one is slow to fit (measured on the busy 2-core machine): logistic regression on
#: digits' unscaled pixels (50 random-subspace members: 55 s, about 1.1 s each), and fully grown trees on the
#: sentiment demo's TF-IDF (20 bagged trees: 55 s through the page, about 2.7 s each; a forest's tree 0.4 s, a
#: boosting stage 0.6 s, an AdaBoost stump 0.4 s: 10 members of any method there answer within about 6 s).
SLOW_MEMBERS = {("logistic", "numeric"): 8, ("tree", "tfidf"): 10}


def members_cap(base: str, features: Features) -> int:
    """The most members the page offers for ``base`` on these features."""
    return SLOW_MEMBERS.get((base, features.kind), MEMBERS_SHOWN)
#: Bias and variance: bootstrap resamples per learner, and members of the bagged and boosted ensembles.
BV_ROUNDS = 8
BV_MEMBERS = 10
SEED = 0


@dataclass(frozen=True, eq=False)
class LabData:
    """A demo's training split (to learn from) and test split (held out: the rows the explorer shows)."""

    features: Features
    y_train: np.ndarray
    y_test: np.ndarray
    classes: np.ndarray
    train_names: tuple[str, ...] = ()
    train_text: tuple[str, ...] = ()


@st.cache_resource(max_entries=2, show_spinner="Reading the demo's training split and making features…")
def lab_data(demo: str) -> LabData:
    """The features of ``demo``'s train and test splits (TF-IDF of the text, or the numeric columns).

    Raises
    ------
    EnsembleInputError
        For a demo without a training split.
    """
    spec = DEMOS[demo]
    if not spec.split_labels_path("train").is_file():
        raise EnsembleInputError(f"the {demo} demo has no training split under {spec.folder}")
    test = LabelsFile(spec.split_labels_path("test"))
    train = LabelsFile(spec.split_labels_path("train"), classes=test.classes)
    features = content_features(train.content, test.content, text_column=spec.text_column)
    for array in (train.y_true, test.y_true):
        array.setflags(write=False)
    names = tuple(map(str, train.ids)) if train.ids is not None else tuple(str(i + 1) for i in range(len(train.y_true)))
    text = (tuple(train.content[features.source].fillna("").astype(str)) if features.kind == "tfidf"
            else ("",) * len(names))
    return LabData(features, train.y_true, test.y_true, test.classes, names, text)


#: A lab run: (demo, method, base learner, members).
Run = tuple[str, str, str, int]
#: Finished curves kept for every session (a run asked again answers at once).
CURVES_KEPT = 16


@st.cache_resource
def _finished() -> tuple[threading.Lock, OrderedDict[Run, GrowthCurve]]:
    """Curves of finished runs, for every session, least recently used first (at most :data:`CURVES_KEPT`)."""
    return threading.Lock(), OrderedDict()


def _keep(run: Run, curve: GrowthCurve, finished: tuple[threading.Lock, OrderedDict[Run, GrowthCurve]]) -> None:
    lock, curves = finished
    with lock:
        curves[run] = curve
        curves.move_to_end(run)
        while len(curves) > CURVES_KEPT:
            curves.popitem(last=False)


def _kept(run: Run) -> GrowthCurve | None:
    lock, curves = _finished()
    with lock:
        curve = curves.get(run)
        if curve is not None:
            curves.move_to_end(run)
        return curve


@dataclass(eq=False)
class LabJob:
    """A Build lab run training in a background thread, so the page stays live and can stop it.

    ``built`` counts the members fitted so far; ``stop`` asks the core to stop after the member
    it is fitting (:func:`~ensemble_core.build.lab.growth_curve`'s ``should_stop``). When the thread
    ends, ``curve`` holds the curve of the members built (all of them, or those before the stop), or
    ``error`` is what the training raised (the page raises it again in its own thread: a user error is
    shown as one, any other as the bug it is).
    """

    run: Run
    stop: threading.Event = field(default_factory=threading.Event)
    built: int = 0
    curve: GrowthCurve | None = None
    error: Exception | None = None
    seconds: float = 0.0
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    @property
    def shown_run(self) -> Run:
        """The run the curve is: a run stopped after k members is the run of k members, seed for seed."""
        demo, method, base, members = self.run
        return (demo, method, base, int(self.curve.sizes[-1]) if self.curve is not None else members)

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the thread to end (tests; the page polls instead)."""
        if self.thread is not None:
            self.thread.join(timeout)


def start_lab_job(run: Run) -> LabJob:
    """Start training ``run`` in a background thread (or answer at once when it was trained before).

    Raises
    ------
    EnsembleInputError
        For a demo without a training split.
    """
    job = LabJob(run)
    kept = _kept(run)
    if kept is not None:
        job.curve, job.built = kept, run[3]
        return job
    demo, method, base, members = run
    data, finished = lab_data(demo), _finished()  # in the script's thread: Streamlit's caches

    def should_stop(built: int) -> bool:
        job.built = built
        return job.stop.is_set()

    def work() -> None:
        started = time.perf_counter()
        try:
            curve = growth_curve(method, data.features.train, data.y_train, data.features.test, data.y_test,
                                 base=base, n_members=members, seed=SEED, should_stop=should_stop)
        except Exception as exc:  # raised again by the page, in the script's thread
            job.error = exc
            return
        job.seconds = time.perf_counter() - started
        job.built = int(curve.sizes[-1])
        job.curve = curve
        _keep(job.shown_run, curve, finished)

    job.thread = threading.Thread(target=work, name=f"build-lab-{method}", daemon=True)
    job.thread.start()
    return job


#: Training rows listed as the ones boosting leans on most.
LEANED_ON = 10


@st.cache_data(max_entries=8, show_spinner=False)
def cached_boosting_weights(demo: str, base: str, n_members: int) -> np.ndarray:
    """AdaBoost's weight on each training row before each round, shape (n_rounds, n_train)
    (:func:`~ensemble_core.build.boosting.adaboost_sample_weights` of the lab's AdaBoost, same seed)."""
    from ensemble_core._threads import limited
    from ensemble_core.build.boosting import adaboost_sample_weights

    data = lab_data(demo)
    with limited("build"):
        model = make_ensemble("adaboost", base, n_members, seed=SEED).fit(data.features.train, data.y_train)
        return adaboost_sample_weights(model, data.features.train, data.y_train)


def bias_variance_too_slow(features: Features) -> str | None:
    """Why the decomposition is not offered on these features (None when it is): it trains
    (1 + 2 × :data:`BV_MEMBERS`) × :data:`BV_ROUNDS` models."""
    if features.kind == "tfidf":
        return (f"The decomposition trains {(1 + 2 * BV_MEMBERS) * BV_ROUNDS} models; on text (TF-IDF) a fully grown "
                "tree takes about 2.7 s here, so it would take minutes. It is offered on the digits demo.")
    return None


@st.cache_data(max_entries=8, show_spinner=False)
def cached_bias_variance(demo: str, base: str) -> dict[str, BiasVariance]:
    """Domingos' decomposition of the held-out 0–1 loss for the base learner alone, bagged and boosted
    (AdaBoost), each trained on :data:`BV_ROUNDS` bootstrap resamples of the training rows."""
    data = lab_data(demo)
    f, n_classes = data.features, len(data.classes)
    makers = {
        "base learner alone": lambda r: make_base_learner(base, seed=r),
        f"bagged ({BV_MEMBERS})": lambda r: make_ensemble("bagging", base, BV_MEMBERS, seed=r),
        f"boosted ({BV_MEMBERS}, AdaBoost)": lambda r: make_ensemble("adaboost", base, BV_MEMBERS, seed=r),
    }
    return {name: bias_variance(make, f.train, data.y_train, f.test, data.y_test, n_classes=n_classes,
                                rounds=BV_ROUNDS, seed=SEED) for name, make in makers.items()}


#: The most single members "Add these members to the explorer" puts in (each becomes a model with its own
#: weight slider on the Ensemble page; the ensemble itself is always added as one model).
ADD_MEMBERS_MAX = 10


def lab_model_names(method: str, base: str, n_members: int, singles: int) -> list[str]:
    """The explorer's names for a lab run's ensemble and its first ``singles`` members, e.g.
    ``lab-bagging-tree-20`` and ``lab-bagging-tree-m1`` (a forest's or gradient boosting's name has no base).

    >>> lab_model_names("bagging", "tree", 20, 2)
    ['lab-bagging-tree-20', 'lab-bagging-tree-m1', 'lab-bagging-tree-m2']
    >>> lab_model_names("forest", "tree", 5, 0)
    ['lab-forest-5']
    """
    from ensemble_core.registry import build_method

    stem = f"lab-{method}" + (f"-{base}" if build_method(method).takes_base else "")
    return [f"{stem}-{n_members}", *(f"{stem}-m{k}" for k in range(1, singles + 1))]


def lab_entries(source: DataSource, run: Run, curve: GrowthCurve, singles: int) -> list[FileEntry]:
    """The held-out predictions of a lab run (``run`` is ``(demo, method, base, members)``, ``curve`` its
    curve) as prediction files for ``source``: the whole ensemble as one model and its first ``singles``
    members as models.

    Raises
    ------
    EnsembleInputError
        When ``source`` is not the run's demo test split, a name is already loaded, or the method's members
        have no predictions of their own (gradient boosting's are regression trees).
    """
    from .sources import read_labels, scored_entry

    demo, method, base, n_members = run
    names = lab_model_names(method, base, n_members, singles)
    for name in names:
        source.check_new_model(name, f"the lab's {name}")
    labels = read_labels(source)
    if source.demo != demo or curve.test_probas.shape != (len(labels.y_true), len(labels.classes)):
        raise EnsembleInputError(f"the lab's members were built for the {demo} demo's test split; load it to add them")
    if singles and curve.member_test_probas is None:
        raise EnsembleInputError(f"{method}'s members are regression trees without class probabilities of their own; "
                                 "add the ensemble as one model")
    probas = [curve.test_probas, *(() if not singles else curve.member_test_probas[:singles])]
    return [scored_entry(name, p, labels) for name, p in zip(names, probas)]


def add_lab_members(run: Run, curve: GrowthCurve, singles: int) -> bool:
    """Add a lab run's ensemble and its first ``singles`` members to the loaded data as models (their
    held-out predictions), so the explorer's pages show them. Errors are shown in the page."""
    from .actions import load_and_report

    source = st.session_state.get(K.SOURCE)

    def extended() -> DataSource:
        if source is None:
            raise EnsembleInputError("load the demo the lab learned from first")
        return source.with_predictions(lab_entries(source, run, curve, singles))

    return load_and_report(extended)
