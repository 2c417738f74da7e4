"""Where does the ensemble help? Its accuracy against the best single model's, slice by slice.

A *slicing* puts every labelled row in exactly one slice, from one column of the
labels file's content or from the true class:

- categorical columns (text with few words, booleans): one slice per value, the
  most frequent :data:`MAX_CATEGORIES` − 1 values and "(other)" beyond them;
- numeric columns: ``bins`` quantile bins (equal counts as far as ties allow);
- text columns (a median of at least :data:`TEXT_MIN_WORDS` words): quantile bins of
  the length in words;
- the true class: one slice per class.

Missing values form their own slice, "(missing)". For each slice: its size, the
ensemble's accuracy and the best single model's (the model the headline compares
against, chosen on all rows: a model chosen per slice would be chosen on the rows it
is judged on), the gain with its paired bootstrap interval, fixes and breaks, and
McNemar's p. A slice is flagged where the ensemble is significantly *worse*: gain
below zero and McNemar's p, adjusted for the number of slices by Holm's step-down
method, below ``alpha``.

Examples
--------
>>> import numpy as np, pandas as pd
>>> best = np.array([1, 1, 0, 0, 1, 1, 0, 0], bool)
>>> ens = np.array([1, 1, 1, 1, 1, 0, 0, 0], bool)
>>> s = slice_values(pd.Series(list("aaaabbbb")), name="group")
>>> [(r.slice, r.n, r.accuracy, r.best_single_accuracy, r.fixes, r.breaks)
...  for r in slice_table(ens, best, s)]
[('a', 4, 1.0, 0.5, 2, 0), ('b', 4, 0.25, 0.5, 0, 1)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from .._validation import EnsembleInputError, first_true_row
from ..significance import DEFAULT_RESAMPLES, bootstrap_gain_ci, mcnemar_test

SliceKind = Literal["auto", "category", "numeric", "text"]
#: The kinds a column can be sliced as ("auto" picks one of the others).
SLICE_KINDS: tuple[str, ...] = ("auto", "category", "numeric", "text")
#: At most this many slices from a categorical column: the most frequent values, then "(other)".
MAX_CATEGORIES = 30
#: A text column (sliced by length in words) has a median of at least this many words per row.
TEXT_MIN_WORDS = 3
MAX_BINS = 50
MISSING = "(missing)"
OTHER = "(other)"
#: The slicing by each row's true class (not a content column).
CLASS_SLICING = "label"


@dataclass(frozen=True, eq=False)
class Slicing:
    """Every row's slice under one slicing.

    Attributes
    ----------
    column : str, the content column (or :data:`CLASS_SLICING`)
    kind : "category", "numeric", "text" or "class"
    labels : tuple of str, one per slice, in display order
    codes : ndarray of shape (n_samples,), int: each row's slice (an index into ``labels``)
    """

    column: str
    kind: str
    labels: tuple[str, ...]
    codes: np.ndarray


@dataclass(frozen=True)
class SliceResult:
    """One slice's numbers (accuracies and gain as fractions; ``p_value`` McNemar's, ``p_adjusted``
    Holm's over the slicing's slices; ``worse``: the ensemble is significantly worse here)."""

    slice: str
    n: int
    accuracy: float
    best_single_accuracy: float
    gain: float
    gain_ci: tuple[float, float]
    fixes: int
    breaks: int
    p_value: float
    p_adjusted: float
    worse: bool

    def to_dict(self) -> dict:
        return {
            "slice": self.slice, "n": self.n, "accuracy": self.accuracy,
            "best_single_accuracy": self.best_single_accuracy, "gain": self.gain,
            "gain_ci": list(self.gain_ci), "fixes": self.fixes, "breaks": self.breaks,
            "p_value": self.p_value, "p_adjusted": self.p_adjusted, "worse": self.worse,
        }


def _check_bins(bins: int) -> None:
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or not 2 <= bins <= MAX_BINS:
        raise EnsembleInputError(f"--bins must be a whole number from 2 to {MAX_BINS}; got {bins!r}")


def _with_missing(codes: np.ndarray, labels: list[str], missing: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    if missing.any():
        codes = np.where(missing, len(labels), codes)
        labels = [*labels, MISSING]
    return tuple(labels), codes.astype(np.intp)


def _number(x: float) -> str:
    return f"{x:.4g}"


def _quantile_bins(x: np.ndarray, bins: int, unit: str = "") -> tuple[list[str], np.ndarray]:
    """Codes and labels of ``bins`` quantile bins of finite ``x`` (equal edges merged): bins are
    [lo, hi) except the last, which is [lo, hi]."""
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
    if edges.size == 1:
        return [f"{_number(edges[0])}{unit}"], np.zeros(x.size, np.intp)
    inner = edges[1:-1]
    codes = np.searchsorted(inner, x, side="right")
    labels = [f"[{_number(lo)}, {_number(hi)}){unit}" for lo, hi in zip(edges[:-2], edges[1:-1])]
    labels.append(f"[{_number(edges[-2])}, {_number(edges[-1])}]{unit}")
    return labels, codes


def _word_counts(text: pd.Series) -> np.ndarray:
    return text.astype(str).str.split().str.len().to_numpy(dtype=np.float64)


def _kind_of(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values):
        return "category"
    if pd.api.types.is_numeric_dtype(values):
        return "numeric"
    present = values.dropna()
    if len(present) and np.median(_word_counts(present)) >= TEXT_MIN_WORDS:
        return "text"
    return "category"


def slice_values(values: pd.Series, *, name: str | None = None, kind: SliceKind = "auto", bins: int = 4) -> Slicing:
    """Slice rows by one column's values.

    Parameters
    ----------
    values : Series of length n_samples (a content column of the labels file)
    name : the column's name (default ``values.name``)
    kind : "auto" (numeric dtype → numeric; text with a median of at least
        :data:`TEXT_MIN_WORDS` words → text; otherwise category), or one of them
    bins : int, quantile bins for numeric columns and text lengths (2 to :data:`MAX_BINS`)

    Returns
    -------
    Slicing
    """
    name = str(values.name if name is None else name)
    _check_bins(bins)
    if kind not in SLICE_KINDS:
        raise EnsembleInputError(f"unknown slice kind {kind!r}; expected one of {', '.join(SLICE_KINDS)}")
    values = values.reset_index(drop=True)
    if kind == "auto":
        kind = _kind_of(values)
    missing = values.isna().to_numpy()
    codes = np.zeros(len(values), np.intp)
    present = ~missing
    if kind == "numeric":
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
        bad = present & ~np.isfinite(x)
        if bad.any():
            row = first_true_row(bad)
            raise EnsembleInputError(f"column {name!r}: row {row}: {values.iloc[row - 1]} is not a finite number")
        labels, codes[present] = _quantile_bins(x[present], bins) if present.any() else ([], codes[present])
    elif kind == "text":
        words = _word_counts(values[present])
        labels, codes[present] = _quantile_bins(words, bins, " words") if present.any() else ([], codes[present])
    else:
        text = values[present].astype(str)
        counts = text.value_counts(sort=False)
        order = sorted(counts.index, key=lambda v: (-counts[v], v))
        if len(order) > MAX_CATEGORIES:
            kept = order[: MAX_CATEGORIES - 1]
            labels = sorted(kept)
            index = {v: i for i, v in enumerate(labels)}
            codes[present] = text.map(lambda v: index.get(v, len(labels))).to_numpy()
            labels.append(OTHER)
        else:
            labels = sorted(order)
            codes[present] = pd.Categorical(text, categories=labels).codes
        kind = "category"
    out_labels, out_codes = _with_missing(codes, list(labels), missing)
    return Slicing(column=name, kind=kind, labels=out_labels, codes=out_codes)


def slice_by_class(y_true: np.ndarray, classes: np.ndarray) -> Slicing:
    """One slice per true class (classes with no rows are left out)."""
    present = np.flatnonzero(np.bincount(y_true, minlength=len(classes)))
    remap = np.full(len(classes), -1, np.intp)
    remap[present] = np.arange(present.size)
    return Slicing(column=CLASS_SLICING, kind="class", labels=tuple(str(classes[c]) for c in present),
                   codes=remap[y_true])


def holm_adjust(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error rate), in the input's order.

    >>> holm_adjust(np.array([0.01, 0.04, 0.03]))
    array([0.03, 0.06, 0.06])
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


def slice_table(
    correct: np.ndarray,
    correct_best: np.ndarray,
    slicing: Slicing,
    *,
    alpha: float = 0.05,
    n_resamples: int = DEFAULT_RESAMPLES,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[SliceResult, ...]:
    """The ensemble against the best single model in every slice of ``slicing``.

    Parameters
    ----------
    correct : bool ndarray of shape (n_samples,): the ensemble right or wrong per row
    correct_best : bool ndarray of shape (n_samples,): the best single model's (chosen on all rows)
    slicing : Slicing of the same rows
    alpha : family-wise error rate of the "significantly worse" flags (Holm over the slices)

    Returns
    -------
    tuple of SliceResult, one per non-empty slice, in ``slicing.labels`` order
    """
    correct = np.asarray(correct, bool)
    correct_best = np.asarray(correct_best, bool)
    if not correct.shape == correct_best.shape == slicing.codes.shape:
        raise EnsembleInputError(
            f"slicing {slicing.column!r} covers {slicing.codes.size} rows; the predictions have {correct.size}"
        )
    if not 0 < alpha < 1:
        raise EnsembleInputError(f"alpha must be in (0, 1); got {alpha}")
    rows = []
    for code, label in enumerate(slicing.labels):
        in_slice = slicing.codes == code
        n = int(np.count_nonzero(in_slice))
        if n == 0:
            continue
        a, b = correct[in_slice], correct_best[in_slice]
        test = mcnemar_test(a, b)
        rows.append((label, n, a, b, test))
    adjusted = holm_adjust(np.array([r[4].p_value for r in rows]))
    out = []
    for (label, n, a, b, test), p_adj in zip(rows, adjusted):
        acc, best = float(a.mean()), float(b.mean())
        out.append(SliceResult(
            slice=label, n=n, accuracy=acc, best_single_accuracy=best, gain=acc - best,
            gain_ci=bootstrap_gain_ci(a, b, n_resamples=n_resamples, level=level, seed=seed),
            fixes=test.b, breaks=test.c, p_value=test.p_value, p_adjusted=float(p_adj),
            worse=bool(acc < best and p_adj < alpha),
        ))
    return tuple(out)
