"""Run an ONNX model in a worker process, under a time limit and a memory cap.

An ONNX graph is a program: a ``Loop`` can run forever, a ``ConstantOfShape`` can ask
for 160 GB. onnxruntime cannot be stopped from outside a call, so every ONNX model
gets its own Python process (:mod:`._onnx_child`, started with ``subprocess``, never
by forking the caller): it caps its own address space, and the caller bounds every
request (building the session, each batch) with a wall-clock limit and kills the
process when one runs over. Either way the caller gets one line
(:class:`~ensemble_core.EnsembleInputError`) and its own memory never holds more than
the model's answer, whose size is checked before it is read.

The limits (:class:`OnnxLimits`) come from the environment when the model is loaded:

- ``ENSEMBLE_EXPLORER_ONNX_SECONDS`` (default 60): the longest one request may take.
  skl2onnx exports score a 2,048-row batch in milliseconds; a minute allows a model
  a thousand times slower on a busy machine.
- ``ENSEMBLE_EXPLORER_ONNX_MEMORY_MB`` (default 4096): the worker's address space.
  Python, NumPy and onnxruntime take 0.23-0.46 GB of it with the digits demo's model
  loaded (1-4 threads; 70 MB resident), which leaves about 3.5 GB for a model's
  weights and one batch's intermediates, and stops a graph asking for tens of GB at
  its first allocation past the cap.

Starting the worker (Python, NumPy, onnxruntime: about 0.2 s, measured) has
its own allowance, :data:`STARTUP_SECONDS`, whatever the limits say.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

from .._validation import EnsembleInputError
from ._onnx_child import header_length, pack

SECONDS_ENV = "ENSEMBLE_EXPLORER_ONNX_SECONDS"
MEMORY_ENV = "ENSEMBLE_EXPLORER_ONNX_MEMORY_MB"
DEFAULT_SECONDS = 60.0
DEFAULT_MEMORY_MB = 4096
#: Time to start the worker and import onnxruntime, apart from the per-request limit.
STARTUP_SECONDS = 30.0
#: The largest reply header accepted from a worker (a model's description, a ZipMap's classes).
MAX_REPLY_HEADER = 16 << 20
_CHILD = str(Path(__file__).with_name("_onnx_child.py"))
_STDERR_TAIL = 4096
_CHUNK = 1 << 20


@dataclass(frozen=True)
class OnnxLimits:
    """How long one request to an ONNX worker may take, and how much memory the worker may map.

    Attributes
    ----------
    seconds : float
        Wall-clock limit for building the session and for each batch.
    memory_mb : int
        The worker's address-space cap (``RLIMIT_AS``) in MiB.

    Examples
    --------
    >>> OnnxLimits.from_env({"ENSEMBLE_EXPLORER_ONNX_SECONDS": "5"})
    OnnxLimits(seconds=5.0, memory_mb=4096)
    """

    seconds: float = DEFAULT_SECONDS
    memory_mb: int = DEFAULT_MEMORY_MB

    def __post_init__(self) -> None:
        if not (math.isfinite(self.seconds) and self.seconds > 0):
            raise EnsembleInputError(f"the ONNX time limit must be a number of seconds > 0; got {self.seconds!r}")
        if not self.memory_mb > 0:
            raise EnsembleInputError(f"the ONNX memory limit must be a number of MiB > 0; got {self.memory_mb!r}")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> OnnxLimits:
        """The defaults, overridden by ``ENSEMBLE_EXPLORER_ONNX_SECONDS`` and ``..._MEMORY_MB``.

        Raises
        ------
        EnsembleInputError
            Naming the variable, when a value is not a positive number.
        """
        environ = os.environ if environ is None else environ
        values = {}
        for field_name, env, parse, unit in (("seconds", SECONDS_ENV, float, "seconds"),
                                             ("memory_mb", MEMORY_ENV, int, "MiB")):
            text = environ.get(env, "").strip()
            if not text:
                continue
            try:
                value = parse(text)
            except ValueError:
                value = 0
            if not (math.isfinite(value) and value > 0):
                raise EnsembleInputError(f"{env} must be a number of {unit} > 0; got {text!r}")
            values[field_name] = value
        return cls(**values)

    def memory_text(self) -> str:
        return f"{self.memory_mb / 1024:g} GiB" if self.memory_mb >= 1024 else f"{self.memory_mb} MiB"


def _stop(proc: subprocess.Popen) -> None:
    """Kill the worker and reap it (no zombie), then close the pipes."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        stream.close()


def _widen_pipe(fd: int) -> None:
    """A 1 MiB pipe buffer (Linux's default cap for unprivileged processes) instead of
    64 kB: a batch of 2,048 rows × 64 float32 features crosses in one write, not eight."""
    try:
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), _CHUNK)
    except OSError:  # not Linux, or a lower cap: the default buffer works, a little slower
        pass


class _Refused(Exception):
    """The worker broke off a request: ran over, died, or sent what it must not."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(kind)
        self.kind, self.detail = kind, detail


@dataclass(frozen=True)
class Task:
    """What a request does, in the words of its refusals: "{who} {verb} longer than 60 s
    {tail}", "{who} needed more than 4 GiB of memory {tail}", "the worker stopped … {during}"."""

    tail: str
    during: str
    verb: str = "took"
    who: str = "the ONNX model"

    @classmethod
    def batch(cls, n_rows: int) -> Task:
        text = f"on one batch of {n_rows:,} rows"
        return cls(text, text, verb="ran")


START = Task("to start", "while starting", who="the ONNX worker")
LOAD = Task("to load", "while loading")


class OnnxWorker:
    """One worker process holding one model's session; requests are serialised by a lock.

    The process is killed when this object is garbage-collected, at interpreter exit,
    and after any request that ran over its limit, ran out of memory or died.

    Parameters
    ----------
    source : the model's path or upload name (names it in messages)
    limits : the time and memory limits

    Raises
    ------
    EnsembleInputError
        When the worker cannot start (onnxruntime missing, a memory cap too small for
        Python itself).
    """

    def __init__(self, source: str, limits: OnnxLimits) -> None:
        self.source, self.limits = source, limits
        self._lock = threading.Lock()
        self._gone: str | None = None
        self._stderr = b""
        env = {
            **os.environ,
            # The worker does no BLAS: one thread keeps its idle footprint small.
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            # Else onnxruntime (1.31 at least) writes a device id and an event database under
            # ~/.cache/Microsoft/DeveloperTools on the first session: loading a model writes nothing.
            "ORT_DISABLE_TELEMETRY": "1",
        }
        self._proc = subprocess.Popen(
            [sys.executable, "-P", _CHILD, str(limits.memory_mb << 20)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        )
        self.pid = self._proc.pid
        self._finalizer = weakref.finalize(self, _stop, self._proc)
        for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
            os.set_blocking(stream.fileno(), False)
        for stream in (self._proc.stdin, self._proc.stdout):
            _widen_pipe(stream.fileno())
        with self._lock:
            reply, _ = self._exchange([], STARTUP_SECONDS, START, 0)
        if not reply["ok"]:
            self._give_up("the ONNX worker could not start")
            raise EnsembleInputError(f"{source}: {reply['message']}")

    def request(self, header: dict, blobs: list[bytes], *, task: Task, max_blob_bytes: int = 0
                ) -> tuple[dict, list[bytes]]:
        """Send one request and wait for its reply, at most ``limits.seconds``.

        ``max_blob_bytes`` bounds the reply's binary parts. A reply with ``ok`` false
        is returned, except for memory exhaustion, which stops the worker.

        Raises
        ------
        EnsembleInputError
            When the request runs over the time limit, the worker runs out of memory or
            dies, or the worker was stopped by an earlier refusal.
        """
        with self._lock:
            if self._gone is not None:
                raise EnsembleInputError(f"{self.source}: {self._gone}; load the model again")
            reply, reply_blobs = self._exchange(pack(header, blobs), self.limits.seconds, task, max_blob_bytes)
            if not reply["ok"] and reply.get("kind") == "memory":
                why, message = self._memory(task)
                self._give_up(why)
                raise EnsembleInputError(message)
        return reply, reply_blobs

    def close(self) -> None:
        """Kill the worker now (it is also killed when this object is collected)."""
        self._finalizer()

    def _give_up(self, why: str) -> None:
        self._gone = f"{why}, and its worker process was stopped"
        self.close()

    def _memory(self, task: Task) -> tuple[str, str]:
        why = f"{task.who} needed more than {self.limits.memory_text()} of memory {task.tail}"
        return why, f"{self.source}: {why}; refused (limit set by {MEMORY_ENV})"

    def _exchange(self, chunks: list[bytes], seconds: float, task: Task, max_blob_bytes: int
                  ) -> tuple[dict, list[bytes]]:
        """:meth:`_talk`; when it breaks off, stop the worker and say why in one line."""
        try:
            return self._talk(chunks, seconds, max_blob_bytes)
        except _Refused as refused:
            starting = task is START
            if refused.kind == "timeout":
                why = f"{task.who} {task.verb} longer than {seconds:g} s {task.tail}"
                limit = "" if starting else f" (limit set by {SECONDS_ENV})"
                message = f"{self.source}: {why}; refused{limit}"
            elif refused.kind == "died" and (b"MemoryError" in self._stderr or b"bad_alloc" in self._stderr):
                why, message = self._memory(task)
            elif refused.kind == "died":
                why = f"the ONNX worker process stopped ({refused.detail}) {task.during}"
                # Too small a cap stops Python itself (a thread, an import) before any model.
                limit = f" (memory limit {self.limits.memory_text()}, set by {MEMORY_ENV})" if starting else ""
                message = f"{self.source}: {why}; refused{limit}"
            else:
                why = f"the ONNX worker process broke the protocol ({refused.detail}) {task.during}"
                message = f"{self.source}: {why}; refused"
            self._give_up(why)
            raise EnsembleInputError(message) from None

    def _talk(self, chunks: list[bytes], seconds: float, max_blob_bytes: int) -> tuple[dict, list[bytes]]:
        """Write the request and read the reply within ``seconds``, draining stderr meanwhile."""
        proc = self._proc
        deadline = time.monotonic() + seconds
        self._stderr = b""  # what this request's failure may be told by
        # Written chunk by chunk, not joined: a model's bytes are not copied once more.
        outgoing = [memoryview(chunk) for chunk in chunks if chunk]
        received = bytearray()
        header_end = total = None
        header: dict = {}
        with selectors.DefaultSelector() as selector:
            if outgoing:
                selector.register(proc.stdin, selectors.EVENT_WRITE)
            selector.register(proc.stdout, selectors.EVENT_READ)
            selector.register(proc.stderr, selectors.EVENT_READ)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _Refused("timeout")
                for key, _ in selector.select(left):
                    if key.fileobj is proc.stdin:
                        try:
                            sent = os.write(key.fd, outgoing[0][:_CHUNK])
                            outgoing[0] = outgoing[0][sent:]
                            if not outgoing[0]:
                                outgoing.pop(0)
                        except BlockingIOError:
                            continue
                        except BrokenPipeError:  # it died: its stdout's end says how
                            outgoing.clear()
                        if not outgoing:
                            selector.unregister(proc.stdin)
                        continue
                    if key.fileobj is proc.stderr:
                        if not self._read_stderr():
                            selector.unregister(proc.stderr)
                        continue
                    try:
                        data = os.read(key.fd, _CHUNK)
                    except BlockingIOError:
                        continue
                    if not data:
                        raise _Refused("died", self._exit_text(deadline))
                    received += data
                if header_end is None and len(received) >= 8:
                    length = header_length(bytes(received[:8]))
                    if length > MAX_REPLY_HEADER:
                        raise _Refused("protocol", f"a reply header of {length:,} bytes")
                    header_end = 8 + length
                if total is None and header_end is not None and len(received) >= header_end:
                    header = _parse_header(bytes(received[8:header_end]), max_blob_bytes)
                    total = header_end + sum(header["blobs"])
                if total is not None and len(received) >= total:
                    if len(received) > total:
                        raise _Refused("protocol", "more bytes than its reply announced")
                    blobs, start = [], header_end
                    for size in header["blobs"]:
                        blobs.append(bytes(received[start:start + size]))
                        start += size
                    return header, blobs

    def _read_stderr(self) -> bool:
        """Keep the tail of what the worker wrote to stderr; False at its end."""
        try:
            data = os.read(self._proc.stderr.fileno(), _CHUNK)
        except BlockingIOError:
            return True
        self._stderr = (self._stderr + data)[-_STDERR_TAIL:]
        return bool(data)

    def _exit_text(self, deadline: float) -> str:
        """How the worker ended, once its stdout closed: a signal, or a status and its last words."""
        try:
            status = self._proc.wait(timeout=max(0.1, min(5.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            return "it closed its output"
        while self._read_stderr():
            pass
        if status < 0:
            try:
                return f"killed by {signal.Signals(-status).name}"
            except ValueError:
                return f"killed by signal {-status}"
        lines = self._stderr.decode("utf-8", "replace").strip().splitlines()
        return f"exit status {status}" + (f": {lines[-1].strip()}" if lines else "")


def _parse_header(raw: bytes, max_blob_bytes: int) -> dict:
    try:
        header = json.loads(raw)
    except ValueError:
        header = None
    sizes = header.get("blobs") if isinstance(header, dict) else None
    if not (isinstance(header, dict) and isinstance(header.get("ok"), bool) and isinstance(sizes, list)
            and all(type(s) is int and s >= 0 for s in sizes)):
        raise _Refused("protocol", "an unreadable reply header")
    if sum(sizes) > max_blob_bytes:
        raise _Refused("protocol", f"{sum(sizes):,} bytes of output where at most {max_blob_bytes:,} fit")
    return header
