"""Both cores for `--engine local`: chunks answered in worker processes, collected in chunk order.

The workers are forked from this process once it has loaded the reference data (`warm`), so they share
its verified indexes instead of each loading them again. At most `window` chunks are in flight, so memory
stays bounded whatever the file size, and results come back in the order of the chunks: the output and
the journal are byte for byte those of the one-process run (`workers=1`). A small input (one chunk, or
fewer than MIN_ROWS rows in its first two) is answered here, without starting any process.
"""
from __future__ import annotations

import collections
import gc
import itertools
import multiprocessing
import os
import threading
import time
from typing import Callable, Iterable, Iterator

MIN_ROWS = 20_000  # below this, forking and loading every index costs more than it saves


def process_mapper(workers: int, warm: Callable[[], None] | None = None, in_flight_per_worker: int = 2) -> Callable:
    """A `mapper(fn, items)` for `runner.run`: `fn` over `items`, in order, on `workers` processes."""

    def mapper(fn: Callable, items: Iterable) -> Iterator:
        it = iter(items)
        head = list(itertools.islice(it, 2))
        if workers <= 1 or len(head) < 2 or sum(getattr(c, "n_rows", 0) for c in head) < MIN_ROWS:
            gc.enable()  # off during the command line's start (cli.main): on for the chunks, answered here
            for item in itertools.chain(head, it):
                yield fn(item)
            return
        if warm is not None:
            warm()
        # fork: the children start with this process's loaded indexes (pyarrow's thread pools are fork-aware).
        # What is loaded by now lives as long as the command: frozen out of the cyclic collector's reach, the
        # workers' collections no longer walk it (nor copy its pages, which each walk writes to): ~0.3 CPU s less
        # per worker on the default 1M-row locate. The parent collects as before once the workers exist.
        gc.freeze()
        gc.enable()  # the command line starts a batch with the collector off (cli.main): on from here, workers included
        try:
            pool = multiprocessing.get_context("fork").Pool(workers, initializer=_exit_with_parent, initargs=(os.getpid(),))
        finally:
            gc.unfreeze()
        try:
            pending: collections.deque = collections.deque()
            for item in itertools.chain(head, it):
                pending.append(pool.apply_async(fn, (item,)))
                if len(pending) >= workers * in_flight_per_worker:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()
        except BaseException:  # a failure, or the caller stopped early: the workers are stopped before going on
            pool.terminate()
            raise
        # Every answer is in. Stopping the workers waits for the kernel to take back their memory (~40 ms on the
        # 1M-row evaluate): a thread does it while the caller publishes the output. Not a daemon: a process that
        # goes on, or ends normally, still has its workers joined.
        threading.Thread(target=pool.terminate, name="qpv-pool-stop").start()

    return mapper


def _exit_with_parent(parent: int) -> None:
    """A worker ends when the batch process is gone (killed with -9: no chance to stop its pool)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
