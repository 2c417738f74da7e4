"""dashboard.jobs: a background run's result, progress, stop, user error and unexpected failure."""

from __future__ import annotations

import threading

import pytest

from dashboard.jobs import start
from ensemble_core import EnsembleInputError
from ensemble_core.deploy import Stopped


def test_result_and_progress():
    def work(progress, should_stop):
        for i in range(1, 4):
            progress(i, 3)
        return "trained"

    job = start("train", work, params=("a",))
    assert job.wait(10)
    assert (job.outcome(), job.done, job.total, job.fraction, job.params) == ("trained", 3, 3, 1.0, ("a",))
    assert job.error is None and job.stopped is None and job.seconds >= 0


def test_stop_reaches_the_work_between_steps():
    began = threading.Event()

    def work(progress, should_stop):
        began.set()
        step = 0
        while True:
            step += 1
            progress(step, 10**9)
            if should_stop():
                raise Stopped(step, 10**9)

    job = start("forever", work)
    assert began.wait(10)
    assert job.running
    job.stop()
    assert job.wait(10) and job.stop_requested
    assert job.outcome() is None and job.stopped.done >= 1


def test_a_user_error_is_kept_as_its_message():
    def work(progress, should_stop):
        raise EnsembleInputError("transfer set: no column 'text'")

    job = start("bad", work)
    job.wait(10)
    assert job.outcome() is None and job.error == "transfer set: no column 'text'"


def test_an_unexpected_exception_is_raised_by_outcome():
    def work(progress, should_stop):
        raise ZeroDivisionError("a bug")

    job = start("bug", work)
    job.wait(10)
    with pytest.raises(ZeroDivisionError, match="a bug"):
        job.outcome()
