"""Cross-fitting, written once: fit on the other folds, predict the fold, return the parts.

Stacking (:func:`~ensemble_core.stacking.cross_fit_stacking`), temperature scaling
(:func:`~ensemble_core.calibration.cross_fit_temperatures`) and the weight search's
nested cross-validation (:func:`~ensemble_core.weight_search.suggest_weights`) all run
here. The folds come from :mod:`._folds` (stratified; a class rarer than the folds has
each row in another fold). Each fold's work is one call ``fit_predict(train, test)``
that returns its result; the caller assembles them (:meth:`CrossFit.out_of_fold`), so
no fold writes into an array another fold or the caller holds.

The folds are independent and each is deterministic, so where they run changes no
number: by default on a thread pool sized by :func:`._threads.workers` for the
caller's operation, each fold inside :func:`._threads.limited` (OpenMP's setting is
per thread) and the whole pool inside one more block opened by the calling thread
(BLAS's setting is per process). Any object with ``map(fn, iterable)`` that returns
the results in order may run them instead: ``concurrent.futures.ProcessPoolExecutor``,
or a distributed pool later; for those, ``fit_predict`` must pickle (a module-level
function, or a :func:`functools.partial` of one, as the three callers use).

Examples
--------
>>> import numpy as np
>>> y = np.array([0, 1] * 5)
>>> def fit_predict(train, test):  # "fit": the training rows' mean label; "predict": it, per test row
...     return np.full(test.size, y[train].mean())
>>> fit = cross_fit(fit_predict, y, folds=5, seed=0, operation="calibration", refit=lambda: y.mean())
>>> [t.tolist() for t in fit.tests]
[[1, 2], [4, 5], [0, 3], [6, 9], [7, 8]]
>>> fit.out_of_fold(fit.folds).tolist()  # each row's label left out of its own mean
[0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
>>> float(fit.refit)  # the fit on every row, run alongside the folds
0.5
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Generic, Protocol, TypeVar

import numpy as np

from ._folds import kfold_test_indices
from ._threads import limited, workers

R = TypeVar("R")
S = TypeVar("S")
T = TypeVar("T")


class Executor(Protocol):
    """What runs the folds: ``map(fn, iterable)`` giving ``fn``'s results in the iterable's order."""

    def map(self, fn: Callable[[T], R], iterable: Iterable[T], /) -> Iterable[R]: ...


@dataclass(frozen=True, eq=False)
class CrossFit(Generic[R, S]):
    """What each fold's ``fit_predict`` returned.

    Attributes
    ----------
    tests : tuple of ndarray
        Each fold's test rows, sorted; together they partition the rows.
    folds : tuple
        ``fit_predict(train, test)`` of each fold, in the order of ``tests``.
    refit : object or None
        What ``refit()`` returned, when one was given.
    """

    tests: tuple[np.ndarray, ...]
    folds: tuple[R, ...]
    refit: S | None = None

    def out_of_fold(self, parts: Sequence[np.ndarray], *, axis: int = 0) -> np.ndarray:
        """One array of the folds' predictions, each fold's at its test rows.

        Parameters
        ----------
        parts : one ndarray per fold, of length ``len(tests[f])`` along ``axis``
        axis : the rows' axis

        Returns
        -------
        ndarray with ``n_samples`` along ``axis``, the dtype and other dimensions of ``parts[0]``.
        """
        first = np.asarray(parts[0])
        shape = list(first.shape)
        shape[axis] = sum(t.size for t in self.tests)
        out = np.empty(shape, first.dtype)
        view = np.moveaxis(out, axis, 0)
        for test, part in zip(self.tests, parts, strict=True):
            view[test] = np.moveaxis(np.asarray(part), axis, 0)
        return out


def _in_limits(operation: str, task: Callable[[], T]) -> T:
    """One piece, at the thread counts its operation's policy gives (in whichever thread or process)."""
    with limited(operation):
        return task()


def cross_fit(
    fit_predict: Callable[[np.ndarray, np.ndarray], R],
    y_true: np.ndarray,
    *,
    folds: int,
    seed: int,
    operation: str,
    bytes_each: int = 0,
    refit: Callable[[], S] | None = None,
    executor: Executor | None = None,
) -> CrossFit[R, S]:
    """Run ``fit_predict(train, test)`` for each fold of the rows (and ``refit()`` beside them).

    Parameters
    ----------
    fit_predict : callable ``(train, test) -> result``
        Fits on the ``train`` rows and predicts the ``test`` rows (sorted index arrays
        into ``y_true``'s rows); must not write into arrays it shares with other folds.
    y_true : ndarray of shape (n_samples,), class indices (the folds are stratified by them)
    folds, seed : the split (:func:`._folds.kfold_test_indices`)
    operation : the :data:`._threads.POLICY` entry the work runs under
    bytes_each : memory one fold holds while it runs (caps the default pool's threads)
    refit : the fit on every row, if the caller wants one (temperatures or weights for new
        data): run on the same executor, alongside the folds
    executor : runs the calls (see the module docstring); default: a thread pool of
        :func:`._threads.workers` threads, or the calling thread when that is one

    Returns
    -------
    CrossFit
    """
    tests = tuple(kfold_test_indices(y_true, folds, seed))
    everything = np.arange(y_true.shape[0])
    tasks: list[Callable[[], object]] = [
        partial(fit_predict, np.setdiff1d(everything, test, assume_unique=True), test) for test in tests
    ]
    if refit is not None:  # first: the longest piece starts first
        tasks.insert(0, refit)
    run = partial(_in_limits, operation)
    with limited(operation):
        if executor is not None:
            results = list(executor.map(run, tasks))
        else:
            n_workers = workers(operation, pieces=len(tasks), bytes_each=bytes_each)
            if n_workers == 1:
                results = list(map(run, tasks))
            else:
                with ThreadPoolExecutor(max_workers=n_workers) as pool:
                    results = list(pool.map(run, tasks))
    if len(results) != len(tasks):
        raise RuntimeError(f"the executor returned {len(results)} results for {len(tasks)} pieces")
    if refit is None:
        return CrossFit(tests, tuple(results))
    return CrossFit(tests, tuple(results[1:]), results[0])
