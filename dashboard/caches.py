"""What is computed once and shared by every browser session: cached loaders.

Streamlit runs each session in its own thread and hands every one of them the same
object from ``st.cache_resource``, so what is cached there is either immutable (the
prediction sets' arrays are made read-only here) or locks its lazy parts
(:class:`~ensemble_core.EnsembleEvaluator` fills its log-probabilities and stacked
predictions on first use). Small results (the diversity matrices, a weight
suggestion, a weight landscape) go through ``st.cache_data``: each session gets its
own copy. Keys are content-hash strings: the source's file digests, the included
models and the options.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from ensemble_core import (
    CalibrationResult,
    DiversityMatrices,
    EnsembleEvaluator,
    Landscape,
    PredictionSet,
    WeightSuggestion,
    cross_fit_temperatures,
    diversity_matrices,
    simplex_landscape,
    suggest_weights,
)

from ensemble_core.deploy.frontier import EXHAUSTIVE_MAX_MODELS, Frontier, SubsetAccuracies, \
    cost_accuracy_frontier, frontier_for_costs, subset_accuracies
from ensemble_core.labels_only import has_log_loss, smooth_labels_only

from .kept import KeptData
from .sources import DataSource, load_source
from .view import View

#: The k-fold split behind cross-fitted temperatures and the dashboard's suggestions (the CLI's defaults).
FOLDS = 5
SEED = 0
LINE_RESOLUTION = 100
TERNARY_RESOLUTION = 50


def _read_only(*arrays: np.ndarray | None) -> None:
    """Freeze arrays shared between sessions: a write anywhere would show in every one."""
    for array in arrays:
        if array is not None:
            array.setflags(write=False)


def _frozen(pset: PredictionSet) -> PredictionSet:
    _read_only(pset.probas, pset.y_true, pset.classes, pset.hard, pset.ids)
    return pset


@st.cache_resource(max_entries=6, show_spinner="Reading and checking the files…")
def _cached_set(key: str, _source: DataSource) -> PredictionSet:
    """The source's prediction set; ``key`` is ``_source.key`` (a content hash)."""
    return _frozen(load_source(_source))


@st.cache_resource(max_entries=16, show_spinner=False)
def _cached_evaluator(key: str, included: tuple[str, ...], _full: PredictionSet) -> EnsembleEvaluator:
    """The evaluator over the included models; weights-independent work happens here once."""
    pset = _full if included == _full.names else _frozen(_full.select(list(included)))
    return EnsembleEvaluator(pset)


@st.cache_data(max_entries=16, show_spinner="Comparing every pair of models…")
def _cached_diversity(key: str, included: tuple[str, ...], _evaluator: EnsembleEvaluator) -> DiversityMatrices:
    return diversity_matrices(_evaluator.pset, _evaluator.labels_)


@st.cache_resource(max_entries=8, show_spinner="Temperature-scaling each model (cross-fitted)…")
def cached_calibration(key: str, _pset: PredictionSet) -> CalibrationResult:
    """Cross-fitted temperature scaling of every model of ``_pset`` (as loaded); ``key`` is its content key."""
    cal = cross_fit_temperatures(_pset.probas, _pset.y_true, hard=_pset.hard, folds=FOLDS, seed=SEED)
    _read_only(cal.probas, cal.temperatures, cal.fold_temperatures, cal.ece_before, cal.ece_after)
    return cal


@st.cache_resource(max_entries=4, show_spinner=False)
def _cached_calibrated_set(key: str, _full: PredictionSet) -> PredictionSet:
    """The set with every model temperature-scaled, each example with a temperature fitted without it."""
    cal = cached_calibration(key, _full)
    return _frozen(PredictionSet(cal.probas, _full.y_true, _full.classes, _full.names, hard=_full.hard,
                                 ids=_full.ids, content=_full.content, smoothing=_full.smoothing))


@st.cache_data(max_entries=16, show_spinner=False)
def cached_suggestion(key: str, included: tuple[str, ...], method: str, calibrate: bool,
                      _pset: PredictionSet) -> WeightSuggestion:
    """``key`` is the data's content hash; ``_pset`` holds the ``included`` models."""
    return suggest_weights(_pset, method, folds=FOLDS, seed=SEED, calibrate=calibrate)


@st.cache_data(max_entries=12, show_spinner=False)
def cached_landscape(key: str, included: tuple[str, ...], strategy: str, _pset: PredictionSet) -> Landscape:
    """Accuracy (and log loss) over every weighting of two or three models; ``key`` as above."""
    resolution = LINE_RESOLUTION if _pset.n_models == 2 else TERNARY_RESOLUTION
    return simplex_landscape(_pset.probas, _pset.y_true, strategy=strategy, resolution=resolution,
                             names=_pset.names, with_log_loss=has_log_loss(_pset))


@st.cache_data(max_entries=16, show_spinner="Scoring every subset of the models…")
def _cached_subset_accuracies(key: str, names: tuple[str, ...], weights: tuple[float, ...],
                              _pset: PredictionSet) -> SubsetAccuracies:
    return subset_accuracies(_pset, weights)


@st.cache_data(max_entries=16, show_spinner="Scoring every subset of the models…")
def _cached_greedy_frontier(key: str, names: tuple[str, ...], weights: tuple[float, ...], costs: tuple[float, ...],
                            _pset: PredictionSet) -> Frontier:
    return cost_accuracy_frontier(_pset, costs, weights)


def cached_frontier(key: str, names: tuple[str, ...], weights: tuple[float, ...], costs: tuple[float, ...],
                    _pset: PredictionSet) -> Frontier:
    """The cost–accuracy frontier of ``_pset`` (models ``names``); ``key`` is the data's content hash.
    Up to :data:`~ensemble_core.deploy.frontier.EXHAUSTIVE_MAX_MODELS` models the subsets' accuracies
    are cached by the weights alone, so a typed cost only re-prices them (milliseconds)."""
    if len(names) <= EXHAUSTIVE_MAX_MODELS:
        return frontier_for_costs(_cached_subset_accuracies(key, names, weights, _pset), costs)
    return _cached_greedy_frontier(key, names, weights, costs, _pset)


@dataclass(frozen=True, eq=False)
class Loaded:
    """What is loaded now: the source, an evaluator over all its models, and one
    over the models included in the ensemble.

    With temperature-scaled members on, both evaluators see the calibrated
    probabilities, ``key`` says so, and ``raw`` is the same view of the models as loaded.
    """

    source: DataSource
    key: str
    full: EnsembleEvaluator
    evaluator: EnsembleEvaluator
    raw: Loaded | None = None

    @property
    def calibrated(self) -> bool:
        return self.raw is not None

    @property
    def as_loaded(self) -> Loaded:
        """This view with the models' probabilities as loaded (itself when not calibrated)."""
        return self.raw or self

    @property
    def pset(self) -> PredictionSet:
        return self.evaluator.pset

    @property
    def excluded(self) -> list[str]:
        return [n for n in self.full.pset.names if n not in self.pset.names]

    def diversity(self) -> DiversityMatrices:
        return _cached_diversity(self.key, self.pset.names, self.evaluator)


@st.cache_resource(show_spinner=False)
def kept_data() -> KeptData:
    """The one store of the users' own data for reloads, shared by every session (it locks)."""
    return KeptData()


def prediction_set(source: DataSource) -> PredictionSet:
    """The source's prediction set, read once (raises :class:`~ensemble_core.EnsembleInputError`)."""
    return _cached_set(source.key, source)


@st.cache_resource(max_entries=4, show_spinner=False)
def _cached_smoothed_set(key: str, smoothing: float, _full: PredictionSet) -> PredictionSet:
    """The set with its labels-only models label-smoothed with ``smoothing`` instead."""
    return _frozen(smooth_labels_only(_full, smoothing))


def loaded_for(source: DataSource, view: View) -> Loaded:
    """The evaluators for a source and the view's included models, labels-only models' label
    smoothing and temperature scaling."""
    key = source.key
    full = _cached_set(key, source)
    if full.hard.any() and view.smoothing != full.smoothing:
        full = _cached_smoothed_set(key, view.smoothing, full)
        key = f"{key}|smoothing={view.smoothing:g}"
    included = view.included(full.names)
    loaded = Loaded(source=source, key=key, full=_cached_evaluator(key, full.names, full),
                    evaluator=_cached_evaluator(key, included, full))
    if not view.calibrated:
        return loaded
    calibrated = _cached_calibrated_set(key, full)
    cal_key = f"{key}|temperature-scaled"
    return Loaded(source=source, key=cal_key, full=_cached_evaluator(cal_key, full.names, calibrated),
                  evaluator=_cached_evaluator(cal_key, included, calibrated), raw=loaded)
