"""The cost–accuracy frontier as a plotly figure (no Streamlit here)."""

from __future__ import annotations

import plotly.graph_objects as go

from ..figures import plain_text
from .frontier import Frontier


def frontier_figure(frontier: Frontier, *, title: str = "Accuracy against cost, every subset") -> go.Figure:
    """Every subset's soft-vote accuracy against its total cost, the Pareto front as a line of
    larger markers on top. Each marker's ``customdata`` is its index in ``frontier.points``, so a
    click names the subset.

    Parameters
    ----------
    frontier : from :func:`~ensemble_core.deploy.frontier.cost_accuracy_frontier`

    Examples
    --------
    >>> import numpy as np
    >>> from ensemble_core.predictions import PredictionSet
    >>> from ensemble_core.deploy.frontier import cost_accuracy_frontier
    >>> probas = np.array([[[0.9, 0.1], [0.4, 0.6]], [[0.2, 0.8], [0.3, 0.7]]], dtype=np.float32)
    >>> pset = PredictionSet(probas, np.array([0, 1]), np.array(["a", "b"]), ("m1", "m2"))
    >>> fig = frontier_figure(cost_accuracy_frontier(pset, [1.0, 5.0]))
    >>> [t.name for t in fig.data], list(fig.data[1].customdata)
    (['every subset', 'Pareto front'], [0])
    """
    points = frontier.points
    labels = [plain_text(" + ".join(p.models)) for p in points]
    rest = [i for i, p in enumerate(points) if not p.pareto]
    front = sorted((i for i, p in enumerate(points) if p.pareto), key=lambda i: points[i].cost)
    hover = "%{text}<br>accuracy %{y:.4f}<br>cost %{x:.4g} ms per 1,000<extra></extra>"
    fig = go.Figure([
        go.Scatter(x=[points[i].cost for i in rest], y=[points[i].accuracy for i in rest], mode="markers",
                   name="every subset", marker={"size": 7, "color": "#9aa5b1"}, customdata=rest,
                   text=[labels[i] for i in rest], hovertemplate=hover),
        go.Scatter(x=[points[i].cost for i in front], y=[points[i].accuracy for i in front], mode="lines+markers",
                   name="Pareto front", marker={"size": 11, "color": "#1f77b4"}, line={"shape": "hv"},
                   customdata=front, text=[labels[i] for i in front], hovertemplate=hover),
    ])
    fig.update_layout(title=plain_text(title), height=460, margin={"l": 10, "r": 10, "t": 50},
                      xaxis_title="total cost (ms per 1,000 examples)", yaxis_title="soft-vote accuracy",
                      legend={"orientation": "h", "y": -0.2})
    return fig
