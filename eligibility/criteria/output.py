"""Write a derivation: GeoJSON (one merged perimeter per group, WGS84) and a table (CSV, one row per group).

The GeoJSON keeps what `qpv perimeters compare` needs to re-read the carreaux (their source and the
income statistic), and each feature lists its carreaux and the trace of its criteria.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ..geography.carreaux import squares
from ..errors import BadInput
from .derivation import CANDIDATE, Derivation

FORMAT = "qpv-criteria-candidates/1"
TABLE_COLUMNS = ["id", "status", "unite_urbaine", "unite_urbaine_name", "n_carreaux", "population",
                 "median_income", "threshold", "income_statistic", "imputed_population_share"]


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


def features(d: Derivation, groups: np.ndarray, chunk: int = 5000) -> Iterator[dict[str, Any]]:
    """GeoJSON features of `groups`, geometry built chunk by chunk (bounded memory on national grids)."""
    import shapely

    for start in range(0, len(groups), chunk):
        ks = groups[start:start + chunk]
        geoms = _to_wgs84(perimeters(d, ks), d.carreaux.epsg)
        for k, geom in zip(ks, geoms):  # one feature per group
            props = d.group_row(k)
            props["carreaux"] = d.carreaux.ids[d.members(k)].tolist()
            props["trace"] = d.group_trace(k)
            yield {"type": "Feature", "id": props["id"], "properties": props,
                   "geometry": json.loads(shapely.to_geojson(geom))}


def _header(d: Derivation, which: str) -> dict[str, Any]:
    return {"type": "FeatureCollection", "format": FORMAT, "crs_note": "WGS84 (EPSG:4326), lon/lat",
            "groups_written": which, "derivation": d.metadata()}


def selected_groups(d: Derivation, which: str = "all") -> np.ndarray:
    """All groups, or only the candidates (national runs: hundreds of thousands of small groups)."""
    if which == "all":
        return np.arange(d.n_groups)
    if which == "candidates":
        return np.flatnonzero(d.groups["status"] == CANDIDATE)
    raise BadInput(f"« {which} » : attendu all ou candidates", field="geojson_groups")


def feature_collection(d: Derivation, which: str = "all") -> dict[str, Any]:
    return _header(d, which) | {"features": list(features(d, selected_groups(d, which)))}


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, allow_nan=False)


def write(d: Derivation, out: str | Path, which: str = "all") -> dict[str, str]:
    """Write OUT (GeoJSON, streamed feature by feature) and OUT with suffix .csv (the table, every group).

    The bytes are those of `json.dumps(feature_collection(d, which))`, so the output is deterministic.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    groups = selected_groups(d, which)
    with out.open("w", encoding="utf-8") as f:
        f.write(_dumps(_header(d, which))[:-1] + ', "features": [')
        for i, feat in enumerate(features(d, groups)):
            f.write((", " if i else "") + _dumps(feat))
        f.write("]}\n")
    table = out.with_suffix(".csv")
    table_frame(d).to_csv(table, index=False, lineterminator="\n")
    return {"geojson": str(out), "table": str(table)}


def table_frame(d: Derivation):
    """One row per group, built from the group arrays (same values as `Derivation.group_row`)."""
    import pandas as pd

    g = d.groups
    uu_codes = np.array([u["code"] for u in d.unites_urbaines] or [""], dtype=object)
    uu_names = np.array([u["name"] for u in d.unites_urbaines] or [""], dtype=object)
    thr = g["threshold"]
    return pd.DataFrame({
        "id": np.char.add("Q-", g["anchor"].astype(str)).astype(object) if d.n_groups else np.zeros(0, dtype=object),
        "status": g["status"], "unite_urbaine": uu_codes[g["uu"]], "unite_urbaine_name": uu_names[g["uu"]],
        "n_carreaux": g["n_carreaux"], "population": np.round(g["population"], 1),
        "median_income": np.round(g["median_income"], 2),
        "threshold": thr.astype(np.int64) if np.all(thr == np.round(thr)) else thr,
        "income_statistic": d.carreaux.income_label,
        "imputed_population_share": np.round(g["imputed_share"], 4),
    }, columns=TABLE_COLUMNS)
