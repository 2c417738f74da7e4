"""Small inline SVG charts for the report: no script, no network, prints as drawn.

A report must open anywhere (a phone, a laptop without network) and print to PDF
unchanged, and plotly's library alone is 4.8 MB: so the report draws its few chart
types here, as SVG text. Every label is escaped (it may come from a user's file).

Examples
--------
>>> svg = matrix_svg(np.array([[5, 1], [0, 4]]), ["a", "b"], title="counts")
>>> svg.startswith("<svg") and "counts" in svg and svg.count("<rect") == 4
True
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\""
#: Colours: good news blue, bad news red (colour-blind safe pair), neutral grey.
GOOD, BAD, NEUTRAL, INK = "#2166ac", "#b2182b", "#f7f7f7", "#222222"


def _text(x: float, y: float, s: str, *, size: int = 12, anchor: str = "middle", fill: str = INK,
          weight: str = "normal", rotate: float | None = None) -> str:
    transform = f' transform="rotate({rotate:g} {x:.1f} {y:.1f})"' if rotate is not None else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}"{transform}>{escape(s)}</text>')


def _mix(a: str, b: str, t: float) -> str:
    """The colour a fraction ``t`` (0–1) of the way from ``a`` to ``b`` (#rrggbb)."""
    ca = [int(a[i:i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb))


def _ink_on(fill: str) -> str:
    r, g, b = (int(fill[i:i + 2], 16) for i in (1, 3, 5))
    return "#ffffff" if 0.299 * r + 0.587 * g + 0.114 * b < 140 else INK


def count_colour(value: float, top: float) -> str:
    """Counts: white to blue on a square-root scale (the diagonal would dwarf the rest)."""
    t = np.sqrt(max(value, 0) / top) if top > 0 else 0.0
    return _mix("#ffffff", GOOD, float(t))


def benefit_colour(value: float, bound: float) -> str:
    """A change scored as good (> 0, blue) or bad (< 0, red), white at zero."""
    t = min(1.0, abs(value) / bound) if bound > 0 else 0.0
    return _mix(NEUTRAL, GOOD if value > 0 else BAD, t)


def matrix_svg(
    values: np.ndarray,
    labels: Sequence[str],
    *,
    title: str,
    fills: Sequence[Sequence[str]] | None = None,
    texts: Sequence[Sequence[str]] | None = None,
    x_title: str = "predicted",
    y_title: str = "true",
    cell: int = 44,
) -> str:
    """A square matrix (rows = true class, columns = predicted) as coloured cells with their values.

    Parameters
    ----------
    values : ndarray of shape (n, n)
    labels : the n class labels
    fills : n × n fill colours (default: counts, white to blue, :func:`count_colour`)
    texts : n × n cell texts (default: the values)
    """
    values = np.asarray(values, dtype=float)
    n = values.shape[0]
    if fills is None:
        top = float(values.max()) if values.size else 0.0
        fills = [[count_colour(v, top) for v in row] for row in values]
    if texts is None:
        texts = [[f"{v:g}" for v in row] for row in values]
    cell = max(14, min(cell, 440 // max(n, 1)))
    size = 11 if cell >= 30 else 8
    left, top_margin = 90, 46
    width, height = left + n * cell + 10, top_margin + n * cell + 44
    short = [lab if len(lab) <= 10 else lab[:9] + "…" for lab in map(str, labels)]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{escape(title)}" {FONT}>',
             _text(width / 2, 18, title, size=14, weight="bold")]
    for i in range(n):
        parts.append(_text(left - 6, top_margin + i * cell + cell / 2 + 4, short[i], size=size, anchor="end"))
        parts.append(_text(left + i * cell + cell / 2, top_margin + n * cell + 14, short[i], size=size))
        for j in range(n):
            fill, shown = fills[i][j], texts[i][j]
            x, y = left + j * cell, top_margin + i * cell
            parts.append(f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" fill="{fill}">'
                         f'<title>{escape(f"true {labels[i]}, predicted {labels[j]}: {shown}")}</title></rect>')
            if n <= 15:
                parts.append(_text(x + cell / 2, y + cell / 2 + 4, shown, size=size, fill=_ink_on(fill)))
    parts.append(_text(left + n * cell / 2, height - 8, x_title, size=11))
    parts.append(_text(14, top_margin + n * cell / 2, y_title, size=11, rotate=-90))
    parts.append("</svg>")
    return "".join(parts)


def intervals_svg(
    labels: Sequence[str],
    values: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    *,
    title: str,
    unit: str = " pts",
    scale: float = 100.0,
    flags: Sequence[bool] | None = None,
) -> str:
    """Horizontal points with interval bars around zero, one row per label (gains with their
    intervals). Values are multiplied by ``scale`` for the axis (fractions → points)."""
    v = np.asarray(values, float) * scale
    lo = np.asarray(lows, float) * scale
    hi = np.asarray(highs, float) * scale
    flags = [False] * len(v) if flags is None else list(flags)
    extent = max(1.0, float(np.max(np.abs(np.concatenate([lo, hi, v])))) if len(v) else 1.0) * 1.1
    left, plot_w, row_h, top = 170, 380, 26, 40
    width, height = left + plot_w + 70, top + row_h * len(v) + 40

    def px(x: float) -> float:
        return left + (x + extent) / (2 * extent) * plot_w

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{escape(title)}" {FONT}>',
             _text(width / 2, 18, title, size=14, weight="bold"),
             f'<line x1="{px(0):.1f}" y1="{top - 6}" x2="{px(0):.1f}" y2="{top + row_h * len(v)}" '
             f'stroke="#888" stroke-dasharray="3,3"/>']
    for k, label in enumerate(labels):
        y = top + k * row_h + row_h / 2
        colour = BAD if flags[k] else (GOOD if lo[k] > 0 else INK)
        short = label if len(label) <= 24 else label[:23] + "…"
        parts.append(_text(left - 8, y + 4, short, size=11, anchor="end"))
        parts.append(f'<line x1="{px(lo[k]):.1f}" y1="{y:.1f}" x2="{px(hi[k]):.1f}" y2="{y:.1f}" '
                     f'stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<circle cx="{px(v[k]):.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>')
        parts.append(_text(left + plot_w + 8, y + 4, f"{v[k]:+.1f}{unit}", size=11, anchor="start", fill=colour))
    axis_y = top + row_h * len(v) + 16
    for x in (-extent / 1.1, 0.0, extent / 1.1):
        parts.append(_text(px(x), axis_y, f"{x:+.1f}" if x else "0", size=10))
    parts.append(_text(left + plot_w / 2, axis_y + 16, f"gain over the best single model ({unit.strip()})", size=11))
    parts.append("</svg>")
    return "".join(parts)


def lines_svg(
    series: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    title: str,
    x_title: str,
    y_title: str,
    diagonal: bool = False,
) -> str:
    """Lines on the unit square (reliability curves): ``series`` maps a name to (x, y), both in [0, 1]."""
    left, top, w, h = 50, 36, 300, 300
    width, height = left + w + 170, top + h + 46
    palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]

    def pt(x: float, y: float) -> str:
        return f"{left + x * w:.1f},{top + (1 - y) * h:.1f}"

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{escape(title)}" {FONT}>',
             _text((left + w) / 2 + 20, 18, title, size=14, weight="bold"),
             f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#bbb"/>']
    if diagonal:
        parts.append(f'<polyline points="{pt(0, 0)} {pt(1, 1)}" fill="none" stroke="#999" stroke-dasharray="4,3"/>')
    for k, (name, (x, y)) in enumerate(series.items()):
        colour = palette[k % len(palette)]
        keep = np.isfinite(x) & np.isfinite(y)
        points = " ".join(pt(float(a), float(b)) for a, b in zip(np.asarray(x)[keep], np.asarray(y)[keep]))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        ly = top + 14 + k * 18
        parts.append(f'<rect x="{left + w + 12}" y="{ly - 9}" width="12" height="3" fill="{colour}"/>')
        short = name if len(name) <= 20 else name[:19] + "…"
        parts.append(_text(left + w + 30, ly - 4, short, size=11, anchor="start"))
    for t in (0, 0.5, 1):
        parts.append(_text(left + t * w, top + h + 14, f"{t:g}", size=10))
        parts.append(_text(left - 6, top + (1 - t) * h + 4, f"{t:g}", size=10, anchor="end"))
    parts.append(_text(left + w / 2, top + h + 34, x_title, size=11))
    parts.append(_text(14, top + h / 2, y_title, size=11, rotate=-90))
    parts.append("</svg>")
    return "".join(parts)


def _value_colour(value: float, low: float, high: float) -> str:
    """A metric on a white-to-blue scale between ``low`` and ``high`` (higher is bluer)."""
    t = (value - low) / (high - low) if high > low else 1.0
    return _mix("#ffffff", GOOD, float(min(1.0, max(0.0, t))))


def landscape_line_svg(
    share: Sequence[float],
    values: Sequence[float],
    *,
    title: str,
    left_name: str,
    right_name: str,
    marks: dict[str, float] | None = None,
    y_title: str = "accuracy",
) -> str:
    """A metric along the weight line of two models: ``share`` is the first model's weight share
    (0 at the left: all on ``left_name``, the second model; 1 at the right: all on ``right_name``).
    ``marks`` draws a labelled vertical line at each named share (the current weights).

    Examples
    --------
    >>> svg = landscape_line_svg([0, 0.5, 1], [0.8, 0.9, 0.85], title="t", left_name="b", right_name="a",
    ...                          marks={"yours": 0.5})
    >>> svg.count("<polyline"), "yours" in svg
    (1, True)
    """
    x, y = np.asarray(share, float), np.asarray(values, float)
    low, high = float(np.min(y)), float(np.max(y))
    pad = max((high - low) * 0.1, 0.005)
    low, high = low - pad, high + pad
    left, top, w, h = 60, 36, 420, 220
    width, height = left + w + 20, top + h + 60

    def px(a: float) -> float:
        return left + a * w

    def py(b: float) -> float:
        return top + (high - b) / (high - low) * h

    points = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x, y))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{escape(title)}" {FONT}>',
             _text(width / 2, 18, title, size=14, weight="bold"),
             f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#bbb"/>',
             f'<polyline points="{points}" fill="none" stroke="{GOOD}" stroke-width="2"/>']
    for k, (label, at) in enumerate((marks or {}).items()):
        parts.append(f'<line x1="{px(at):.1f}" y1="{top}" x2="{px(at):.1f}" y2="{top + h}" stroke="{INK}" '
                     f'stroke-dasharray="{"4,3" if k else "none"}"/>')
        parts.append(_text(px(at) + 4, top + 14 + 14 * k, label, size=11, anchor="start"))
    for b in (low + pad, high - pad):
        parts.append(_text(left - 6, py(b) + 4, f"{b:.3f}", size=10, anchor="end"))
    parts.append(_text(left, top + h + 16, f"all {left_name}", size=10, anchor="start"))
    parts.append(_text(left + w, top + h + 16, f"all {right_name}", size=10, anchor="end"))
    parts.append(_text(left + w / 2, top + h + 36, f"weight share of {right_name}", size=11))
    parts.append(_text(14, top + h / 2, y_title, size=11, rotate=-90))
    parts.append("</svg>")
    return "".join(parts)


def ternary_svg(
    weights: np.ndarray,
    values: Sequence[float],
    names: Sequence[str],
    *,
    title: str,
    marks: dict[str, Sequence[float]] | None = None,
    value_title: str = "accuracy",
) -> str:
    """A metric over the weight triangle of three models: one dot per grid point, white (lowest)
    to blue (highest); each corner is all weight on one model. ``marks`` draws a labelled ring at
    each named weight vector (normalised here).

    Parameters
    ----------
    weights : ndarray of shape (n_points, 3), rows on the simplex
    values : n_points values (accuracy)

    Examples
    --------
    >>> w = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1/3, 1/3, 1/3]])
    >>> svg = ternary_svg(w, [0.8, 0.7, 0.6, 0.9], ["a", "b", "c"], title="t", marks={"yours": [1, 1, 1]})
    >>> svg.count("<circle") - 1, "yours" in svg
    (4, True)
    """
    weights = np.asarray(weights, float)
    v = np.asarray(values, float)
    low, high = float(np.min(v)), float(np.max(v))
    side, left, top = 380, 70, 50
    corners = np.array([[left + side / 2, top], [left, top + side * 0.866], [left + side, top + side * 0.866]])
    width, height = left + side + 150, top + side * 0.866 + 50
    xy = weights @ corners
    spacing = side / max(2.0, np.sqrt(2 * len(v)))
    r = max(1.5, spacing * 0.62)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
             f'height="{height:.0f}" role="img" aria-label="{escape(title)}" {FONT}>',
             _text(width / 2, 18, title, size=14, weight="bold")]
    parts += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="{r:.1f}" fill="{_value_colour(c, low, high)}"/>'
              for (a, b), c in zip(xy, v)]
    outline = " ".join(f"{a:.1f},{b:.1f}" for a, b in corners)
    parts.append(f'<polygon points="{outline}" fill="none" stroke="#999"/>')
    for (a, b), name, dy in zip(corners, names, (-8, 18, 18)):
        short = name if len(name) <= 20 else name[:19] + "…"
        parts.append(_text(a, b + dy, short, size=11, weight="bold"))
    for k, (label, at) in enumerate((marks or {}).items()):
        share = np.asarray(at, float) / max(float(np.sum(at)), 1e-12)
        a, b = share @ corners
        parts.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="7" fill="none" stroke="{INK if k == 0 else BAD}" '
                     f'stroke-width="2.5"/>')
        parts.append(_text(a + 10, b + 4, label, size=11, anchor="start", weight="bold"))
    lx = left + side + 30
    parts.append(_text(lx, top + 10, value_title, size=11, anchor="start"))
    for k, (label, value) in enumerate((("highest", high), ("lowest", low))):
        y = top + 28 + 22 * k
        parts.append(f'<rect x="{lx}" y="{y - 10}" width="14" height="14" fill="{_value_colour(value, low, high)}" '
                     'stroke="#999"/>')
        parts.append(_text(lx + 20, y + 2, f"{label} {value:.4f}", size=11, anchor="start"))
    parts.append("</svg>")
    return "".join(parts)
