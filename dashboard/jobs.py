"""Long runs (training a student, compressing a model) in a background thread that the page
watches and can stop (no Streamlit here: the thread only writes this object; the page reads it).

The work is a function ``work(progress, should_stop)`` from the core: it calls
``progress(done, total)`` as it goes and asks ``should_stop()`` between steps, raising
:class:`~ensemble_core.deploy.Stopped` when told to. A user error (``EnsembleInputError``)
ends the job with its message; any other exception is kept and raised again by the page
(:meth:`Job.outcome`), so a bug is never silent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ensemble_core import EnsembleInputError
from ensemble_core.deploy import Stopped

Work = Callable[[Callable[[int, int], None], Callable[[], bool]], Any]


@dataclass(eq=False)
class Job:
    """One background run: what it is (``label``, ``params``), how far it got, how it ended."""

    label: str
    params: tuple = ()
    done: int = 0
    total: int = 0
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    result: Any = None
    error: str | None = None
    stopped: Stopped | None = None
    failure: BaseException | None = field(default=None, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    @property
    def seconds(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def stop(self) -> None:
        """Ask the work to stop at its next check (between mini-batches or compressions)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends (tests; the page never blocks); returns whether it ended."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def outcome(self) -> Any:
        """The result (None while running, stopped or after a user error); an unexpected
        exception in the work is raised here."""
        if self.failure is not None:
            raise self.failure
        return self.result

    def _progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def _run(self, work: Work) -> None:
        try:
            self.result = work(self._progress, self._stop.is_set)
        except Stopped as exc:
            self.stopped = exc
        except EnsembleInputError as exc:
            self.error = str(exc)
        except BaseException as exc:  # kept for the page to raise: a thread's exception is otherwise lost
            self.failure = exc
        finally:
            self.finished = time.monotonic()


def start(label: str, work: Work, params: tuple = ()) -> Job:
    """Run ``work`` in a daemon thread; returns its :class:`Job` at once.

    Examples
    --------
    >>> job = start("count", lambda progress, should_stop: [progress(i, 3) for i in (1, 2, 3)] and "done")
    >>> job.wait(5), job.outcome(), job.fraction
    (True, 'done', 1.0)
    """
    job = Job(label, params)
    job._thread = threading.Thread(target=job._run, args=(work,), name=f"job: {label}", daemon=True)
    job._thread.start()
    return job
