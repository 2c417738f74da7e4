"""ensemble_core.figures: plain data in, plotly figures out (no UI needed)."""

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from ensemble_core import figures


def test_confusion_figure_is_a_clickable_scatter_of_cells():
    cm = np.array([[5, 1, 0], [2, 7, 0], [0, 0, 9]])
    fig = figures.confusion_figure(cm, ["a", "b", 3], title="Ensemble")
    (trace,) = fig.data
    assert isinstance(trace, go.Scatter)
    assert trace.marker.symbol == "square"
    # one marker per cell, customdata = [true, predicted], text = the count there
    assert len(trace.x) == 9
    for (i, j), count in zip(trace.customdata, trace.text):
        assert int(count) == cm[i, j]
    assert list(fig.layout.xaxis.ticktext) == ["a", "b", "3"]
    assert fig.layout.yaxis.title.text == "true" and fig.layout.xaxis.title.text == "predicted"
    assert fig.layout.title.text == "Ensemble"
    assert fig.layout.yaxis.range == (2.5, -0.5)  # first class on top


def test_confusion_difference_colours_good_news_blue_and_bad_news_red():
    """More right answers (diagonal up) and fewer mistakes (off-diagonal down) are good news."""
    diff = np.array([[2, -1], [-3, 0]])
    fig = figures.confusion_figure(diff, ["x", "y"], title="d", difference=True)
    trace = fig.data[0]
    assert trace.marker.cmid == 0 and trace.marker.colorscale[0][1].startswith("rgb(103,0,31)")  # RdBu: red low
    assert trace.marker.cmin == -3 and trace.marker.cmax == 3
    assert list(trace.marker.color) == [2, 1, 3, 0]  # all good news: +2 right, 1 and 3 fewer mistakes
    assert list(trace.text) == ["+2", "-1", "-3", "0"]  # the counts' change, as it is
    worse = figures.confusion_figure(-diff, ["x", "y"], title="d", difference=True).data[0]
    assert list(worse.marker.color) == [-2, -1, -3, 0]
    assert list(trace.marker.colorbar.ticktext) == ["worse", "0", "better"]


@pytest.mark.parametrize("n, difference", [(2, False), (10, False), (10, True), (30, True)])
def test_confusion_figure_is_wide_enough_for_square_cells(n, difference):
    """The figure carries its own width: a page that squeezes it into a narrow column draws
    markers bigger than their cells, and the counts of a 10 × 10 matrix overlap (issue 12, item 9)."""
    fig = figures.confusion_figure(np.eye(n, dtype=int), list(range(n)), title="m", difference=difference)
    m = fig.layout.margin
    plot_w = fig.layout.width - m.l - m.r - (70 if difference else 0)
    plot_h = fig.layout.height - m.t - m.b
    assert plot_w >= plot_h and fig.data[0].marker.size <= plot_h / n


def test_many_classes_drop_the_cell_text():
    fig = figures.confusion_figure(np.eye(20, dtype=int), list(range(20)), title="big")
    assert fig.data[0].mode == "markers"


def test_diversity_heatmap_keeps_names_and_range():
    m = np.array([[0.0, 0.3], [0.3, 0.0]])
    fig = figures.diversity_heatmap(m, ["p", "q"], title="Disagreement", zmin=0, zmax=1)
    (trace,) = fig.data
    assert isinstance(trace, go.Heatmap)
    assert list(trace.x) == ["p", "q"] and list(trace.y) == ["p", "q"]
    assert (trace.zmin, trace.zmax) == (0, 1)


def test_the_learn_bar_chart_says_where_its_axis_starts():
    """Issue 12 item 10: bars on an axis that starts at 60 % exaggerate, unless the axis says so."""
    fig = figures.model_accuracy_figure(["a", "b"], [0.71, 0.8], ensemble=0.82, oracle=0.9)
    low = fig.layout.yaxis.range[0]
    assert 0 < low <= 0.61 and fig.layout.yaxis.title.text == f"accuracy (axis starts at {low:.0%}, not 0)"
    assert list(fig.data[0].marker.color) == [figures.model_colours(["a", "b"])[n] for n in "ab"]
    weak = figures.model_accuracy_figure(["a"], [0.05], ensemble=0.08, oracle=0.1)
    assert weak.layout.yaxis.range[0] == 0 and weak.layout.yaxis.title.text == "accuracy"


def test_the_growth_chart_keeps_its_legend_off_the_right_axis():
    fig = figures.growth_figure(np.arange(1, 4), np.array([.8, .9, .95]), np.array([.7, .75, .8]), .8, .7,
                                np.array([np.nan, .2, .25]), title="bagging")
    assert fig.layout.yaxis2.side == "right" and fig.layout.legend.orientation == "h" and fig.layout.legend.y > 1


def test_a_model_keeps_its_colour_when_others_are_left_out():
    loaded = ["forest", "knn", "logreg", "mlp"]
    colours = figures.model_colours(loaded)
    fig = figures.calibration_figure({n: (np.array([0.5]), np.array([0.5])) for n in ["knn", "mlp"]}, colours=colours)
    assert [t.line.color for t in fig.data[1:]] == [colours["knn"], colours["mlp"]]
    assert len(set(figures.model_colours([f"m{i}" for i in range(12)]).values())) == 12


def test_calibration_figure_skips_empty_bins():
    conf = np.array([0.15, np.nan, 0.9])
    acc = np.array([0.2, np.nan, 0.8])
    fig = figures.calibration_figure({"m": (conf, acc)})
    assert fig.data[1].name == "m"
    assert list(fig.data[1].x) == [0.15, 0.9]


def test_example_probabilities_marks_true_class():
    p = np.array([[0.7, 0.3], [0.4, 0.6], [0.55, 0.45]])
    fig = figures.example_probabilities_figure(p, ["a", "b", "ensemble"], ["neg", "pos"], true_index=1)
    assert list(fig.data[0].x) == ["neg", "pos (true)"]
    assert np.allclose(fig.data[0].z, p)


def test_digit_figure_reshapes_pixels():
    fig = figures.digit_figure(np.arange(64), (8, 8), title="d")
    z = np.asarray(fig.data[0].z)
    assert z.shape == (8, 8) and z[1, 0] == 8


def test_model_accuracy_figure_draws_ensemble_and_oracle_lines():
    fig = figures.model_accuracy_figure(["a", "b"], [0.8, 0.9], ensemble=0.92, oracle=0.97)
    assert list(fig.data[0].y) == [0.8, 0.9]
    assert sorted(s.y0 for s in fig.layout.shapes) == [0.92, 0.97]


@pytest.mark.parametrize("n", [10, 100_000])
def test_disagreement_scatter_uses_webgl(n):
    rng = np.random.default_rng(0)
    ok = rng.random(n) < 0.8
    fig = figures.disagreement_scatter(rng.random(n), rng.random(n), ok)
    assert all(isinstance(t, go.Scattergl) for t in fig.data)
    assert len(fig.data[0].x) + len(fig.data[1].x) == n
    assert len(fig.data[1].x) == int((~ok).sum())


#: Plotly draws <a href> (and <b>, <br>…) in titles, tick labels, legends and hover boxes.
CRAFTED = ['<a href="https://evil.example">rf</a>', "<img src=x onerror=alert(1)>", "a & b"]


def _figure_texts(fig: go.Figure) -> str:
    """Every text of the figure, as plotly receives it (``to_json`` writes ``<`` as an escape)."""
    return json.dumps(json.loads(fig.to_json()))


@pytest.mark.parametrize("make", [
    lambda: figures.confusion_figure(np.eye(3, dtype=int), CRAFTED, title=CRAFTED[0]),
    lambda: figures.diversity_heatmap(np.eye(3), CRAFTED, title=CRAFTED[0], zmin=0, zmax=1),
    lambda: figures.model_accuracy_figure(CRAFTED, [0.5, 0.6, 0.7], ensemble=0.7, oracle=0.9),
    lambda: figures.calibration_figure({n: (np.array([0.5]), np.array([0.5])) for n in CRAFTED}),
    lambda: figures.example_probabilities_figure(np.full((3, 3), 1 / 3), CRAFTED, CRAFTED, true_index=0),
    lambda: figures.digit_figure(np.zeros(4), (2, 2), title=CRAFTED[0]),
], ids=["confusion", "diversity", "accuracy", "calibration", "example", "digit"])
def test_names_and_labels_are_plain_text(make):
    text = _figure_texts(make())
    assert "<a " not in text and "<img" not in text
    assert "&lt;a href=" in text


def test_plain_text_escapes_only_what_plotly_reads_as_markup():
    assert figures.plain_text("rf_200 (trees) #1") == "rf_200 (trees) #1"
    assert figures.plain_text("<b>x</b> & y") == "&lt;b&gt;x&lt;/b&gt; &amp; y"


def test_fixes_breaks_figure_draws_both_counts_and_the_net():
    from ensemble_core.figures import fixes_breaks_figure

    fig = fixes_breaks_figure(12, 5, best="forest")
    (bar,) = fig.data
    assert list(bar.x) == [12, 5] and list(bar.y) == ["fixes", "breaks"]
    assert "net +7" in fig.layout.title.text and "forest" in fig.layout.title.text
