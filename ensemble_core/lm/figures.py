"""Plotly figures for language-model fusion: no Streamlit, so a page only passes them its data.

Model names go through :func:`ensemble_core.figures.plain_text` (plotly renders HTML in its texts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from ..figures import plain_text
from ..landscape_figures import _point, add_ternary_marks
from .landscape import LMLandscape
from .pools import LMMetrics


def weight_curve_figure(
    land: LMLandscape,
    *,
    current: Sequence[float] | np.ndarray | None = None,
    suggested: Sequence[float] | np.ndarray | None = None,
) -> go.Figure:
    """Perplexity (and accuracy, on a second axis) along two models' weights.

    Parameters
    ----------
    land : LMLandscape of two models
    current, suggested : two weights each, drawn as vertical lines at the first model's share
    """
    if land.weights.shape[1] != 2:
        raise ValueError(f"a weight curve needs two models; got {land.weights.shape[1]}")
    x = land.weights[:, 0]
    fig = go.Figure(go.Scatter(x=x, y=land.perplexity, name="perplexity", mode="lines"))
    fig.add_trace(go.Scatter(x=x, y=land.accuracy, name="top-1 accuracy", mode="lines", yaxis="y2",
                             line={"dash": "dot"}))
    for label, w, dash in [("current", current, "solid"), ("suggested", suggested, "dash")]:
        p = _point(w, 2)
        if p is not None:
            fig.add_vline(x=float(p[0]), line_dash=dash, annotation_text=label)
    first, second = plain_text(land.names[0]), plain_text(land.names[1])
    fig.update_layout(
        title=f"{land.pool} pool along the weights of {first} and {second}",
        xaxis={"title": f"weight of {first} (the rest on {second})", "range": [0, 1]},
        yaxis={"title": "perplexity (lower is better)"},
        yaxis2={"title": "top-1 accuracy", "overlaying": "y", "side": "right"},
        legend={"orientation": "h", "yanchor": "top", "y": -0.22},  # below the axis title, not over it
    )
    return fig


def simplex_figure(
    land: LMLandscape,
    *,
    current: Sequence[float] | np.ndarray | None = None,
    suggested: Sequence[float] | np.ndarray | None = None,
) -> go.Figure:
    """A ternary heatmap of perplexity over three models' weights, the best grid point and
    the current and suggested weights marked."""
    if land.weights.shape[1] != 3:
        raise ValueError(f"a simplex figure needs three models; got {land.weights.shape[1]}")
    names = [plain_text(n) for n in land.names]
    a, b, c = land.weights.T
    fig = go.Figure(go.Scatterternary(
        a=a, b=b, c=c, mode="markers", name="perplexity",
        marker={"color": land.perplexity, "colorscale": "Viridis_r", "symbol": "hexagon",
                "size": max(4, 300 // land.resolution), "colorbar": {"title": "perplexity"}, "line": {"width": 0}},
        customdata=land.accuracy,
        hovertemplate=(f"{names[0]} %{{a:.2f}}<br>{names[1]} %{{b:.2f}}<br>{names[2]} %{{c:.2f}}<br>"
                       "perplexity %{marker.color:.3f}<br>accuracy %{customdata:.4f}<extra></extra>"),
    ))
    add_ternary_marks(fig, land.best, current=current, suggested=suggested)
    fig.update_layout(
        title=f"{land.pool} pool: perplexity over the weights",
        ternary={"aaxis": {"title": names[0]}, "baxis": {"title": names[1]}, "caxis": {"title": names[2]}},
        legend={"orientation": "h"},
    )
    return fig


def model_metrics_figure(fused: LMMetrics, models: Mapping[str, LMMetrics], *, pool: str) -> go.Figure:
    """Perplexity of each model and of the fusion, as bars (accuracy in the hover)."""
    labels = [f"fused ({plain_text(pool)})"] + [plain_text(n) for n in models]
    metrics = [fused, *models.values()]
    fig = go.Figure(go.Bar(
        x=labels, y=[m.perplexity for m in metrics], customdata=[[m.accuracy, m.bits_per_byte] for m in metrics],
        marker={"color": ["crimson"] + ["steelblue"] * len(models)},
        hovertemplate="%{x}<br>perplexity %{y:.3f}<br>accuracy %{customdata[0]:.4f}<br>"
                      "bits per byte %{customdata[1]:.4f}<extra></extra>",
    ))
    fig.update_layout(title="perplexity of each model and of the fusion", yaxis={"title": "perplexity (lower is better)"})
    return fig
