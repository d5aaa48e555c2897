"""Benchmark: the first `row(i)` of a large `locate_points` result (what `DecisionFrame.trace(i)` and
`qpv batch --traces` pay), against building the same row from whole columns (the previous behaviour).

    .venv/bin/python benchmarks/bench_row.py [--n 1000000]
"""
from __future__ import annotations

import argparse
import json
import time

from bench_locate import DATE, synthetic_points


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    args = ap.parse_args()
    from eligibility.geography import locate_points
    from eligibility.geography.trace import row_json

    lon, lat = synthetic_points(args.n)
    locate_points(lon[:50_000], lat[:50_000], DATE).row(0)  # indexes loaded outside the clocks
    res = locate_points(lon, lat, DATE)
    t = time.process_time()
    one = res.row(12345)
    t_row = time.process_time() - t
    t = time.process_time()
    whole = row_json(res, 12345)  # reads whole columns: distance, commune, carreau for every row
    t_columns = time.process_time() - t
    print(json.dumps({"points": args.n, "first_row_cpu_s": round(t_row, 4),
                      "same_row_from_whole_columns_cpu_s": round(t_columns, 3), "same_object": one == whole}, indent=1))


if __name__ == "__main__":
    main()
