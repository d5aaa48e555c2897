"""SYNTHETIC input files for the batch benchmarks (seeded, vectorised; nothing here is real data).

Residences reuse the point generator of bench_locate.py (real La Poste / collège / BANO coordinates,
jittered, plus uniform points), so locate and evaluate benchmarks share their places.

    .venv/bin/python benchmarks/bench_batch_data.py points N OUT.(csv|parquet)
    .venv/bin/python benchmarks/bench_batch_data.py emplois-francs N OUT.(csv|parquet)
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from bench_locate import synthetic_points  # noqa: E402


def points_frame(n: int, seed: int = 20241) -> pd.DataFrame:
    lon, lat = synthetic_points(n, seed)
    return pd.DataFrame({"id": np.arange(1, n + 1), "lon": np.round(lon, 6), "lat": np.round(lat, 6)})


def _dates(rng, n, start: str, end: str) -> np.ndarray:
    a, b = np.datetime64(start, "D").astype(np.int64), np.datetime64(end, "D").astype(np.int64)
    return rng.integers(a, b + 1, n).astype("datetime64[D]")


def _near_quartiers(rng, n: int) -> tuple[np.ndarray, np.ndarray]:
    import shapely

    from eligibility.geography.perimeters import load

    geoms = load("qp2024").geometry
    inner = shapely.point_on_surface(geoms[~shapely.is_empty(geoms)])
    k = rng.integers(0, len(inner), n)
    jitter = 150.0 / 111_000.0
    return (shapely.get_x(inner)[k] + rng.normal(0, jitter, n), shapely.get_y(inner)[k] + rng.normal(0, jitter, n))


def dated_points_frame(n: int, seed: int = 13) -> pd.DataFrame:
    """`id,lon,lat,date` (issue 13's input): half the points within ~300 m of a QP2024 quartier of
    metropolitan France, half uniform over metropolitan France (points drawn in its box and kept when a
    département holds them); dates mostly 2024-2026 (QP2024), 15 % in 2016-2023 (QP2015 where covered)."""
    import shapely

    from eligibility.geography import index, territories
    from eligibility.geography.perimeters import load

    rng = np.random.default_rng(seed)
    geoms = load("qp2024").geometry
    inner = shapely.point_on_surface(geoms[~shapely.is_empty(geoms)])
    metro = (shapely.get_x(inner) > -5.5) & (shapely.get_y(inner) > 41.0)
    qx, qy = shapely.get_x(inner)[metro], shapely.get_y(inner)[metro]
    half = n // 2
    k = rng.integers(0, len(qx), half)
    jitter = 300.0 / 111_000.0
    ulon, ulat = np.zeros(0), np.zeros(0)
    deps = index.departement_index("metropole")
    while len(ulon) < n - half:
        lon, lat = rng.uniform(-4.8, 8.2, 2 * (n - half)), rng.uniform(42.3, 51.1, 2 * (n - half))
        x, y = territories.project(lon, lat, 2154)
        inside = deps.locate(x, y, snap_m=0.0) >= 0
        ulon, ulat = np.concatenate([ulon, lon[inside]]), np.concatenate([ulat, lat[inside]])
    lon = np.concatenate([qx[k] + rng.normal(0, jitter, half), ulon[: n - half]])
    lat = np.concatenate([qy[k] + rng.normal(0, jitter, half), ulat[: n - half]])
    order = rng.permutation(n)
    recent = rng.random(n) >= 0.15
    dates = np.where(recent, _dates(rng, n, "2024-01-01", "2026-06-30"), _dates(rng, n, "2016-01-01", "2023-12-31"))
    return pd.DataFrame({"id": np.arange(1, n + 1), "lon": np.round(lon[order], 6), "lat": np.round(lat[order], 6),
                         "date": dates})


def emplois_francs_frame(n: int, seed: int = 7) -> pd.DataFrame:
    """Hires with the facts of rules/emplois-francs.yaml: mostly complete, some missing or out of scope."""
    rng = np.random.default_rng(seed)
    lon, lat = synthetic_points(n, seed)
    qlon, qlat = _near_quartiers(rng, n)
    take = rng.random(n) < 0.4  # 40 % of hires live in or next to a quartier (jitter 150 m)
    lon, lat = np.where(take, qlon, lon), np.where(take, qlat, lat)
    signature = _dates(rng, n, "2019-06-01", "2025-06-30")
    cdi = rng.random(n) < 0.6
    df = pd.DataFrame({
        "contract.type": np.where(cdi, "CDI", "CDD"),
        "contract.signature_date": signature,
        "contract.duration_months": np.where(cdi, np.nan, rng.choice([3.0, 6.0, 9.0, 12.0, 18.0, 24.0], n)),
        "contract.working_time_ratio": rng.choice([0.5, 0.6, 0.8, 1.0, 1.0, 1.0], n),
        "employee.residence.lon": np.round(lon, 6),
        "employee.residence.lat": np.round(lat, 6),
        "employee.birth_date": _dates(rng, n, "1960-01-01", "2004-12-31"),
        "employee.status": rng.choice(["jobseeker", "jobseeker", "jobseeker", "csp", "mission_locale", "other"], n),
        "employee.jobseeker_category": rng.choice([1, 2, 3, 4, 6, 7, 8], n).astype(float),
        "employee.employed_by_employer_last_6_months": rng.random(n) < 0.05,
        "employer.kind": rng.choice(["company"] * 12 + ["association"] * 3 + ["sem", "epa", "epic",
                                     "private_individual", "local_authority"], n),
        "employer.up_to_date_with_obligations": rng.random(n) < 0.97,
        "employer.economic_dismissal_last_6_months": rng.random(n) < 0.03,
        "application_date": signature + rng.integers(0, 45, n).astype("timedelta64[D]"),
    })
    for col, share in (("contract.working_time_ratio", 0.02), ("employee.birth_date", 0.02),
                       ("application_date", 0.03), ("employee.status", 0.01)):
        gone = rng.random(n) < share  # missing facts: the engine must say undetermined, not guess
        df[col] = df[col].where(~gone, None)
    return df


def write(df: pd.DataFrame, out: Path) -> None:
    if out.suffix == ".parquet":
        df.to_parquet(out, index=False)
    else:
        df.to_csv(out, index=False, sep=";", decimal=",", date_format="%Y-%m-%d")


if __name__ == "__main__":
    kind, n, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    frame = points_frame(n) if kind == "points" else emplois_francs_frame(n)
    write(frame, out)
    print(f"{out}: {n} lignes SYNTHÉTIQUES ({kind})")
