"""Run a batch locate slowly (a pause per chunk), so that a test can SIGKILL it midway.

Usage: python slow_run.py IN OUT TRACES CHUNK_SIZE [--resume]
"""
import datetime as dt
import sys
import time

from eligibility.batch import jobs, run_file
from eligibility.batch.locate import LocateJob
from eligibility.geography import locate_points


def slow_locate(*args, **kwargs):
    time.sleep(0.15)
    return locate_points(*args, **kwargs)


if __name__ == "__main__":
    src, out, traces, size = sys.argv[1:5]
    jobs.geography = lambda: slow_locate  # the hook every job calls
    run_file(lambda r: LocateJob(r, date=dt.date(2024, 1, 1), traces=True), src, out, chunk_size=int(size),
             traces=traces, resume="--resume" in sys.argv, show_progress=False)
