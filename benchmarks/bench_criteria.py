"""Benchmark: derive candidate quartiers on a SYNTHETIC grid the size of metropolitan France.

The grid is generated (no real data): ~2.3 million inhabited 200 m carreaux spread over towns across the
metropolitan extent in EPSG:3035, ~62 million inhabitants, incomes with 1 km "poor" blocks so that low-
income carreaux form contiguous groups. Times and peak memory of `derive` (the whole criteria pipeline:
canonical order, thresholds, low-income flags, grouping, population, weighted medians, statuses), and of
the grouping step alone against a peer measured in the same run: `scipy.ndimage.label` on a boolean
raster of the whole extent (the other vectorised way to label a grid).

    .venv/bin/python benchmarks/bench_criteria.py [--carreaux 2300000] [--seed 1] [--io]

With --io it also writes the synthetic grid as an INSEE-shaped CSV (in a temporary folder) and times
`read_carreaux` on it, and times writing the GeoJSON + CSV of the derivation.
"""
from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np

E0, E1, N0, N1 = 3_210_000, 4_290_000, 2_040_000, 3_140_000  # metropolitan France, EPSG:3035 (approx.)


def synthetic_grid(target: int, seed: int):
    """Lower-left corners, population and income of `target` synthetic inhabited carreaux."""
    from eligibility.criteria.grouping import grid_keys

    rng = np.random.default_rng(seed)
    n_towns = 40_000
    size = np.minimum(rng.pareto(1.1, n_towns) * 8 + 2, 40_000)          # carreaux per town, heavy-tailed
    size = np.rint(size * target * 1.35 / size.sum()).astype(np.int64) + 1  # oversample: duplicates are dropped
    cx = rng.uniform(E0, E1, n_towns)
    cy = rng.uniform(N0, N1, n_towns)
    town = np.repeat(np.arange(n_towns), size)
    spread = 200 * np.sqrt(size)[town] * 0.4
    x = cx[town] + rng.normal(0, 1, len(town)) * spread
    y = cy[town] + rng.normal(0, 1, len(town)) * spread
    e = (np.floor(x / 200) * 200).astype(np.int64)
    n = (np.floor(y / 200) * 200).astype(np.int64)
    _, first = np.unique(grid_keys(e, n, 200), return_index=True)
    keep = rng.permutation(first)[:target]
    e, n, town = e[keep], n[keep], town[keep]
    population = np.round(rng.lognormal(2.9, 1.0, len(e)), 1)
    block = (e // 2000) * 7919 + (n // 2000) * 104729                    # 2 km blocks, ~12 % of them poor
    poor = (block % 100) < 12
    income = rng.normal(21_500, 2_500, n_towns)[town] + rng.normal(0, 1_800, len(e)) - 9_500 * poor
    return e, n, population, income


def make_carreaux(e, n, population, income):
    from eligibility.criteria.filosofi import PROXY, PROXY_LABEL, Carreaux
    from eligibility.geography.carreaux import format_ids

    return Carreaux(ids=format_ids(e, n), easting=e, northing=n, epsg=3035, size=200, population=population,
                    income=income, income_column=PROXY, income_label=PROXY_LABEL + " (SYNTHÉTIQUE)",
                    imputed=None, communes=None, source={"synthetic": "benchmarks/bench_criteria.py"})


def timed(fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, dt, peak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--carreaux", type=int, default=2_300_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--io", action="store_true", help="also time reading a national CSV and writing the outputs")
    args = ap.parse_args()

    from scipy import ndimage

    from eligibility.criteria import grouping
    from eligibility.criteria.derivation import derive

    t0 = time.perf_counter()
    e, n, pop, inc = synthetic_grid(args.carreaux, args.seed)
    c = make_carreaux(e, n, pop, inc)
    print(f"synthetic grid: {len(c):,} inhabited carreaux, {pop.sum():,.0f} inhabitants "
          f"(generated in {time.perf_counter() - t0:.1f} s)")

    derive(make_carreaux(e[:1000], n[:1000], pop[:1000], inc[:1000]), unite_urbaine="40401",
           national_median=21730, uu_median=20000, uu_population=1e6)  # warm caches (rule file, UU tables)
    for label, uu_median in (("S = 12 800 €", 20_000), ("S = 19 500 € (stress: a higher threshold)", 41_000)):
        d, t_derive, m_derive = timed(lambda: derive(c, unite_urbaine="40401", national_median=21730,
                                                     uu_median=uu_median, uu_population=1e6))
        s = d.summary()
        print(f"derive, 4-connectivity, {label}: {t_derive:.2f} s, peak traced memory {m_derive / 2**20:.0f} MiB; "
              f"{s['low_income_carreaux']:,} low-income carreaux, {s['groups']:,} groups, {s['candidates']:,} "
              f"candidates, {s['below_population']:,} below 1 000 inhabitants")

    low = d.low_income
    keys = grouping.grid_keys(d.carreaux.easting[low], d.carreaux.northing[low], 200)
    (labels, n_sparse), t_sparse, m_sparse = timed(lambda: grouping.label(keys, 4))

    def raster_label():
        col = (d.carreaux.easting[low] - E0 + 40_000) // 200
        row = (d.carreaux.northing[low] - N0 + 40_000) // 200
        raster = np.zeros((int(row.max()) + 2, int(col.max()) + 2), dtype=bool)
        raster[row, col] = True
        lab, k = ndimage.label(raster)  # default structure = 4-connectivity
        return lab[row, col], k, raster.size

    (lab_r, n_raster, cells), t_raster, m_raster = timed(raster_label)
    same = n_sparse == n_raster and len(np.unique(np.stack([labels, lab_r]), axis=1)[0]) == n_sparse
    print(f"grouping alone, sparse csgraph (ours): {t_sparse:.2f} s, peak {m_sparse / 2**20:.0f} MiB, {n_sparse:,} groups")
    print(f"grouping alone, peer scipy.ndimage.label on a {cells:,}-cell raster: {t_raster:.2f} s, "
          f"peak {m_raster / 2**20:.0f} MiB, {n_raster:,} groups; same partition: {same}")
    if args.io:
        time_io(c, d)
    print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def time_io(c, d) -> None:
    import tempfile
    from pathlib import Path

    import pandas as pd

    from eligibility.criteria import output
    from eligibility.criteria.filosofi import read_carreaux

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "carreaux_200m_met_SYNTHETIQUE.csv"
        pd.DataFrame({"idcar_200m": c.ids, "i_est_200": 0, "ind": c.population,
                      "ind_snv": np.round(c.income * c.population, 1)}).to_csv(path, index=False)
        size = path.stat().st_size
        read, t_read, m_read = timed(lambda: read_carreaux(path))
        print(f"read_carreaux on a {size / 2**20:.0f} MiB CSV ({len(read):,} rows): {t_read:.2f} s, "
              f"peak traced memory {m_read / 2**20:.0f} MiB")
        for which in ("candidates", "all"):
            paths, t_write, m_write = timed(lambda: output.write(d, Path(tmp) / f"{which}.geojson", which))
            n = len(output.selected_groups(d, which))
            print(f"output.write, GeoJSON of {which} ({n:,} groups, {Path(paths['geojson']).stat().st_size / 2**20:.0f} MiB)"
                  f" + CSV of all {d.n_groups:,}: {t_write:.2f} s, peak traced memory {m_write / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
