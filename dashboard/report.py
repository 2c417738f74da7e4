"""What the Ensemble and Slices pages hand out: the HTML report and the slice table for the
current view, built with :mod:`ensemble_core.report` exactly as ``evaluate``/``report`` build them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ensemble_core import EnsembleInputError, EnsembleResult, WeightSuggestion
from ensemble_core.calibration import cross_fitted_note
from ensemble_core.report.html import build_report, render_html
from ensemble_core.report.slices import CLASS_SLICING, Slicing, slice_by_class, slice_values
from ensemble_core.report.summary import as_json, evaluation_summary, slice_rows

from .caches import FOLDS, Loaded
from .caches import SEED as CALIBRATION_SEED
from .sources import DataSource

#: The bootstrap seed of the gain intervals (the CLI's default ``--seed``).
SEED = 0


def source_fingerprints(source: DataSource) -> tuple[tuple[str, str], ...]:
    """(file name, SHA-256) of the labels file and each prediction file, uploaded or on disk."""
    out = []
    for entry in (source.labels, *source.predictions):
        digest = hashlib.sha256()
        if entry.data is not None:
            digest.update(entry.data)
        else:
            with open(entry.path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
        out.append((Path(entry.name).name, digest.hexdigest()))
    return tuple(out)


def slicing_for(loaded: Loaded, column: str, bins: int) -> Slicing:
    """The slicing by a content column (quantile ``bins`` for numbers and text lengths), or by
    the true class when ``column`` is :data:`~ensemble_core.report.slices.CLASS_SLICING`."""
    pset = loaded.pset
    if column == CLASS_SLICING:
        return slice_by_class(pset.y_true, pset.classes)
    if column not in slice_columns(loaded):
        raise EnsembleInputError(f"the labels file has no content column {column!r} to slice by")
    return slice_values(pset.content[column], name=column, bins=bins)


def slice_columns(loaded: Loaded) -> list[str]:
    """What the rows can be sliced by: the true class, then every content column."""
    content = loaded.pset.content
    return [CLASS_SLICING] + ([] if content is None else [str(c) for c in content.columns])


def report_slicings(loaded: Loaded, column: str | None, bins: int, also: Sequence[str] = ()) -> list[Slicing]:
    """The report's slicings: by ``column`` (the Slices page's choice), else by the true class
    (also when that column cannot be sliced: the Slices page shows why), then by each column of
    ``also`` that can be sliced (the ones the page draws side by side with it)."""
    try:
        first = slicing_for(loaded, column or CLASS_SLICING, bins)
    except EnsembleInputError:
        first = slicing_for(loaded, CLASS_SLICING, bins)
    out = [first]
    for other in dict.fromkeys(also):
        if other != first.column:
            try:
                out.append(slicing_for(loaded, other, bins))
            except EnsembleInputError:
                continue  # not a column of this data (any more): the page says so
    return out


def summary_for(loaded: Loaded, result: EnsembleResult, slicings: Sequence[Slicing] = (),
                suggestion: WeightSuggestion | None = None) -> dict:
    """The ``evaluate --json`` summary of the included models under the view's ensemble (with
    ``slices`` when ``slicings`` are given, ``suggestion`` when one was made), as JSON values:
    with temperature-scaled members, ``evaluate --temperature-scale``'s."""
    summary = evaluation_summary(loaded.pset, result, loaded.evaluator, seed=SEED)
    if loaded.calibrated:
        summary["notes"].append(cross_fitted_note(FOLDS, CALIBRATION_SEED))
    if slicings:
        summary["slices"] = slice_rows(loaded.pset, result, loaded.evaluator, slicings, seed=SEED)
    if suggestion is not None:
        summary["suggestion"] = suggestion.to_dict()
    return as_json(summary)


def report_html(loaded: Loaded, result: EnsembleResult, slicings: Sequence[Slicing] = (),
                suggestion: WeightSuggestion | None = None) -> str:
    """The self-contained HTML report of the current view (the CLI's ``report`` for the same inputs)."""
    summary = summary_for(loaded, result, slicings, suggestion)
    report = build_report(loaded.pset, loaded.evaluator, result, summary, seed=SEED)
    return render_html(replace(report, files=source_fingerprints(loaded.source)))


def slice_rows_for(loaded: Loaded, result: EnsembleResult, slicing: Slicing) -> list[dict]:
    """The slice table of one slicing for the current view (the rows ``evaluate --slice-by`` prints)."""
    return as_json({"slices": slice_rows(loaded.pset, result, loaded.evaluator, [slicing], seed=SEED)})["slices"]


def slice_mask(loaded: Loaded, column: str, bins: int, label: str):
    """Which rows are in slice ``label`` of the slicing by ``column`` (bool array), or None when
    that slicing has no such slice (the data or the bins changed since it was chosen)."""
    slicing = slicing_for(loaded, column, bins)
    if label not in slicing.labels:
        return None
    return slicing.codes == slicing.labels.index(label)
