"""What the user has chosen, as one frozen value, and its shareable URL form.

A :class:`View` holds every choice a page reads: the demo, strategy, meta-learner,
weights by model name, left-out models, the model compared with the ensemble, the
selected example and confusion cell, temperature-scaled members and the suggestion's
method. It knows nothing of Streamlit: :func:`from_query` reads a shared link's query
parameters, :func:`to_query` writes them, and :func:`valid_for` drops whatever names a
model, example or class the loaded data does not have, so no stale choice can reach a
page. The option names come from :mod:`ensemble_core.registry`.

Examples
--------
>>> view, notes = from_query({"strategy": "hard", "w": ["knn:2", "mlp:x"]})
>>> view.strategy, view.weight("knn"), view.weight("forest")
('hard', 2.0, 1.0)
>>> notes
["weight 'mlp:x' in the link is not name:number; ignored"]
>>> to_query(view)
{'strategy': 'hard', 'w': ['knn:2']}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from ensemble_core.demo import DEMOS
from ensemble_core.predictions import PredictionSet
from ensemble_core.registry import (
    LABELS_ONLY_SMOOTHING,
    LABELS_ONLY_SMOOTHING_RANGE,
    META_LEARNERS,
    METHODS,
    STRATEGIES,
    strategy,
)
from ensemble_core.report.slices import CLASS_SLICING, MAX_BINS

DEFAULT_STRATEGY = "soft"
DEFAULT_META = META_LEARNERS[0]
DEFAULT_METHOD = METHODS[0]
DEFAULT_WEIGHT = 1.0
WEIGHT_MAX = 3.0
WEIGHT_STEP = 0.1
#: Quantile bins of a numeric column or a text's length on the Slices page, unless the link says otherwise.
DEFAULT_BINS = 4
#: The confusion matrices a cell can be picked in; "difference" lists the examples either side predicts so.
CHARTS: tuple[str, ...] = ("ensemble", "model", "difference")

#: What a key to the user's own data kept on this machine looks like (``secrets.token_urlsafe``).
OWN_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")

Chart = Literal["ensemble", "model", "difference"]
Query = dict[str, str | list[str]]


def snap_weight(weight: float) -> float:
    """A weight on the sliders' grid (steps of :data:`WEIGHT_STEP`), without float noise.

    >>> snap_weight(0.26), snap_weight(3 * 0.1)
    (0.3, 0.3)
    """
    return round(round(float(weight) / WEIGHT_STEP) * WEIGHT_STEP, 10)


@dataclass(frozen=True)
class Cell:
    """A confusion-matrix cell: which chart, and the true and predicted class indices."""

    chart: Chart
    true: int
    pred: int


@dataclass(frozen=True)
class View:
    """Everything the user has chosen (see the module docstring).

    ``weights`` holds ``(model name, raw slider weight)`` pairs; a model without one
    weighs :data:`DEFAULT_WEIGHT`. ``example`` is the selected example's id (its row
    number from 1 when the data has no ids), as in the URL. ``method`` and
    ``calibrate_suggestion`` are the "Suggest weights" controls. ``slice_by`` (a content
    column, or ``"label"`` for the true class) and ``bins`` are the Slices page's slicing;
    ``slice`` is the slice chosen there, which filters the Disagreement page. ``smoothing`` is
    the ε labels-only models' one-hot rows are label-smoothed with (:mod:`ensemble_core.labels_only`).
    ``own`` is the key under which this machine keeps the data the user loaded (uploaded, read by
    path or scored; see :mod:`dashboard.kept`), so a reload brings it back; ``data`` names a demo.
    """

    data: str | None = None
    own: str | None = None
    strategy: str = DEFAULT_STRATEGY
    meta: str = DEFAULT_META
    weights: tuple[tuple[str, float], ...] = ()
    off: tuple[str, ...] = ()
    compare: str | None = None
    example: str | None = None
    cell: Cell | None = None
    calibrated: bool = False
    method: str = DEFAULT_METHOD
    calibrate_suggestion: bool = False
    slice_by: str | None = None
    bins: int = DEFAULT_BINS
    slice: str | None = None
    smoothing: float = LABELS_ONLY_SMOOTHING

    def weight(self, name: str) -> float:
        """The raw weight of model ``name``."""
        return dict(self.weights).get(name, DEFAULT_WEIGHT)

    def weights_for(self, names: Iterable[str]) -> list[float]:
        """The raw weights of ``names``, in that order."""
        by_name = dict(self.weights)
        return [float(by_name.get(n, DEFAULT_WEIGHT)) for n in names]

    def with_weights(self, weights: Mapping[str, float]) -> View:
        """This view with ``weights`` set (others kept), each snapped to the sliders' grid."""
        merged = {**dict(self.weights), **{n: snap_weight(w) for n, w in weights.items()}}
        return replace(self, weights=tuple(merged.items()))

    def included(self, names: Sequence[str]) -> tuple[str, ...]:
        """The models of ``names`` in the ensemble, in that order (all when every one is left out)."""
        kept = tuple(n for n in names if n not in self.off)
        return kept or tuple(names)

    @property
    def uses_weights(self) -> bool:
        """Whether the strategy counts the weights (stacking learns its own, with the meta-learner)."""
        return strategy(self.strategy).uses_weights


def _values(params: Mapping[str, str | Sequence[str]], key: str) -> list[str]:
    value = params.get(key)
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _last(params: Mapping[str, str | Sequence[str]], key: str) -> str | None:
    values = _values(params, key)
    return values[-1] if values else None


def _parse_weights(items: list[str], notes: list[str]) -> tuple[tuple[str, float], ...]:
    weights: dict[str, float] = {}
    for item in items:
        name, colon, value = item.rpartition(":")
        try:
            weight = float(value) if colon else None
        except ValueError:
            weight = None
        if weight is None:
            notes.append(f"weight {item!r} in the link is not name:number; ignored")
        elif not 0 <= weight <= WEIGHT_MAX:
            notes.append(f"weight {weight:g} for {name!r} in the link is outside 0–{WEIGHT_MAX:g}; ignored")
        else:
            weights[name] = snap_weight(weight)
    return tuple(weights.items())


def _parse_cell(text: str, notes: list[str]) -> Cell | None:
    chart, _, rest = text.partition(":")
    true, _, pred = rest.partition(":")
    if chart in CHARTS and true.isdigit() and pred.isdigit():
        return Cell(chart, int(true), int(pred))  # type: ignore[arg-type]
    notes.append(f"cell {text!r} in the link is not chart:true:predicted (chart one of {', '.join(CHARTS)}); "
                 "ignored")
    return None


def _choice(params, key: str, choices: tuple[str, ...], what: str, default: str, notes: list[str]) -> str:
    value = _last(params, key)
    if value is None:
        return default
    if value not in choices:
        notes.append(f"unknown {what} {value!r} in the link; using {default}")
        return default
    return value


def _flag(params, key: str, what: str, notes: list[str]) -> bool:
    value = _last(params, key)
    if value is None or value in ("0", "1"):
        return value == "1"
    notes.append(f"{key}={value!r} in the link is not 0 or 1; {what}")
    return False


def _bins(params, notes: list[str]) -> int:
    value = _last(params, "bins")
    if value is None:
        return DEFAULT_BINS
    if value.isdigit() and 2 <= int(value) <= MAX_BINS:
        return int(value)
    notes.append(f"bins={value!r} in the link is not a whole number from 2 to {MAX_BINS}; using {DEFAULT_BINS}")
    return DEFAULT_BINS


def _smoothing(params, notes: list[str]) -> float:
    value = _last(params, "eps")
    if value is None:
        return LABELS_ONLY_SMOOTHING
    low, high = LABELS_ONLY_SMOOTHING_RANGE
    try:
        eps = float(value)
    except ValueError:
        eps = float("nan")
    if low <= eps <= high:
        return eps
    notes.append(f"eps={value!r} in the link is not a label smoothing from {low:g} to {high:g}; "
                 f"using {LABELS_ONLY_SMOOTHING:g}")
    return LABELS_ONLY_SMOOTHING


def from_query(params: Mapping[str, str | Sequence[str]]) -> tuple[View, list[str]]:
    """A shared link's query parameters as a view, and a note per part that could not be used.

    Parameters
    ----------
    params : mapping of parameter name to its value or values (repeated parameters:
        ``w``, ``off``), as :func:`to_query` writes them. Unknown names are ignored.

    Returns
    -------
    (View, list of str)
        The view (defaults where a part is missing or wrong) and one note per wrong
        part, naming it, for the page to show as text.

    Examples
    --------
    >>> view, notes = from_query({"strategy": "magic", "cal": "1", "off": ["nb"]})
    >>> view.strategy, view.calibrated, view.off
    ('soft', True, ('nb',))
    >>> notes
    ["unknown strategy 'magic' in the link; using soft"]
    """
    notes: list[str] = []
    data = _last(params, "data")
    if data is not None and data not in DEMOS:
        notes.append(f"the link names data {data!r}, which is not a bundled demo")
        data = None
    own = _last(params, "own") or None
    if own is not None and not OWN_KEY.fullmatch(own):
        notes.append("the link's key to its author's own data is malformed; ignored")
        own = None
    chosen = _choice(params, "strategy", STRATEGIES, "strategy", DEFAULT_STRATEGY, notes)
    meta = _choice(params, "meta", META_LEARNERS, "meta-learner", DEFAULT_META, notes)
    method = _choice(params, "suggest", METHODS, "weight-suggestion method", DEFAULT_METHOD, notes)
    cell = _last(params, "cell")
    slice_by = _last(params, "slice_by") or None
    chosen_slice = _last(params, "slice") or None
    if chosen_slice is not None and slice_by is None:
        notes.append(f"the link names slice {chosen_slice!r} without slice_by; ignored")
        chosen_slice = None
    view = View(
        data=data,
        own=own,
        strategy=chosen,
        meta=meta,
        weights=_parse_weights(_values(params, "w"), notes),
        off=tuple(_values(params, "off")),
        compare=_last(params, "vs") or None,
        example=_last(params, "example") or None,
        cell=None if cell is None else _parse_cell(cell, notes),
        calibrated=_flag(params, "cal", "the models are used as loaded", notes),
        method=method,
        calibrate_suggestion=_flag(params, "suggest_cal", "suggestions use the models as loaded", notes),
        slice_by=slice_by,
        bins=_bins(params, notes),
        slice=chosen_slice,
        smoothing=_smoothing(params, notes),
    )
    return view, notes


def to_query(view: View) -> Query:
    """The view as query parameters: ``data`` (a demo), ``own`` (the key to the user's own
    data kept on this machine), ``strategy``, ``meta`` (when
    stacking or not the default), ``cal=1`` (temperature-scaled members), ``w``
    (``name:weight``, repeated), ``off`` (left-out models, repeated), ``vs`` (compared
    model), ``example`` (id, or row number from 1), ``cell`` (``chart:true:predicted``
    class indices), ``suggest`` and ``suggest_cal=1`` (the suggestion's method and
    calibration, when not the defaults), ``slice_by``, ``bins`` (when not the default) and
    ``slice`` (with ``slice_by`` only), ``eps`` (labels-only models' label smoothing, when not the
    default). ``from_query(to_query(v)) == (v, [])`` for
    every valid view.
    """
    params: Query = {}
    if view.data is not None:
        params["data"] = view.data
    if view.own is not None:
        params["own"] = view.own
    params["strategy"] = view.strategy
    if not view.uses_weights or view.meta != DEFAULT_META:
        params["meta"] = view.meta
    if view.calibrated:
        params["cal"] = "1"
    if view.weights:
        params["w"] = [f"{name}:{weight:g}" for name, weight in view.weights]
    if view.off:
        params["off"] = list(view.off)
    if view.compare is not None:
        params["vs"] = view.compare
    if view.example is not None:
        params["example"] = view.example
    if view.cell is not None:
        params["cell"] = f"{view.cell.chart}:{view.cell.true}:{view.cell.pred}"
    if view.method != DEFAULT_METHOD:
        params["suggest"] = view.method
    if view.calibrate_suggestion:
        params["suggest_cal"] = "1"
    if view.slice_by is not None:
        params["slice_by"] = view.slice_by
        if view.slice is not None:
            params["slice"] = view.slice
    if view.bins != DEFAULT_BINS:
        params["bins"] = str(view.bins)
    if view.smoothing != LABELS_ONLY_SMOOTHING:
        params["eps"] = f"{view.smoothing:g}"
    return params


def example_row(pset: PredictionSet, example: str | None) -> int | None:
    """The row of the example a view names (its id, or its row number from 1 when the
    set has no ids); None when there is none such."""
    if example is None:
        return None
    if pset.ids is not None:
        hits = (pset.ids == example).nonzero()[0]
        return int(hits[0]) if len(hits) else None
    if example.isdigit() and 1 <= int(example) <= pset.n_samples:
        return int(example) - 1
    return None


def example_name(pset: PredictionSet, row: int) -> str:
    """How a view names the example at ``row``: its id, else its row number from 1."""
    return str(pset.ids[row]) if pset.ids is not None else str(row + 1)


def valid_for(view: View, pset: PredictionSet) -> tuple[View, list[str]]:
    """The view with every choice the data does not have dropped, and a note per drop.

    Weights and the compared model must name a model of ``pset``; left-out models too,
    and at least one model stays in; the example must be one of its examples and the
    cell's classes among its classes; the slicing's column one of its content columns (or the class).

    Parameters
    ----------
    view : View
    pset : PredictionSet
        All the loaded models (not only those included).

    Examples
    --------
    >>> import numpy as np
    >>> pset = PredictionSet(np.full((2, 3, 2), 0.5), np.array([0, 1, 0]), np.array(["a", "b"]), ("m", "n"))
    >>> view, notes = valid_for(View(off=("m", "n"), cell=Cell("ensemble", 9, 8), example="3"), pset)
    >>> view.off, view.cell, view.example
    ((), None, '3')
    >>> notes[1]
    'the selected confusion cell (9, 8) is not in this data (2 classes); cleared'
    """
    names = set(pset.names)
    notes: list[str] = []
    weights = []
    for name, weight in view.weights:
        if name in names:
            weights.append((name, weight))
        else:
            notes.append(f"the link gives a weight for {name!r}, which is not loaded; ignored")
    for name in view.off:
        if name not in names:
            notes.append(f"the link leaves out {name!r}, which is not loaded; ignored")
    off = tuple(n for n in pset.names if n in view.off)
    if off and len(off) == len(pset.names):
        notes.append("the link leaves out every model; all are included")
        off = ()
    compare = view.compare
    if compare is not None and compare not in names:
        notes.append(f"the link compares with {compare!r}, which is not loaded")
        compare = None
    example = view.example
    if example is not None and example_row(pset, example) is None:
        notes.append(f"example {example!r} from the link is not in the loaded data")
        example = None
    cell = view.cell
    if cell is not None and max(cell.true, cell.pred) >= pset.n_classes:
        notes.append(f"the selected confusion cell ({cell.true}, {cell.pred}) is not in this data "
                     f"({pset.n_classes} classes); cleared")
        cell = None
    slice_by, chosen_slice = view.slice_by, view.slice
    columns = [CLASS_SLICING] + ([] if pset.content is None else [str(c) for c in pset.content.columns])
    if slice_by is not None and slice_by not in columns:
        notes.append(f"the link slices by {slice_by!r}, which is not a column of this data; cleared")
        slice_by = chosen_slice = None
    valid = replace(view, weights=tuple(weights), off=off, compare=compare, example=example, cell=cell,
                    slice_by=slice_by, slice=chosen_slice)
    return valid, notes
