"""`--engine dask`: the same chunks, processed on a dask.distributed cluster.

The job (a small picklable value) is broadcast to every worker once; chunks are submitted as they are
read, with a bounded number in flight (memory stays constant), and collected *in order*, so the
output is byte-identical to the single-process run. Each worker answers from its own verified copy of
the reference data (the perimeters' spatial index is built or read from the cache once per worker
process, all workers at once before the first chunk: `warm`), so only rows travel over the network.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterable, Iterator


def _apply(fn, item):
    return fn(item)


@contextmanager
def dask_mapper(scheduler: str | None = None, n_workers: int = 2, processes: bool = True,
                in_flight_per_worker: int = 2, warm: Callable | None = None):
    """Yield a `mapper(fn, items)` that runs on a cluster: `scheduler` address, else a LocalCluster.

    `warm` runs once on every worker before any chunk (loads the verified perimeters and indexes)."""
    from dask.distributed import Client, LocalCluster

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=processes,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        workers = max(len(client.scheduler_info()["workers"]), 1)
        if warm is not None:
            client.run(warm)
        window = workers * in_flight_per_worker

        def mapper(fn: Callable, items: Iterable) -> Iterator:
            [fn_future] = client.scatter([fn], broadcast=True, hash=False)
            pending = []
            for item in items:
                pending.append(client.submit(_apply, fn_future, item, pure=False))
                if len(pending) >= window:
                    yield pending.pop(0).result()
            while pending:
                yield pending.pop(0).result()

        yield mapper
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
