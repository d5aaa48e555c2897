"""Write a derivation: GeoJSON (one merged perimeter per group, WGS84) and a table (CSV, one row per group).

The GeoJSON keeps what `qpv perimeters compare` needs to re-read the carreaux (their source and the
income statistic), and each feature lists its carreaux and the trace of its criteria.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..geography.carreaux import squares
from .derivation import Derivation

FORMAT = "qpv-criteria-candidates/1"
TABLE_COLUMNS = ["id", "status", "unite_urbaine", "unite_urbaine_name", "n_carreaux", "population",
                 "median_income", "threshold", "income_statistic"]


def _to_wgs84(geoms: np.ndarray, epsg: int) -> np.ndarray:
    import shapely
    from pyproj import Transformer

    tr = Transformer.from_crs(f"EPSG:{epsg}", "EPSG:4326", always_xy=True)

    def fn(xy: np.ndarray) -> np.ndarray:
        lon, lat = tr.transform(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), 7)  # ~1 cm; fixed digits keep the bytes stable

    return shapely.transform(geoms, fn)


def perimeters(d: Derivation, groups: np.ndarray) -> np.ndarray:
    """Union of each group's squares, in the grid CRS (one loop step per group, never per carreau)."""
    import shapely

    c = d.carreaux
    order, bounds = d.member_index
    sq = squares(c.easting[order], c.northing[order], c.size)
    out = np.empty(len(groups), dtype=object)
    for i, k in enumerate(groups):
        out[i] = shapely.coverage_union_all(sq[bounds[k]:bounds[k + 1]])
    return out


def feature_collection(d: Derivation) -> dict[str, Any]:
    import shapely

    ks = np.arange(d.n_groups)
    geoms = _to_wgs84(perimeters(d, ks), d.carreaux.epsg) if d.n_groups else []
    features = []
    for k in ks:  # one feature per group
        props = d.group_row(k)
        props["carreaux"] = d.carreaux.ids[d.members(k)].tolist()
        props["trace"] = d.group_trace(k)
        features.append({"type": "Feature", "id": props["id"], "properties": props,
                         "geometry": json.loads(shapely.to_geojson(geoms[k]))})
    meta = d.to_json()
    meta.pop("candidates")
    return {"type": "FeatureCollection", "format": FORMAT, "crs_note": "WGS84 (EPSG:4326), lon/lat",
            "derivation": meta, "features": features}


def write(d: Derivation, out: str | Path) -> dict[str, str]:
    """Write OUT (GeoJSON) and OUT with suffix .csv (the table). Returns the paths written."""
    import pandas as pd

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fc = feature_collection(d)
    out.write_text(json.dumps(fc, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
    rows = []
    for k in range(d.n_groups):
        r = d.group_row(k)
        uu = r.pop("unite_urbaine")
        rows.append(r | {"unite_urbaine": uu["code"], "unite_urbaine_name": uu["name"]})
    table = out.with_suffix(".csv")
    pd.DataFrame(rows, columns=TABLE_COLUMNS).to_csv(table, index=False, lineterminator="\n")
    return {"geojson": str(out), "table": str(table)}
