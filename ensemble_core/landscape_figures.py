"""Plotly figures for the tuning tools: landscape, sweeps, selection path, reliability.

Pure functions from results to ``plotly.graph_objects.Figure``; no Streamlit, so they
are tested without a UI and a page only passes them its data. Model names go through
:func:`~ensemble_core.figures.plain_text` (plotly renders HTML links in its texts).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import plotly.graph_objects as go

from .calibration import CalibrationResult
from .figures import LEGEND_ABOVE, loss_axis, model_colours, plain_text, share_axis
from .landscape import Landscape, WeightSweeps
from .weight_search import SelectionStep

LandscapeMetric = Literal["accuracy", "log_loss"]
_TITLES = {"accuracy": "accuracy", "log_loss": "log loss"}
#: A clicked (selected) point and the others look as before the click.
_KEEP_LOOK_WHEN_SELECTED = {"selected": {"marker": {"opacity": 1}}, "unselected": {"marker": {"opacity": 1}}}
#: The hover and colour-bar number format of each metric.
_FORMATS = {"accuracy": ".2%", "log_loss": ".4f"}


def _axis(metric: LandscapeMetric, values: np.ndarray) -> dict:
    return share_axis(values) if metric == "accuracy" else loss_axis(values)


def _values(land: Landscape | WeightSweeps, metric: LandscapeMetric) -> np.ndarray:
    values = getattr(land, metric)
    if values is None:
        raise ValueError(f"this landscape has no {metric} ({land.strategy} voting); use metric='accuracy'")
    return values


def _point(weights: Sequence[float] | np.ndarray | None, n: int) -> np.ndarray | None:
    if weights is None:
        return None
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or w.sum() <= 0:
        raise ValueError(f"a marked point needs {n} weights with a positive sum; got {w.tolist()}")
    return w / w.sum()


def ternary_figure(
    land: Landscape,
    *,
    metric: LandscapeMetric = "accuracy",
    current: Sequence[float] | np.ndarray | None = None,
    suggested: Sequence[float] | np.ndarray | None = None,
) -> go.Figure:
    """A ternary heatmap of ``metric`` over three models' weights, with points marked.

    Every grid point, and every mark, carries its three weights as ``customdata``: a click on
    one (Streamlit returns clicks on scatter markers) says which weighting it is. They are plain
    lists: a NumPy array would reach the browser as a typed array, whose rows a click returns as
    ``{"0": a, "1": b, "2": c}``. A selected point keeps the look of the others (Plotly would dim
    every unselected point).

    Parameters
    ----------
    land : Landscape of three models
    current, suggested : three weights each (normalised here), drawn as a circle and a star
    """
    if land.weights.shape[1] != 3:
        raise ValueError(f"a ternary figure needs a three-model landscape; got {land.weights.shape[1]} models")
    values = _values(land, metric)
    best = int(np.argmax(values) if metric == "accuracy" else np.argmin(values))
    a, b, c = land.weights.T
    names = [plain_text(n) for n in land.names]
    fig = go.Figure(
        go.Scatterternary(
            a=a, b=b, c=c, mode="markers", name=_TITLES[metric],
            marker={"color": values, "colorscale": "Viridis" if metric == "accuracy" else "Viridis_r",
                    "symbol": "hexagon", "size": max(4, 300 // land.resolution),
                    "colorbar": {"title": _TITLES[metric], "tickformat": _axis(metric, values)["tickformat"]},
                    "line": {"width": 0}},
            customdata=land.weights.tolist(), **_KEEP_LOOK_WHEN_SELECTED,
            hovertemplate=(f"{names[0]} %{{a:.2f}}<br>{names[1]} %{{b:.2f}}<br>{names[2]} %{{c:.2f}}<br>"
                           f"{_TITLES[metric]} %{{marker.color:{_FORMATS[metric]}}}<extra></extra>"),
        )
    )
    add_ternary_marks(fig, land.weights[best], current=current, suggested=suggested)
    fig.update_layout(
        title=f"{land.strategy} voting: {_TITLES[metric]} over the weights",
        ternary={"aaxis": {"title": names[0]}, "baxis": {"title": names[1]}, "caxis": {"title": names[2]}},
        legend={"orientation": "h"},
    )
    return fig


def add_ternary_marks(
    fig: go.Figure,
    best: np.ndarray,
    *,
    current: Sequence[float] | np.ndarray | None = None,
    suggested: Sequence[float] | np.ndarray | None = None,
) -> None:
    """Mark the best grid point, and the current and suggested weights (normalised here), on a ternary
    figure; each mark's ``customdata`` is its weights."""
    # Black: a white marker vanishes on the bright end of Viridis, which is where the best point lies.
    marks = [("best on the grid", best, "diamond-open", "black")]
    for label, w, symbol in [("current", current, "circle-open"), ("suggested", suggested, "star")]:
        p = _point(w, 3)
        if p is not None:
            marks.append((label, p, symbol, "red"))
    for label, p, symbol, color in marks:
        fig.add_trace(go.Scatterternary(
            a=[p[0]], b=[p[1]], c=[p[2]], mode="markers", name=label, customdata=[list(map(float, p))],
            marker={"symbol": symbol, "size": 16, "color": color, "line": {"width": 2, "color": color}},
            **_KEEP_LOOK_WHEN_SELECTED,
        ))


def line_figure(
    land: Landscape,
    *,
    current: float | None = None,
    suggested: float | None = None,
) -> go.Figure:
    """Accuracy (and log loss, on a second axis) along two models' weights.

    ``current`` and ``suggested`` are the first model's weight, drawn as vertical lines.
    """
    if land.weights.shape[1] != 2:
        raise ValueError(f"a line figure needs a two-model landscape; got {land.weights.shape[1]} models")
    x = land.weights[:, 0]
    fig = go.Figure(go.Scatter(x=x, y=land.accuracy, name="accuracy", mode="lines",
                               hovertemplate="%{y:.2%}<extra>accuracy</extra>"))
    if land.log_loss is not None:
        fig.add_trace(go.Scatter(x=x, y=land.log_loss, name="log loss", mode="lines", yaxis="y2",
                                 line={"dash": "dot"}, hovertemplate="%{y:.4f}<extra>log loss</extra>"))
        fig.update_layout(yaxis2={"title": "log loss", "overlaying": "y", "side": "right", "tickmode": "auto",
                                  **loss_axis(land.log_loss)}, legend=LEGEND_ABOVE)
    for label, w, dash in [("current", current, "solid"), ("suggested", suggested, "dash")]:
        if w is not None:
            fig.add_vline(x=float(w), line_dash=dash, annotation_text=label)
    first, second = plain_text(land.names[0]), plain_text(land.names[1])
    fig.update_layout(
        title=f"{land.strategy} voting along the weights of {first} and {second}",
        xaxis={"title": f"weight of {first} (the rest on {second})", "range": [0, 1]},
        yaxis={"title": "accuracy", **share_axis(land.accuracy)},
    )
    return fig


def sweep_figure(
    sweeps: WeightSweeps, *, metric: LandscapeMetric = "accuracy", colours: dict[str, str] | None = None
) -> go.Figure:
    """One curve per model: ``metric`` as its weight goes 0 → 1, the others keeping their shares.

    Each curve's marker is the current weights, where all curves meet in value. A model's curve and
    marker have its colour (``colours``: :func:`~ensemble_core.figures.model_colours` of every loaded
    model; default: of these), not the next in Plotly's cycle: with a marker trace per model, six
    models used up its ten colours and two drew in the same blue.
    """
    values = _values(sweeps, metric)
    colours = colours or model_colours(sweeps.names)
    fig = go.Figure()
    for m, raw in enumerate(sweeps.names):
        name, colour = plain_text(raw), colours[raw]
        fig.add_trace(go.Scatter(x=sweeps.grid, y=values[m], mode="lines", name=name, legendgroup=name,
                                 line={"color": colour},
                                 hovertemplate=f"weight %{{x:.2f}}: %{{y:{_FORMATS[metric]}}}<extra>{name}</extra>"))
        here = float(np.interp(sweeps.current[m], sweeps.grid, values[m]))
        fig.add_trace(go.Scatter(x=[sweeps.current[m]], y=[here], mode="markers", legendgroup=name,
                                 showlegend=False, marker={"size": 9, "color": colour}, name=f"{name} now"))
    fig.update_layout(
        title=f"{sweeps.strategy} voting: each weight swept around the current point",
        xaxis={"title": "the swept model's weight", "range": [0, 1]},
        yaxis={"title": _TITLES[metric], **_axis(metric, values)},
    )
    return fig


def selection_path_figure(path: Sequence[SelectionStep], names: Sequence[str], *, n_kept: int | None = None) -> go.Figure:
    """Ensemble selection round by round: the metrics after each pick, labelled with the model."""
    rounds = np.arange(1, len(path) + 1)
    picked = [plain_text(names[s.model]) for s in path]
    fig = go.Figure(go.Scatter(x=rounds, y=[s.log_loss for s in path], mode="lines+markers", name="log loss",
                               text=picked, hovertemplate="round %{x}: +%{text}<br>log loss %{y:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=rounds, y=[s.accuracy for s in path], mode="lines+markers", name="accuracy",
                             yaxis="y2", text=picked,
                             hovertemplate="round %{x}: +%{text}<br>accuracy %{y:.4f}<extra></extra>"))
    if n_kept:
        fig.add_vline(x=n_kept, line_dash="dash", annotation_text="weights from here back")
    fig.update_layout(
        title="ensemble selection path", xaxis={"title": "round (one model added per round)"},
        yaxis={"title": "log loss", **loss_axis([s.log_loss for s in path])},
        yaxis2={"title": "accuracy", "overlaying": "y", "side": "right", "tickmode": "auto",
                **share_axis([s.accuracy for s in path])},
        legend=LEGEND_ABOVE,
    )
    return fig


def reliability_figure(cal: CalibrationResult, names: Sequence[str], model: int) -> go.Figure:
    """One model's reliability diagram before and after temperature scaling (cross-fitted)."""
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                               line={"dash": "dot", "color": "grey"}))
    t = cal.temperatures[model]
    for label, curve, ece in [("before", cal.before[model], cal.ece_before[model]),
                              (f"after (T = {t:.2f})", cal.after[model], cal.ece_after[model])]:
        keep = curve.count > 0
        fig.add_trace(go.Scatter(
            x=curve.mean_confidence[keep], y=curve.accuracy[keep], mode="lines+markers",
            name=f"{label}, ECE {ece:.3f}", customdata=curve.count[keep],
            hovertemplate="confidence %{x:.2f}<br>accuracy %{y:.2f}<br>%{customdata} examples<extra></extra>",
        ))
    fig.update_layout(title=f"reliability of {plain_text(names[model])}",
                      xaxis={"title": "confidence", "range": [0, 1]},
                      yaxis={"title": "accuracy", "range": [0, 1]})
    return fig
