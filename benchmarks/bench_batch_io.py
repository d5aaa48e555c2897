"""Batch input/output stages (issue 13), in this process, CPU seconds per million rows (best of --repeat):

    .venv/bin/python benchmarks/bench_batch_io.py /tmp/qpv-bench-batch-file/points_dated_1000000.csv

- cut: the parent's reading, `CsvSource.chunks` (chunks of 100,000 rows);
- parse: each chunk's text read by Arrow into a DataFrame (`Chunk.frame`, where the job runs);
- lon/lat: both coordinate columns to numbers (`columns.to_float`);
- encode fields / encode default: `sinks.encode_part` of the answers of the first --chunks chunks of
  `qpv batch locate` with `--fields status,quartier_code` and with every field (answers computed once, before
  the clock).
The CSV is an `id,lon,lat,date` file such as the one `bench_batch_file.py` generates. CPU time, not wall: the
figure stays readable on a shared machine. To compare with an older tree, run this script with
`PYTHONPATH=<that tree>` (the script only uses functions both trees have).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from eligibility.batch import open_job
from eligibility.batch.columns import to_float
from eligibility.batch.locate import LocateJob
from eligibility.batch.sinks import csv_format, encode_part
from eligibility.batch.sources import CsvSource

CPU = time.process_time
CHUNK = 100_000


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        start = CPU()
        fn()
        times.append(CPU() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--chunks", type=int, default=3, help="chunks whose answers are encoded")
    args = ap.parse_args()
    source = CsvSource(args.csv)
    chunks = list(source.chunks(CHUNK))
    rows = sum(c.n_rows for c in chunks)
    per_million = 1_000_000 / rows
    figures = {"cut": best_of(args.repeat, lambda: list(source.chunks(CHUNK))) * per_million}
    fresh = lambda: list(source.chunks(CHUNK))  # noqa: E731 - a chunk parses once: new chunks per round
    parse_times = []
    for _ in range(args.repeat):
        batch = fresh()
        start = CPU()
        frames = [c.frame() for c in batch]
        parse_times.append(CPU() - start)
    figures["parse"] = min(parse_times) * per_million
    names = list(frames[0].columns)
    figures["lon/lat"] = best_of(args.repeat, lambda: [(to_float(f[names[1]], "lon"), to_float(f[names[2]], "lat"))
                                                       for f in frames]) * per_million
    fmt = csv_format(source)
    for label, fields in (("fields", ("status", "quartier_code")), ("default", None)):
        job, src = open_job(lambda r: LocateJob(r, fields=fields), args.csv)
        job.warm_all()
        answers = [job.run(c).frame for c in list(src.chunks(CHUNK))[:args.chunks]]
        n = sum(len(a) for a in answers)
        figures[f"encode {label}"] = best_of(args.repeat, lambda: [encode_part(a, job.columns, fmt)
                                                                    for a in answers]) * 1_000_000 / n
    print(f"{rows} rows, CPU s per million rows (best of {args.repeat}):")
    for name, value in figures.items():
        print(f"  {name:16s} {value:6.3f}")


if __name__ == "__main__":
    main()
