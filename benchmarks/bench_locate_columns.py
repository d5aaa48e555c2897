"""The geography of the default `qpv batch locate` answer (issue 13), column by column, in this process, CPU
seconds per million rows (best of --repeat):

    .venv/bin/python benchmarks/bench_locate_columns.py /tmp/qpv-bench-batch-file/points_dated_1000000.csv

The points of an `id,lon,lat,date` file (such as the one `bench_batch_file.py` generates) are answered in chunks
of 100,000 rows, as the batch does, after the indexes a large batch needs are loaded (`index.load_all`, and a
first batch that builds the KD-tree of far points). Stages, each on the chunks' `LocateResult`s:
- locate_points: status, quartier, vintage, département (the answer itself);
- xy: the metric coordinates (projection to each zone's CRS);
- distance: exact distance to the nearest boundary (boundary cells within 1 km, vertex KD-tree farther);
- commune: stacked commune grids, exact tests in their boundary cells;
- carreau: the INSEE 200 m square's identifier.
CPU time, not wall: the figure stays readable on a shared machine. To compare with an older tree, run it with
`PYTHONPATH=<that tree>`; `--save FILE.npz` keeps the distance, commune and carreau columns, to check that
two trees give the same values (`--compare FILE.npz`).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pyarrow.csv as pacsv

from eligibility.geography import index, locate_points

CPU = time.process_time
CHUNK = 100_000
STAGES = ("locate_points", "xy", "distance", "commune", "carreau")


def _points(path: str):
    table = pacsv.read_csv(path)
    lon = table["lon"].to_numpy(zero_copy_only=False).astype(float)
    lat = table["lat"].to_numpy(zero_copy_only=False).astype(float)
    dates = np.asarray(table["date"].to_numpy(zero_copy_only=False), dtype="datetime64[D]")
    ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    return lon[ok], lat[ok], dates[ok]


def _one_pass(lon, lat, dates) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    spent = dict.fromkeys(STAGES, 0.0)
    columns: dict[str, list] = {"distance": [], "commune": [], "carreau": []}
    for s in range(0, len(lon), CHUNK):
        t = CPU()
        res = locate_points(lon[s:s + CHUNK], lat[s:s + CHUNK], dates[s:s + CHUNK])
        for stage, compute in (("locate_points", lambda: None), ("xy", lambda: res.x),
                               ("distance", lambda: res.distance_to_boundary_m),
                               ("commune", lambda: res.coded("commune_code")), ("carreau", lambda: res.carreau)):
            compute()
            now = CPU()
            spent[stage] += now - t
            t = now
        columns["distance"].append(res.distance_to_boundary_m)
        columns["commune"].append(np.asarray(res.commune_code, dtype=object).astype(str))
        columns["carreau"].append(np.asarray(res.carreau, dtype=object).astype(str))
    return spent, {k: np.concatenate(v) for k, v in columns.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("points")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--save", help="keep the computed columns in this .npz")
    ap.add_argument("--compare", help="check the columns against this .npz (a --save of another tree)")
    args = ap.parse_args()
    lon, lat, dates = _points(args.points)
    t = CPU()
    index.load_all(communes=True, distances=True)
    warm = locate_points(lon[:50_000], lat[:50_000], dates[:50_000])
    warm.distance_to_boundary_m, warm.coded("commune_code"), warm.carreau  # first-use costs (KD-tree, prepared polygons)
    print(f"loading, CPU s: {CPU() - t:.3f}")
    runs = [_one_pass(lon, lat, dates) for _ in range(args.repeat)]
    per_million = 1e6 / len(lon)
    best = {stage: min(r[0][stage] for r in runs) * per_million for stage in STAGES}
    for stage in STAGES:
        print(f"{stage:>14}: {best[stage]:.3f} CPU s per 1M rows")
    print(f"{'total':>14}: {sum(best.values()):.3f}")
    columns = runs[0][1]
    if args.save:
        np.savez(args.save, **columns)
    if args.compare:
        ref = np.load(args.compare)
        for name, values in columns.items():
            if values.dtype.kind != "f":
                print(f"{name}: {'identical' if (ref[name] == values).all() else 'DIFFERENT'}")
                continue
            if np.array_equal(ref[name], values, equal_nan=True):
                print(f"{name}: identical")
                continue
            gap = np.nanmax(np.abs(ref[name] - values))
            printed = np.count_nonzero(np.round(ref[name], 2) != np.round(values, 2)) - \
                np.count_nonzero(np.isnan(values))  # NaN != NaN: not a difference
            print(f"{name}: {np.count_nonzero(ref[name] != values) - np.count_nonzero(np.isnan(values))} values differ, "
                  f"by at most {gap:.3g} m; {printed} differ once rounded to the centimetre (the output's rounding)")


if __name__ == "__main__":
    main()
