"""Spatial indexes per (perimeter vintage, zone) and for the département contours, cached on disk.

Built once from the verified reference files (projection to the zone's metric CRS, repair, grid),
stored under `paths.cache_dir()` keyed by the datasets' sha256, and reloaded in milliseconds.
"""
from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass, field

import numpy as np
import shapely

from .. import datasets
from . import cache, grid
from .perimeters import load as load_perimeters
from .territories import ZONE_BY_NAME, ZONES, Zone, transformer

QUARTIER_CELL_M = 50.0
GRID_MARGIN_M = 25.0          # tolerances up to this are answered from the grid; larger ones run exact tests
DEPARTEMENT_CELL_M = 2000.0
COAST_SNAP_M = 1000.0         # simplified contours miss bits of coast: accept the nearest within this


def _project(geoms: np.ndarray, epsg: int) -> np.ndarray:
    tr = transformer(4326, epsg)
    return shapely.transform(geoms, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))


def _in_zone(deps: np.ndarray, zone: Zone) -> np.ndarray:
    deps = np.asarray(deps, dtype=str)
    if zone.name == "metropole":
        return np.char.str_len(deps) == 2
    return np.isin(deps, list(zone.departements))


@dataclass
class QuartierIndex:
    """Quartiers of one vintage in one zone, in the zone's metric CRS."""

    dataset_id: str
    zone: Zone
    positions: np.ndarray   # index into Perimeters arrays
    polygons: np.ndarray
    boundaries: np.ndarray
    grid: grid.Grid
    _trees: dict = field(default_factory=dict, repr=False)

    @property
    def tree(self) -> shapely.STRtree:
        if "poly" not in self._trees:
            self._trees["poly"] = shapely.STRtree(self.polygons)
        return self._trees["poly"]

    @property
    def boundary_tree(self) -> shapely.STRtree:
        if "bound" not in self._trees:
            self._trees["bound"] = shapely.STRtree(self.boundaries)
        return self._trees["bound"]

    def nearest_boundary(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(local quartier index, exact distance in metres) of the nearest perimeter boundary."""
        if "pieces" not in self._trees:
            pieces, owner = grid.boundary_pieces(self.boundaries)
            self._trees["pieces"] = (shapely.STRtree(pieces), owner)
        tree, owner = self._trees["pieces"]
        if len(x) == 0 or len(self.boundaries) == 0:
            return np.full(len(x), -1, np.int64), np.full(len(x), np.nan)
        (pi, ti), dist = tree.query_nearest(shapely.points(x, y), all_matches=False, return_distance=True)
        out_q = np.full(len(x), -1, np.int64)
        out_d = np.full(len(x), np.nan)
        out_q[pi], out_d[pi] = owner[ti], dist
        return out_q, out_d


@functools.lru_cache(maxsize=None)
def quartier_index(dataset_id: str, zone_name: str) -> QuartierIndex:
    zone = ZONE_BY_NAME[zone_name]
    per = load_perimeters(dataset_id)
    positions = np.flatnonzero(_in_zone(per.departement, zone))

    def build() -> dict[str, np.ndarray]:
        polys = _project(per.geometry[positions], zone.epsg)
        bounds = _project(per.boundary[positions], zone.epsg)
        out = {"positions": positions}
        out.update(cache.pack_geoms(polys, "poly"))
        out.update(cache.pack_geoms(bounds, "bound"))
        if len(positions):
            out.update(grid.build(polys, bounds, cell=QUARTIER_CELL_M, margin=GRID_MARGIN_M).to_arrays("grid"))
        else:
            out.update(grid.Grid(0.0, 0.0, QUARTIER_CELL_M, GRID_MARGIN_M, 1, np.zeros(0, np.int64), np.zeros(0, np.int32)).to_arrays("grid"))
        return out

    ds = datasets.dataset(dataset_id)
    arrays = cache.cached(f"quartiers-{dataset_id}-{zone_name}",
                          cache.key(ds.sha256, zone_name, str(zone.epsg), str(QUARTIER_CELL_M), str(GRID_MARGIN_M)), build)
    return QuartierIndex(dataset_id, zone, arrays["positions"], cache.unpack_geoms(arrays, "poly"),
                         cache.unpack_geoms(arrays, "bound"), grid.Grid.from_arrays(arrays, "grid"))


@dataclass
class AreaIndex:
    """Administrative areas (départements, or communes of one département) in a zone's metric CRS."""

    codes: np.ndarray
    names: np.ndarray
    polygons: np.ndarray
    grid: grid.Grid | None
    _tree: shapely.STRtree | None = None

    @property
    def tree(self) -> shapely.STRtree:
        if self._tree is None:
            self._tree = shapely.STRtree(self.polygons)
        return self._tree

    def locate(self, x: np.ndarray, y: np.ndarray, snap_m: float = COAST_SNAP_M) -> np.ndarray:
        """Index of the area holding each point (-1: none within `snap_m`). Grid first, exact tests after."""
        n = len(x)
        out = self.grid.lookup(x, y) if self.grid is not None else np.full(n, grid.CROSSING, np.int32)
        todo = np.flatnonzero(out == grid.CROSSING)
        if len(todo):
            pts = shapely.points(x[todo], y[todo])
            pi, ai = self.tree.query(pts, predicate="intersects")
            found = np.full(len(todo), -1, dtype=np.int64)
            found[pi[::-1]] = ai[::-1]  # deterministic: the lowest area index wins on shared edges
            miss = np.flatnonzero(found < 0)
            if len(miss) and snap_m > 0:
                mi, ai2 = self.tree.query_nearest(pts[miss], max_distance=snap_m, all_matches=False)
                found[miss[mi]] = ai2
            out[todo] = found
        return out.astype(np.int64)


def _read_features(path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)["features"]


def _area_arrays(features: list[dict], epsg: int, with_grid: bool) -> dict[str, np.ndarray]:
    codes = np.array([f["properties"]["code"] for f in features], dtype=str)
    names = np.array([f["properties"]["nom"] for f in features], dtype=str)
    from .perimeters import keep_polygonal

    geoms = keep_polygonal(shapely.from_geojson([json.dumps(f["geometry"]) for f in features]))
    order = np.argsort(codes, kind="stable")
    codes, names, geoms = codes[order], names[order], _project(geoms[order], epsg)
    out = {"codes": codes, "names": names}
    out.update(cache.pack_geoms(geoms, "poly"))
    if with_grid:
        out.update(grid.build(geoms, shapely.boundary(geoms), cell=DEPARTEMENT_CELL_M, margin=COAST_SNAP_M).to_arrays("grid"))
    return out


@functools.lru_cache(maxsize=None)
def departement_index(zone_name: str) -> AreaIndex:
    zone = ZONE_BY_NAME[zone_name]
    ds = datasets.dataset("departements_geo")
    path = datasets.verified_path("departements_geo")

    def build():
        feats = [f for f in _read_features(path) if _in_zone(np.array([f["properties"]["code"]]), zone)[0]]
        return _area_arrays(feats, zone.epsg, with_grid=True)

    a = cache.cached(f"departements-{zone_name}", cache.key(ds.sha256, zone_name, str(DEPARTEMENT_CELL_M)), build)
    return AreaIndex(a["codes"], a["names"], cache.unpack_geoms(a, "poly"), grid.Grid.from_arrays(a, "grid"))


def communes_file(dep: str) -> str | None:
    for f in datasets.dataset("communes_geo").files:
        name = f.path.rsplit("/", 1)[-1]
        if name.startswith(f"communes-{dep}-"):
            return f.path
    return None


@functools.lru_cache(maxsize=None)
def commune_index(dep: str) -> AreaIndex | None:
    """Communes of one département (only that file is read: a single point loads one file)."""
    rel = communes_file(dep)
    if rel is None:
        return None
    entry = next(f for f in datasets.dataset("communes_geo").files if f.path == rel)
    path = datasets.verified_path("communes_geo", rel)
    zone = next((z for z in ZONES[1:] if dep in z.departements), ZONES[0])
    a = cache.cached(f"communes-{dep}", cache.key(entry.sha256, str(zone.epsg)),
                     lambda: _area_arrays(_read_features(path), zone.epsg, with_grid=False))
    return AreaIndex(a["codes"], a["names"], cache.unpack_geoms(a, "poly"), None)
