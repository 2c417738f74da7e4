"""The report to hand out: one self-contained HTML file for the current ensemble.

Every number in it is read from the ``evaluate --json`` summary of the same inputs
(embedded in the file as JSON, so that it can be checked), plus the slices and the
examples computed here. The file needs no network and no script: styles inline,
charts as inline SVG (:mod:`.svg`), a print style sheet for PDF. Everything a user's
file supplied (names, classes, text) is escaped.

Examples
--------
>>> from ensemble_core.report.html import headline_sentence
>>> headline_sentence({"n_samples": 200, "accuracy": 0.9, "gain_over_best": 0.05, "fixes": 14, "breaks": 4,
...                    "best_single": {"name": "forest", "accuracy": 0.85}, "names": ["forest", "knn"]})
'Combining the 2 models is right on 90.0% of 200 examples, against 85.0% for the best single model (forest): 5.0 points better. It fixes 14 examples forest got wrong and breaks 4 it got right.'
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from .. import plain
from ..metrics import confusion_benefit
from ..registry import strategy as strategy_spec
from .slices import Slicing, slice_table
from .svg import benefit_colour, intervals_svg, landscape_line_svg, lines_svg, matrix_svg, ternary_svg

#: Examples of each kind (fixes, breaks) the report shows.
EXAMPLES_SHOWN = 5
#: Text longer than this many characters is cut in the report's example tables.
TEXT_SHOWN = 400
#: The landscape's grid steps per unit weight, by number of models (the Ensemble page's).
LANDSCAPE_RESOLUTION = {2: 100, 3: 50}
#: Content columns named ``pixel_0`` … ``pixel_{k²-1}`` are drawn as a k × k image.
PIXEL_PREFIX = "pixel_"


@dataclass(frozen=True)
class ReportExample:
    """One example shown in the report: its row (1-based, as error messages count), id, the true
    class, the ensemble's and the best single model's predictions, the ensemble's probability of
    the true class (None for hard voting) and its content, as text or as an image's pixels."""

    row: int
    id: str | None
    true: str
    ensemble: str
    best: str
    p_true: float | None
    text: str
    pixels: tuple[float, ...] | None = None


@dataclass(frozen=True)
class ReportLandscape:
    """The weight landscape the report draws: accuracy at every grid point of the weight simplex
    of two or three models (``weights`` rows sum to 1, in ``names`` order), and the best point."""

    names: tuple[str, ...]
    weights: tuple[tuple[float, ...], ...]
    accuracy: tuple[float, ...]
    resolution: int

    @property
    def best(self) -> tuple[float, ...]:
        return self.weights[int(np.argmax(self.accuracy))]


def report_landscape(pset, strategy: str) -> ReportLandscape | None:
    """The landscape the report shows, as the Ensemble page draws it: for a strategy whose
    weights are linear in its scores and two (a line, 100 steps) or three models (a triangle,
    steps of 1/50); None otherwise (stacking, one model, more than three)."""
    from ..landscape import LANDSCAPE_STRATEGIES, simplex_landscape

    if strategy not in LANDSCAPE_STRATEGIES or pset.n_models not in (2, 3):
        return None
    resolution = LANDSCAPE_RESOLUTION[pset.n_models]
    land = simplex_landscape(pset.probas, pset.y_true, strategy=strategy, resolution=resolution, names=pset.names,
                             with_log_loss=False)
    return ReportLandscape(tuple(pset.names), tuple(map(tuple, land.weights.tolist())),
                           tuple(land.accuracy.tolist()), resolution)


@dataclass(frozen=True)
class Report:
    """Everything the report shows; :func:`render_html` draws it."""

    summary: dict
    slices: tuple[dict, ...] = ()
    fixes: tuple[ReportExample, ...] = ()
    breaks: tuple[ReportExample, ...] = ()
    calibration: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    landscape: ReportLandscape | None = None
    files: tuple[tuple[str, str], ...] = ()
    version: str = ""
    created: str = ""


def file_fingerprints(paths: Sequence[str | Path]) -> tuple[tuple[str, str], ...]:
    """(file name, SHA-256 of its bytes) for each input file, so a reader can check they have the same data."""
    out = []
    for p in paths:
        digest = hashlib.sha256()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        out.append((Path(p).name, digest.hexdigest()))
    return tuple(out)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ensemble-explorer")
    except PackageNotFoundError:
        return "unknown"


def _content_of(content, row: int) -> tuple[str, tuple[float, ...] | None]:
    """An example's content: the longest text column's text, an image's pixels, or column=value pairs."""
    if content is None or content.shape[1] == 0:
        return "", None
    columns = [str(c) for c in content.columns]
    k = int(round(np.sqrt(len(columns))))
    if k > 1 and k * k == len(columns) and columns == [f"{PIXEL_PREFIX}{i}" for i in range(k * k)]:
        return "", tuple(float(v) for v in content.iloc[row].to_numpy(dtype=float))
    texts = [c for c in content.columns
             if not (pd.api.types.is_numeric_dtype(content[c]) or pd.api.types.is_bool_dtype(content[c]))]
    if texts:
        value = content[texts[0]].iloc[row]
        return ("" if value is None else str(value)), None
    return ", ".join(f"{c}={content[c].iloc[row]}" for c in content.columns[:6]), None


def _examples(pset, evaluator, result, mask: np.ndarray, *, most_sure: bool, n: int) -> tuple[ReportExample, ...]:
    """Up to ``n`` examples of ``mask``: fixes the ensemble is surest of (highest probability of the true
    class) and breaks it is surest of (lowest), so the table shows the clearest cases."""
    rows = np.flatnonzero(mask)
    if rows.size == 0:
        return ()
    p_true = result.probas[rows, pset.y_true[rows]].astype(np.float64)
    order = np.argsort(-p_true if most_sure else p_true, kind="stable")[:n]
    best = evaluator.labels_[evaluator.best_index_]
    out = []
    for r in rows[order]:
        text, pixels = _content_of(pset.content, int(r))
        out.append(ReportExample(
            row=int(r) + 1, id=None if pset.ids is None else str(pset.ids[r]),
            true=str(pset.classes[pset.y_true[r]]), ensemble=str(pset.classes[result.y_pred[r]]),
            best=str(pset.classes[best[r]]),
            p_true=float(result.probas[r, pset.y_true[r]]) if result.has_probas else None,
            text=text, pixels=pixels,
        ))
    return tuple(out)


def build_report(
    pset,
    evaluator,
    result,
    summary: dict,
    *,
    slicings: Sequence[Slicing] = (),
    files: Sequence[str | Path] = (),
    n_examples: int = EXAMPLES_SHOWN,
    created: str | None = None,
    seed: int = 0,
) -> Report:
    """Gather the report's contents for one evaluated ensemble.

    Parameters
    ----------
    pset : PredictionSet; evaluator : its EnsembleEvaluator; result : the EnsembleResult shown
    summary : the ``evaluate --json`` report of the same result (:func:`.summary.evaluation_summary`)
    slicings : slicings of the rows (:func:`.slices.slice_values`, :func:`.slices.slice_by_class`), used
        when ``summary`` holds no ``slices`` of its own
    files : the input files, fingerprinted in the report's footer
    created : the date shown (default: now, UTC)
    """
    from ..metrics import calibration_curve

    correct = result.y_pred == pset.y_true
    best = evaluator.correct_[evaluator.best_index_]
    if "slices" in summary:  # computed with the summary: the report shows those very numbers
        slices = tuple(summary["slices"])
    else:
        slices = tuple({"column": s.column, **row.to_dict()}
                       for s in slicings for row in slice_table(correct, best, s, seed=seed))
    calibration = {}
    if result.has_probas:
        conf, acc, _ = calibration_curve(pset.y_true, result.probas)
        calibration["ensemble"] = (conf.tolist(), acc.tolist())
        b = evaluator.best_index_
        if not pset.hard[b]:
            conf, acc, _ = calibration_curve(pset.y_true, pset.probas[b])
            calibration[pset.names[b]] = (conf.tolist(), acc.tolist())
    return Report(
        summary=summary,
        slices=slices,
        fixes=_examples(pset, evaluator, result, correct & ~best, most_sure=True, n=n_examples),
        breaks=_examples(pset, evaluator, result, ~correct & best, most_sure=False, n=n_examples),
        calibration=calibration,
        landscape=report_landscape(pset, result.strategy) if result.weights is not None else None,
        files=file_fingerprints(files),
        version=_version(),
        created=created or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None, digits: int = 4) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def headline_sentence(summary: dict) -> str:
    """The result in plain words, for people who do not read confidence intervals (the
    dashboard's sentence: :func:`ensemble_core.plain.headline`)."""
    best = summary["best_single"]
    return plain.headline(n_models=len(summary["names"]), n_samples=summary["n_samples"],
                          accuracy=summary["accuracy"], best_name=best["name"], best_accuracy=best["accuracy"],
                          fixes=summary["fixes"], breaks=summary["breaks"])


_CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #222; margin: 0 auto;
       max-width: 980px; padding: 16px; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 0.2rem 0 0.6rem; } h2 { font-size: 1.2rem; margin-top: 1.8rem;
     border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
.headline { font-size: 1.25rem; background: #f3f6fa; border-left: 4px solid #2166ac; padding: 0.6rem 0.9rem; }
.precise { color: #444; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; margin: 0.4rem 0; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid #e3e3e3; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.worse td { color: #b2182b; font-weight: 600; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; } svg { max-width: 100%; height: auto; }
.side > div { flex: 1 1 300px; min-width: 0; } .side svg { width: 100%; }
.scroll { overflow-x: auto; max-width: 100%; }
.text { white-space: pre-wrap; word-break: break-word; }
.legend { font-size: 0.85rem; color: #555; }
footer { margin-top: 2rem; font-size: 0.8rem; color: #555; border-top: 1px solid #ddd; padding-top: 0.5rem; }
code { font-size: 0.8rem; word-break: break-all; }
@media (max-width: 600px) { body { padding: 8px; } table { font-size: 0.8rem; } .headline { font-size: 1.05rem; } }
@media print { body { max-width: none; } .scroll { overflow: visible; } h2 { break-after: avoid; } svg, tr, .headline { break-inside: avoid; } }
"""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, numeric: Sequence[int] = (),
           row_class: Sequence[str] | None = None) -> str:
    head = "".join(f'<th class="n">{escape(h)}</th>' if i in numeric else f"<th>{escape(h)}</th>"
                   for i, h in enumerate(header))
    body = []
    for k, row in enumerate(rows):
        cls = f' class="{row_class[k]}"' if row_class and row_class[k] else ""
        cells = "".join(f'<td class="n">{escape(c)}</td>' if i in numeric else f"<td>{escape(c)}</td>"
                        for i, c in enumerate(row))
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<div class=\"scroll\"><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"


def _pixels_svg(pixels: tuple[float, ...]) -> str:
    k = int(round(np.sqrt(len(pixels))))
    top = max(pixels) or 1.0
    cells = []
    for i, v in enumerate(pixels):
        shade = round(255 * (1 - v / top))
        cells.append(f'<rect x="{(i % k) * 6}" y="{(i // k) * 6}" width="6" height="6" '
                     f'fill="rgb({shade},{shade},{shade})"/>')
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{6 * k}" height="{6 * k}">{"".join(cells)}</svg>'


def _examples_html(examples: Sequence[ReportExample], best_name: str) -> str:
    if not examples:
        return "<p>None.</p>"
    rows = []
    for e in examples:
        content = _pixels_svg(e.pixels) if e.pixels else f'<span class="text">{escape(e.text[:TEXT_SHOWN])}' \
            f'{"…" if len(e.text) > TEXT_SHOWN else ""}</span>'
        rows.append(
            f"<tr><td class=\"n\">{e.row}</td><td>{escape(e.id or '')}</td><td>{escape(e.true)}</td>"
            f"<td>{escape(e.ensemble)}</td><td>{escape(e.best)}</td><td class=\"n\">{_num(e.p_true, 2)}</td>"
            f"<td>{content}</td></tr>"
        )
    head = ("<tr><th class=\"n\">row</th><th>id</th><th>true</th><th>ensemble</th>"
            f"<th>{escape(best_name)}</th><th class=\"n\">p(true)</th><th>content</th></tr>")
    return f"<div class=\"scroll\"><table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table></div>"


def _landscape_html(land: ReportLandscape, weights: Sequence[float] | None) -> str:
    marks = {} if weights is None else {"your weights": list(weights)}
    marks["best on the grid"] = list(land.best)
    if len(land.names) == 2:
        figure = landscape_line_svg(
            [w[0] for w in land.weights], land.accuracy, title="Accuracy over the weights",
            left_name=land.names[1], right_name=land.names[0],
            marks={k: v[0] / max(sum(v), 1e-12) for k, v in marks.items()})
        how = f"as the weight moves from {land.names[1]} (left) to {land.names[0]} (right)"
    else:
        figure = ternary_svg(np.asarray(land.weights), land.accuracy, land.names, title="Accuracy over the weights",
                             marks=marks)
        how = f"at every weighting of the three models in steps of 1/{land.resolution} (a corner: all on one model)"
    best = ", ".join(f"{n}={w:.2f}" for n, w in zip(land.names, land.best))
    legend = (f"The ensemble's accuracy {how}. The best point on the grid ({best}) reaches "
              f"{max(land.accuracy):.4f}. Computed on all labelled examples: in-sample, so a point picked by looking "
              "here is not evidence; the held-out check is the weight suggestion's nested cross-validation.")
    return ("<h2 id=\"landscape\">The weight landscape</h2><div class=\"figures\">" + figure + "</div>"
            f"<p class=\"legend\">{escape(legend)}</p>")


def _suggestion_html(g: dict) -> str:
    calibrated = ", each model temperature-scaled first" if g.get("calibrated") else ""
    rows = [[label, _pct(g[key]["accuracy"]), _num(g[key]["log_loss"])]
            for label, key in [("suggested weights", "heldout"), ("equal weights (soft vote)", "uniform"),
                               ("best single model, chosen per fold", "best_single"),
                               ("suggested weights on the rows they were fitted on (optimistic)", "in_sample")]]
    weights = ", ".join(f"{k}={v:.3f}" for k, v in g["weights"].items())
    method = f"Method: {g['method']}{calibrated}. Soft-voting weights {weights} (fitted on all rows)."
    held = (f"Held out: {g['folds']}-fold nested cross-validation, each fold scored with weights chosen without it, "
            "so the expected gain is not flattered by the tuning.")
    return ("<h2 id=\"suggestion\">Suggested weights and their held-out evidence</h2>"
            f"<p>{escape(method)}</p>"
            + _table(["combination", "held-out accuracy", "held-out log loss"], rows, numeric=(1, 2))
            + f"<p class=\"legend\">{escape(held)}</p>")


def render_html(report: Report) -> str:
    """The report as one self-contained HTML document (no script, no external resource)."""
    s = report.summary
    best = s["best_single"]
    classes = [str(c) for c in s["classes"]]
    spec = strategy_spec(s["strategy"])
    parts = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "img-src data:\">",
        f"<title>Ensemble report: {escape(spec.label)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Ensemble report — {escape(spec.label)} of {len(s['names'])} models</h1>",
        f'<p class="headline" id="headline">{escape(headline_sentence(s))}</p>',
        f'<p class="precise" id="precise">In precise terms: accuracy {_num(s["accuracy"])} '
        f'(95% CI {_num(s["accuracy_ci"][0])} to {_num(s["accuracy_ci"][1])}); gain over {escape(best["name"])} '
        f'{s["gain_over_best"]:+.4f} (paired bootstrap 95% CI {s["gain_ci"][0]:+.4f} to {s["gain_ci"][1]:+.4f}); '
        f'McNemar p = {s["mcnemar_p"]:.3g}; {escape(s["gain_summary"])}. Oracle accuracy (some model right) '
        f'{_num(s["oracle_accuracy"])}; the models disagree on {_pct(s["disagreement_rate"])} of examples.</p>',
    ]
    # What was combined.
    parts.append("<h2 id=\"combined\">What was combined, and how</h2>")
    parts.append(f"<p>{escape(spec.label)}: {escape(spec.help)}</p>")
    weights = s.get("weights")
    rows = []
    for k, name in enumerate(s["names"]):
        m = s["models"][name]
        w = "—" if not weights else f"{weights[k]:.3f}"
        rows.append([name, w, _num(m["accuracy"]), _num(m["log_loss"]), _num(m["brier"])])
    rows.append([f"ensemble ({s['strategy']})", "", _num(s["accuracy"]), _num(s["log_loss"]), _num(s["brier"])])
    parts.append(_table(["model", "weight", "accuracy", "log loss", "Brier"], rows, numeric=(1, 2, 3, 4)))
    for note in s.get("notes", []):
        parts.append(f"<p class=\"legend\">Note: {escape(note)}</p>")
    # Confusion matrices.
    ens_cm = np.asarray(s["confusion_matrix"])
    best_cm = np.asarray(s["models"][best["name"]]["confusion_matrix"])
    diff = ens_cm - best_cm
    benefit = confusion_benefit(diff)
    bound = float(np.abs(benefit).max()) or 1.0
    parts.append("<h2 id=\"confusion\">Confusion matrices</h2><div class=\"figures\">")
    parts.append(matrix_svg(ens_cm, classes, title="Ensemble"))
    parts.append(matrix_svg(best_cm, classes, title=f"Best single: {best['name']}"))
    n = len(classes)
    parts.append(matrix_svg(
        benefit, classes, title="Ensemble − best single",
        fills=[[benefit_colour(benefit[i, j], bound) for j in range(n)] for i in range(n)],
        texts=[[f"{int(diff[i, j]):+d}" if diff[i, j] else "0" for j in range(n)] for i in range(n)],
    ))
    parts.append("</div><p class=\"legend\">In the difference, <b style=\"color:#2166ac\">blue</b> is good news "
                 "(more right answers on the diagonal, fewer mistakes off it) and <b style=\"color:#b2182b\">red</b> "
                 "is bad news; the numbers are the change in counts.</p>")
    # Slices.
    if report.slices:
        parts.append("<h2 id=\"slices\">Where it helps: slices</h2>")
        parts.append(f"<p class=\"legend\">Each slice compares the ensemble with {escape(best['name'])} (the best "
                     "model on all rows) on that slice's rows. Red rows: the ensemble is significantly worse there "
                     "(McNemar's test, Holm-adjusted over the slices of one column, family-wise α = 0.05).</p>")
        by_column = {c: [r for r in report.slices if r["column"] == c]
                     for c in dict.fromkeys(r["column"] for r in report.slices)}
        # The gain charts side by side (one column on a phone), then each slicing's table.
        parts.append("<div class=\"figures side\">" + "".join("<div>" + intervals_svg(
            [r["slice"] for r in part], [r["gain"] for r in part], [r["gain_ci"][0] for r in part],
            [r["gain_ci"][1] for r in part], title=f"Gain by {column}", flags=[r["worse"] for r in part],
        ) + "</div>" for column, part in by_column.items()) + "</div>")
        for column, part in by_column.items():
            parts.append(f"<h3>By {escape(column)}</h3>")
            parts.append(_table(
                ["slice", "n", "ensemble", "best single", "gain", "95% CI", "fixes", "breaks", "p (Holm)"],
                [[r["slice"], f"{r['n']:,}", _pct(r["accuracy"]), _pct(r["best_single_accuracy"]),
                  f"{100 * r['gain']:+.1f} pts", f"{100 * r['gain_ci'][0]:+.1f} to {100 * r['gain_ci'][1]:+.1f}",
                  f"{r['fixes']:,}", f"{r['breaks']:,}", f"{r['p_adjusted']:.3g}"] for r in part],
                numeric=(1, 2, 3, 4, 5, 6, 7, 8), row_class=["worse" if r["worse"] else "" for r in part]))
    # Examples.
    parts.append("<h2 id=\"examples\">Examples</h2>")
    parts.append(f"<h3>Fixes: the ensemble right, {escape(best['name'])} wrong (the ensemble surest first)</h3>")
    parts.append(_examples_html(report.fixes, best["name"]))
    parts.append(f"<h3>Breaks: the ensemble wrong, {escape(best['name'])} right (the ensemble surest first)</h3>")
    parts.append(_examples_html(report.breaks, best["name"]))
    # Calibration.
    if report.calibration:
        parts.append("<h2 id=\"calibration\">Calibration</h2><div class=\"figures\">")
        parts.append(lines_svg({k: (np.asarray(x, float), np.asarray(y, float))
                                for k, (x, y) in report.calibration.items()},
                               title="Reliability", x_title="confidence", y_title="accuracy", diagonal=True))
        parts.append(f"</div><p class=\"legend\">On the dashed diagonal, a confidence of 80% is right 80% of the "
                     f"time. ECE: ensemble {_num(s['ece'])}, {escape(best['name'])} "
                     f"{_num(s['models'][best['name']]['ece'])}.</p>")
    if report.landscape is not None:
        parts.append(_landscape_html(report.landscape, s.get("weights")))
    if "suggestion" in s:
        parts.append(_suggestion_html(s["suggestion"]))
    # Footer.
    files = "".join(f"<li>{escape(name)}: <code>{digest}</code></li>" for name, digest in report.files)
    # As JSON inside the page: no "<", ">" or "&" that an HTML parser could read as markup.
    data = json.dumps(s, sort_keys=True).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    parts.append(
        f"<footer id=\"footer\"><p>Made by ensemble-explorer {escape(report.version)} on {escape(report.created)}. "
        "Every number above comes from <code>ensemble-explorer evaluate --json</code> on these files "
        f"(SHA-256):</p><ul>{files}</ul></footer>"
        f"<script type=\"application/json\" id=\"report-data\">{data}</script></body></html>"
    )
    return "".join(parts)
