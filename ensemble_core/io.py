"""The labels and prediction file formats: read, validate, write.

Labels file (CSV or Parquet): a ``label`` column, an optional ``id`` column, and
any other columns as the examples' content. Prediction file, one per model: an
optional ``id`` column, then either one probability column per class (named by
the class label) or a single ``prediction`` column of hard labels. Rows align by
``id`` when both files have one, else by row order. Rows are numbered from 1,
the header not counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ._validation import EnsembleInputError, first_true_row
from .predictions import PredictionSet

LABEL_COLUMN = "label"
ID_COLUMN = "id"
PREDICTION_COLUMN = "prediction"
#: A probability row may sum to 1 ± this.
SUM_TOLERANCE = 1e-3


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in (".csv", ".csv.gz", ".parquet", ".pq"):
        if name.endswith(suffix):
            return suffix
    raise EnsembleInputError(f"{path}: unknown file type; expected .csv, .csv.gz, .parquet or .pq")


def read_table(path: str | Path, source: object = None) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame, with one-line errors.

    ``source`` may be a file-like object (an upload) read in place of ``path``,
    whose name then only decides the format and names the file in messages.
    """
    path = Path(path)
    suffix = _suffix(path)
    if source is None and not path.is_file():
        raise EnsembleInputError(f"{path}: no such file")
    target = path if source is None else source
    try:
        if suffix in (".parquet", ".pq"):
            df = pd.read_parquet(target)
        else:
            df = pd.read_csv(
                target,
                compression="gzip" if suffix == ".csv.gz" else None,
                # Only empty cells are missing: a class may well be called "NA" or "None".
                keep_default_na=False,
                na_values=[""],
                skipinitialspace=True,
            )
    except pd.errors.EmptyDataError:
        raise EnsembleInputError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        kind = "Parquet" if suffix in (".parquet", ".pq") else "CSV"
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EnsembleInputError(f"{path}: not a valid {kind} file ({detail})") from None
    except Exception as exc:  # pyarrow raises its own types on corrupt files
        raise EnsembleInputError(f"{path}: could not read ({type(exc).__name__}: {exc})") from None
    if len(df) == 0:
        raise EnsembleInputError(f"{path}: the file has no rows")
    df.columns = [str(c).strip() for c in df.columns]
    dup = df.columns[df.columns.duplicated()]
    if len(dup):
        raise EnsembleInputError(f"{path}: column {dup[0]!r} appears more than once")
    return df


def label_key(value: object) -> str:
    """The canonical text of a class label, used to match labels, columns and predictions.

    Integral numbers lose any ``.0`` (a column read as float because of a gap
    still matches integer labels); everything else is ``str``.
    """
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _check_ids(path: Path, ids: pd.Series) -> np.ndarray:
    missing = ids.isna().to_numpy()
    if missing.any():
        raise EnsembleInputError(f"{path}: column 'id': row {first_true_row(missing)}: id is missing")
    keys = np.array([label_key(v) for v in ids], dtype=object)
    dup = pd.Series(keys).duplicated().to_numpy()
    if dup.any():
        row = first_true_row(dup)
        raise EnsembleInputError(f"{path}: column 'id': row {row}: duplicate id {keys[row - 1]!r}")
    return keys.astype(str)


def class_indices(path: Path, column: str, values: pd.Series, keys: Sequence[str]) -> np.ndarray:
    """Each value's index among known classes, matched by ``label_key``.

    Raises
    ------
    EnsembleInputError
        At the first missing value or value that is not one of ``keys``.
    """
    missing = values.isna().to_numpy()
    if missing.any():
        raise EnsembleInputError(f"{path}: column {column!r}: row {first_true_row(missing)}: {column} is missing")
    index = {k: i for i, k in enumerate(keys)}
    idx = np.array([index.get(label_key(v), -1) for v in values], dtype=np.intp)
    if (idx < 0).any():
        row = first_true_row(idx < 0)
        raise EnsembleInputError(
            f"{path}: column {column!r}: row {row}: {label_key(values.iloc[row - 1])!r} is not a known class; "
            f"classes are {', '.join(keys)}"
        )
    return idx


class LabelsFile:
    """A validated labels file, or the rows of new data to predict.

    Parameters
    ----------
    path : the file (also names it in messages)
    source : optional file-like object to read instead of ``path`` (an upload)
    classes : optional fixed classes, in order (e.g. a saved stacker's). Without
        them the ``label`` column is required and the classes are its sorted unique
        labels. With them the ``label`` column is optional: each label must be one
        of ``classes``, and a file without labels reads as unlabelled rows
        (``y_true`` is None).

    Attributes
    ----------
    path : Path
    classes : ndarray of shape (n_classes,)
        Sorted unique labels, in their original type (or the given classes).
    keys : list of str
        ``label_key`` of each class, in ``classes`` order.
    y_true : ndarray of shape (n_samples,), class indices, or None for unlabelled rows
    ids : ndarray of str or None
    content : DataFrame
        The other columns (text, features).
    """

    def __init__(
        self, path: str | Path, source: object = None, *, classes: Sequence[object] | None = None
    ) -> None:
        self.path = Path(path)
        df = read_table(self.path, source)
        if LABEL_COLUMN not in df.columns and classes is None:
            raise EnsembleInputError(
                f"{self.path}: no 'label' column; found columns {', '.join(map(repr, df.columns))}"
            )
        self._n_samples = len(df)
        if classes is None:
            self.classes, self.y_true = self._read_classes(df[LABEL_COLUMN])
            self.keys = [label_key(c) for c in self.classes]
        else:
            self.classes = np.asarray(classes, dtype=object)
            self.keys = [label_key(c) for c in self.classes]
            self.y_true = (
                class_indices(self.path, LABEL_COLUMN, df[LABEL_COLUMN], self.keys)
                if LABEL_COLUMN in df.columns
                else None
            )
        self.ids = _check_ids(self.path, df[ID_COLUMN]) if ID_COLUMN in df.columns else None
        self.content = df.drop(columns=[c for c in (LABEL_COLUMN, ID_COLUMN) if c in df.columns])
        self.content.index = pd.RangeIndex(len(df))

    def _read_classes(self, labels: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        missing = labels.isna().to_numpy()
        if missing.any():
            raise EnsembleInputError(
                f"{self.path}: column 'label': row {first_true_row(missing)}: label is missing"
            )
        values = labels.to_numpy()
        if labels.dtype.kind == "f":
            if not np.all(np.mod(values, 1) == 0):
                row = first_true_row(np.mod(values, 1) != 0)
                raise EnsembleInputError(
                    f"{self.path}: column 'label': row {row}: {values[row - 1].item()!r} is not a class label; "
                    "labels must be integers or text"
                )
            values = values.astype(np.int64)
        elif labels.dtype.kind not in "iub":
            values = np.array([str(v).strip() for v in values], dtype=object)
        classes, y_true = np.unique(values, return_inverse=True)
        return classes, y_true.astype(np.intp)

    @property
    def n_samples(self) -> int:
        return self._n_samples

    @property
    def labelled(self) -> bool:
        """Whether the file has a ``label`` column."""
        return self.y_true is not None


def _as_float_column(path: Path, df: pd.DataFrame, column: str) -> np.ndarray:
    col = df[column]
    if col.dtype.kind in "iuf":
        return col.to_numpy(dtype=np.float64)
    numeric = pd.to_numeric(col, errors="coerce")
    bad = (numeric.isna() & col.notna()).to_numpy()
    if bad.any():
        row = first_true_row(bad)
        raise EnsembleInputError(
            f"{path}: column {column!r}: row {row}: {col.iloc[row - 1]!r} is not a number"
        )
    return numeric.to_numpy(dtype=np.float64)


def _check_probabilities(path: Path, probas: np.ndarray, columns: list[str]) -> None:
    for problem, mask in (
        ("is missing (NaN)", np.isnan(probas)),
        ("is infinite", np.isinf(probas)),
        ("is negative", probas < 0),
    ):
        if mask.any():
            row, col = np.argwhere(mask)[0]
            raise EnsembleInputError(
                f"{path}: column {columns[col]!r}: row {row + 1}: probability {problem}"
            )
    sums = probas.sum(axis=1)
    off = np.abs(sums - 1.0) > SUM_TOLERANCE
    if off.any():
        row = first_true_row(off)
        raise EnsembleInputError(
            f"{path}: row {row}: probabilities sum to {sums[row - 1]:.4g}, expected 1 (±{SUM_TOLERANCE:g}); "
            "normalise the scores or give hard labels in a 'prediction' column"
        )


def read_prediction_table(
    path: str | Path, keys: Sequence[str], source: object = None
) -> tuple[np.ndarray, bool, np.ndarray | None]:
    """Read one model's prediction file against known classes.

    Parameters
    ----------
    path : path of the file (also names it in messages)
    keys : the classes' ``label_key`` strings, in class order
    source : optional file-like object to read instead of ``path``

    Returns
    -------
    probas : ndarray of shape (n_rows, n_classes), float32 (one-hot for hard labels)
    hard : bool
        Whether the file held hard labels.
    ids : ndarray of str or None
    """
    path = Path(path)
    df = read_table(path, source)
    ids = _check_ids(path, df[ID_COLUMN]) if ID_COLUMN in df.columns else None
    columns = [c for c in df.columns if c != ID_COLUMN]
    key_index = {k: i for i, k in enumerate(keys)}
    n_classes = len(keys)
    if PREDICTION_COLUMN in columns:
        if len(columns) > 1:
            others = [c for c in columns if c != PREDICTION_COLUMN]
            raise EnsembleInputError(
                f"{path}: has both a 'prediction' column and other columns ({', '.join(map(repr, others))}); "
                "give either one probability column per class or a single 'prediction' column"
            )
        idx = class_indices(path, PREDICTION_COLUMN, df[PREDICTION_COLUMN], keys)
        probas = np.zeros((len(df), n_classes), dtype=np.float32)
        probas[np.arange(len(df)), idx] = 1.0
        return probas, True, ids
    unknown = [c for c in columns if c not in key_index]
    if unknown:
        raise EnsembleInputError(
            f"{path}: unknown class column {unknown[0]!r}; the labels file's classes are "
            f"{', '.join(keys)}"
        )
    missing_cols = [k for k in keys if k not in columns]
    if missing_cols:
        raise EnsembleInputError(
            f"{path}: missing probability column for class {missing_cols[0]!r}; expected one column "
            f"per class ({', '.join(keys)}) or a single 'prediction' column"
        )
    ordered = list(keys)
    probas = np.column_stack([_as_float_column(path, df, c) for c in ordered])
    _check_probabilities(path, probas, ordered)
    return probas.astype(np.float32), False, ids


def _align(path: Path, labels: LabelsFile, probas: np.ndarray, ids: np.ndarray | None) -> np.ndarray:
    if labels.ids is not None and ids is not None:
        pos = pd.Index(ids)
        order = pos.get_indexer(labels.ids)
        if (order < 0).any():
            missing = labels.ids[order < 0]
            raise EnsembleInputError(
                f"{path}: id {str(missing[0])!r} from {labels.path.name} is missing "
                f"({len(missing)} labelled ids have no prediction)"
            )
        if len(ids) != labels.n_samples:
            extra = np.setdiff1d(ids, labels.ids)
            raise EnsembleInputError(
                f"{path}: id {str(extra[0])!r} is not in {labels.path.name} "
                f"({len(extra)} predicted ids have no label)"
            )
        return probas[order]
    if len(probas) != labels.n_samples:
        raise EnsembleInputError(
            f"{path}: has {len(probas)} rows but {labels.path.name} has {labels.n_samples}; "
            "give both files an 'id' column or the same rows in the same order"
        )
    return probas


def read_aligned_predictions(
    rows: LabelsFile, entries: Sequence[tuple[Path, object]]
) -> tuple[np.ndarray, np.ndarray]:
    """Read prediction files against ``rows``' classes, each aligned to its rows.

    Parameters
    ----------
    rows : the labels file (or unlabelled rows) that sets classes and row order
    entries : (path, file-like object or None) pairs, one per model

    Returns
    -------
    probas : ndarray of shape (n_models, n_samples, n_classes), float32
    hard : ndarray of shape (n_models,), bool
    """
    probas = np.empty((len(entries), rows.n_samples, len(rows.keys)), dtype=np.float32)
    hard = np.zeros(len(entries), dtype=bool)
    for m, (path, source) in enumerate(entries):
        p, hard[m], ids = read_prediction_table(path, rows.keys, source)
        probas[m] = _align(path, rows, p, ids)
    return probas, hard


def prediction_entries(
    predictions: Sequence[str | Path | tuple[str | Path, object]], names: Sequence[str] | None = None
) -> tuple[list[tuple[Path, object]], tuple[str, ...]]:
    """(path, file-like object or None) pairs and one model name per prediction file.

    Each name defaults to its file's stem; two files giving one name, or given
    ``names`` of the wrong count or repeated, are refused.
    """
    if not predictions:
        raise EnsembleInputError("give at least one prediction file")
    entries = [(Path(p[0]), p[1]) if isinstance(p, tuple) else (Path(p), None) for p in predictions]
    if names is None:
        names = [model_name(path) for path, _ in entries]
        check_unique_model_names(names, [path for path, _ in entries])
    elif len(names) != len(entries):
        raise EnsembleInputError(
            f"number of names and prediction files must be equal; got {len(names)} names, "
            f"{len(entries)} files"
        )
    elif len(set(names)) != len(names):
        dup = next(n for n in names if list(names).count(n) > 1)
        raise EnsembleInputError(f"model names must be unique; {dup!r} appears twice")
    return entries, tuple(str(n) for n in names)


def load_prediction_set(
    labels: str | Path | LabelsFile,
    predictions: Sequence[str | Path | tuple[str | Path, object]],
    names: Sequence[str] | None = None,
) -> PredictionSet:
    """Read a labels file and one prediction file per model into a :class:`PredictionSet`.

    Parameters
    ----------
    labels : path of the labels file, or an already read :class:`LabelsFile`
    predictions : paths, or (name-giving path, file-like object) pairs for uploads
    names : model names; each defaults to its file's stem

    Examples
    --------
    >>> ps = load_prediction_set("labels.csv", ["rf.csv", "lr.csv"])  # doctest: +SKIP
    """
    lab = labels if isinstance(labels, LabelsFile) else LabelsFile(labels)
    if not lab.labelled:
        raise EnsembleInputError(f"{lab.path}: no 'label' column; a prediction set needs labelled rows")
    entries, names = prediction_entries(predictions, names)
    probas, hard = read_aligned_predictions(lab, entries)
    return PredictionSet(
        probas, lab.y_true, lab.classes, tuple(names), hard=hard, ids=lab.ids, content=lab.content
    )


def model_name(path: str | Path) -> str:
    """The model name a prediction file gives: its file name without the table suffix."""
    name = Path(path).name
    for suffix in (".csv.gz", ".csv", ".parquet", ".pq"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return Path(path).stem


def check_unique_model_names(names: Sequence[str], files: Sequence[str | Path]) -> None:
    """Refuse two files that give one model name, naming both files."""
    seen: dict[str, str | Path] = {}
    for name, file in zip(names, files):
        if name in seen:
            raise EnsembleInputError(
                f"{seen[name]} and {file} both give the model name {name!r} (a model is named by its "
                "file name); rename one of them"
            )
        seen[name] = file


def write_predictions(
    path: str | Path,
    classes: Sequence,
    *,
    probas: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    ids: np.ndarray | None = None,
) -> None:
    """Write one classifier's predictions in the prediction file format.

    Give ``probas`` (n_samples, n_classes) for probability columns named by
    class, or ``labels`` (class indices) for a ``prediction`` column.
    The format follows the suffix (.csv, .csv.gz, .parquet, .pq).
    """
    path = Path(path)
    suffix = _suffix(path)
    keys = [label_key(c) for c in classes]
    if (probas is None) == (labels is None):
        raise ValueError("give exactly one of probas and labels")
    if probas is not None:
        df = pd.DataFrame(np.asarray(probas), columns=keys)
    else:
        df = pd.DataFrame({PREDICTION_COLUMN: np.asarray(classes, dtype=object)[np.asarray(labels)]})
    if ids is not None:
        df.insert(0, ID_COLUMN, np.asarray(ids))
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix in (".parquet", ".pq"):
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False, float_format="%.7g")
