"""Worker processes that never outlive the run.

Workers ignore Ctrl-C (the parent decides what an interrupt means), ask the kernel to kill
them when their parent dies (Linux ``PR_SET_PDEATHSIG``; elsewhere a thread watches the
parent), and are killed by the parent when it stops for any reason other than finishing.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from itertools import islice

PR_SET_PDEATHSIG = 1


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _init_worker(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, inherited by fork
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError):
        threading.Thread(target=_watch, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before we asked to die with it
        os._exit(1)
    # What the worker inherits is never garbage: the collector need not walk it after each
    # chunk, nor copy the pages it would touch.
    gc.freeze()


def run(jobs: int, fn: Callable, work: Iterable) -> Iterator:
    """``fn`` over ``work`` in ``jobs`` processes, results in the order they finish. At most
    two items per worker are in flight, so memory stays flat however long ``work`` is."""
    pool = ProcessPoolExecutor(
        jobs,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_init_worker,
        initargs=(os.getpid(),),
    )
    todo = iter(work)
    try:
        running = {pool.submit(fn, w) for w in islice(todo, 2 * jobs)}
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
                running |= {pool.submit(fn, w) for w in islice(todo, 1)}
    except BaseException:  # an interrupt, an error, or the consumer stopping early
        _kill(pool)
        raise
    pool.shutdown(wait=True)


def _kill(pool: ProcessPoolExecutor) -> None:
    for process in list(getattr(pool, "_processes", {}).values()):
        process.kill()
    pool.shutdown(wait=True, cancel_futures=True)


def _init_ahead(parent: int, prepare: Callable[[], None]) -> None:
    _init_worker(parent)
    prepare()


class Ahead:
    """One process forked now, that runs ``prepare`` (imports, say) on a core this one
    leaves idle while it starts up, and later runs a call with all it prepared. It dies
    with this process, and at :meth:`close`."""

    def __init__(self, prepare: Callable[[], None]):
        self._pool = ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_init_ahead,
            initargs=(os.getpid(), prepare),
        )
        self._pool.submit(int)  # the process starts at its first task: now

    def call(self, fn: Callable, *args):
        return self._pool.submit(fn, *args).result()

    def close(self) -> None:
        _kill(self._pool)
