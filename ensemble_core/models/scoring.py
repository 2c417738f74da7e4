"""score_model: run a loaded model over a dataset in batches, with progress and a cache."""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .._validation import EnsembleInputError, first_true_row
from ..io import ID_COLUMN, LABEL_COLUMN, SUM_TOLERANCE, label_key
from .base import LoadedModel
from .cache import PredictionCache

#: The text column used when none is given and the data has one of this name.
DEFAULT_TEXT_COLUMN = "text"
_GENERIC_LABEL = re.compile(r"LABEL_\d+")


def class_order(model: LoadedModel, classes: Sequence[object]) -> np.ndarray:
    """For each dataset class, the index of the model's probability column.

    The model's classes must be exactly the dataset's (as ``label_key`` text, in
    any order). A model that knows a class the dataset lacks is refused rather
    than renormalised: dropping its probability mass would change the numbers.

    Raises
    ------
    EnsembleInputError
        Naming the classes on each side that have no match.
    """
    keys = [label_key(c) for c in classes]
    position = {k: i for i, k in enumerate(model.classes)}
    missing = [k for k in keys if k not in position]
    extra = [k for k in model.classes if k not in set(keys)]
    if missing or extra:
        parts = []
        if len(missing) == len(keys):
            parts.append("no class in common")
            missing = extra = []
        if missing:
            parts.append(f"the model has no class {', '.join(map(repr, missing))}")
        if extra:
            parts.append(f"the data has no class {', '.join(map(repr, extra))}")
        hint = ""
        if all(_GENERIC_LABEL.fullmatch(k) for k in model.classes):
            hint = "; the model's config.json has generic id2label names: set id2label to the dataset's class names"
        raise EnsembleInputError(
            f"{model.source}: the model's classes ({', '.join(model.classes)}) do not match the data's "
            f"({', '.join(keys)}): {'; '.join(parts)}{hint}"
        )
    return np.array([position[k] for k in keys], dtype=np.intp)


def _text_inputs(model: LoadedModel, data: pd.DataFrame, column: str | None) -> tuple[list[str], list[str]]:
    texts, column = text_values(data, column, reader=model.name)
    return texts, [column]


def text_values(data: pd.DataFrame, column: str | None, *, reader: str) -> tuple[list[str], str]:
    """The texts of a table's text column, and the column's name.

    Without ``column``: the column ``text``, else the only text column other than
    ``label`` and ``id``. ``reader`` (a model's name) names who reads text in the message
    asking for a column.

    Raises
    ------
    EnsembleInputError
        If no column can be chosen, the named one is absent, or a text is missing (naming the row).
    """
    if column is None:
        if DEFAULT_TEXT_COLUMN in data.columns:
            column = DEFAULT_TEXT_COLUMN
        else:
            candidates = [
                c for c in data.columns
                if c not in (LABEL_COLUMN, ID_COLUMN) and data[c].dtype.kind in "OSU"
            ]
            if len(candidates) != 1:
                raise EnsembleInputError(
                    f"{reader} reads text; name the text column (--text-column / text_column=); "
                    f"the data's columns are {', '.join(map(repr, data.columns))}"
                )
            column = candidates[0]
    if column not in data.columns:
        raise EnsembleInputError(
            f"no text column {column!r} in the data; its columns are {', '.join(map(repr, data.columns))}"
        )
    values = data[column]
    missing = values.isna().to_numpy()
    if missing.any():
        raise EnsembleInputError(f"column {column!r}: row {first_true_row(missing)}: text is missing")
    return [str(v) for v in values], column


def _feature_inputs(
    model: LoadedModel, data: pd.DataFrame, columns: Sequence[str] | None
) -> tuple[np.ndarray, list[str]]:
    if columns is None:
        if model.feature_names is not None:
            columns = list(model.feature_names)
        else:
            others = [c for c in data.columns if c not in (LABEL_COLUMN, ID_COLUMN)]
            if model.n_features is None or len(others) != model.n_features:
                width = "" if model.n_features is None else f" ({model.n_features})"
                raise EnsembleInputError(
                    f"{model.name} reads features but does not record their names; give the feature "
                    f"columns{width} in the model's order (--feature-columns / feature_columns=)"
                )
            # As many columns as the model takes: read them all, in the file's order.
            columns = others
    columns = list(columns)
    if model.feature_names is not None and sorted(columns) == sorted(model.feature_names):
        # The model's own names in another order: read them in the model's order.
        columns = list(model.feature_names)
    absent = [c for c in columns if c not in data.columns]
    if absent:
        raise EnsembleInputError(
            f"no feature column {', '.join(map(repr, absent))} in the data; its columns are "
            f"{', '.join(map(repr, data.columns))}"
        )
    if model.n_features is not None and len(columns) != model.n_features:
        raise EnsembleInputError(
            f"{model.name} takes {model.n_features} features; got {len(columns)} feature columns"
        )
    matrix = np.empty((len(data), len(columns)), dtype=np.float64)
    for j, col in enumerate(columns):
        values = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        # inf passes to_numeric; scikit-learn then fails with a bare ValueError, ONNX returns NaN.
        bad = ~np.isfinite(values)
        if bad.any():
            row = first_true_row(bad)
            raw = data[col].iloc[row - 1]
            if pd.isna(raw):
                what = "value is missing"
            elif np.isinf(values[row - 1]):
                what = f"{raw!r} is not a finite number" if isinstance(raw, str) else f"{raw} is not a finite number"
            else:
                what = f"{raw!r} is not a number"
            raise EnsembleInputError(f"column {col!r}: row {row}: {what}")
        matrix[:, j] = values
    return matrix, columns


def _data_hash(inputs: list[str] | np.ndarray) -> str:
    digest = hashlib.sha256()
    if isinstance(inputs, np.ndarray):
        digest.update(f"features{inputs.shape}".encode())
        digest.update(np.ascontiguousarray(inputs).tobytes())
    else:
        digest.update(json.dumps(inputs, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _check_batch(model: LoadedModel, probas: np.ndarray, start: int) -> None:
    bad = ~np.isfinite(probas).all(axis=1) | (probas < -1e-6).any(axis=1) | (probas > 1 + 1e-6).any(axis=1)
    sums = probas.sum(axis=1)
    bad |= np.abs(sums - 1.0) > SUM_TOLERANCE
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise EnsembleInputError(
            f"{model.source}: row {start + i + 1}: the model's outputs {np.round(probas[i], 4).tolist()} "
            f"are not probabilities (each in [0, 1], summing to 1 ±{SUM_TOLERANCE:g}); "
            "a model must output class probabilities, not scores or logits"
        )


def score_model(
    model: LoadedModel,
    data: pd.DataFrame,
    *,
    classes: Sequence[object],
    text_column: str | None = None,
    feature_columns: Sequence[str] | None = None,
    batch_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    cache: PredictionCache | None = None,
) -> np.ndarray:
    """The model's class probabilities for every row of ``data``, in the dataset's class order.

    Parameters
    ----------
    model : from :func:`load_model`
    data : the examples (a labels file's content, or any DataFrame)
    classes : the dataset's classes, in the order wanted for the output columns
        (a labels file's ``classes``); matched to the model's by ``label_key``
    text_column : for a text model; default the column ``text``, else the only
        text column besides ``label`` and ``id``
    feature_columns : for a features model, in the model's order; default the
        model's own ``feature_names``, else (a model that records none) every
        column but ``label`` and ``id`` in the data's order, if that is as many
        as the model takes. The model's names in another order are reordered by
        name; other names map by position.
    batch_size : rows per call; default ``model.batch_size``
    progress : called as ``progress(done, total)`` after each batch (once, with
        ``done == total``, on a cache hit)
    cache : where to look up and store the result; None to always run the model

    Returns
    -------
    ndarray of shape (n_samples, len(classes)), float32

    Raises
    ------
    EnsembleInputError
        On an empty dataset, missing or non-numeric columns, classes that do not
        match, a bad batch size, or a model whose outputs are not probabilities.

    Examples
    --------
    >>> labels = LabelsFile("test.csv")  # doctest: +SKIP
    >>> probas = score_model(load_model("lr.skops"), labels.content, classes=labels.classes)  # doctest: +SKIP
    """
    if len(data) == 0:
        raise EnsembleInputError("the dataset has no rows")
    if batch_size is None:
        batch_size = model.batch_size
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise EnsembleInputError(f"batch size must be a positive integer; got {batch_size!r}")
    order = class_order(model, classes)
    keys = [label_key(c) for c in classes]
    if model.input == "text":
        if feature_columns is not None:
            raise EnsembleInputError(f"{model.name} reads text, not feature columns; give a text column instead")
        inputs, columns = _text_inputs(model, data, text_column)
    else:
        if text_column is not None:
            raise EnsembleInputError(f"{model.name} reads feature columns, not text; give feature columns instead")
        inputs, columns = _feature_inputs(model, data, feature_columns)
    n = len(data)
    shape = (n, len(keys))
    key = None
    if cache is not None:
        key = cache.key(
            model_hash=model.content_hash, data_hash=_data_hash(inputs), columns=columns,
            classes=keys, input=model.input,
        )
        cached = cache.get(key, shape)
        if cached is not None:
            if progress is not None:
                progress(n, n)
            return cached
    probas = np.empty(shape, dtype=np.float32)
    for start in range(0, n, int(batch_size)):
        stop = min(start + int(batch_size), n)
        out = np.asarray(model.predict_proba(inputs[start:stop]), dtype=np.float64)
        _check_batch(model, out, start)
        probas[start:stop] = np.clip(out[:, order], 0.0, 1.0)
        if progress is not None:
            progress(stop, n)
    if cache is not None:
        try:
            cache.put(key, probas)
        except OSError as exc:
            warnings.warn(f"prediction cache not written ({cache.root}): {exc}", stacklevel=2)
    return probas
