"""The interpolation curve as a figure: weight space against output space, the barrier marked."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..figures import plain_text
from .interpolate import InterpolationCurve

#: Below this accuracy drop (a share) the figure marks no barrier, as ``describe_barrier`` says none.
BARRIER_SHOWN = 0.01


def interpolation_figure(curve: InterpolationCurve, names: tuple[str, str] | None = None) -> go.Figure:
    """Accuracy (left) and log loss (right) along α for the weight-space model θ(α) and the
    output-space soft vote, with the straight line between the end points and the barrier.

    Parameters
    ----------
    curve : from :func:`~ensemble_core.merge.interpolate.interpolation_curve`
    names : the two models' names for the axis (default: their folders' names)

    Examples
    --------
    >>> interpolation_figure(curve).data[0].name  # doctest: +SKIP
    'weights averaged (one model)'
    """
    a, b = (plain_text(n) for n in (names or tuple(m.rstrip("/").rsplit("/", 1)[-1] for m in curve.models)))
    alphas = list(curve.alphas)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("accuracy (higher is better)", "log loss (lower is better)"))
    for col, metric in ((1, "accuracy"), (2, "log_loss")):
        weights, outputs = getattr(curve.weight_space, metric), getattr(curve.output_space, metric)
        first = col == 1
        fig.add_trace(go.Scatter(x=alphas, y=list(weights), name="weights averaged (one model)", mode="lines+markers",
                                 line={"color": "#1f77b4"}, legendgroup="w", showlegend=first), row=1, col=col)
        fig.add_trace(go.Scatter(x=alphas, y=list(outputs), name="outputs averaged (both models run)",
                                 mode="lines+markers", line={"color": "#ff7f0e", "dash": "dash"}, legendgroup="o",
                                 showlegend=first), row=1, col=col)
        fig.add_trace(go.Scatter(x=[0.0, 1.0], y=[weights[0], weights[-1]], name="straight line between the ends",
                                 mode="lines", line={"color": "#7f7f7f", "dash": "dot", "width": 1}, legendgroup="l",
                                 showlegend=first, hoverinfo="skip"), row=1, col=col)
    barrier = curve.barrier
    if barrier.accuracy > BARRIER_SHOWN:
        k = alphas.index(barrier.alpha)
        fig.add_trace(go.Scatter(
            x=[barrier.alpha, barrier.alpha], y=[curve.weight_space.accuracy[k], curve.weight_space.accuracy[k]
                                                 + barrier.accuracy],
            name=f"barrier: {100 * barrier.accuracy:.1f} points", mode="lines+markers",
            line={"color": "#d62728", "width": 3}, marker={"symbol": "line-ew-open", "size": 12}), row=1, col=1)
    fig.update_xaxes(title_text=f"α (0 = {a}, 1 = {b})", range=[-0.02, 1.02])
    fig.update_layout(legend={"orientation": "h", "y": -0.25}, margin={"t": 40})
    return fig
