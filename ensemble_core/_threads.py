"""One thread policy for the BLAS and OpenMP pools behind NumPy and scikit-learn.

Every place the project calls BLAS or OpenMP runs inside :func:`limited` with the
name of its operation, and independent pieces (folds) run on :func:`workers`
threads; :data:`POLICY` says how many of each. Nothing is set at import: limits hold
only inside a ``with limited(...)`` block and are restored when the last open block
(in any thread) closes.

Why the numbers are what they are: ``benchmarks/bench_threads.py`` times each
operation at 1 thread, at one BLAS/OpenMP thread per core and (for fold work) on
worker threads, with and without a CPU-bound neighbour process per core; the tables
are in BENCHMARKS.md ("Threads"). On the 2-core development machine:

- ``reweight`` (the evaluator's one matrix-vector product per slider move, soft and
  geometric): a second BLAS thread costs far more in hand-offs than it saves; at
  10,000 rows a soft re-weighting took 16× the ``probas.sum()`` floor with 2 threads
  against 2.6× with 1, even with the machine nearly idle. At 1,000,000 rows idle, 2
  threads were 7% faster for soft, 50% slower for geometric: 1 thread.
- ``stacking``: one fold per worker thread, each at one BLAS/OpenMP thread. 5-fold
  logistic stacking at 100,000 × 10 × 10, idle: 3.7 s at 1 thread, 5.9 s at 2 BLAS
  threads, 2.1 s on 2 workers, 2.0 s on 5; busy: 5.6 s, 95 s (!), 3.9 s and 2.8 s.
  More workers than cores cost nothing idle (the folds pack better) and, with
  neighbours, win a larger share of the cores; so one per fold, while their copies
  of the data (about 3× the features each) fit in :data:`WORKER_MEMORY`, else one
  per core. Gradient boosting and the MLP behave alike (tables), except that an
  idle machine runs the MLP 17% faster sequentially.
- ``weight_search``: products of a few models' columns, far too small to split; the
  folds and the final fit run on 2 worker threads (each holds its own copy of the
  training rows, so memory grows with them).
- ``lm_reweight`` (the LM page's exact log-linear pass, :func:`ensemble_core.lm.reweight.log_linear_normaliser`):
  NumPy's element-wise loops, no BLAS, over cache-sized blocks of tokens, split among up to 2
  worker threads (NumPy releases the GIL in them); measured in BENCHMARKS.md ("Language models").
- ``landscape``, ``diversity``: 1 BLAS thread (tables).
- ``build`` (the Build lab's scikit-learn fits): one BLAS and one OpenMP thread, as
  stacking's folds. On the loaded machine (load 9) the lab's test of bagged logistic
  regressions on iris (12 small fits) took 14 s at the libraries' own thread counts,
  4.9 s with the lab's fits inside this block.
- ``calibration``: calls neither BLAS nor OpenMP (``einsum`` without ``optimize`` runs
  NumPy's own loops; the table shows no difference), so its folds run one after another
  in the calling thread, as before; the entry exists because every cross-fitted
  computation runs through :func:`._crossfit.cross_fit`, which opens a block for its
  operation (1 BLAS thread, like every entry: see below).

OpenBLAS's thread count is process-wide, so overlapping blocks (the weight
search's worker threads, the dashboard's sessions) must not each save and restore
it: the first block to open sets it for its operation, later ones (nested or
concurrent) run under it, and the last to close restores what was there before.
Every entry is 1 thread today, so which block came first never matters. OpenMP's
count is per thread (libgomp): each block sets its own thread's, so a worker opens
a block of its own. OpenBLAS (0.3.31, pthreads; measured) takes a raise of its count
only from the thread that lowered it, while that thread lives (the main thread
lives for ever): with each block's own thread doing it, a session that closed last
after another session's thread had opened first left the process at one thread, 1
run in 7. So every BLAS change is made on one long-lived thread of this module's
(:func:`_on_blas_thread`), whichever thread opens or closes the block; a forked
child starts its own.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Threads:
    """Threads for one operation.

    ``blas``, ``openmp``: the libraries' pools (None leaves the library's own setting);
    ``workers``: at most this many Python threads run independent pieces of it (folds) side
    by side; ``beyond_cores``: whether they may outnumber the usable cores (while their
    copies of the data fit in :data:`WORKER_MEMORY`; see :func:`workers`).
    """

    blas: int | None = 1
    openmp: int | None = None
    workers: int = 1
    beyond_cores: bool = False


#: Threads per operation (see the module docstring for the measurements behind them).
POLICY: dict[str, Threads] = {
    "reweight": Threads(blas=1),
    "lm_reweight": Threads(blas=1, workers=2),
    "stacking": Threads(blas=1, openmp=1, workers=16, beyond_cores=True),
    "weight_search": Threads(blas=1, workers=2),
    "landscape": Threads(blas=1),
    "diversity": Threads(blas=1),
    "build": Threads(blas=1, openmp=1),
    "calibration": Threads(blas=1),
    # Students train on mini-batches of 128 rows (matrices of a few hundred KB): one thread, so
    # that two runs with one seed give the same student (not timed against more threads).
    "distill": Threads(blas=1, openmp=1),
}

_lock = threading.Lock()
_open = 0  # blocks open now, in every thread
_restore: list[tuple[object, int]] = []  # (library controller, its threads before the first block)
_controller = None
_modules_seen = -1


def _libraries():
    """threadpoolctl's controller of the loaded BLAS/OpenMP libraries, found again only after
    new modules were imported (finding them walks every loaded shared library: about 2 ms,
    more than one re-weighting of 10,000 rows)."""
    global _controller, _modules_seen
    if _controller is None or len(sys.modules) != _modules_seen:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
        _modules_seen = len(sys.modules)
    return _controller


_blas_thread = None  # (process id, executor): the one thread that changes BLAS settings


def _on_blas_thread(change, *args) -> None:
    """Run ``change(*args)`` on the module's BLAS thread and wait for it (call with ``_lock`` held).
    A forked child starts its own: the parent's thread does not exist there."""
    global _blas_thread
    if _blas_thread is None or _blas_thread[0] != os.getpid():
        from concurrent.futures import ThreadPoolExecutor

        _blas_thread = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="ensemble-blas"))
    _blas_thread[1].submit(change, *args).result()


#: Worker threads beyond one per core are started only while their copies of the data
#: (``bytes_each`` a worker) fit in this much memory together.
WORKER_MEMORY = 2**30


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity where the system has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def workers(operation: str, pieces: int, bytes_each: int = 0) -> int:
    """Python threads for ``operation``'s ``pieces`` independent pieces (each copying about
    ``bytes_each`` bytes): its policy's ``workers``, no more than the pieces, and no more than
    the cores this process may run on unless the policy goes beyond them, memory permitting."""
    cores = usable_cores()
    policy = POLICY[operation]
    n = min(policy.workers, pieces)
    if not policy.beyond_cores:
        n = min(n, cores)
    elif bytes_each:
        n = min(n, max(cores, WORKER_MEMORY // bytes_each))
    return max(1, n)


@contextlib.contextmanager
def limited(operation: str) -> Iterator[None]:
    """Run the block with the threads :data:`POLICY` gives ``operation``.

    BLAS pools are process-wide: the first open block sets them, the last to close
    restores them. OpenMP's setting belongs to the calling thread: every block sets and
    restores its own thread's, so a worker thread opens a block of its own.

    Examples
    --------
    >>> with limited("reweight"):  # doctest: +SKIP
    ...     np.dot(w, probas.reshape(n_models, -1))
    """
    global _open
    threads = POLICY[operation]
    with _lock:
        libraries = _libraries().lib_controllers
        if _open == 0 and threads.blas is not None:
            blas = [lib for lib in libraries if lib.user_api == "blas" and lib.num_threads != threads.blas]
            if blas:  # a round trip to the BLAS thread (about 30 µs each way), only when it changes something
                _restore.extend((lib, lib.num_threads) for lib in blas)
                _on_blas_thread(_set_each, [(lib, threads.blas) for lib in blas])
        _open += 1
    own = []  # this thread's OpenMP settings
    if threads.openmp is not None:
        for lib in libraries:
            if lib.user_api == "openmp":
                own.append((lib, lib.num_threads))
                lib.set_num_threads(threads.openmp)
    try:
        yield
    finally:
        for lib, n in reversed(own):
            lib.set_num_threads(n)
        with _lock:
            _open -= 1
            if _open == 0 and _restore:
                _on_blas_thread(_set_each, list(reversed(_restore)))
                _restore.clear()


#: What torch's OpenMP runtime is told about idle threads, unless the environment already says:
#: sleep rather than spin. On a machine shared with the dashboard's server or other work,
#: spinning threads made the demo's tiny BERT score 3,827 reviews in 104 s instead of 4-7 s
#: (measured at a load average of 7 on 2 cores); on an idle machine the two measured the same.
TORCH_OMP_WAIT_POLICY = "PASSIVE"
_torch_lock = threading.Lock()


def import_torch():
    """``import torch``, with :data:`TORCH_OMP_WAIT_POLICY` in the environment while torch's
    OpenMP runtime loads (it reads the variable once, then) and removed again after, so that
    neither the rest of the process nor its children inherit it. Every torch (and
    transformers, which imports torch) import of the package goes through here.

    Returns
    -------
    module
        torch.
    """
    with _torch_lock:
        if "torch" not in sys.modules and "OMP_WAIT_POLICY" not in os.environ:
            os.environ["OMP_WAIT_POLICY"] = TORCH_OMP_WAIT_POLICY
            try:
                import torch
            finally:
                os.environ.pop("OMP_WAIT_POLICY", None)
        import torch
    return torch


def _set_each(settings) -> None:
    for lib, n in settings:
        lib.set_num_threads(n)
