"""Run a batch locate with the fake geography, slowly, so a test can SIGKILL it midway.

Usage: python slow_run.py IN OUT TRACES CHUNK_SIZE [--resume]
"""
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fakes import fake_locate_points  # noqa: E402

from eligibility.batch import jobs, run_file  # noqa: E402


def slow_locate(*args, **kwargs):
    time.sleep(0.15)
    return fake_locate_points(*args, **kwargs)


if __name__ == "__main__":
    src, out, traces, size = sys.argv[1:5]
    jobs._geography = lambda: slow_locate
    run_file(lambda r: jobs.LocateJob(r, date=dt.date(2024, 1, 1), traces=True), src, out, chunk_size=int(size),
             traces=traces, resume="--resume" in sys.argv, show_progress=False)
