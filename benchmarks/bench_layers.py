"""Benchmark: what an official perimeter file changes (issue 11), and what importing one costs.

1. near_boundary share. On the bundled collèges and La Poste points (real coordinates, not jittered), at
   2025-06-01 (QP2024 everywhere), the share of `near_boundary` among the points in or near a QPV (inside
   or within 15 m of a perimeter boundary):
   - with the bundled simplified file's own tolerance, 15 m (twice its declared 7.5 m precision);
   - with 2 m, the tolerance an official file declared at 1 m would get. SIMULATION: the boundaries are
     still the simplified ones; only the tolerance changes. It shows how many answers the tolerance alone
     would settle, not what the official file would answer.
2. Import time of a national-size file. SYNTHETIC: the bundled QP2024 perimeters (1,606 quartiers that
   have an area) reprojected to Lambert-93 and densified to one vertex every DENSIFY_M metres (about the
   vertex density of an unsimplified file), written as a GeoPackage with the official column names.
   Timed: `qpv data import` in-process (read, checks, repair, reprojection, départements, store), then
   the first locate on it (projection and grids, built once and cached). Peer in the same run:
   geopandas `read_file` + `to_crs(4326)` + `make_valid` of the same file (the read and reprojection
   alone, no checks, nothing stored).

    .venv/bin/python benchmarks/bench_layers.py [--densify-m 2]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_locate import _coords  # noqa: E402  (the same readers of the bundled point files)

DATE = dt.date(2025, 6, 1)
FILES = {
    "collèges": ("colleges", "fr-en-adresse-et-geolocalisation-etablissements-premier-et-second-degre_colleges_2024-11.csv.gz",
                 ";", "longitude", "latitude"),
    "La Poste": ("laposte_points_contact", "laposte_poincont2_2020-12.csv.gz", ";", "Longitude", "Latitude"),
}


def near_boundary_shares() -> dict:
    from eligibility.geography import locate_points

    out = {}
    for label, spec in FILES.items():
        xy = _coords(*spec)
        wide = locate_points(xy[:, 0], xy[:, 1], DATE)  # the file's own tolerance: 15 m
        assert float(np.nanmax(wide.tolerance)) == 15.0
        in_or_near = np.isin(wide.status, ["inside", "near_boundary"])
        narrow = locate_points(xy[in_or_near, 0], xy[in_or_near, 1], DATE, tolerance_m=2.0)
        n = int(in_or_near.sum())
        out[label] = {
            "points": len(xy), "in_or_near_15m": n,
            "near_boundary_15m": int((wide.status == "near_boundary").sum()),
            "share_15m": round(float((wide.status == "near_boundary").sum()) / n, 4),
            "near_boundary_2m_simulated": int((narrow.status == "near_boundary").sum()),
            "share_2m_simulated": round(float((narrow.status == "near_boundary").sum()) / n, 4),
            "inside_2m_simulated": int((narrow.status == "inside").sum()),
            "outside_2m_simulated": int((narrow.status == "outside").sum()),
        }
    return out


def national_file(folder: Path, densify_m: float) -> tuple[Path, int]:
    import pyogrio.raw
    import shapely
    from pyproj import Transformer

    from eligibility.geography.perimeters import load

    q = load("qp2024")
    keep = ~q.degenerate
    tr = Transformer.from_crs(4326, 2154, always_xy=True)
    geoms = shapely.transform(q.geometry[keep], lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
    geoms = shapely.segmentize(geoms, densify_m)
    path = folder / "QP2024_France_synthetique_densifie.gpkg"
    pyogrio.raw.write(str(path), shapely.to_wkb(geoms), [a[keep].astype(object) for a in (q.code, q.name, q.communes, q.commune_names)],
                      ["code_qp", "lib_qp", "insee_com", "lib_com"], driver="GPKG", crs="EPSG:2154", geometry_type="MultiPolygon")
    return path, int(shapely.get_num_coordinates(geoms).sum())


def import_timing(densify_m: float) -> dict:
    import geopandas
    import shapely

    from eligibility.geography import locate_points
    from eligibility.geography.layer_import import import_layer

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["QPV_LAYERS_DIR"] = str(tmp / "couches")
        path, vertices = national_file(tmp, densify_m)
        t = time.perf_counter(), time.process_time()
        gdf = geopandas.read_file(path).to_crs(4326)
        gdf["geometry"] = shapely.make_valid(gdf.geometry.values)
        peer = time.perf_counter() - t[0], time.process_time() - t[1]
        t = time.perf_counter(), time.process_time()
        layer = import_layer(path, "qp2024-national-synthetique", "perimetres", "2024-01-01", territory="all", precision_m=1)
        ours = time.perf_counter() - t[0], time.process_time() - t[1]
        t = time.perf_counter(), time.process_time()
        res = locate_points([2.35], [48.85], DATE)
        first = time.perf_counter() - t[0], time.process_time() - t[1]
        assert res.row(0)["trace"]["vintage"]["dataset"] == layer.dataset_id
        return {"file_bytes": path.stat().st_size, "features": layer.features, "vertices": vertices, "repaired": layer.repaired,
                "import_wall_s": round(ours[0], 2), "import_cpu_s": round(ours[1], 2),
                "first_locate_wall_s": round(first[0], 2), "first_locate_cpu_s": round(first[1], 2),
                "peer_geopandas_read_reproject_wall_s": round(peer[0], 2), "peer_cpu_s": round(peer[1], 2),
                "stored_bytes": layer.bytes}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--densify-m", type=float, default=2.0)
    args = ap.parse_args()
    os.environ.setdefault("QPV_LAYERS_DIR", tempfile.mkdtemp(prefix="bench-layers-"))
    report = {"machine": f"{platform.machine()} {os.cpu_count()} cores, shared", "load": os.getloadavg()[0],
              "near_boundary": near_boundary_shares(), "import_national_synthetic": import_timing(args.densify_m)}
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
