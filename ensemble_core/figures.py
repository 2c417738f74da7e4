"""Plotly figures for the dashboard: plain data in, a ``go.Figure`` out (no Streamlit).

Plotly renders a few HTML tags (``<a href>``, ``<b>``, ``<br>``…) in every text it draws:
titles, tick labels, legends, hover boxes. Names and labels from files go through
:func:`plain_text` so that they are shown as they are, never as a link.

Confusion matrices are drawn as square markers in a scatter, not as a heatmap,
because Streamlit returns click (selection) events for scatter points but not for
heatmap cells; each marker's ``customdata`` is ``[true_index, predicted_index]``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from .io import label_key
from .metrics import confusion_benefit

#: Plotly's default font colour on light cells, and white on dark ones.
_DARK_TEXT = "#262730"
_LIGHT_TEXT = "#ffffff"
_CONFUSION_HEIGHT = 420
_CONFUSION_MARGIN = {"l": 60, "r": 20, "t": 50, "b": 60}
#: The room a difference's colour bar takes, right of the cells.
_COLOURBAR_PX = 70


#: Colours for models: Plotly's T10 (Tableau's ten, tell-apart for most colour-blind readers) then
#: Alphabet's 26, so 36 models get 36 different colours (a 37th repeats the first).
MODEL_PALETTE: tuple[str, ...] = (*plotly.colors.qualitative.T10, *plotly.colors.qualitative.Alphabet)
#: Legend placement on charts with a right-hand axis: above the plot, left-aligned, where it
#: cannot cover that axis's labels (Plotly's default puts it at the right edge, over them).
LEGEND_ABOVE = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0}


def model_colours(names: Sequence[str]) -> dict[str, str]:
    """Each model's colour: the one rule every chart follows, so a model keeps its colour from
    page to page. Pass every loaded model's name, in load order (not only those in the ensemble),
    so leaving one out does not repaint the others.

    >>> model_colours(["forest", "knn"])
    {'forest': '#4C78A8', 'knn': '#F58518'}
    >>> len(set(model_colours([f"m{i}" for i in range(36)]).values()))
    36
    """
    return {name: MODEL_PALETTE[i % len(MODEL_PALETTE)] for i, name in enumerate(names)}


def share_axis(values: Sequence[float] | np.ndarray, *, min_span: float = 0.01) -> dict:
    """A y-axis for accuracies (shares): percent ticks with one decimal, and a range at least
    ``min_span`` wide, so that a nearly flat curve shows as flat instead of ticks like "0.82015".

    >>> share_axis([0.8201, 0.8203])
    {'tickformat': '.1%', 'range': [0.8152, 0.8252]}
    """
    return {"tickformat": ".1%", "range": _padded_range(values, min_span)}


def loss_axis(values: Sequence[float] | np.ndarray, *, min_span: float = 0.01) -> dict:
    """A y-axis for log loss: three decimals, a range at least ``min_span`` wide.

    >>> loss_axis([0.41, 0.43])
    {'tickformat': '.3f', 'range': [0.409, 0.431]}
    """
    return {"tickformat": ".3f", "range": _padded_range(values, min_span)}


def _padded_range(values, min_span: float) -> list[float]:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not v.size:
        return [0.0, 1.0]
    low, high = float(v.min()), float(v.max())
    pad = max(min_span - (high - low), 0.0) / 2 + 0.05 * (high - low)
    return [round(low - pad, 4), round(high + pad, 4)]


def plain_text(value: object) -> str:
    """``str(value)`` for a plotly title, label, legend or hover text, shown literally
    (``<``, ``>`` and ``&`` as entities, which plotly draws as the characters).

    >>> plain_text('<a href="https://evil.example">rf</a>')
    '&lt;a href="https://evil.example"&gt;rf&lt;/a&gt;'
    """
    return html.escape(str(value), quote=False)


def _class_labels(classes: Sequence) -> list[str]:
    return [plain_text(label_key(c)) for c in classes]


def _class_ticks(classes: Sequence) -> dict:
    return {"tickmode": "array", "tickvals": list(range(len(classes))), "ticktext": _class_labels(classes)}


def confusion_figure(
    cm: np.ndarray,
    classes: Sequence,
    *,
    title: str,
    difference: bool = False,
    height: int | None = None,
) -> go.Figure:
    """A confusion matrix as clickable square markers.

    Parameters
    ----------
    cm : ndarray of shape (n_classes, n_classes)
        Counts, rows = true class, columns = predicted class (or a difference of two
        such matrices when ``difference``).
    classes : class labels, in index order (axis tick labels)
    title : figure title
    difference : ``cm`` is a change of counts: colour it as good news (blue: more right answers on the
        diagonal, fewer mistakes off it) or bad news (red), by :func:`~ensemble_core.metrics.confusion_benefit`
    height : figure height in pixels (default: from the number of classes, 300 to 420); the
        figure is as wide as its square of cells needs (plus the colour bar of a difference), so
        the markers fill their cells and never overlap: a page lays the figures side by side
        at their own width and lets them wrap, rather than squeezing them into columns

    Examples
    --------
    >>> fig = confusion_figure(np.eye(10, dtype=int), list(range(10)), title="digits")
    >>> fig.layout.height, fig.layout.width
    (420, 390)
    """
    n = len(classes)
    cm = np.asarray(cm)
    height = height or int(np.clip(180 + 24 * n, 300, _CONFUSION_HEIGHT))
    true_idx, pred_idx = np.indices((n, n))
    true_idx, pred_idx, values = true_idx.ravel(), pred_idx.ravel(), cm.ravel()
    plot_px = height - _CONFUSION_MARGIN["t"] - _CONFUSION_MARGIN["b"]  # a square of n × n cells
    size = max(6.0, 0.92 * plot_px / n)
    if difference:
        benefit = confusion_benefit(cm).ravel()
        bound = max(1, int(np.abs(values).max()))
        marker = {"color": benefit, "colorscale": "RdBu", "cmin": -bound, "cmax": bound, "cmid": 0,
                  "showscale": True, "colorbar": {"tickvals": [-bound, 0, bound], "ticktext": ["worse", "0", "better"],
                                                  "thickness": 10, "len": 0.6}}
        strong = np.abs(benefit) > 0.6 * bound
        text = [f"{v:+d}" if v else "0" for v in values.astype(int)]
    else:
        # Square-root scale: the diagonal dwarfs the off-diagonal counts people look for.
        shown = np.sqrt(values.astype(float))
        top = max(1.0, float(shown.max()))
        marker = {"color": shown, "colorscale": "Blues", "cmin": 0, "cmax": top}
        strong = shown > 0.55 * top
        text = [str(int(v)) for v in values]
    marker.update({"symbol": "square", "size": size, "line": {"width": 0}})
    customdata = np.column_stack([true_idx, pred_idx])
    labels = _class_labels(classes)
    hover = [
        f"true {labels[i]}, predicted {labels[j]}: {t}<extra></extra>" for i, j, t in zip(true_idx, pred_idx, text)
    ]
    fig = go.Figure(
        go.Scatter(
            x=pred_idx,
            y=true_idx,
            mode="markers+text" if n <= 15 else "markers",
            marker=marker,
            text=text,
            textfont={"color": [_LIGHT_TEXT if s else _DARK_TEXT for s in strong], "size": 12 if n <= 10 else 9},
            customdata=customdata,
            hovertemplate=hover,
        )
    )
    fig.update_layout(
        title={"text": plain_text(title), "font": {"size": 15}},
        height=height,
        width=plot_px + _CONFUSION_MARGIN["l"] + _CONFUSION_MARGIN["r"] + (_COLOURBAR_PX if difference else 0),
        margin=_CONFUSION_MARGIN,
        plot_bgcolor="white",
        showlegend=False,
        clickmode="event+select",
        dragmode=False,
    )
    fig.update_xaxes(title="predicted", range=[-0.5, n - 0.5], showgrid=False, zeroline=False, **_class_ticks(classes))
    fig.update_yaxes(
        title="true",
        range=[n - 0.5, -0.5],
        showgrid=False,
        zeroline=False,
        scaleanchor="x",
        constrain="domain",
        **_class_ticks(classes),
    )
    return fig


def diversity_heatmap(
    matrix: np.ndarray,
    names: Sequence[str],
    *,
    title: str,
    zmin: float,
    zmax: float,
    colorscale: str = "Viridis",
) -> go.Figure:
    """A model-by-model heatmap with each cell's value written in it.

    Parameters
    ----------
    matrix : ndarray of shape (n_models, n_models); NaN cells are left blank
    names : model names (both axes)
    """
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=[plain_text(n) for n in names],
            y=[plain_text(n) for n in names],
            zmin=zmin,
            zmax=zmax,
            colorscale=colorscale,
            texttemplate="%{z:.2f}",
            hovertemplate="%{y} × %{x}: %{z:.3f}<extra></extra>",
        )
    )
    fig.update_layout(title={"text": plain_text(title), "font": {"size": 15}}, height=380,
                      margin={"l": 10, "r": 10, "t": 50, "b": 10})
    fig.update_yaxes(autorange="reversed")
    return fig


def model_accuracy_figure(
    names: Sequence[str], accuracy: Sequence[float], *, ensemble: float, oracle: float,
    colours: dict[str, str] | None = None,
) -> go.Figure:
    """Each model's accuracy as a bar (in its colour, :func:`model_colours`), with the ensemble's
    and the oracle's as lines. The axis starts near the lowest bar, and its title says so: bars
    that do not start at 0 exaggerate the differences."""
    colours = colours or model_colours(names)
    fig = go.Figure(
        go.Bar(x=[plain_text(n) for n in names], y=list(accuracy), marker_color=[colours[n] for n in names],
               hovertemplate="%{x}: %{y:.2%}<extra></extra>",
               text=[f"{a:.1%}" for a in accuracy], textposition="outside")
    )
    fig.add_hline(y=ensemble, line={"color": _DARK_TEXT, "width": 2}, annotation_text=f"ensemble {ensemble:.1%}",
                  annotation_position="top left")
    fig.add_hline(y=oracle, line={"color": "#2ca02c", "width": 1, "dash": "dot"},
                  annotation_text=f"oracle {oracle:.1%}", annotation_position="top right")
    low = max(0.0, np.floor((min(min(accuracy), ensemble) - 0.1) * 20) / 20)  # a round 5 % below the lowest
    fig.update_layout(
        title={"text": "Each model's accuracy, the ensemble's and the oracle's", "font": {"size": 15}},
        height=320,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        yaxis={"tickformat": ".0%", "range": [low, 1.02],
               "title": "accuracy" if low == 0 else f"accuracy (axis starts at {low:.0%}, not 0)"},
    )
    return fig


def calibration_figure(
    curves: dict[str, tuple[np.ndarray, np.ndarray]], *, colours: dict[str, str] | None = None
) -> go.Figure:
    """A reliability diagram: per model, accuracy against mean confidence per bin.

    Parameters
    ----------
    curves : model name -> (mean confidence per bin, accuracy per bin); NaN bins are skipped
    colours : model name -> colour (:func:`model_colours` of every loaded model; default: of these)
    """
    colours = colours or model_colours(list(curves))
    fig = go.Figure(
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"color": "#999", "dash": "dash"}, name="perfectly calibrated")
    )
    for name, (conf, acc) in curves.items():
        keep = ~(np.isnan(conf) | np.isnan(acc))
        fig.add_trace(go.Scatter(x=conf[keep], y=acc[keep], mode="lines+markers", name=plain_text(name),
                                 line={"color": colours[name]}))
    fig.update_layout(
        title={"text": "Calibration: how often a model is right at each confidence", "font": {"size": 15}},
        height=380,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        xaxis={"title": "mean confidence (top label)", "range": [0, 1.02]},
        yaxis={"title": "accuracy", "range": [0, 1.02]},
    )
    return fig


def example_probabilities_figure(
    probas: np.ndarray, rows: Sequence[str], classes: Sequence, *, true_index: int
) -> go.Figure:
    """One example's probabilities, a row per model (and the ensemble), a column per class.

    Parameters
    ----------
    probas : ndarray of shape (n_rows, n_classes)
    rows : row labels (model names, then "ensemble")
    true_index : the example's true class; its column label is marked
    """
    labels = _class_labels(classes)
    labels[true_index] = f"{labels[true_index]} (true)"
    fig = go.Figure(
        go.Heatmap(
            z=probas,
            x=labels,
            y=[plain_text(r) for r in rows],
            zmin=0,
            zmax=1,
            colorscale="Blues",
            texttemplate="%{z:.2f}",
            hovertemplate="%{y}: P(%{x}) = %{z:.3f}<extra></extra>",
            colorbar={"title": "probability"},
        )
    )
    fig.update_layout(
        title={"text": "Each model's probabilities for this example", "font": {"size": 15}},
        height=90 + 34 * len(rows),
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(type="category", title="class")
    return fig


def digit_figure(pixels: np.ndarray, shape: tuple[int, int], *, title: str) -> go.Figure:
    """A grey-scale image of one example's pixel values (dark = high)."""
    img = np.asarray(pixels, dtype=float).reshape(shape)
    fig = go.Figure(go.Heatmap(z=img, colorscale="Greys", showscale=False, hovertemplate="%{z}<extra></extra>"))
    fig.update_layout(title={"text": plain_text(title), "font": {"size": 15}}, height=260, width=260,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    return fig


def disagreement_scatter(
    correct_share: np.ndarray, confidence: np.ndarray, ensemble_correct: np.ndarray, *, seed: int = 0
) -> go.Figure:
    """Every example as a point: share of models right (jittered) against the
    ensemble's confidence, coloured by whether the ensemble is right (WebGL)."""
    rng = np.random.default_rng(seed)
    x = np.asarray(correct_share, dtype=float) + rng.uniform(-0.03, 0.03, len(correct_share))
    fig = go.Figure()
    for ok, name, color in ((True, "ensemble right", "#1f77b4"), (False, "ensemble wrong", "#d62728")):
        keep = np.asarray(ensemble_correct) == ok
        fig.add_trace(
            go.Scattergl(x=x[keep], y=np.asarray(confidence)[keep], mode="markers", name=name,
                         marker={"color": color, "size": 5, "opacity": 0.5},
                         hovertemplate="models right: %{x:.0%}<br>ensemble confidence: %{y:.2f}<extra></extra>")
        )
    fig.update_layout(
        title={"text": "Every example: how many models are right, how sure the ensemble is", "font": {"size": 15}},
        height=360,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        xaxis={"title": "share of models right", "tickformat": ".0%"},
        yaxis={"title": "ensemble confidence", "range": [0, 1.02]},
    )
    return fig


def slice_gain_figure(
    labels: Sequence[str],
    gains: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    worse: Sequence[bool],
    *,
    title: str,
) -> go.Figure:
    """The gain over the best single model per slice, in points, with its interval, one row per
    slice (first at the top); red where the ensemble is significantly worse, green where the whole
    interval is above zero. Each point's ``customdata`` is its slice's index, so a click names it.

    >>> fig = slice_gain_figure(["short", "long"], [0.02, -0.01], [-0.01, -0.05], [0.05, 0.03], [False, False],
    ...                         title="length")
    >>> list(fig.data[0].x), list(fig.data[0].customdata)
    ([2.0, -1.0], [0, 1])
    """
    g = np.asarray(gains, float) * 100
    lo, hi = np.asarray(lows, float) * 100, np.asarray(highs, float) * 100
    colours = ["#c0392b" if w else ("#1e8449" if low > 0 else _DARK_TEXT) for w, low in zip(worse, lo)]
    shown = [plain_text(label) for label in labels]
    fig = go.Figure(go.Scatter(
        x=g.round(6).tolist(), y=shown, mode="markers", marker={"size": 11, "color": colours},
        error_x={"type": "data", "symmetric": False, "array": (hi - g).tolist(), "arrayminus": (g - lo).tolist(),
                 "thickness": 2},
        customdata=list(range(len(shown))),
        hovertemplate="%{y}: %{x:+.1f} pts<extra></extra>",
    ))
    fig.add_vline(x=0, line_dash="dot", line_color="#888")
    fig.update_layout(title=plain_text(title), height=160 + 40 * len(shown), margin={"l": 10, "r": 10, "t": 50},
                      xaxis_title="gain over the best single model (pts, 95% interval)",
                      yaxis={"autorange": "reversed", "type": "category"}, showlegend=False)
    return fig


def growth_figure(
    sizes: np.ndarray,
    train_accuracy: np.ndarray,
    test_accuracy: np.ndarray,
    base_train: float,
    base_test: float,
    diversity: np.ndarray,
    *,
    title: str,
) -> go.Figure:
    """Train and held-out accuracy of a growing ensemble against its number of members, the single
    base learner's as dotted lines, and the members' diversity (mean pairwise disagreement) on a
    second axis (left out where it is undefined: NaN).

    >>> fig = growth_figure(np.arange(1, 4), np.array([.8, .9, .95]), np.array([.7, .75, .8]), .8, .7,
    ...                     np.array([np.nan, .2, .25]), title="bagging")
    >>> [t.name for t in fig.data]
    ['train', 'held out', 'diversity']
    """
    fig = go.Figure([
        go.Scatter(x=sizes, y=train_accuracy, name="train", mode="lines", line={"color": "#7f8c8d"}),
        go.Scatter(x=sizes, y=test_accuracy, name="held out", mode="lines", line={"color": "#1f77b4", "width": 3}),
    ])
    if np.isfinite(diversity).any():
        fig.add_trace(go.Scatter(x=sizes, y=diversity, name="diversity", mode="lines", yaxis="y2",
                                 line={"color": "#e67e22", "dash": "dash"}))
    fig.add_hline(y=base_train, line_dash="dot", line_color="#7f8c8d", annotation_text="one base learner, train")
    fig.add_hline(y=base_test, line_dash="dot", line_color="#1f77b4", annotation_text="one base learner, held out",
                  annotation_position="bottom right")
    fig.update_layout(title=plain_text(title), xaxis_title="members", yaxis={"title": "accuracy", "tickformat": ".0%"},
                      yaxis2={"title": "mean pairwise disagreement", "overlaying": "y", "side": "right",
                              "rangemode": "tozero", "tickmode": "auto", "tickformat": ".2f", "showgrid": False},
                      legend=LEGEND_ABOVE, margin={"t": 90}, height=420)
    return fig


def fixes_breaks_figure(fixes: int, breaks: int, *, best: str) -> go.Figure:
    """What combining changed against the best single model: the examples it fixes (right where ``best``
    is wrong, blue) and breaks (wrong where ``best`` is right, red); the gain is their difference.

    >>> [list(t.x) for t in fixes_breaks_figure(12, 5, best="forest").data]
    [[12, 5]]
    """
    fig = go.Figure(go.Bar(
        x=[fixes, breaks], y=["fixes", "breaks"], orientation="h", marker_color=["#1f77b4", "#d62728"],
        text=[f"{fixes:,}", f"{breaks:,}"], textposition="auto",
        customdata=[f"right where {plain_text(best)} is wrong", f"wrong where {plain_text(best)} is right"],
        hovertemplate="%{y}: %{x:,} examples %{customdata}<extra></extra>",
    ))
    fig.update_layout(
        title={"text": f"Against {plain_text(best)}: examples fixed and broken (net {fixes - breaks:+,})",
               "font": {"size": 14}},
        height=150, margin={"l": 10, "r": 10, "t": 40, "b": 10}, xaxis={"title": "examples", "rangemode": "tozero"},
    )
    fig.update_yaxes(autorange="reversed")
    return fig


def bias_variance_figure(names: Sequence[str], bias: Sequence[float], net_variance: Sequence[float]) -> go.Figure:
    """Held-out 0–1 loss split into bias and net variance (Domingos), one stacked bar per learner.

    >>> [t.name for t in bias_variance_figure(["tree"], [0.1], [0.05]).data]
    ['bias', 'net variance']
    """
    labels = [plain_text(n) for n in names]
    fig = go.Figure([go.Bar(x=labels, y=list(bias), name="bias", marker_color="#34495e"),
                     go.Bar(x=labels, y=list(net_variance), name="net variance", marker_color="#e67e22")])
    fig.update_layout(barmode="relative", yaxis={"title": "share of held-out rows", "tickformat": ".0%"},
                      title="0–1 loss = bias + net variance", legend={"orientation": "h"}, height=380)
    return fig


def jury_figure(sizes: Sequence[int], majority_right: Sequence[float], accuracy: float, *,
                actual: float | None = None, n_models: int | None = None) -> go.Figure:
    """Condorcet's jury: P(a strict majority of independent voters of one accuracy is right) against
    their number, with the loaded models' real majority marked.

    >>> len(jury_figure([1, 3, 5], [0.6, 0.65, 0.68], 0.6).data)
    1
    """
    fig = go.Figure(go.Scatter(x=list(sizes), y=list(majority_right), mode="lines+markers",
                               name=f"independent voters, each {accuracy:.1%} right"))
    if actual is not None and n_models is not None:
        fig.add_trace(go.Scatter(x=[n_models], y=[actual], mode="markers", marker={"size": 14, "color": "#c0392b"},
                                 name="the loaded models' real majority"))
    fig.update_layout(xaxis_title="voters", yaxis={"title": "majority right", "tickformat": ".0%"},
                      legend={"orientation": "h"}, height=360, title="Independent errors: the jury theorem")
    return fig


def stacking_importance_figure(
    names: Sequence[str],
    accuracy_drop: Sequence[float],
    accuracy_drop_std: Sequence[float],
    log_loss_increase: Sequence[float],
    log_loss_increase_std: Sequence[float],
) -> go.Figure:
    """Each model's permutation importance for a stacking meta-learner: the out-of-fold accuracy
    lost (points) and log loss added when its inputs are shuffled, with the spread over the
    shuffles as error bars; one row per model.

    >>> fig = stacking_importance_figure(["rf", "knn"], [0.05, 0.0], [0.01, 0.0], [0.2, 0.01], [0.02, 0.0])
    >>> [list(trace.x) for trace in fig.data]
    [[5.0, 0.0], [0.2, 0.01]]
    """
    from plotly.subplots import make_subplots

    shown = [plain_text(n) for n in names]
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=("accuracy lost (points)", "log loss added"))
    for col, (values, spread, hover) in enumerate([
        (np.asarray(accuracy_drop, float) * 100, np.asarray(accuracy_drop_std, float) * 100, "%{x:+.2f} pts"),
        (np.asarray(log_loss_increase, float), np.asarray(log_loss_increase_std, float), "%{x:+.4f}"),
    ], start=1):
        fig.add_trace(go.Bar(x=values.round(10).tolist(), y=shown, orientation="h", marker_color="#8fb3d9",
                             error_x={"type": "data", "array": spread.round(10).tolist(), "thickness": 1.5},
                             hovertemplate=f"%{{y}}: {hover}<extra></extra>"), row=1, col=col)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_layout(height=140 + 36 * len(shown), margin={"l": 10, "r": 10, "t": 40, "b": 10}, showlegend=False)
    return fig


def stacking_trust_figure(trust: np.ndarray, names: Sequence[str], classes: Sequence) -> go.Figure:
    """A logistic meta-learner's coefficients per model and class: the weight of model ``m``'s
    probability of class ``k`` in class ``k``'s score, on a colour scale centred on zero.

    Parameters
    ----------
    trust : ndarray of shape (n_models, n_classes_scored)
    names : model names (rows)
    classes : the classes scored (columns; one, the second class, for two classes)
    """
    trust = np.asarray(trust, float)
    limit = float(np.abs(trust).max()) or 1.0
    fig = go.Figure(go.Heatmap(
        z=trust.tolist(), x=_class_labels(classes), y=[plain_text(n) for n in names], zmin=-limit, zmax=limit,
        colorscale="RdBu", texttemplate="%{z:.2f}",
        hovertemplate="%{y}'s probability of %{x} in the score of %{x}: %{z:.3f}<extra></extra>",
        colorbar={"title": "weight"},
    ))
    fig.update_layout(height=140 + 36 * len(names), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis={"type": "category", "title": "class"}, yaxis={"autorange": "reversed", "type": "category"})
    return fig
