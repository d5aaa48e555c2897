"""Benchmark: `locate_points` against geopandas `sjoin` on the same >= 1M points, same run.

Points (SYNTHETIC, seeded): real coordinates from the bundled La Poste, collège and BANO files, each
jittered (normal, sd 250 m), plus uniform points over metropolitan France and over the overseas boxes.
Both engines get lon/lat arrays; geopandas joins against the same repaired QP2024 perimeters in
EPSG:4326 (what a geopandas user would do). The check: for every point, the quartier that contains it
is the same in both (ours: `contained`; near_boundary points keep their containing quartier).

    .venv/bin/python benchmarks/bench_locate.py [--n 1000000] [--repeat 3] [--no-distance-peers]

Reported: the decision alone (integer codes), the quartier answer as sjoin gives it (plus the status and
quartier code text columns), the full answer (every column, exact distances included), and a comparison
of the exact distance with shapely's STRtree nearest-segment query, which also checks it to the metre's
millionth on every metropolitan point.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import io
import json
import platform
import time

import numpy as np
import pandas as pd

from eligibility import datasets

DATE = dt.date(2025, 6, 1)  # QP2024 in force everywhere (overseas from 2025-01-01)


def _coords(dataset_id, filename, delim, lon_col, lat_col, header=True):
    with gzip.open(datasets.verified_path(dataset_id, filename), "rt", encoding="utf-8-sig") as f:
        rows = list(csv.reader(io.StringIO(f.read()), delimiter=delim))
    if header:
        head, rows = rows[0], rows[1:]
        lon_col, lat_col = head.index(lon_col), head.index(lat_col)
    out = []
    for r in rows:
        try:
            out.append((float(r[lon_col]), float(r[lat_col])))
        except (ValueError, IndexError):
            continue
    return np.array(out)


def synthetic_points(n: int, seed: int = 20241) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    real = np.concatenate([
        _coords("laposte_points_contact", "laposte_poincont2_2020-12.csv.gz", ";", "Longitude", "Latitude"),
        _coords("colleges", "fr-en-adresse-et-geolocalisation-etablissements-premier-et-second-degre_colleges_2024-11.csv.gz",
                ";", "longitude", "latitude"),
        _coords("bano", "bano-04_2015-03-23.csv.gz", ",", 7, 6, header=False),
        _coords("bano", "bano-82_2014-05-23_partiel.csv.gz", ",", 7, 6, header=False),
    ])
    n_real, n_overseas = int(n * 0.6), int(n * 0.05)
    n_uniform = n - n_real - n_overseas
    k = rng.integers(0, len(real), n_real)
    jitter_deg = 250.0 / 111_000.0
    lon_r = real[k, 0] + rng.normal(0, jitter_deg, n_real)
    lat_r = real[k, 1] + rng.normal(0, jitter_deg, n_real)
    lon_u, lat_u = rng.uniform(-4.8, 8.2, n_uniform), rng.uniform(42.3, 51.1, n_uniform)
    boxes = np.array([(-61.8, 15.95, -61.0, 16.5), (-61.25, 14.4, -60.8, 14.88), (55.2, -21.4, 55.85, -20.85)])
    b = boxes[rng.integers(0, len(boxes), n_overseas)]
    lon_o, lat_o = rng.uniform(b[:, 0], b[:, 2]), rng.uniform(b[:, 1], b[:, 3])
    lon, lat = np.concatenate([lon_r, lon_u, lon_o]), np.concatenate([lat_r, lat_u, lat_o])
    order = rng.permutation(n)
    return lon[order], lat[order]


class Clock:
    """Wall and CPU seconds of a block. Both engines are single-threaded, so on a machine shared with
    other jobs the CPU time is the fairer comparison; both are reported."""

    def __enter__(self):
        self.w, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.w, time.process_time() - self.c


TEXT_AS_SJOIN = ("status", "quartier_code")  # what sjoin hands back: a quartier code per point (and its absence)
LAZY = ("vintage", "departement", "region", "quartier_name", "reason", "distance_to_boundary_m", "commune_code", "carreau")


def run_ours(lon, lat):
    """(result, decision clock, {column: clock}). The decision (status, quartier, vintage, département,
    région as integer codes) is `locate_points`; the text and geometry columns are built on first access."""
    from eligibility.geography import locate_points

    with Clock() as status:
        res = locate_points(lon, lat, DATE)
    parts = {}
    for name in TEXT_AS_SJOIN + LAZY:
        with Clock() as c:
            getattr(res, name)
        parts[name] = c
    return res, status, parts


def distance_peers(res) -> dict:
    """Exact distance to the nearest boundary, metropolitan points: ours (KD-tree on densified vertices,
    certified bound) against shapely STRtree.query_nearest on the boundary segments, which is also the
    reference for exactness (GEOS point-segment distances)."""
    import shapely

    from eligibility.geography import grid, index

    qi = index.quartier_index("qp2024", "metropole")
    m = (res.zone == 0) & (res.rule >= 0)
    x, y = res.x[m], res.y[m]
    _ = qi.vertices  # build the KD-tree outside the clock, as the STRtree below
    pieces, _ = grid.boundary_pieces(qi.boundaries)
    tree = shapely.STRtree(pieces)
    with Clock() as kd:
        d_ours = qi.nearest_boundary(x, y, small_batch=0)[1]
    with Clock() as st:
        (pi, _), d_ref = tree.query_nearest(shapely.points(x, y), all_matches=False, return_distance=True)
    ref = np.empty(len(x))
    ref[pi] = d_ref
    return {"points": int(m.sum()), "ours_kdtree_cpu_s": round(kd.cpu, 3), "shapely_strtree_nearest_segments_cpu_s": round(st.cpu, 3),
            "max_abs_difference_m": float(np.abs(d_ours - ref).max())}


def run_geopandas(lon, lat, per):
    import geopandas as gpd

    quartiers = gpd.GeoDataFrame({"code": per.code}, geometry=per.geometry, crs="EPSG:4326")
    quartiers = quartiers[~quartiers.geometry.is_empty]
    with Clock() as c:
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
        joined = gpd.sjoin(pts, quartiers, how="left", predicate="within")
        joined = joined.sort_values("code").groupby(level=0).head(1).sort_index()  # overlaps: lowest code, like ours
    return joined["code"].to_numpy(dtype=object), c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-distance-peers", action="store_true", help="skip the distance comparison (10 s per million points)")
    args = ap.parse_args()
    from eligibility.geography import locate_points
    from eligibility.geography.perimeters import load

    lon, lat = synthetic_points(args.n)
    per = load("qp2024")
    t = time.perf_counter()
    locate_points(lon[:10], lat[:10], DATE)  # load indexes from the disk cache (once per process)
    locate_points(lon[:50_000], lat[:50_000], DATE).row(0)  # and the degree grids of the large-batch path
    t_load = time.perf_counter() - t

    ours, theirs = [], []
    for _ in range(args.repeat):  # alternate, so both see the same machine state
        res, t_status, parts = run_ours(lon, lat)
        ours.append((t_status, parts))
        codes_gpd, t_gpd = run_geopandas(lon, lat, per)
        theirs.append(t_gpd)

    contained_code = np.where(res.contained, res.quartier_code, None)
    contained_code = np.where(res.vintage == "QP2024", contained_code, None)
    gpd_code = np.where(pd.isna(codes_gpd), None, codes_gpd)  # NaN -> None
    differ = np.flatnonzero(contained_code != gpd_code)
    near = res.status[differ] == "near_boundary"
    hors = res.status[differ] == "not_covered"
    def best(clocks, attr):
        return min(getattr(c, attr) for c in clocks)

    def cpu(*names):  # best over the runs of the decision plus these columns
        return round(min(o[0].cpu + sum(o[1][k].cpu for k in names) for o in ours), 3)

    n = args.n
    sjoin = round(best(theirs, "cpu"), 3)
    decision, as_sjoin, full = cpu(), cpu(*TEXT_AS_SJOIN), cpu(*TEXT_AS_SJOIN, *LAZY)
    out = {
        "points": int(n), "synthetic": True, "date": DATE.isoformat(), "repeat": args.repeat,
        "python": platform.python_version(), "machine": platform.machine(), "index_load_s": round(t_load, 3),
        "cpu_s": {"ours_decision_integer_codes": decision, "ours_quartier_answer_as_sjoin": as_sjoin,
                  "ours_full_answer_every_column": full, "geopandas_sjoin": sjoin,
                  "ours_columns": {k: round(min(o[1][k].cpu for o in ours), 3) for k in TEXT_AS_SJOIN + LAZY}},
        "wall_s": {"ours_decision_integer_codes": round(best([o[0] for o in ours], "wall"), 3),
                   "geopandas_sjoin": round(best(theirs, "wall"), 3)},
        "ratio_vs_sjoin_cpu": {"decision_integer_codes": round(sjoin / decision, 2),
                               "quartier_answer_as_sjoin": round(sjoin / as_sjoin, 2),
                               "full_answer_every_column": round(sjoin / full, 2)},
        "ours_points_per_cpu_s_as_sjoin": int(n / as_sjoin),
        "geopandas_points_per_cpu_s": int(n / sjoin),
    }
    never_projected = ~res.metric_path if res.metric_path is not None else np.zeros(n, bool)
    out.update({
        "answered_without_projection_share": round(float(never_projected.mean()), 4),
        "metric_grid_exact_tests_share": round(float(res.exact.mean()), 4),
        "statuses": {s: int((res.status == s).sum()) for s in sorted(set(res.status))},
        "points_inside_a_quartier_sjoin": int(np.sum(~np.equal(gpd_code, None))),
        "quartier_mismatches": len(differ),
        "mismatches_near_boundary": int(near.sum()), "mismatches_not_covered": int(hors.sum()),
        "mismatch_max_distance_m": None if not len(differ) else round(float(np.nanmax(res.distance_to_boundary_m[differ])), 4),
    })
    if not args.no_distance_peers:
        out["distance_peers"] = distance_peers(res)
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
