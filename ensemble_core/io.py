"""The labels and prediction file formats: read, validate, write.

Labels file (CSV or Parquet): a ``label`` column, an optional ``id`` column, and
any other columns as the examples' content. Prediction file, one per model: an
optional ``id`` column, then either one probability column per class (named by
the class label) or a single ``prediction`` column of hard labels. Rows align by
``id`` when both files have one, else by row order. Rows are numbered from 1,
the header not counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import registry
from ._validation import EnsembleInputError, first_line, first_true_row, map_all
from .predictions import PredictionSet

if TYPE_CHECKING:
    import pyarrow as pa

LABEL_COLUMN = "label"
ID_COLUMN = "id"
PREDICTION_COLUMN = "prediction"
#: Columns whose values name classes or examples: read as text, then keyed by :func:`label_key`.
KEY_COLUMNS = (LABEL_COLUMN, ID_COLUMN, PREDICTION_COLUMN)
#: A probability row may sum to 1 ± this.
SUM_TOLERANCE = 1e-3
#: Rows per row group of the Parquet prediction files written here (pyarrow's default is 1,048,576):
#: ``evaluate --stream`` holds one row group of every file, 2.6 MiB at 10 classes.
PARQUET_ROW_GROUP = 65_536


def table_format(path: str | Path) -> registry.TableFormatSpec:
    """The format of a labels or prediction file, by its name's ending (any case).

    Raises
    ------
    EnsembleInputError
        For an ending no :data:`~ensemble_core.registry.TABLE_FORMAT_SPECS` entry has.

    Examples
    --------
    >>> table_format("preds/rf.CSV.gz").name
    'csv.gz'
    >>> table_format("rf.txt")
    Traceback (most recent call last):
    ...
    ensemble_core._validation.EnsembleInputError: rf.txt: unknown file type; expected .csv, .csv.gz, .parquet or .pq
    """
    fmt = registry.table_format(Path(path).name)
    if fmt is None:
        suffixes = [x for spec in registry.TABLE_FORMAT_SPECS for x in spec.suffixes]
        raise EnsembleInputError(
            f"{path}: unknown file type; expected {', '.join(suffixes[:-1])} or {suffixes[-1]}"
        )
    return fmt


#: The widest table read. A prediction file has a column per class, a labels file its content
#: columns; pandas spends about 26 µs a column, so 100,000 columns parse in about 3 s, while
#: a 10M-column header ran for 8 minutes to 8.6 GB. Wider files are refused before pandas.
MAX_COLUMNS = 100_000
#: The longest header line read while looking for its end: 100,000 names of 160 bytes.
MAX_HEADER_BYTES = 16 * 2**20
#: The largest Parquet footer (schema and column metadata) read to learn the columns.
MAX_PARQUET_FOOTER_BYTES = 64 * 2**20
_CHUNK = 2**16


def _open_binary(path: Path, fmt: registry.TableFormatSpec, source: object):
    """A binary stream of the (decompressed) file, and whether the caller must close it."""
    import gzip

    if source is None:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
        return (gzip.GzipFile(fileobj=raw) if fmt.gzip else raw), raw
    return (gzip.GzipFile(fileobj=source) if fmt.gzip else source), None


#: Outside quotes: a line end, or a quote that opens a field (at the start of a line or after a
#: comma, past the spaces skipinitialspace drops), or the end of what has been read so far. A
#: quote anywhere else is an ordinary character.
_UNQUOTED_STOP = re.compile(rb'(?P<eol>[\r\n])|(?<![^,\r\n]) *(?:(?P<quote>")|\Z)|\Z')


def _first_csv_record(stream, path: Path) -> bytes | None:
    """The bytes of the header: the first line that is not blank, read at most MAX_HEADER_BYTES
    deep. Lines end at \\r, \\n or \\r\\n, as pandas reads them, except inside a quoted field
    (one opened by a quote at a field's start, closed by a quote not doubled). Linear in the
    bytes read: each byte is scanned once."""
    buf = bytearray()  # appended in place: += on bytes would copy the whole header each chunk
    start = pos = 0
    quoted = False

    def more() -> bool:
        nonlocal buf
        if len(buf) >= MAX_HEADER_BYTES:
            raise EnsembleInputError(
                f"{path}: the header line is longer than {MAX_HEADER_BYTES // 2**20} MiB; at most "
                f"{MAX_COLUMNS:,} columns are read"
            )
        chunk = stream.read(_CHUNK)
        buf += chunk
        return bool(chunk)

    while True:
        if quoted:
            close = buf.find(b'"', pos)
            if close < 0 or close + 1 == len(buf):  # no quote yet, or cannot tell "" from " yet
                pos = max(pos, len(buf) - 1) if close >= 0 else len(buf)
                if not more():
                    return bytes(buf[start:]) if buf[start:].strip() else None  # pandas reports the open quote
                continue
            if buf[close + 1 : close + 2] == b'"':
                pos = close + 2
            else:
                quoted, pos = False, close + 1
            continue
        stop = _UNQUOTED_STOP.search(buf, pos)
        if stop["quote"]:
            quoted, pos = True, stop.end()
            continue
        if not stop["eol"]:
            # The buffer ends inside the line, perhaps in the spaces before an opening quote:
            # scan from those spaces again once more is read.
            pos = stop.start()
            if not more():
                return bytes(buf[start:]) if buf[start:].strip() else None
            continue
        if buf[start : stop.start()].strip():
            return bytes(buf[start : stop.start()])
        start = pos = stop.end()


def header_names(path: str | Path, source: object = None) -> list[str] | None:
    """The column names as the file's header writes them, read in bounded memory.

    For CSV, the first line that is not blank (decompressed for ``.csv.gz``);
    for Parquet, the schema in the footer. None where the header cannot be
    decoded here (the full reader then reports the problem).

    Raises
    ------
    EnsembleInputError
        If the header is absurdly wide (more than ``MAX_COLUMNS`` names, a CSV header
        line over ``MAX_HEADER_BYTES`` or a Parquet footer over ``MAX_PARQUET_FOOTER_BYTES``).
    """
    import csv
    import io
    import zlib

    path = Path(path)
    fmt = table_format(path)
    start = None if source is None else source.tell()
    try:
        if fmt.parquet:
            names = _parquet_names(path, source)
        else:
            stream, raw = _open_binary(path, fmt, source)
            try:
                record = _first_csv_record(stream, path)
            finally:
                if raw is not None:
                    raw.close()
            if record is None:
                return None
            text = record.decode("utf-8-sig")
            try:
                names = next(csv.reader(io.StringIO(text), skipinitialspace=True), [])
            except csv.Error as exc:
                # Never skip the checks on a header the reader might still accept.
                raise EnsembleInputError(f"{path}: cannot read the header line as CSV ({exc})") from None
    except (OSError, EOFError, UnicodeDecodeError, zlib.error):
        return None
    finally:
        if source is not None:
            source.seek(start)
    if len(names) > MAX_COLUMNS:
        raise EnsembleInputError(
            f"{path}: has {len(names):,} columns; at most {MAX_COLUMNS:,} are read (one per class, "
            "plus id and content columns)"
        )
    return [name.strip() for name in names]


def _parquet_names(path: Path, source: object) -> list[str]:
    from contextlib import nullcontext

    import pyarrow.parquet as pq

    target = path if source is None else source
    with open(path, "rb") if source is None else nullcontext(source) as fh:
        fh.seek(0, 2)
        size = fh.tell()
        if size < 12:
            raise OSError("too short for Parquet")
        fh.seek(size - 8)
        tail = fh.read(8)
    footer = int.from_bytes(tail[:4], "little")
    if tail[4:] != b"PAR1" or footer > size - 12:
        raise OSError("not a Parquet file")  # the reader says so, in its words
    if footer > MAX_PARQUET_FOOTER_BYTES:
        raise EnsembleInputError(
            f"{path}: its Parquet metadata is {footer:,} bytes, over the {MAX_PARQUET_FOOTER_BYTES:,} read "
            "(metadata that size means hundreds of thousands of columns or row groups)"
        )
    try:
        return list(pq.read_schema(target).names)
    except Exception as exc:  # pyarrow raises its own types on corrupt files
        raise OSError(str(exc)) from None


def check_header(path: str | Path, source: object = None) -> list[str] | None:
    """Refuse a header that repeats a column name, before any reader renames one of them.

    pandas would read a second ``a`` as ``a.1``, which may then match a class
    called ``a.1``. Names are compared as the reader uses them, without
    surrounding spaces; unnamed (empty) columns are left to the reader.
    """
    names = header_names(path, source)
    seen: set[str] = set()
    for name in names or ():
        if name in seen:
            raise EnsembleInputError(
                f"{path}: column {name!r} appears more than once; give each column its own name"
            )
        if name:
            seen.add(name)
    return names


def _csv_options(fmt: registry.TableFormatSpec) -> dict:
    """How every CSV table is read (whole or in chunks)."""
    return {
        "compression": "gzip" if fmt.gzip else None,
        # Only empty cells are missing: a class may well be called "NA" or "None".
        "keep_default_na": False,
        "na_values": [""],
        "skipinitialspace": True,
    }


@contextmanager
def _read_errors(path: Path, fmt: registry.TableFormatSpec):
    """Reader errors as one-line EnsembleInputErrors naming the file."""
    try:
        yield
    except EnsembleInputError:
        raise
    except pd.errors.EmptyDataError:
        raise EnsembleInputError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        kind = "Parquet" if fmt.parquet else "CSV"
        raise EnsembleInputError(f"{path}: not a valid {kind} file ({first_line(exc)})") from None
    except Exception as exc:  # pyarrow raises its own types on corrupt files
        raise EnsembleInputError(f"{path}: could not read ({type(exc).__name__}: {first_line(exc)})") from None


def read_table(path: str | Path, source: object = None) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame, with one-line errors.

    ``source`` may be a file-like object (an upload) read in place of ``path``,
    whose name then only decides the format and names the file in messages.
    The header is checked first (:func:`check_header`): no repeated column names,
    no absurd widths.
    """
    path = Path(path)
    fmt = table_format(path)
    if source is None and not path.is_file():
        raise EnsembleInputError(f"{path}: no such file")
    check_header(path, source)
    target = path if source is None else source
    with _read_errors(path, fmt):
        if fmt.parquet:
            df = pd.read_parquet(target)
        else:
            options = _csv_options(fmt)
            start = None if source is None else source.tell()
            names = pd.read_csv(target, nrows=0, **options).columns
            if source is not None:
                source.seek(start)
            # Labels, ids and hard predictions stay text as written ("01" is not 1): label_key decides.
            text = {name: str for name in names if str(name).strip() in KEY_COLUMNS}
            df = pd.read_csv(target, dtype=text, **options)
    if len(df) == 0:
        raise EnsembleInputError(f"{path}: the file has no rows")
    df.columns = [str(c).strip() for c in df.columns]
    return df


def read_key_columns(path: str | Path, columns: Sequence[str], *, rows: int) -> Iterator[pd.DataFrame]:
    """The file's ``columns`` among :data:`KEY_COLUMNS` (those it has), ``rows`` rows at a time,
    read as :func:`read_table` reads them; memory: one chunk.

    Every chunk but the last has exactly ``rows`` rows, and its index counts rows from the
    file's start. The header is checked first, as :func:`read_table` checks it.

    Examples
    --------
    >>> for chunk in read_key_columns("test.csv", ["id", "label"], rows=100_000):  # doctest: +SKIP
    ...     print(chunk.index[0], len(chunk))
    0 100000
    100000 42
    """
    path = Path(path)
    fmt = table_format(path)
    if not path.is_file():
        raise EnsembleInputError(f"{path}: no such file")
    names = check_header(path) or []
    wanted = [c for c in columns if c in KEY_COLUMNS]
    if fmt.parquet:
        import pyarrow.parquet as pq

        with _read_errors(path, fmt):
            file = pq.ParquetFile(path, pre_buffer=False)
            present = [c for c in file.schema_arrow.names if c.strip() in wanted]
            done = 0
            for table in fixed_batches(file, present, rows):
                yield _chunk_frame(table.to_pandas(), done)
                done += table.num_rows
    else:
        present = [n for n in names if n in wanted]
        with _read_errors(path, fmt):
            reader = pd.read_csv(path, usecols=lambda c: str(c).strip() in present, dtype=str, chunksize=rows,
                                 **_csv_options(fmt))
            with reader:
                done = 0
                for chunk in reader:
                    yield _chunk_frame(chunk, done)
                    done += len(chunk)
    if not done:
        raise EnsembleInputError(f"{path}: the file has no rows")


def fixed_batches(file, columns: Sequence[str], rows: int) -> Iterator[pa.Table]:
    """A Parquet file's columns in tables of exactly ``rows`` rows (the last may be shorter),
    whatever its row groups: files read side by side then yield the same rows at each step.

    Memory: the batch, and the row group being read (Parquet's unit); open the file with
    ``pre_buffer=False``, or pyarrow reads ahead (measured: 53 MiB held per file of 45 MiB
    read side by side with nine others, against 22 MiB without).

    Parameters
    ----------
    file : pyarrow.parquet.ParquetFile
    columns : the columns read
    rows : rows per table
    """
    import pyarrow as pa

    pending, held = [], 0
    for batch in file.iter_batches(batch_size=rows, columns=list(columns)):
        pending.append(batch)
        held += batch.num_rows
        while held >= rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield pa.Table.from_batches(pending)


def _chunk_frame(df: pd.DataFrame, start: int) -> pd.DataFrame:
    df.columns = [str(c).strip() for c in df.columns]
    df.index = pd.RangeIndex(start, start + len(df))
    return df


#: A canonical number: optional '-', digits with no leading zero, an optional decimal part;
#: no '+', no exponent, no negative zero.
_NUMBER = re.compile(r"(?!-0(?:\.0+)?$)-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
_INTEGER = re.compile(r"(?!-0$)-?(?:0|[1-9][0-9]*)")


def label_key(value: object) -> str:
    """The class a value names, as text: the one rule for labels, probability column names,
    hard predictions and ids.

    Text is itself without surrounding spaces (``"01"``, ``"+1"``, ``"1e3"`` and ``"1"`` are
    four classes), except that a canonical whole number written with a decimal part of
    zeros is that whole number (``"1.0"`` and ``"-3.00"`` are ``"1"`` and ``"-3"``: files
    written from float arrays still match). Typed numbers are their canonical text
    (``1``, ``1.0`` → ``"1"``), booleans ``"True"``/``"False"``.

    Examples
    --------
    >>> [label_key(v) for v in ["01", " 1 ", "1.0", 1.0, 2, True, "+1"]]
    ['01', '1', '1', '1', '2', 'True', '+1']
    """
    if type(value) is str:  # the common case first: this runs once per distinct id
        text = value.strip()
    elif isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    elif isinstance(value, (int, np.integer)):
        return str(int(value))
    elif isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else str(value)
    else:
        text = str(value).strip()
    if "." in text and _NUMBER.fullmatch(text):
        whole, decimals = text.split(".")
        if not decimals.strip("0"):
            return whole
    return text


def _key_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each value's class as (codes, keys): ``label_key`` of value ``i`` is ``keys[codes[i]]``.

    ``keys`` are unique, in order of first appearance; label_key runs once per
    distinct value, so the cost per row is a hash lookup. Values must not be missing.
    """
    codes, uniques = pd.factorize(values)
    # to NumPy first: iterating an Arrow-backed array costs microseconds an element
    keys = np.array([label_key(u) for u in np.asarray(uniques, dtype=object)], dtype=object)
    key_codes, keys = pd.factorize(keys)  # "1" and "1.0" are one class
    return key_codes[codes].astype(np.intp, copy=False), np.asarray(keys, dtype=object)


def is_integer_key(key: str) -> bool:
    """Whether a class key is a canonical whole number (then classes sort by value)."""
    return _INTEGER.fullmatch(key) is not None


#: A canonical whole number written with a decimal part of zeros ("1.0", "-3.00", "0.0"; not "-0.0"):
#: label_key gives the whole number. RE2 syntax, for Arrow; the same rule as _NUMBER and label_key.
_WHOLE_WITH_ZEROS = r"^(?:-?[1-9][0-9]*|0)\.0+$"


def column_keys(values: pd.Series) -> pa.Array:
    """``label_key`` of every value of a column without missing values, vectorised.

    Text is trimmed and canonical whole numbers lose their zero decimals in Arrow
    kernels; integer, boolean and whole float columns are converted as arrays. Only
    values of no common type (mixed objects, dates) and fractional or huge floats —
    not what an id or label column holds — fall back to ``label_key`` once per
    distinct value.

    Returns
    -------
    keys : pyarrow large_string Array of shape (n_rows,)
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = column_keys(pd.Series(dtype.categories))
        return categories.take(pa.array(values.cat.codes.to_numpy()))
    if dtype.kind == "b":
        return pa.array(np.where(values.to_numpy(dtype=bool), "True", "False"), type=pa.large_string())
    if dtype.kind in "iu":
        return pc.cast(pa.array(values.to_numpy()), pa.large_string())
    if dtype.kind == "f":
        numbers = values.to_numpy()
        whole = np.isfinite(numbers) & (np.abs(numbers) < 2.0**63)
        whole[whole] = np.trunc(numbers[whole]) == numbers[whole]
        keys = pc.cast(pa.array(np.where(whole, numbers, 0).astype(np.int64)), pa.large_string())
        if whole.all():
            return keys
        others = _keys_by_value(values[~whole])
        return pc.replace_with_mask(keys, pa.array(~whole), pa.array(others, type=pa.large_string()))
    try:
        text = pa.array(values, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text: one label_key per distinct value
        return pa.array(_keys_by_value(values), type=pa.large_string())
    if isinstance(text, pa.ChunkedArray):  # a Parquet file's row groups
        text = text.combine_chunks()
    text = pc.utf8_trim_whitespace(text)
    whole = pc.match_substring_regex(text, _WHOLE_WITH_ZEROS)
    if pc.any(whole).as_py():
        text = pc.if_else(whole, pc.replace_substring_regex(text, r"\.0+$", ""), text)
    return text


def _keys_by_value(values: pd.Series) -> np.ndarray:
    """``label_key`` of each value, computed once per distinct value (the general fallback)."""
    codes, keys = _key_codes(values)
    return keys[codes]


def _first_repeat(keys: pa.Array) -> int | None:
    """The index of the first key that an earlier row already has, or None when all differ."""
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(keys)
    if len(encoded.dictionary) == len(keys):
        return None
    # codes are given in order of first appearance: a row repeats when its code is not above all earlier ones
    codes = encoded.indices.to_numpy()
    seen = np.maximum.accumulate(codes)
    return int(np.flatnonzero(codes[1:] <= seen[:-1])[0]) + 1


def _duplicate_id(path: Path, keys: pa.Array, row: int) -> EnsembleInputError:
    return EnsembleInputError(f"{path}: column 'id': row {row + 1}: duplicate id {keys[row].as_py()!r}")


def _id_keys(path: Path, ids: pd.Series, first_row: int = 1) -> pa.Array:
    """The ids' keys (``label_key``), after refusing the first missing id (rows numbered from
    ``first_row``: a chunk's first row in its file)."""
    missing = ids.isna().to_numpy()
    if missing.any():
        raise EnsembleInputError(f"{path}: column 'id': row {first_row - 1 + first_true_row(missing)}: id is missing")
    return column_keys(ids)


def _unique_id_keys(path: Path, ids: pd.Series) -> pa.Array:
    """The ids' keys, after refusing the first missing id and then the first repeated one."""
    keys = _id_keys(path, ids)
    row = _first_repeat(keys)
    if row is not None:
        raise _duplicate_id(path, keys, row)
    return keys


def _as_str_array(keys: pa.Array) -> np.ndarray:
    return np.asarray(keys.to_numpy(zero_copy_only=False), dtype=str)


def check_ids(path: Path, ids: pd.Series) -> np.ndarray:
    """Each id's key (``label_key``) as text, refusing the first missing id, then the first repeated one.

    Returns
    -------
    ndarray of shape (n_rows,), str
    """
    return _as_str_array(_unique_id_keys(path, ids))


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
    codes, value_keys = _key_codes(values)
    index = {k: i for i, k in enumerate(keys)}
    idx = np.array([index.get(k, -1) for k in value_keys], dtype=np.intp)[codes]
    if (idx < 0).any():
        row = first_true_row(idx < 0)
        raise EnsembleInputError(
            f"{path}: column {column!r}: row {row}: {value_keys[codes[row - 1]]!r} is not a known class; "
            f"classes are {', '.join(keys)}"
        )
    return idx


def check_labels(path: Path, labels: pd.Series, first_row: int = 1) -> None:
    """Refuse the first missing label, and in a typed float column the first that is not a
    whole number; rows are numbered from ``first_row`` (a chunk's first row in its file).

    Raises
    ------
    EnsembleInputError
        Naming the file, the ``label`` column and the row.
    """
    missing = labels.isna().to_numpy()
    if missing.any():
        raise EnsembleInputError(
            f"{path}: column 'label': row {first_row - 1 + first_true_row(missing)}: label is missing"
        )
    if labels.dtype.kind == "f":  # typed floats (Parquet): whole and finite, checked without warnings
        values = labels.to_numpy()
        bad = ~np.isfinite(values)
        bad[~bad] = np.trunc(values[~bad]) != values[~bad]
        if bad.any():
            row = first_true_row(bad)
            raise EnsembleInputError(
                f"{path}: column 'label': row {first_row - 1 + row}: {values[row - 1].item()!r} is not a class "
                "label; labels must be integers or text"
            )


def ordered_classes(
    path: Path, keys: np.ndarray, first_row: Callable[[int], int]
) -> tuple[np.ndarray, np.ndarray]:
    """The one rule for a labels file's classes: sorted by value when every label is a whole
    number, else as text; numbers that are not all whole are refused.

    Parameters
    ----------
    path : the labels file (names it in messages)
    keys : ndarray of shape (n_keys,), object
        The distinct labels' keys (:func:`label_key`) in order of first appearance.
    first_row : ``first_row(i)`` is the row where ``keys[i]`` first appears (asked only to
        name it in a message)

    Returns
    -------
    classes : ndarray of shape (n_keys,)
        The classes in order: int64 (or Python ints beyond it) when all are whole numbers,
        else the keys.
    rank : ndarray of shape (n_keys,), intp
        Each key's index among the classes.

    Examples
    --------
    >>> classes, rank = ordered_classes(Path("y.csv"), np.array(["10", "9"], dtype=object), lambda i: i + 1)
    >>> classes.tolist(), rank.tolist()
    ([9, 10], [1, 0])
    """
    whole = np.array([is_integer_key(k) for k in keys], dtype=bool)
    if whole.all():
        numbers = [int(k) for k in keys]
        order = np.array(sorted(range(len(keys)), key=numbers.__getitem__), dtype=np.intp)
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        try:
            classes = np.array([numbers[i] for i in order], dtype=np.int64)
        except OverflowError:  # beyond int64: exact Python integers
            classes = np.array([numbers[i] for i in order], dtype=object)
        return classes, rank
    fractional = np.array([_NUMBER.fullmatch(k) is not None for k in keys], dtype=bool) & ~whole
    if (fractional | whole).all():
        first = int(np.flatnonzero(fractional)[0])  # keys come in order of first appearance
        raise EnsembleInputError(
            f"{path}: column 'label': row {first_row(first)}: {keys[first]} is not a class label; "
            "labels must be integers or text"
        )
    order = np.argsort(keys, kind="stable")  # text sorts as text
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return keys[order], rank


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
        self._id_keys = _unique_id_keys(self.path, df[ID_COLUMN]) if ID_COLUMN in df.columns else None
        self.ids = None if self._id_keys is None else _as_str_array(self._id_keys)
        self.content = df.drop(columns=[c for c in (LABEL_COLUMN, ID_COLUMN) if c in df.columns])
        self.content.index = pd.RangeIndex(len(df))

    def _read_classes(self, labels: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """The classes (:func:`ordered_classes`) and each row's class index."""
        check_labels(self.path, labels)
        codes, keys = _key_codes(labels)
        classes, rank = ordered_classes(self.path, keys, lambda i: first_true_row(codes == i))
        return classes, rank[codes]

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


#: The range problems of a probability, in the order they are reported: the first kind found
#: anywhere wins, at its first row (then its first column) — as a check of the whole table would.
_RANGE_PROBLEMS = (
    ("is missing (NaN)", np.isnan),
    ("is infinite", np.isinf),
    ("is negative", lambda v: v < 0),
    (f"is greater than 1 (+{SUM_TOLERANCE:g})", lambda v: v > 1 + SUM_TOLERANCE),
)
#: Row sums accumulated column by column differ from NumPy's row-wise (pairwise) sums by far less
#: than this (at most a few ulps per column); rows this close to the tolerance are summed again
#: row-wise, so that a row is refused exactly when the row-wise sum is off.
_SUM_MARGIN = 1e-9


def _read_probability_columns(
    path: Path, df: pd.DataFrame, columns: list[str], out: np.ndarray, *, first_row: int = 1
) -> None:
    """Check the probability columns (in class order) and write them into ``out``, float32,
    without stacking them into a float64 table first.

    As a check of the whole table would: every column must hold numbers (the first that
    does not is refused before any probability is judged), then the first range problem
    (missing, infinite, negative, over 1) in that order of kinds, then the first row whose
    probabilities do not sum to 1. Rows are numbered from ``first_row`` (a chunk's first row
    in its file): a file read in chunks is judged chunk by chunk.
    """
    as_numbers = {c: _as_float_column(path, df, c) for c in columns if df[c].dtype.kind not in "iuf"}
    first: dict[str, tuple[int, int]] = {}  # problem -> (row, column)
    sums = np.zeros(len(df))
    for j, c in enumerate(columns):
        values = as_numbers.pop(c) if c in as_numbers else df[c].to_numpy(dtype=np.float64)
        if not ((values >= 0) & (values <= 1 + SUM_TOLERANCE)).all():  # NaN fails both
            for problem, test in _RANGE_PROBLEMS:
                bad = test(values)
                if bad.any():
                    row = int(np.argmax(bad))
                    if problem not in first or row < first[problem][0]:
                        first[problem] = (row, j)
        if first:  # refused below; neither cast nor add what may overflow
            continue
        out[:, j] = values
        sums += values
    for problem, _ in _RANGE_PROBLEMS:
        if problem in first:
            row, j = first[problem]
            raise EnsembleInputError(f"{path}: column {columns[j]!r}: row {first_row + row}: probability {problem}")
    distance = np.abs(sums - 1.0)
    off = distance > SUM_TOLERANCE + _SUM_MARGIN
    near = np.flatnonzero(np.abs(distance - SUM_TOLERANCE) <= _SUM_MARGIN)
    if near.size:
        off[near] = np.abs(_row_sums(df, columns, near) - 1.0) > SUM_TOLERANCE
    if off.any():
        row = first_true_row(off)
        total = _row_sums(df, columns, np.array([row - 1]))[0]
        raise EnsembleInputError(
            f"{path}: row {first_row - 1 + row}: probabilities sum to {total:.4g}, expected 1 (±{SUM_TOLERANCE:g}); "
            "normalise the scores or give hard labels in a 'prediction' column"
        )


def _row_sums(df: pd.DataFrame, columns: list[str], rows: np.ndarray) -> np.ndarray:
    """The given rows' sums as NumPy sums a float64 table row-wise (pairwise, along each row)."""
    table = np.column_stack([pd.to_numeric(df[c].iloc[rows]).to_numpy(dtype=np.float64) for c in columns])
    return table.sum(axis=1)


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
    table = _read_predictions(Path(path), keys, source)
    ids = None if table.id_keys is None else _as_str_array(table.id_keys)
    return table.probas, table.hard, ids


@dataclass(frozen=True)
class _PredictionFile:
    """One model's prediction file, read and checked.

    ``label_rows`` (when matched against a labels file's ids): each row's row in the
    labels file, -1 for an id the labels file does not have.
    """

    probas: np.ndarray
    hard: bool
    id_keys: pa.Array | None
    label_rows: np.ndarray | None


def _read_predictions(
    path: Path,
    keys: Sequence[str],
    source: object,
    label_ids: pa.Array | None = None,
    out: np.ndarray | None = None,
) -> _PredictionFile:
    """Read and check one prediction file; with ``label_ids`` (the labels file's id keys) also find
    each row's label row (-1: an id the labels file does not have), hashing the ids once.

    ``out`` (n_labelled_rows, n_classes), float32: where the probabilities go when the file's rows
    are already in the labels file's order (then ``probas`` is ``out``); else a new array.
    """
    df = read_table(path, source)
    id_keys = label_rows = None
    if ID_COLUMN in df.columns:
        if label_ids is None:
            id_keys = _unique_id_keys(path, df[ID_COLUMN])
        else:
            id_keys = _id_keys(path, df[ID_COLUMN])
            label_rows = _label_rows(path, id_keys, label_ids)
    in_order = out is not None and len(df) == len(out) and (label_rows is None or label_rows is _IN_ORDER)
    if label_rows is _IN_ORDER:
        label_rows = np.arange(len(df))
    probas = out if in_order else np.empty((len(df), len(keys)), dtype=np.float32)
    columns = [c for c in df.columns if c != ID_COLUMN]
    if PREDICTION_COLUMN in columns:
        if len(columns) > 1:
            others = [c for c in columns if c != PREDICTION_COLUMN]
            raise EnsembleInputError(
                f"{path}: has both a 'prediction' column and other columns ({', '.join(map(repr, others))}); "
                "give either one probability column per class or a single 'prediction' column"
            )
        idx = class_indices(path, PREDICTION_COLUMN, df[PREDICTION_COLUMN], keys)
        probas[...] = 0.0
        probas[np.arange(len(df)), idx] = 1.0
        return _PredictionFile(probas, True, id_keys, label_rows)
    _read_probability_columns(path, df, class_columns(path, columns, keys), probas)
    return _PredictionFile(probas, False, id_keys, label_rows)


def class_columns(path: Path, columns: Sequence[str], keys: Sequence[str]) -> list[str]:
    """The probability column of each class, in class order: a prediction file's columns
    (besides ``id``) must name each class once (by :func:`label_key`) and no other.

    Raises
    ------
    EnsembleInputError
        On a column of no class, two columns of one class, or a class without a column.

    Examples
    --------
    >>> class_columns(Path("rf.csv"), ["1.0", "0"], ["0", "1"])
    ['0', '1.0']
    """
    key_index = {k: i for i, k in enumerate(keys)}
    column_of: dict[str, str] = {}
    for c in columns:
        key = label_key(c)
        if key not in key_index:
            raise EnsembleInputError(
                f"{path}: unknown class column {c!r}; the labels file's classes are {', '.join(keys)}"
            )
        if key in column_of:
            raise EnsembleInputError(f"{path}: columns {column_of[key]!r} and {c!r} both name class {key!r}")
        column_of[key] = c
    missing_cols = [k for k in keys if k not in column_of]
    if missing_cols:
        raise EnsembleInputError(
            f"{path}: missing probability column for class {missing_cols[0]!r}; expected one column "
            f"per class ({', '.join(keys)}) or a single 'prediction' column"
        )
    return [column_of[k] for k in keys]


#: What _label_rows gives for a file whose ids are the labels file's, in its order.
_IN_ORDER = np.arange(0)


def _label_rows(path: Path, id_keys: pa.Array, label_ids: pa.Array) -> np.ndarray:
    """Each prediction row's row in the labels file (-1 where its id is not there), refusing
    the first repeated id of the prediction file."""
    import pyarrow.compute as pc

    if len(id_keys) == len(label_ids) and pc.all(pc.equal(id_keys, label_ids)).as_py():
        return _IN_ORDER  # the labels file's order: nothing to look up
    rows = pc.index_in(id_keys, value_set=label_ids).to_numpy(zero_copy_only=False)
    unknown = np.isnan(rows)
    rows = np.where(unknown, -1, rows).astype(np.intp)
    # Labels ids are unique, so two rows share an id exactly when they share a label row, or an unknown id.
    if unknown.any() or np.bincount(rows, minlength=len(label_ids)).max(initial=0) > 1:
        row = _first_repeat(id_keys)
        if row is not None:
            raise _duplicate_id(path, id_keys, row)
    return rows


def _align(path: Path, labels: LabelsFile, table: _PredictionFile) -> np.ndarray:
    """The file's probabilities in the labels file's row order."""
    import pyarrow as pa
    import pyarrow.compute as pc

    probas = table.probas
    if table.label_rows is not None:
        rows = table.label_rows
        known = rows >= 0
        found = np.zeros(labels.n_samples, dtype=bool)
        found[rows[known]] = True
        if not found.all():
            missing = ~found
            raise EnsembleInputError(
                f"{path}: id {str(labels.ids[first_true_row(missing) - 1])!r} from {labels.path.name} is missing "
                f"({int(missing.sum())} labelled ids have no prediction)"
            )
        if not known.all():
            extra = table.id_keys.filter(pa.array(~known))
            raise EnsembleInputError(
                f"{path}: id {pc.min(extra).as_py()!r} is not in {labels.path.name} "
                f"({len(extra)} predicted ids have no label)"
            )
        order = np.empty(labels.n_samples, dtype=np.intp)
        order[rows] = np.arange(len(rows))
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

    Rows align by id when both the labels file and a prediction file have ids: the
    labels' ids are the table each prediction file's ids are looked up in. Every file is
    read even after one fails, so that the error names each bad file's problem
    (:class:`~ensemble_core._validation.InputProblems` when there are several).

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

    def read(m: int) -> None:
        path, source = entries[m]
        slot = probas[m]
        table = _read_predictions(path, rows.keys, source, rows._id_keys, out=slot)
        hard[m] = table.hard
        if table.probas is not slot:  # else already in place
            slot[...] = _align(path, rows, table)

    map_all(read, range(len(entries)))
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
    for suffix in registry.TABLE_SUFFIXES:
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
    fmt = table_format(path)
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
    if fmt.parquet:
        # Row groups of PARQUET_ROW_GROUP rows: a streamed reader holds one of them per file.
        df.to_parquet(path, index=False, row_group_size=PARQUET_ROW_GROUP)
    else:
        df.to_csv(path, index=False, float_format="%.7g")
