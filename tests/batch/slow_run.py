"""Run a batch locate slowly (a pause per chunk), so that a test can SIGKILL it midway.

Usage: python slow_run.py IN OUT TRACES CHUNK_SIZE [--resume] [--workers N]
With --workers 2, the chunks are answered by two forked processes even though the file is small.
"""
import datetime as dt
import sys
import time

from eligibility.batch import jobs, pool, run_file
from eligibility.batch.locate import LocateJob
from eligibility.geography import locate_points


PAUSE = 0.15


def slow_locate(*args, **kwargs):
    time.sleep(PAUSE)
    return locate_points(*args, **kwargs)


if __name__ == "__main__":
    src, out, traces, size = sys.argv[1:5]
    jobs.geography = lambda: slow_locate  # the hook every job calls (forked workers inherit it)
    workers = int(sys.argv[sys.argv.index("--workers") + 1]) if "--workers" in sys.argv else 1
    pool.MIN_ROWS = 0
    PAUSE *= workers  # the same wall time per chunk for the test to kill in, with two processes answering
    run_file(lambda r: LocateJob(r, date=dt.date(2024, 1, 1), traces=True), src, out, chunk_size=int(size),
             traces=traces, resume="--resume" in sys.argv, show_progress=False, workers=workers)
