"""Landscape figures carry the landscape's data and mark the requested points (no UI)."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from ensemble_core.calibration import cross_fit_temperatures
from ensemble_core.figures import model_colours
from ensemble_core.landscape import simplex_landscape, weight_sweeps
from ensemble_core.landscape_figures import (
    line_figure,
    reliability_figure,
    selection_path_figure,
    sweep_figure,
    ternary_figure,
)
from ensemble_core.weight_search import caruana_selection
from tests.conftest import random_probas

NAMES = ("lr", "rf", "nb")


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=400)
    p = random_probas(rng, 3, 400, 3)
    p[:, np.arange(400), y] += 0.5
    p /= p.sum(axis=2, keepdims=True)
    return p, y


def test_ternary_figure_plots_every_grid_point_and_marks_points(problem):
    p, y = problem
    land = simplex_landscape(p, y, resolution=10, names=NAMES)
    fig = ternary_figure(land, current=[1, 1, 1], suggested=[0.5, 0.3, 0.2])
    heat = fig.data[0]
    assert isinstance(heat, go.Scatterternary)
    np.testing.assert_array_equal(heat.marker.color, land.accuracy)
    np.testing.assert_array_equal(heat.a, land.weights[:, 0])
    names = [t.name for t in fig.data[1:]]
    assert names == ["best on the grid", "current", "suggested"]
    assert fig.data[2].a[0] == pytest.approx(1 / 3) and fig.data[3].c[0] == pytest.approx(0.2)
    best = land.weights[np.argmax(land.accuracy)]
    assert (fig.data[1].a[0], fig.data[1].b[0]) == (best[0], best[1])
    assert fig.layout.ternary.aaxis.title.text == "lr"
    ll = ternary_figure(land, metric="log_loss")
    assert (ll.data[1].a[0], ll.data[1].b[0]) == tuple(land.weights[np.argmin(land.log_loss), :2])


def test_every_ternary_point_and_mark_says_its_weights_when_clicked(problem):
    """Streamlit returns a clicked marker's customdata: the grid point's or the mark's weights."""
    p, y = problem
    land = simplex_landscape(p, y, resolution=10, names=NAMES)
    fig = ternary_figure(land, current=[1, 1, 1], suggested=[0.5, 0.3, 0.2])
    np.testing.assert_array_equal(fig.data[0].customdata, land.weights)
    # As the browser gets them: lists (a typed array's row reaches Streamlit as {"0": a, "1": b, "2": c}).
    sent = json.loads(fig.to_json())["data"]
    assert sent[0]["customdata"][7] == land.weights[7].tolist() and isinstance(sent[1]["customdata"][0], list)
    best = land.weights[np.argmax(land.accuracy)]
    assert list(fig.data[1].customdata[0]) == best.tolist()
    assert list(fig.data[3].customdata[0]) == pytest.approx([0.5, 0.3, 0.2])
    assert all(t.unselected.marker.opacity == 1 for t in fig.data)  # a click dims nothing


def test_line_figure_has_both_metrics_and_marks(problem):
    p, y = problem
    land = simplex_landscape(p[:2], y, resolution=20, names=NAMES[:2])
    fig = line_figure(land, current=0.5, suggested=0.7)
    assert [t.name for t in fig.data] == ["accuracy", "log loss"]
    np.testing.assert_array_equal(fig.data[1].y, land.log_loss)
    assert [s.x0 for s in fig.layout.shapes] == [0.5, 0.7]
    hard = line_figure(simplex_landscape(p[:2], y, strategy="hard", resolution=20))
    assert len(hard.data) == 1


def test_sweep_figure_draws_one_curve_and_one_marker_per_model(problem):
    p, y = problem
    sw = weight_sweeps(p, y, [0.2, 0.3, 0.5], resolution=10, names=NAMES)
    fig = sweep_figure(sw, metric="log_loss")
    curves = [t for t in fig.data if t.mode == "lines"]
    assert [t.name for t in curves] == list(NAMES)
    np.testing.assert_array_equal(curves[2].y, sw.log_loss[2])
    markers = [t for t in fig.data if t.mode == "markers"]
    assert [m.x[0] for m in markers] == pytest.approx([0.2, 0.3, 0.5])


def test_six_models_sweep_in_six_colours_their_markers_too(problem):
    """Issue 12 item 10: with a marker trace per model, Plotly's ten-colour cycle gave the sixth
    model the first one's blue. Now each model has its colour, the same as on every page."""
    p, y = problem
    six = np.concatenate([p, p[::-1]])
    names = tuple(f"model_{i}" for i in range(6))
    sw = weight_sweeps(six, y, np.full(6, 1 / 6), resolution=10, names=names)
    everyone = ("left_out", *names)  # every loaded model, one of them not in the ensemble
    fig = sweep_figure(sw, colours=model_colours(everyone))
    curves = [t for t in fig.data if t.mode == "lines"]
    markers = [t for t in fig.data if t.mode == "markers"]
    assert len({c.line.color for c in curves}) == 6
    assert [m.marker.color for m in markers] == [c.line.color for c in curves]
    assert [c.line.color for c in curves] == [model_colours(everyone)[n] for n in names]


def _flat_axis_is_readable(axis, values):
    """Ticks without five decimals: a format with few of them, and a range wide enough for it."""
    assert axis.tickformat in (".1%", ".3f")
    low, high = axis.range
    assert high - low >= 0.01 and low <= min(values) and high >= max(values)


def test_two_axis_charts_keep_the_legend_off_the_right_axis_and_ticks_short(problem):
    p, y = problem
    land = simplex_landscape(p[:2], y, resolution=20, names=NAMES[:2])
    sel = caruana_selection(p, y, rounds=6)
    for fig in (line_figure(land, current=0.5), selection_path_figure(sel.path, NAMES, n_kept=sel.n_kept)):
        assert fig.layout.yaxis2.side == "right"
        assert fig.layout.legend.orientation == "h" and fig.layout.legend.y > 1  # above the plot
    fig = line_figure(land)
    _flat_axis_is_readable(fig.layout.yaxis, land.accuracy)
    _flat_axis_is_readable(fig.layout.yaxis2, land.log_loss)
    sw = weight_sweeps(p, y, [0.2, 0.3, 0.5], resolution=10, names=NAMES)
    _flat_axis_is_readable(sweep_figure(sw).layout.yaxis, sw.accuracy.ravel())
    assert ternary_figure(simplex_landscape(p, y, resolution=10, names=NAMES)).data[0].marker.colorbar.tickformat


def test_path_and_reliability_figures(problem):
    p, y = problem
    sel = caruana_selection(p, y, rounds=6)
    fig = selection_path_figure(sel.path, NAMES, n_kept=sel.n_kept)
    assert list(fig.data[0].text) == [NAMES[s.model] for s in sel.path]
    assert fig.layout.shapes[0].x0 == sel.n_kept
    cal = cross_fit_temperatures(p, y)
    rel = reliability_figure(cal, NAMES, 1)
    assert rel.data[1].name.startswith("before, ECE") and "T = " in rel.data[2].name
    assert sum(rel.data[1].customdata) == 400


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda land2, land3: ternary_figure(land2), "needs a three-model landscape; got 2"),
        (lambda land2, land3: line_figure(land3), "needs a two-model landscape; got 3"),
        (lambda land2, land3: ternary_figure(land3, current=[1, 2]), "needs 3 weights"),
        (lambda land2, land3: ternary_figure(land3, metric="log_loss"), "no log_loss \\(hard voting\\)"),
    ],
    ids=["ternary-2", "line-3", "point", "metric"],
)
def test_rejected_inputs(problem, call, match):
    p, y = problem
    land2 = simplex_landscape(p[:2], y, resolution=5)
    land3 = simplex_landscape(p, y, strategy="hard", resolution=5)
    with pytest.raises(ValueError, match=match):
        call(land2, land3)


def test_model_names_are_plain_text_in_every_figure(problem):
    """Plotly would draw a name's <a href> as a link in titles, axes, legends and hovers."""
    p, y = problem
    crafted = ('<a href="https://evil.example">lr</a>', "<b>rf</b>", "nb")
    figs = [
        ternary_figure(simplex_landscape(p, y, resolution=5, names=crafted)),
        line_figure(simplex_landscape(p[:2], y, resolution=5, names=crafted[:2])),
        sweep_figure(weight_sweeps(p, y, [1, 1, 1], resolution=5, names=crafted)),
        selection_path_figure(caruana_selection(p, y, rounds=3).path, crafted),
        reliability_figure(cross_fit_temperatures(p, y), crafted, 0),
    ]
    for fig in figs:
        text = json.dumps(json.loads(fig.to_json()))  # to_json writes "<" as \u003c
        assert "<a " not in text and "<b>" not in text
        assert "&lt;a href=" in text or "&lt;b&gt;" in text
