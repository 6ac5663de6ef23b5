"""The processes that encode the QR codes of label sheets: one long-lived pool per process.

Only a job worker (and the command line) uses one: a web or API request
draws its sheet in its own process and never starts a pool (STYLE rule 17;
``batches.label_sheets.render_sheet`` refuses ``parallel`` within a
request). Starting worker processes costs more than encoding a few hundred
codes (a fork of a big process, or a fork server importing the encoder), so
a sheet does not start its own: the first sheet that needs them starts the
pool of this process and every later sheet, in any thread, reuses it. It is
shut down when the process exits.

Safe after a fork: a pool belongs to the process that started it. A child
forked from that process (a gunicorn or job worker forked after the parent
drew a sheet, a ``multiprocessing`` child) inherits the pool object but not
its threads, and using it would hang; so a child forgets what it inherited
(``os.register_at_fork``, and the owner's pid checked on every use) and
starts its own. A pool whose worker died (killed, out of memory) is broken:
the next sheet replaces it. Its workers exit by themselves when the process
that owns them dies, even by SIGKILL, instead of waiting for work forever.

Pure Python, no Flask.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from multiprocessing import get_context
from multiprocessing.context import BaseContext
from multiprocessing.util import Finalize

__all__ = ["encoder_pool", "pool_size", "shutdown_encoder_pools"]

# How often an idle worker looks whether the process that owns it is still there.
PARENT_CHECK_SECONDS = 1.0

_lock = threading.Lock()
_pools: dict[int, ProcessPoolExecutor] = {}  # by number of workers
_owner_pid = os.getpid()
_finalizer_pid = 0


def pool_size() -> int:
    """Worker processes of the pool a sheet uses by default: one per core, at most 8."""
    return min(os.cpu_count() or 1, 8)


def encoder_pool(workers: int) -> ProcessPoolExecutor:
    """This process's pool of ``workers`` encoder processes, started on first use and then reused."""
    global _owner_pid
    with _lock:
        if os.getpid() != _owner_pid:  # forked without the fork hook (a C extension's fork)
            _forget_inherited()
            _owner_pid = os.getpid()
        pool = _pools.get(workers)
        if pool is not None and not pool._broken:
            return pool
        if pool is not None:  # a worker died: the pool takes no more work
            pool.shutdown(wait=False, cancel_futures=True)
        if _finalizer_pid != os.getpid():
            _register_finalizer()
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=_worker_context(),
            initializer=_exit_with_parent,
            initargs=(PARENT_CHECK_SECONDS,),
        )
        _pools[workers] = pool
        return pool


def shutdown_encoder_pools() -> None:
    """Stop this process's pools and their workers (at exit; tests); the next sheet starts a new one."""
    with _lock:
        pools = list(_pools.values()) if os.getpid() == _owner_pid else []
        _pools.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


def _register_finalizer() -> None:
    """Shut the pools down when this process exits, also as a ``multiprocessing`` child (a job worker).

    A child started by ``multiprocessing`` ends by joining every process it
    started, before ``atexit`` would run: the pool's workers would wait for
    work and the child would never exit. A finalizer runs before that join.
    """
    global _finalizer_pid
    Finalize(None, shutdown_encoder_pools, exitpriority=100)
    _finalizer_pid = os.getpid()


def _forget_inherited() -> None:
    """In a forked child: drop the parent's pools without touching them (their threads are not here)."""
    global _lock
    _pools.clear()
    _lock = threading.Lock()  # the parent may have held it while forking


def _after_fork_in_child() -> None:
    global _owner_pid
    _forget_inherited()
    _owner_pid = os.getpid()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(shutdown_encoder_pools)


def _worker_context() -> BaseContext:
    """How worker processes start: forked when safe, else from a fork server.

    A plain fork copies the whole process in a millisecond, but in a process
    with other threads (a web worker with its scan writer, a job worker's
    threads) it may copy a lock another thread holds. So it is used only on
    Linux when this is the process's only thread (the command line, the
    benchmark); otherwise the workers fork from a fork server, which imports
    the encoder once (under a second) and has no other threads. Either way
    the workers start once per process (``encoder_pool``), not per sheet.
    """
    if sys.platform == "linux" and threading.active_count() == 1:
        return get_context("fork")
    return _forkserver_context()


@cache
def _forkserver_context() -> BaseContext:
    context = get_context("forkserver")
    context.set_forkserver_preload(["traceability.labels.symbols"])
    return context


def _exit_with_parent(interval: float) -> None:
    """In each worker: exit once the process that started it is gone (its parent pid changes)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
