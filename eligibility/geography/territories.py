"""Territories: which zone a point is in, its metric projection and its carreau grid.

France is not one plane. Distances and tolerances are computed in the official projection of each
territory: Lambert-93 in metropolitan France, the local UTM systems overseas (IGN/RGF references).
A zone is chosen by a coarse lon/lat box; the département contours then say whether the point is
really in France (`admin.py`).
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import numpy as np

from .. import datasets


@dataclass(frozen=True)
class Zone:
    name: str
    territory: str            # "metropole" or "outre_mer" (the manifest's validity territories)
    epsg: int                 # metric projection for distances and the acceleration grid
    carreau_epsg: int | None  # INSEE 200 m grid CRS (law.md §6.2); None where INSEE publishes none
    bbox: tuple[float, float, float, float]  # lon_min, lat_min, lon_max, lat_max
    departements: tuple[str, ...]  # département / collectivité codes in the zone
    has_contours: bool = True  # IGN Admin Express 2018 has no COM (Saint-Martin, Polynésie)


# Order matters only for readability: the boxes do not overlap.
ZONES: tuple[Zone, ...] = (
    Zone("metropole", "metropole", 2154, 3035, (-5.9, 41.2, 10.0, 51.2), ()),
    Zone("guadeloupe", "outre_mer", 5490, 5490, (-61.95, 15.8, -60.95, 16.55), ("971",)),
    Zone("martinique", "outre_mer", 5490, 5490, (-61.3, 14.35, -60.75, 14.9), ("972",)),
    Zone("guyane", "outre_mer", 2972, 2972, (-54.7, 2.05, -51.5, 5.85), ("973",)),
    Zone("reunion", "outre_mer", 2975, 2975, (55.15, -21.45, 55.9, -20.8), ("974",)),
    Zone("mayotte", "outre_mer", 4471, 4471, (44.9, -13.05, 45.35, -12.6), ("976",)),
    Zone("saint_martin", "outre_mer", 5490, None, (-63.2, 18.0, -62.95, 18.13), ("978",), False),
    Zone("polynesie", "outre_mer", 3297, None, (-155.0, -28.5, -134.0, -7.5), ("987",), False),
)
ZONE_BY_NAME = {z.name: z for z in ZONES}
NO_ZONE = -1


def zone_of_departement(dep: str) -> Zone:
    for z in ZONES[1:]:
        if dep in z.departements:
            return z
    return ZONES[0]


def zone_index(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Index into ZONES of each point (NO_ZONE outside every box). Vectorised: the metropolitan box on
    every point, the overseas boxes only on the points left (the boxes do not overlap)."""
    x0, y0, x1, y1 = ZONES[0].bbox
    main = (lon >= x0) & (lon <= x1)
    main &= lat >= y0  # in place: a million points make every temporary array count
    main &= lat <= y1
    out = main.view(np.int8) - np.int8(1)  # 0 in the metropolitan box, NO_ZONE (-1) elsewhere
    rest = np.flatnonzero(~main)
    lo, la, sub = lon[rest], lat[rest], out[rest]
    for i, z in enumerate(ZONES[1:], start=1):
        x0, y0, x1, y1 = z.bbox
        sub[(lo >= x0) & (lo <= x1) & (la >= y0) & (la <= y1) & (sub == NO_ZONE)] = i
    out[rest] = sub
    return out


# The operations PROJ chooses from WGS84 to each zone's metric CRS and to the LAEA grid of the carreaux (the
# candidate it runs for them; `pyproj.transformer.TransformerGroup(4326, epsg, always_xy=True)`).
# Built from the pipeline, a transformer skips PROJ's search of its database for candidates, ~75 ms of a cold
# `qpv locate`, and gives the same coordinates to the bit (tests/geography/test_projections.py).
PIPELINES = {
    (4326, 2154): "proj=pipeline step proj=unitconvert xy_in=deg xy_out=rad step proj=lcc lat_0=46.5 lon_0=3 "
                  "lat_1=49 lat_2=44 x_0=700000 y_0=6600000 ellps=GRS80",
    (4326, 3035): "proj=pipeline step proj=unitconvert xy_in=deg xy_out=rad step proj=laea lat_0=52 lon_0=10 "
                  "x_0=4321000 y_0=3210000 ellps=GRS80",
    # The overseas zones' UTM projections (RGAF09, RGFG95, RGR92, RGM04: GRS80, no datum shift from WGS84).
    (4326, 5490): "proj=pipeline step proj=unitconvert xy_in=deg xy_out=rad step proj=utm zone=20 ellps=GRS80",
    (4326, 2972): "proj=pipeline step proj=unitconvert xy_in=deg xy_out=rad step proj=utm zone=22 ellps=GRS80",
    (4326, 2975): "proj=pipeline step proj=unitconvert xy_in=deg xy_out=rad step proj=utm zone=40 south ellps=GRS80",
    (4326, 4471): "proj=pipeline step proj=unitconvert xy_in=deg xy_out=rad step proj=utm zone=38 south ellps=GRS80",
    # Polynésie: PROJ lists two operations with the same area of use, RGPF to WGS 84 (1), a Helmert shift, and (2),
    # none; it runs the first, listed first, on every point. Searching its database for them cost each worker of a
    # large batch ~35 ms.
    (4326, 3297): "proj=pipeline step proj=unitconvert xy_in=deg xy_out=rad step proj=push v_3 step proj=cart "
                  "ellps=WGS84 step inv proj=helmert x=0.072 y=-0.507 z=-0.245 rx=0.0183 ry=-0.0003 rz=0.007 "
                  "s=-0.0093 convention=position_vector step inv proj=cart ellps=GRS80 step proj=pop v_3 step "
                  "proj=utm zone=6 south ellps=GRS80",
}


@functools.cache
def transformer(src: int, dst: int):
    from pyproj import Transformer

    if (src, dst) in PIPELINES:
        return Transformer.from_pipeline(PIPELINES[src, dst])
    return Transformer.from_crs(src, dst, always_xy=True)


def project(lon: np.ndarray, lat: np.ndarray, epsg: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = transformer(4326, epsg).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)


def unproject(x: np.ndarray, y: np.ndarray, epsg: int) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = transformer(epsg, 4326).transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon, float), np.asarray(lat, float)


@functools.lru_cache(maxsize=1)
def cog() -> dict:
    """Names and régions of départements and régions (COG 2026): {'dep': {code: (nom, region)}, 'reg': {code: nom}}."""
    deps = json.loads(datasets.verified_bytes("cog2026", "departements.json"))
    regs = json.loads(datasets.verified_bytes("cog2026", "regions.json"))
    return {
        "dep": {d["code"]: (d["nom"], d["region"]) for d in deps},
        "reg": {r["code"]: r["nom"] for r in regs},
    }


TERRITORY_CODES = {"metropole": 0, "outre_mer": 1}


@functools.lru_cache(maxsize=1)
def dep_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every département / COM code with its région: (codes, région codes, région as int), object arrays
    ending with an empty entry, so that index -1 (no département) reads as ''."""
    table = cog()["dep"]
    codes = sorted(set(table) | {"978", "987"})
    regions = [table.get(c, ("", ""))[1] for c in codes]
    reg_int = [int(r) if r.isdigit() else -1 for r in regions]
    return (np.array(codes + [""], dtype=object), np.array(regions + [""], dtype=object),
            np.array(reg_int + [-1], dtype=np.int64))


@functools.cache
def dep_positions(codes: tuple[str, ...]) -> np.ndarray:
    """Positions of département codes in `dep_table()` (-1 for a code the COG does not know)."""
    table = {c: i for i, c in enumerate(dep_table()[0][:-1])}
    return np.array([table.get(c, -1) for c in codes], dtype=np.int64)
