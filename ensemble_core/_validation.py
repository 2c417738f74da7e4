"""Shared checks that raise with a precise, user-facing message."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # NumPy is imported where used: the command line's --help never needs it
    import numpy as np


class EnsembleInputError(ValueError):
    """A problem with something the user gave: a file, a column, a value.

    The command line prints its message on one line and exits with status 2;
    the app shows it in an error box. The message names the file, column and
    row where there is one.
    """


#: Seeds are passed to scikit-learn's splitters, which take 0 to 2**32 - 1.
MAX_SEED = 2**32 - 1


def one_line(message: str) -> str:
    """A user-facing message on one line, and nothing a terminal acts on: line breaks (from
    a value the user gave, such as a label) are shown as ``\\n``, a carriage return as
    ``\\r``, any other character that is not printable as its Python escape (``\\x1b``).

    Examples
    --------
    >>> one_line("bad label 'a\\rEVIL\\x1b[2J'\\n")
    "bad label 'a\\\\rEVIL\\\\x1b[2J'"
    """
    text = message.strip().replace("\r\n", "\n")
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def first_line(what: object) -> str:
    """The first line of a library's message (the rest is detail, such as a schema dump),
    or the exception's type name when it has no message."""
    text = str(what).strip()
    if text:
        return text.splitlines()[0]
    return type(what).__name__ if isinstance(what, BaseException) else ""


def first_true_row(mask: np.ndarray) -> int:
    """The 1-based number of the first True row: how error messages count rows
    (from 1, the header not counted)."""
    import numpy as np

    return int(np.flatnonzero(mask)[0]) + 1


def check_weights(weights: Sequence[float] | np.ndarray | None, n_models: int) -> np.ndarray:
    """Return weights as float64 normalised to sum 1, or uniform weights for None.

    Raises
    ------
    EnsembleInputError
        On a wrong count, a negative or non-finite weight, or all-zero weights.
    """
    import numpy as np

    if weights is None:
        return np.full(n_models, 1.0 / n_models)
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise EnsembleInputError(f"weights must be numbers; got {list(weights)!r}") from None
    if w.ndim != 1 or w.shape[0] != n_models:
        raise EnsembleInputError(
            f"number of weights and models must be equal; got {w.size} weights, {n_models} models"
        )
    if not np.all(np.isfinite(w)):
        raise EnsembleInputError(f"weights must be finite; got {w.tolist()}")
    if np.any(w < 0):
        bad = int(np.flatnonzero(w < 0)[0])
        raise EnsembleInputError(f"weights must be >= 0; weight {bad + 1} is {w[bad]:g}")
    top = w.max()
    if top <= 0:
        raise EnsembleInputError("at least one weight must be > 0; all weights are 0")
    with np.errstate(over="ignore"):
        total = w.sum()
    if not np.isfinite(total):
        # Scaled to the largest, the sum cannot overflow: 1e308,1e308 are equal weights. Only
        # then: dividing twice changes the last digits of ordinary weights (0.3 → 0.29999999999999993).
        w = w / top
        total = w.sum()
    return w / total
