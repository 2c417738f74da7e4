"""Shared checks that raise with a precise, user-facing message."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # NumPy is imported where used: the command line's --help never needs it
    import numpy as np


T = TypeVar("T")
R = TypeVar("R")


class EnsembleInputError(ValueError):
    """A problem with something the user gave: a file, a column, a value.

    The command line prints its message on one line and exits with status 2;
    the app shows it in an error box. The message names the file, column and
    row where there is one.
    """


class InputProblems(EnsembleInputError):
    """Several user errors found together (one per file, say), so that a user fixes them all at
    once. ``problems`` holds each one's message; the exception's message is all of them, one per
    line. The command line prints each as its own error line, the app each on its own line of one
    error box.

    Examples
    --------
    >>> exc = InputProblems(["a.csv: row 2: probabilities sum to 0.9", "b.csv: unknown class column 'x'"])
    >>> exc.problems[1]
    "b.csv: unknown class column 'x'"
    >>> isinstance(exc, EnsembleInputError)
    True
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


def problems_of(exc: EnsembleInputError) -> tuple[str, ...]:
    """Each problem an error reports: its :attr:`InputProblems.problems`, or its one message."""
    return exc.problems if isinstance(exc, InputProblems) else (str(exc),)


def raise_together(errors: Sequence[EnsembleInputError]) -> None:
    """Raise nothing for no errors, the error itself for one, else all of their problems as one
    :class:`InputProblems` (in order; an :class:`InputProblems` among them adds each of its own)."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InputProblems([p for e in errors for p in problems_of(e)]) from errors[0]


def map_all(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[fn(item) for item in items]``, but every item is tried: the user errors raised on the
    way are raised together at the end (:func:`raise_together`), so that one bad file does not
    hide the next one's problem.

    >>> map_all(lambda n: 10 // n, [1, 2])
    [10, 5]
    """
    results, errors = [], []
    for item in items:
        try:
            results.append(fn(item))
        except EnsembleInputError as exc:
            errors.append(exc)
    raise_together(errors)
    return results


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
