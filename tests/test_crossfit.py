"""One cross-fitting loop: folds from _folds, an executor passed in, per-fold results returned."""

from __future__ import annotations

import threading
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from ensemble_core import PredictionSet, _crossfit, _threads
from ensemble_core._crossfit import cross_fit
from ensemble_core._folds import kfold_test_indices
from ensemble_core.calibration import cross_fit_temperatures
from ensemble_core.stacking import cross_fit_stacking
from ensemble_core.weight_search import suggest_weights
from tests.conftest import random_probas


class RecordingExecutor:
    """Runs the folds one after another in the calling thread and keeps what it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, list]] = []

    def map(self, fn, iterable):
        items = list(iterable)
        self.calls.append((fn, items))
        return [fn(item) for item in items]


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(21)
    y = rng.integers(0, 3, size=300)
    probas = random_probas(rng, 3, 300, 3)
    probas[0, np.arange(300), y] += np.float32(0.5)
    probas /= probas.sum(axis=2, keepdims=True)
    return probas, y


def test_each_fold_is_fitted_on_the_other_folds_and_its_result_returned():
    y = np.arange(23) % 3
    seen = []

    def fit_predict(train, test):
        seen.append((train, test))
        return test * 10

    fit = cross_fit(fit_predict, y, folds=4, seed=5, operation="stacking", refit=lambda: "on every row")
    tests = kfold_test_indices(y, 4, 5)
    assert len(fit.tests) == 4 and all(np.array_equal(a, b) for a, b in zip(fit.tests, tests))
    for test, result in zip(tests, fit.folds):
        np.testing.assert_array_equal(result, test * 10)
    np.testing.assert_array_equal(fit.out_of_fold(fit.folds), np.arange(23) * 10)
    assert fit.refit == "on every row"
    assert cross_fit(fit_predict, y, folds=4, seed=5, operation="stacking").refit is None
    assert len(seen) == 8
    for train, test in seen:
        np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(23))


def test_out_of_fold_puts_each_part_at_its_rows_along_any_axis():
    fit = _crossfit.CrossFit((np.array([0, 3]), np.array([1, 2])), (None, None))
    parts = [np.array([[[0], [3]]]), np.array([[[1], [2]]])]  # (1, 2 rows, 1)
    np.testing.assert_array_equal(fit.out_of_fold(parts, axis=1)[0, :, 0], [0, 1, 2, 3])


def test_every_fold_runs_at_its_operations_threads_in_whichever_thread_runs_it():
    blas = []

    def fit_predict(train, test):
        blas.append({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] in ("blas", "openmp")})
        return test

    class OtherThread:
        def map(self, fn, items):
            out = []
            worker = threading.Thread(target=lambda: out.extend(map(fn, items)))
            worker.start()
            worker.join()
            return out

    cross_fit(fit_predict, np.arange(20) % 2, folds=3, seed=0, operation="stacking", executor=OtherThread())
    assert blas == [{1}] * 3  # stacking: 1 BLAS and 1 OpenMP thread


def test_the_default_pool_has_the_policys_workers(monkeypatch):
    threads = set()

    def fit_predict(train, test):
        threads.add(threading.get_ident())
        return test

    monkeypatch.setitem(_threads.POLICY, "stacking", _threads.Threads(workers=1))
    cross_fit(fit_predict, np.arange(40) % 2, folds=5, seed=0, operation="stacking")
    assert threads == {threading.get_ident()}  # one worker: the calling thread, no pool


def test_an_executor_that_loses_folds_is_caught():
    class Lossy:
        def map(self, fn, items):
            return [fn(item) for item in list(items)[1:]]

    with pytest.raises(RuntimeError, match="returned 2 results for 3 pieces"):
        cross_fit(lambda train, test: test, np.arange(9) % 3, folds=3, seed=0, operation="stacking", executor=Lossy())


def test_stacking_calibration_and_the_weight_search_run_on_the_executor_given(problem):
    probas, y = problem
    pset = PredictionSet(probas, y, np.arange(3), ("m0", "m1", "m2"))
    recorder = RecordingExecutor()
    np.testing.assert_array_equal(cross_fit_stacking(probas, y, np.arange(3), folds=4, executor=recorder),
                                  cross_fit_stacking(probas, y, np.arange(3), folds=4))
    ours, default = (cross_fit_temperatures(probas, y, folds=4, seed=2, executor=e) for e in (recorder, None))
    for field in ("probas", "temperatures", "fold_temperatures", "ece_after"):
        np.testing.assert_array_equal(getattr(ours, field), getattr(default, field))
    ours, default = (suggest_weights(pset, "caruana", folds=4, calibrate=True, executor=e) for e in (recorder, None))
    np.testing.assert_array_equal(ours.heldout_probas, default.heldout_probas)
    np.testing.assert_array_equal(ours.weights, default.weights)
    assert ours.to_dict() == default.to_dict()
    assert [len(items) for _, items in recorder.calls] == [4, 5, 5]  # calibration and weights: + all rows


def test_stacking_folds_run_in_other_processes_with_the_same_numbers(problem):
    """The seam for a distributed executor: each fold's work pickles and runs anywhere."""
    probas, y = problem
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        remote = cross_fit_stacking(probas, y, np.arange(3), folds=3, seed=4, executor=pool)
    np.testing.assert_array_equal(remote, cross_fit_stacking(probas, y, np.arange(3), folds=3, seed=4))
