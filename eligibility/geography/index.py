"""Spatial indexes per (perimeter vintage, zone) and for the département contours, cached on disk.

Built once from the verified reference files (projection to the zone's metric CRS, repair, grid),
stored under `paths.cache_dir()` keyed by the datasets' sha256, and reloaded in milliseconds.
"""
from __future__ import annotations

import functools
import gzip
import io
import json
from dataclasses import dataclass, field

import numpy as np
import shapely
import xxhash

from .. import datasets, integrity
from ..errors import DataIntegrityError
from . import area_subcells, boundary_distance, boundary_subcells, boundary_within, cache, degree_grid, grid, layers
from .perimeters import load as load_perimeters
from .territories import ZONE_BY_NAME, ZONES, Zone, transformer

QUARTIER_CELL_M = 50.0
GRID_MARGIN_M = 25.0          # tolerances up to this are answered from the grid; larger ones run exact tests
DEPARTEMENT_CELL_M = 1000.0
COAST_SNAP_M = 200.0          # contours simplified by tens of metres miss bits of coast: accept the nearest within this
COMMUNE_CELL_M = 200.0
AREAS_LAYOUT = "ragged-bounds-3"  # communes' and départements' polygons as coordinates and offsets
#                                   (cache.pack_coordinates), with their bounds (cache.PackedGeometries)
SNAP_BY_PIECES = 200          # from this many points off a coast, nearby areas come from their boundary segments,
PIECES_CHEAP = 20_000         # or from as many points as areas, when these have fewer vertices (segments ~1 ms, once)
_PAIRS_IN_NUMPY = 1_000_000   # points x areas up to which envelopes are compared in numpy (`AreaIndex._meeting`)
SMALL_BATCH = 2000            # up to this many points, nearest boundaries come from an STRtree query
FAR_BLOCK = 8192              # far points per KD-tree query and distance pass: bounds the (points x 4) temporaries
DENSIFY_M = 50.0              # boundary vertices at most this far apart: nearest vertex bounds the nearest segment
VERTICES_LAYOUT = "vertices-1"  # of the cached densified vertices (`_densified_vertices`)
FAR_SORT_CELL_M = 2000.0      # far points are queried cell by cell (memory locality of the KD-tree)
CELLS_MIN_POINTS = 1000       # from this many points near quartier boundaries, their boundary cells answer them


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
    exact_by_cells: bool = True  # False: `nearest_within` always by the STRtree of the boundary segments
    in_cache: bool = False       # the dataset's own index (`quartier_index`): its derived arrays are cached
    _trees: dict = field(default_factory=dict, repr=False)

    @property
    def tree(self) -> shapely.STRtree:
        if "poly" not in self._trees:
            shapely.prepare(self.polygons)  # point-in-polygon on prepared (indexed) polygons
            self._trees["poly"] = shapely.STRtree(self.polygons)
        return self._trees["poly"]

    @property
    def pieces(self) -> tuple[shapely.STRtree, np.ndarray, np.ndarray]:
        """(tree of boundary segments, their quartier, the segments) for tolerance queries."""
        if "pieces" not in self._trees:
            pieces, owner = grid.boundary_pieces(self.boundaries)
            self._trees["pieces"] = (shapely.STRtree(pieces), owner, pieces)
        return self._trees["pieces"]

    @property
    def vertices(self):
        """Densified boundary vertices: (KD-tree, coordinates, next vertex on the same line, quartier). The arrays come
        from the cache (densifying the boundaries and taking them apart cost each worker of a batch ~8 ms); the
        KD-tree is built in the process that asks."""
        if "vertices" not in self._trees:
            if self.in_cache:
                ds = layers.dataset(self.dataset_id)
                a = cache.cached(f"vertices-{self.dataset_id}-{self.zone.name}",
                                 cache.key(ds.sha256, self.zone.name, str(self.zone.epsg), str(DENSIFY_M), VERTICES_LAYOUT),
                                 lambda: _densified_vertices(self.boundaries), sources=[layers.source(self.dataset_id)])
            else:  # an index made of other boundaries (tests, tools)
                a = _densified_vertices(self.boundaries)
            kd = _kdtree_class()(a["xy"]) if len(a["xy"]) else None
            self._trees["vertices"] = (kd, a["xy"], a["next"], a["owner"])
            self._trees["previous"] = a["previous"]
        return self._trees["vertices"]

    @property
    def _previous_vertex(self) -> np.ndarray:
        """Per densified vertex, the one before it on its line (itself at a line's start)."""
        self.vertices
        return self._trees["previous"]

    def contains(self, pts: np.ndarray) -> np.ndarray:
        """Local index of the quartier containing each point (-1: none; overlaps: the lowest index)."""
        out = np.full(len(pts), -1, np.int64)
        if not len(pts) or not len(self.polygons):
            return out
        pi, q = self.tree.query(pts)  # envelopes only; the exact test below uses the prepared polygons
        hit = shapely.intersects(self.polygons[q], pts[pi])
        return lowest_per_point(len(pts), pi[hit], q[hit])

    def boundaries_within(self, pts: np.ndarray, tol) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(point, quartier, distance) for every quartier whose boundary is within `tol` of a point."""
        tree, owner, pieces = self.pieces
        pi, si, d = _pieces_within(tree, pieces, pts, tol)
        return pi, owner[si], d

    def nearest_within(self, x: np.ndarray, y: np.ndarray, tol: float) -> np.ndarray:
        """Local index of the quartier whose boundary is the nearest within `tol` of each point (-1: none;
        equal distances: the lowest index). From the boundary cells when this process holds them (a large
        batch: `load_all(distances=True)`) or for many points, else from `boundaries_within`: the same answers
        (`boundary_within`), without an STRtree of the boundary segments built in every worker."""
        if self.exact_by_cells and len(x) and ("cells" in self._trees or len(x) >= CELLS_MIN_POINTS) \
                and len(self.boundaries):
            cells = self.boundary_cells
            if boundary_within.reaches(cells, tol):
                return boundary_within.nearest_within(cells, x, y, tol)[0]
        near_q = np.full(len(x), -1, np.int64)
        ni, nq, d = self.boundaries_within(shapely.points(x, y), tol)
        first = nearest_per_point(ni, nq, d)  # the nearest of the boundaries within tolerance
        near_q[ni[first]] = nq[first]
        return near_q

    def nearest_boundary(self, x: np.ndarray, y: np.ndarray, small_batch: int = SMALL_BATCH) -> tuple[np.ndarray, np.ndarray]:
        """(local quartier index, exact distance in metres) of the nearest perimeter boundary.

        Small batches ask an STRtree of the boundaries (no KD-tree to build: a cold
        `qpv locate` stays fast). In large ones, points within `boundary_distance.REACH_M` of a boundary
        are answered from the cells of `boundary_distance` (each cell's candidate segments), the others by
        the vertex KD-tree below. All are exact.

        Boundaries are densified so that consecutive vertices are at most DENSIFY_M apart. If the
        nearest vertex is at d_v, the nearest boundary point lies on a segment with an endpoint within
        r = sqrt(d_v² + (DENSIFY_M/2)²); all vertices within r are fetched from the KD-tree (k doubled
        until the k-th is beyond r) and the exact point-segment distances of their segments compared.
        """
        n = len(x)
        out_q, out_d = np.full(n, -1, np.int64), np.full(n, np.nan)
        if n == 0 or not len(self.boundaries):
            return out_q, out_d
        if n <= small_batch:
            if "bound" not in self._trees:
                self._trees["bound"] = shapely.STRtree(self.boundaries)
            (pi, bi), d = self._trees["bound"].query_nearest(shapely.points(x, y), all_matches=False, return_distance=True)
            out_q[pi], out_d[pi] = bi, d
            return out_q, out_d
        answered, cell_q, cell_d = self.boundary_cells.nearest(x, y)
        out_q[answered], out_d[answered] = cell_q[answered], cell_d[answered]
        todo = np.flatnonzero(~answered)
        if len(todo):
            # queries in the order of coarse cells: neighbouring points walk the same branches of the
            # tree while they are in the CPU cache (about twice as fast as random order; same answers)
            todo = todo[boundary_distance.cell_order(np.floor(x[todo] / FAR_SORT_CELL_M), np.floor(y[todo] / FAR_SORT_CELL_M))]
            out_q[todo], out_d[todo] = self._nearest_by_vertices(x[todo], y[todo])
        return out_q, out_d

    @property
    def boundary_cells(self) -> boundary_distance.CellSegments:
        if "cells" not in self._trees:
            ds = layers.dataset(self.dataset_id)
            arrays = cache.cached(f"boundary-cells-{self.dataset_id}-{self.zone.name}",
                                  cache.key(ds.sha256, self.zone.name, str(self.zone.epsg), str(boundary_distance.CELL_M),
                                            str(boundary_distance.REACH_M), boundary_distance.LAYOUT),
                                  lambda: boundary_distance.build(self.boundaries), sources=[layers.source(self.dataset_id)])
            self._trees["cells"] = boundary_distance.CellSegments.from_arrays(arrays)
        return self._trees["cells"]

    def _nearest_by_vertices(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The vertex KD-tree path of `nearest_boundary` (points far from every boundary), a block of points
        at a time: each point's answer is its own, and a block's temporaries stay in the CPU caches."""
        n = len(x)
        out_q, out_d = np.full(n, -1, np.int64), np.full(n, np.nan)
        for s in range(0, n, FAR_BLOCK):
            out_q[s:s + FAR_BLOCK], out_d[s:s + FAR_BLOCK] = self._nearest_vertices_block(x[s:s + FAR_BLOCK], y[s:s + FAR_BLOCK])
        return out_q, out_d

    def _nearest_vertices_block(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(x)
        out_q, out_d = np.full(n, -1, np.int64), np.full(n, np.nan)
        kd, xy, nxt, owner = self.vertices
        q = np.column_stack([x, y])
        prev = self._previous_vertex
        todo, k = np.arange(n), 2  # far points usually need only 2 vertices; k grows where more are within r
        while len(todo):
            k = min(k, len(xy))
            dist, idx = kd.query(q[todo], k=k)
            dist, idx = dist.reshape(len(todo), -1), idx.reshape(len(todo), -1)
            r = np.sqrt(dist[:, 0] ** 2 + (DENSIFY_M / 2) ** 2) * (1 + 1e-9) + 1e-6
            complete = (dist[:, -1] > r) | (k == len(xy))
            rows = todo[complete]
            cand = idx[complete]  # (m, k) vertices; segments v->next(v) and prev(v)->v
            a = np.concatenate([cand, prev[cand]], axis=1)
            b = np.concatenate([nxt[cand], cand], axis=1)
            d = boundary_distance.point_segment_distance(q[rows, None, :], xy[a], xy[b])
            best = np.argmin(d, axis=1)
            m = np.arange(len(rows))
            out_d[rows] = d[m, best]
            out_q[rows] = owner[a[m, best]]
            todo, k = todo[~complete], k * 4
        return out_q, out_d


def _densified_vertices(boundaries: np.ndarray) -> dict[str, np.ndarray]:
    """The boundaries densified to DENSIFY_M, as vertices: coordinates, the next and the previous vertex on the same
    line (itself at a line's end or start) and the boundary each belongs to."""
    parts, owner = shapely.get_parts(shapely.segmentize(boundaries, DENSIFY_M), return_index=True)
    sub, sub_owner = shapely.get_parts(parts, return_index=True)
    xy, line = shapely.get_coordinates(sub, return_index=True)
    nxt = np.arange(len(xy))  # a vertex with no successor on its line pairs with itself
    same = np.flatnonzero(line[1:] == line[:-1])
    nxt[same] = same + 1
    prev = np.arange(len(xy))
    prev[same + 1] = same
    return {"xy": xy, "next": nxt, "previous": prev, "owner": np.asarray(owner[sub_owner][line], np.int64)}


def _kdtree_class():
    """pykdtree's KDTree, its OpenMP queries held to one thread in this process.

    pykdtree (imported in ~1 ms, where scipy.spatial's cKDTree costs ~0.3-0.4 CPU s of import in every
    worker) answers the same k nearest vertices. One thread: the batch's parallelism is its worker
    processes, and an OpenMP thread pool started in a process that forks later would hang the children
    (libgomp is not fork-safe). libgomp reads OMP_NUM_THREADS once, when pykdtree's module loads it, so the
    variable is set only for that import and the environment is given back as it was."""
    import os

    saved = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        from pykdtree.kdtree import KDTree
    finally:
        if saved is None:
            del os.environ["OMP_NUM_THREADS"]
        else:
            os.environ["OMP_NUM_THREADS"] = saved
    return KDTree


def envelopes_meeting(bounds: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray):
    """(box, area) for every area whose envelope (`bounds` rows: xmin, ymin, xmax, ymax; NaN: empty) meets each box
    [x0, x1] × [y0, y1], as an STRtree's envelope test (edges included), in numpy: for few boxes × areas."""
    meet = bounds[:, 0] <= x1[:, None]
    meet &= bounds[:, 2] >= x0[:, None]
    meet &= bounds[:, 1] <= y1[:, None]
    meet &= bounds[:, 3] >= y0[:, None]
    return np.nonzero(meet)


def nearest_per_point(points: np.ndarray, areas: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Positions, among (point, area, distance) triples, of each point's nearest area (equal distances: the lowest
    index), one per point present."""
    if not len(points):
        return np.zeros(0, np.int64)
    order = np.lexsort((areas, dist, points))
    return order[np.concatenate([[True], points[order][1:] != points[order][:-1]])]


def lowest_per_point(n: int, points: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """For each of `n` points, the lowest area index among its (point, area) pairs; -1 for a point without any.
    An STRtree gives a point's pairs in the order it walks its nodes, not by index: where a point lies on an
    edge two areas share (or in two overlapping quartiers), the lowest index is the rule, whatever the tree."""
    out = np.full(n, -1, np.int64)
    order = np.argsort(areas, kind="stable")[::-1]  # descending: the last write for a point is its lowest area
    out[points[order]] = areas[order]
    return out


def _lowest_holding(shapes: cache.PackedGeometries, pi: np.ndarray, ai: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """For each point (x, y), the lowest area among its candidate pairs (`pi`, `ai`: envelopes meeting the point)
    whose polygon holds it, -1 for none. The test reads the coordinates on the prepared polygons: the same as
    `intersects` with a point, 3-5x cheaper (no point object)."""
    hit = shapely.intersects_xy(shapes.prepared(ai), x[pi], y[pi])
    return lowest_per_point(len(x), pi[hit], ai[hit])


def _polygons_within(shapes: cache.PackedGeometries, pi: np.ndarray, ai: np.ndarray, pts: np.ndarray, snap: float):
    """(point, area, GEOS distance) of the candidate pairs (`pi`, `ai`: envelopes meeting each point's snap box)
    whose polygon lies within `snap` of the point."""
    polygons = shapes.prepared(ai)
    near = shapely.dwithin(polygons, pts[pi], snap)
    return pi[near], ai[near], shapely.distance(pts[pi[near]], polygons[near])


def _pieces_within(tree: shapely.STRtree, pieces: np.ndarray, pts: np.ndarray, tol: float):
    """(point, piece, GEOS distance) for every boundary piece within `tol` of a point. The tree's envelope
    test against each point's tol-box, then GEOS distances on those pairs: the same pairs and distances
    as a `dwithin` tree query (which runs GEOS on every candidate), about 20% cheaper."""
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    pi, si = tree.query(shapely.box(x - tol, y - tol, x + tol, y + tol))
    d = shapely.distance(pts[pi], pieces[si])
    keep = d <= tol
    return pi[keep], si[keep], d[keep]


@functools.cache
def quartier_index(dataset_id: str, zone_name: str) -> QuartierIndex:
    zone = ZONE_BY_NAME[zone_name]
    per = load_perimeters(dataset_id)
    positions = np.flatnonzero(_in_zone(per.departement, zone))

    def build() -> dict[str, np.ndarray]:
        polys = _project(per.geometry[positions], zone.epsg)
        bounds = _project(per.boundary[positions], zone.epsg)
        out = {"positions": positions}
        out.update(cache.pack_coordinates(polys, "poly"))
        out.update(cache.pack_coordinates(bounds, "bound"))
        if len(positions):
            out.update(grid.build(polys, bounds, cell=QUARTIER_CELL_M, margin=GRID_MARGIN_M).to_arrays("grid"))
        else:
            out.update(grid.Grid(0.0, 0.0, QUARTIER_CELL_M, GRID_MARGIN_M, 1, np.zeros(0, np.int64), np.zeros(0, np.int32)).to_arrays("grid"))
        return out

    ds = layers.dataset(dataset_id)
    arrays = cache.cached(f"quartiers-{dataset_id}-{zone_name}",
                          cache.key(ds.sha256, zone_name, str(zone.epsg), str(QUARTIER_CELL_M), str(GRID_MARGIN_M)), build,
                          sources=[layers.source(dataset_id)])
    return QuartierIndex(dataset_id, zone, arrays["positions"], cache.unpack_geoms(arrays, "poly"),
                         cache.unpack_geoms(arrays, "bound"), grid.Grid.from_arrays(arrays, "grid"), in_cache=True)


@dataclass
class AreaIndex:
    """Administrative areas (départements, or communes of one département) in a zone's metric CRS."""

    codes: np.ndarray
    names: np.ndarray
    shapes: cache.PackedGeometries  # the polygons, made when first needed
    grid: grid.Grid | None
    _box_tree: tuple | None = None
    _pieces: tuple | None = None

    @functools.cached_property
    def labels(self) -> tuple[np.ndarray, np.ndarray]:
        """(codes, names) as arrays of Python strings: taking rows from them copies references, where a
        numpy text array would build one string object per row taken."""
        return self.codes.astype(object), self.names.astype(object)

    @functools.cached_property
    def polygons(self) -> np.ndarray:
        """Every polygon (those not made yet are made now): for building grids, and the rare paths that need all."""
        return self.shapes.all()

    @property
    def _vertices(self) -> int:
        return self.shapes.coordinate_count

    def _meeting(self, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(box, area) for every area whose envelope meets each box [x0, x1] × [y0, y1] (a point: x0 = x1, y0 = y1):
        the pairs an STRtree of the polygons gives (in another order), from the areas' bounds, without making the
        polygons. A chunk's few points in a département against its few hundred communes: compared in numpy (a
        tree per département cost each worker ~16 ms to build); many (building the grids): a tree of the boxes."""
        b = self.shapes.bounds
        if len(x0) * len(b) <= _PAIRS_IN_NUMPY:
            return envelopes_meeting(b, x0, y0, x1, y1)
        if self._box_tree is None:
            kept = np.flatnonzero(~np.isnan(b[:, 0]))  # an empty polygon meets nothing
            self._box_tree = (shapely.STRtree(shapely.box(*b[kept].T)), kept)
        tree, kept = self._box_tree
        qi, k = tree.query(shapely.box(x0, y0, x1, y1))  # a point's box is flat: its envelope is the point
        return qi, kept[k]

    def _areas_within(self, pts: np.ndarray, snap: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(point, area, distance) for every area within `snap` of points lying outside every area.

        Many points: from the areas' boundary segments. Outside a polygon, GEOS measures the distance
        to it as the minimum over its boundary segments, so the numbers are the same, and testing a
        few segments is far cheaper than testing whole départements. Once built, the segments answer any number
        of points (the same numbers). They are also built for as many points as there are areas when that is
        cheap: each point measured against a whole area would then read about as many vertices as building them
        (an overseas département is one area, its whole coast, and a batch's chunks each meet a few points off
        it); a few points off one of a département's hundreds of communes keep the polygon distances."""
        if len(pts) < SNAP_BY_PIECES and self._pieces is None and \
                (self._vertices > PIECES_CHEAP or len(pts) < len(self.shapes)):
            mx, my = shapely.get_x(pts), shapely.get_y(pts)
            return _polygons_within(self.shapes, *self._meeting(mx - snap, my - snap, mx + snap, my + snap), pts, snap)
        if self._pieces is None:
            segs, owner = grid.boundary_pieces(shapely.boundary(self.polygons))
            self._pieces = (shapely.STRtree(segs), segs, owner)
        tree, segs, owner = self._pieces
        pi, si, d = _pieces_within(tree, segs, pts, snap)
        key = pi * len(self.shapes) + owner[si]
        order = np.lexsort((d, key))  # per (point, area): its nearest segment
        first = order[np.concatenate([[True], key[order][1:] != key[order][:-1]])] if len(order) else order
        return pi[first], owner[si[first]], d[first]

    def locate(self, x: np.ndarray, y: np.ndarray, snap_m: float = COAST_SNAP_M, area_grid: grid.Grid | None = None) -> np.ndarray:
        """Index of the area holding each point (-1: none within `snap_m`). Grid first, exact tests after."""
        n = len(x)
        g = area_grid if area_grid is not None else self.grid
        out = g.lookup(x, y) if g is not None else np.full(n, grid.CROSSING, np.int32)
        if g is not None and g.margin < snap_m:
            out[out == grid.CLEAR] = grid.CROSSING  # the grid cannot tell "within snap_m": test exactly
        todo = np.flatnonzero(out == grid.CROSSING)
        if len(todo):
            out[todo] = self.locate_exactly(x[todo], y[todo], snap_m)
        return out.astype(np.int64)

    def locate_exactly(self, x: np.ndarray, y: np.ndarray, snap_m: float = COAST_SNAP_M) -> np.ndarray:
        """`locate` without a grid: exact tests on every point."""
        if not len(x):
            return np.full(0, -1, dtype=np.int64)
        found = _lowest_holding(self.shapes, *self._meeting(x, y, x, y), x, y)  # on a shared edge: the lower index
        miss = np.flatnonzero(found < 0)
        if len(miss) and snap_m > 0:  # off a simplified coast: the nearest area within snap_m, if any
            mi, ai2, d = self._areas_within(shapely.points(x[miss], y[miss]), snap_m)
            first = nearest_per_point(mi, ai2, d)
            found[miss[mi[first]]] = ai2[first]
        return found


def _read_features(src: datasets.Source) -> list[dict]:
    with gzip.GzipFile(fileobj=io.BytesIO(integrity.read(src))) as f:  # the hashed bytes are the parsed bytes
        return json.load(f)["features"]


def _area_arrays(features: list[dict], epsg: int, cell: float | None, margin: float) -> dict[str, np.ndarray]:
    codes = np.array([f["properties"]["code"] for f in features], dtype=str)
    names = np.array([f["properties"]["nom"] for f in features], dtype=str)
    from .perimeters import keep_polygonal

    geoms = keep_polygonal(shapely.from_geojson([json.dumps(f["geometry"]) for f in features]))
    order = np.argsort(codes, kind="stable")
    codes, names, geoms = codes[order], names[order], _project(geoms[order], epsg)
    out = {"codes": codes, "names": names, "poly_bounds": shapely.bounds(geoms)}
    out.update(cache.pack_coordinates(geoms, "poly"))
    if cell is not None:
        out.update(grid.build(geoms, shapely.boundary(geoms), cell=cell, margin=margin).to_arrays("grid"))
    return out


@functools.cache
def departement_index(zone_name: str) -> AreaIndex:
    zone = ZONE_BY_NAME[zone_name]
    ds = datasets.dataset("departements_geo")
    src = datasets.source("departements_geo")

    def build():
        feats = [f for f in _read_features(src) if _in_zone(np.array([f["properties"]["code"]]), zone)[0]]
        return _area_arrays(feats, zone.epsg, DEPARTEMENT_CELL_M, COAST_SNAP_M)

    a = cache.cached(f"departements-{zone_name}",
                     cache.key(ds.sha256, zone_name, str(DEPARTEMENT_CELL_M), str(COAST_SNAP_M), AREAS_LAYOUT), build,
                     sources=[src])
    return AreaIndex(a["codes"], a["names"], cache.PackedGeometries(a, "poly"), grid.Grid.from_arrays(a, "grid"))


def communes_file(dep: str) -> str | None:
    entry = _communes_files().get(dep)
    return entry.path if entry is not None else None


@functools.cache
def _communes_files() -> dict:
    """{département: its entry of the communes dataset} (a batch asks for each of a hundred files: one pass)."""
    out = {}
    for f in datasets.dataset("communes_geo").files:
        name = f.path.rsplit("/", 1)[-1]
        if name.startswith("communes-"):
            out.setdefault(name[len("communes-"):].split("-", 1)[0], f)  # the first file listed, as before
    return out


def _communes_entry(dep: str):
    entry = _communes_files().get(dep)
    if entry is None:
        return None, None, None
    zone = next((z for z in ZONES[1:] if dep in z.departements), ZONES[0])
    return entry.path, entry, zone


@functools.cache
def commune_index(dep: str) -> AreaIndex | None:
    """Communes of one département (only that file is read: a single point loads one file)."""
    rel, entry, zone = _communes_entry(dep)
    if rel is None:
        return None
    src = datasets.source("communes_geo", rel)
    a = cache.cached(f"communes-{dep}", cache.key(entry.sha256, str(zone.epsg), AREAS_LAYOUT),
                     lambda: _area_arrays(_read_features(src), zone.epsg, None, 0.0),
                     sources=[src])
    return AreaIndex(a["codes"], a["names"], cache.PackedGeometries(a, "poly"), None)


@functools.cache
def commune_grid(dep: str) -> grid.Grid | None:
    """Acceleration grid of a département's communes, built (and cached) only for large batches."""
    ci = commune_index(dep)
    if ci is None:
        return None
    _, entry, zone = _communes_entry(dep)
    a = cache.cached(f"communes-grid-{dep}", cache.key(entry.sha256, str(zone.epsg), str(COMMUNE_CELL_M)),
                     lambda: _commune_grid(ci).to_arrays("grid"), sources=[datasets.source("communes_geo", entry.path)])
    return grid.Grid.from_arrays(a, "grid")


def _commune_grid(ci: AreaIndex) -> grid.Grid:
    return grid.build(ci.polygons, shapely.boundary(ci.polygons), cell=COMMUNE_CELL_M, margin=0.0)


@dataclass(frozen=True)
class CommuneCells:
    """The commune grids of every département stacked (`grid.StackedGrids`, indexed by the position in
    `territories.dep_table()`), with every commune's code and name in one table: a large batch reads the
    commune of most points with one lookup for all départements, and tests exactly only the others."""

    grids: grid.StackedGrids
    first: np.ndarray   # int64: département k's communes are codes[first[k]:first[k + 1]]
    codes: np.ndarray   # object: Python strings (taking rows copies references)
    names: np.ndarray

    @functools.cached_property
    def labels(self) -> tuple[np.ndarray, np.ndarray]:
        """(codes, names) followed by None (index -1: no commune): the same two objects for every chunk of a
        batch, so that a caller can convert them once (the batch's Arrow label tables)."""
        none = np.array([None], dtype=object)
        return np.concatenate([self.codes, none]), np.concatenate([self.names, none])

    def locate(self, dep: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The local index of each point's commune in its département `dep` (position in `dep_table()`) from the
        grids, then the crossing cells' sub-cells (`commune_subcells`); CLEAR or CROSSING where they cannot
        tell (the exact tests of `commune_index(…).locate_exactly` then do)."""
        lab = self.grids.lookup(dep, x, y)
        crossing = np.flatnonzero(lab == grid.CROSSING)
        lab[crossing] = commune_subcells().lookup(self.grids, dep[crossing], x[crossing], y[crossing])
        return lab


@functools.cache
def _stacked_communes_files() -> tuple[list[str], dict, list[str], list[str], list]:
    """What every stacked communes entry is built from: the départements in `dep_table` order, their communes files'
    entries (None: no file), the départements with one, the key parts (département: file checksum) and sources."""
    from .territories import dep_table

    deps = [d for d in dep_table()[0] if d]
    entries = {d: _communes_entry(d)[1] for d in deps}
    present = [d for d in deps if entries[d] is not None]
    return (deps, entries, present, [f"{d}:{entries[d].sha256}" for d in present],
            [datasets.source("communes_geo", entries[d].path) for d in present])


@functools.cache
def commune_cells() -> CommuneCells:
    """Built once from the communes files (about a minute), cached; `qpv data prepare` builds it."""
    deps, entries, present, key_parts, sources = _stacked_communes_files()

    def build():
        stacked = grid.StackedGrids.stack([_commune_grid(commune_index(d)) if entries[d] is not None else None
                                           for d in deps])
        codes = [commune_index(d).codes if entries[d] is not None else np.zeros(0, str) for d in deps]
        names = [commune_index(d).names if entries[d] is not None else np.zeros(0, str) for d in deps]
        first = np.concatenate([[0], np.cumsum([len(c) for c in codes])]).astype(np.int64)
        return {**stacked.to_arrays("cells"), "first": first, "codes": np.concatenate(codes).astype(str),
                "names": np.concatenate(names).astype(str)}

    a = cache.cached("communes-cells", cache.key(*key_parts, str(COMMUNE_CELL_M)), build, sources=sources)
    return CommuneCells(grid.StackedGrids.from_arrays(a, "cells"), a["first"], a["codes"].astype(object),
                        a["names"].astype(object))


@functools.cache
def commune_subcells() -> area_subcells.AreaSubcells:
    """The crossing cells of `commune_cells` split into sub-cells labelled with their commune where one holds all
    of it (`area_subcells`): most points of those cells are answered without the exact tests. Built once with
    the commune cells (`qpv data prepare`), cached."""
    cells = commune_cells()
    deps, entries, _, key_parts, sources = _stacked_communes_files()

    def areas(k: int):
        ci = commune_index(deps[k]) if k < len(deps) and entries[deps[k]] is not None else None
        return None if ci is None else (ci.polygons, lambda x, y: ci.locate_exactly(x, y, snap_m=0.0))

    # the layout of the stacked grids is part of the key: a point's row is found by its cell's position there
    layout = xxhash.xxh3_128_hexdigest(cells.grids.params.tobytes() + cells.grids.blocks.tobytes())
    a = cache.cached("communes-subcells",
                     cache.key(*key_parts, str(COMMUNE_CELL_M), layout, str(area_subcells.SUB), area_subcells.LAYOUT),
                     lambda: area_subcells.build(cells.grids, areas).to_arrays(), sources=sources)
    sub = area_subcells.AreaSubcells.from_arrays(a)
    if len(sub.cells.masks) != -(-len(cells.grids.labels) // 64):  # never, but its rows would then be other cells'
        raise DataIntegrityError("le cache des sous-cellules des communes ne correspond pas à la grille des communes "
                                 "chargée : supprimez le dossier geography du cache, puis relancez « qpv data prepare »")
    return sub


@dataclass(frozen=True)
class StackedCommunes:
    """Every commune's polygon in the order of `commune_cells` (commune k of the département at position d of
    `dep_table()` is first[d] + k), packed: a large batch's exact commune tests make the polygons they meet in one
    call per chunk, where asking each département's index cost a query, a tree and a
    call per département (~100 a chunk), and each worker loaded the entries of the coastal ones for their snap.
    The answers are `commune_index(d).locate_exactly`'s."""

    shapes: cache.PackedGeometries
    first: np.ndarray

    def _meeting(self, dep: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray):
        """(box, commune) for every commune of each box's département whose envelope meets the box [x0, x1] × [y0, y1]:
        the pairs of the département's STRtree (`AreaIndex._meeting`), compared in numpy département by département
        (a chunk's few points in each against its few hundred communes; a tree of all 35,000 envelopes cost each
        worker ~21 ms to build)."""
        b = self.shapes.bounds
        order = np.argsort(dep, kind="stable")
        cut = np.flatnonzero(np.diff(dep[order])) + 1
        boxes, communes = [], []
        for rows in np.split(order, cut) if len(order) else ():
            lo, hi = self.first[dep[rows[0]]], self.first[dep[rows[0]] + 1]
            r, c = envelopes_meeting(b[lo:hi], x0[rows], y0[rows], x1[rows], y1[rows])
            boxes.append(rows[r])
            communes.append(c + lo)
        if not boxes:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(boxes), np.concatenate(communes)

    def locate_exactly(self, dep: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The local index of each point's commune in its département `dep` (-1: none): the commune of lowest index
        holding it, else, off a simplified coast, its département's nearest within `COAST_SNAP_M`."""
        found = _lowest_holding(self.shapes, *self._meeting(dep, x, y, x, y), x, y)
        miss = np.flatnonzero(found < 0)
        if len(miss):  # off a simplified coast: the nearest commune of the département within COAST_SNAP_M
            found[miss] = self._nearest_within(dep[miss], x[miss], y[miss], COAST_SNAP_M)
        at = np.flatnonzero(found >= 0)
        found[at] -= self.first[dep[at]]
        return found

    def _nearest_within(self, dep: np.ndarray, x: np.ndarray, y: np.ndarray, snap: float) -> np.ndarray:
        """Per point, the commune of its département nearest to it within `snap` (equal distances: the lowest), -1
        for none: `AreaIndex._areas_within`'s pairs (envelopes meeting the point's snap box, then `dwithin`) and GEOS
        distances to the polygons, then `AreaIndex.locate_exactly`'s choice."""
        pi, gi, d = _polygons_within(self.shapes, *self._meeting(dep, x - snap, y - snap, x + snap, y + snap),
                                    shapely.points(x, y), snap)
        first = nearest_per_point(pi, gi, d)
        out = np.full(len(x), -1, np.int64)
        out[pi[first]] = gi[first]
        return out


@functools.cache
def commune_polygons() -> StackedCommunes:
    """Built from the communes files with `commune_cells` (`qpv data prepare`), cached."""
    cells = commune_cells()
    deps, entries, _, key_parts, sources = _stacked_communes_files()

    def build():
        polygons = np.concatenate([commune_index(d).polygons if entries[d] is not None else np.zeros(0, object)
                                   for d in deps])
        return {**cache.pack_coordinates(polygons, "poly"), "poly_bounds": shapely.bounds(polygons)}

    a = cache.cached("communes-polygons", cache.key(*key_parts, AREAS_LAYOUT), build, sources=sources)
    shapes = cache.PackedGeometries(a, "poly")
    if len(shapes) != int(cells.first[-1]):  # never, but a commune would then answer for another
        raise DataIntegrityError("le cache des contours des communes ne correspond pas à la grille des communes "
                                 "chargée : supprimez le dossier geography du cache, puis relancez « qpv data prepare »")
    return StackedCommunes(shapes, cells.first)


# -- grids in WGS84 degrees (degree_grid.py): large batches answer most points without projecting them --
DEGREE_CELLS_PER_DEG = (64.0, 128.0)   # coarse cells: about 1.1-1.2 km x 0.87 km in metropolitan France
DEGREE_SUB_DEPARTEMENT = 16            # fine cells about 75 m x 55 m near département boundaries and coasts,
DEGREE_SUB_GUYANE = 8                  # coarser in Guyane (a long border through forest, few points),
DEGREE_SUB_ISLANDS = 32                # finer on the small islands, where coasts hold many points
DEGREE_SUB_QUARTIER = 32               # fine cells about 37 m x 27 m near quartier boundaries
DEGREE_MARGIN_M = 15.0                 # the default tolerance: larger tolerances take the metric path


def _degree_arrays(zone: Zone, polygons: np.ndarray, boundaries: np.ndarray, sub: int, margin: float, snap: float):
    from . import territories

    pieces, _ = grid.boundary_pieces(boundaries)
    g = degree_grid.build(polygons, pieces, zone.bbox, lambda lon, lat: territories.project(lon, lat, zone.epsg),
                          per_deg_lon=DEGREE_CELLS_PER_DEG[0], per_deg_lat=DEGREE_CELLS_PER_DEG[1], sub=sub,
                          margin=margin, snap=snap)
    return g.to_arrays("dgrid")


@functools.cache
def departement_degree_grid(zone_name: str):
    """Degree grid of a zone's départements: labels index `departement_index(zone_name).codes`."""
    zone, di = ZONE_BY_NAME[zone_name], departement_index(zone_name)
    sub = {"metropole": DEGREE_SUB_DEPARTEMENT, "guyane": DEGREE_SUB_GUYANE}.get(zone_name, DEGREE_SUB_ISLANDS)
    ds = datasets.dataset("departements_geo")
    a = cache.cached(f"departements-deg-{zone_name}",
                     cache.key(ds.sha256, zone_name, str(zone.epsg), str(DEGREE_CELLS_PER_DEG), str(sub), str(COAST_SNAP_M),
                               degree_grid.LAYOUT),
                     lambda: _degree_arrays(zone, di.polygons, shapely.boundary(di.polygons), sub, 0.0, COAST_SNAP_M),
                     sources=[datasets.source("departements_geo")])
    return degree_grid.DegreeGrid.from_arrays(a, "dgrid")


@functools.cache
def quartier_degree_grid(dataset_id: str, zone_name: str):
    """(degree grid, positions): labels are local quartier indexes of `quartier_index(dataset_id, zone_name)`,
    `positions` maps them to the Perimeters arrays. Margin DEGREE_MARGIN_M (the default tolerance): the
    narrower the margin, the fewer points left to the exact tests."""
    zone = ZONE_BY_NAME[zone_name]
    ds = layers.dataset(dataset_id)

    def build():
        qi = quartier_index(dataset_id, zone_name)
        out = _degree_arrays(zone, qi.polygons, qi.boundaries, DEGREE_SUB_QUARTIER, DEGREE_MARGIN_M, 0.0)
        out["positions"] = qi.positions
        return out

    a = cache.cached(f"quartiers-deg-{dataset_id}-{zone_name}",
                     cache.key(ds.sha256, zone_name, str(zone.epsg), str(DEGREE_CELLS_PER_DEG), str(DEGREE_SUB_QUARTIER), str(DEGREE_MARGIN_M),
                               degree_grid.LAYOUT),
                     build, sources=[layers.source(dataset_id)])
    return degree_grid.DegreeGrid.from_arrays(a, "dgrid"), a["positions"]


@functools.cache
def quartier_subcells(dataset_id: str, zone_name: str) -> boundary_subcells.BoundarySubcells:
    """The boundary cells of `quartier_degree_grid(dataset_id, zone_name)` split again (`boundary_subcells`):
    labels of local quartier indexes, near_boundary ones for the default tolerance (DEGREE_MARGIN_M)."""
    zone = ZONE_BY_NAME[zone_name]
    ds = layers.dataset(dataset_id)

    def build():
        from . import territories

        qi, (g, _) = quartier_index(dataset_id, zone_name), quartier_degree_grid(dataset_id, zone_name)
        return boundary_subcells.build(g, qi.polygons, qi.boundaries, qi.contains,
                                       lambda lon, lat: territories.project(lon, lat, zone.epsg),
                                       DEGREE_MARGIN_M).to_arrays()

    a = cache.cached(f"quartiers-sub-{dataset_id}-{zone_name}",
                     cache.key(ds.sha256, zone_name, str(zone.epsg), str(DEGREE_CELLS_PER_DEG), str(DEGREE_SUB_QUARTIER),
                               str(DEGREE_MARGIN_M), degree_grid.LAYOUT, str(boundary_subcells.SUB), boundary_subcells.LAYOUT),
                     build, sources=[layers.source(dataset_id)])
    return boundary_subcells.BoundarySubcells.from_arrays(a)


def prepare_all() -> list[str]:
    """Build every cached index a locate can need (one-time cost, then read from the cache).

    Without it the first large batch pays the degree-grid build (about a minute on 2 cores).
    Returns the names of what was made ready, for the caller to report.
    """
    from . import territories, vintages

    ready = []
    for zone in ZONES:
        if not zone.has_contours:
            continue
        departement_index(zone.name)
        departement_degree_grid(zone.name)
        ready.append(f"départements {zone.name}")
    for rule in vintages.rules():
        for zone in ZONES:
            if zone.territory != rule.territory or not zone.has_contours:
                continue
            quartier_index(rule.dataset_id, zone.name).boundary_cells  # distances in large batches
            quartier_index(rule.dataset_id, zone.name).vertices  # far points' distances
            quartier_degree_grid(rule.dataset_id, zone.name)
            quartier_subcells(rule.dataset_id, zone.name)
            ready.append(f"quartiers {rule.dataset_id} {zone.name}")
    for dep in territories.dep_table()[0]:
        if dep:
            commune_index(dep)  # polygons of the exact tests near commune boundaries
    commune_cells()  # communes of large batches
    commune_subcells()
    commune_polygons()
    ready.append("communes")
    return ready


def load_all(communes: bool = False, distances: bool = False, overseas: bool = True) -> None:
    """Load into this process the indexes a large batch needs: départements, quartiers and their degree
    grids, the boundary cells when distances are asked (they also answer the exact tests near quartier
    boundaries, `QuartierIndex.nearest_within`), the communes of every département when communes
    are (their polygons stay packed: each worker makes those its exact tests meet). Worker processes forked
    afterwards share them instead of each loading them again. (The vertex KD-trees of far points are left to
    the workers that meet such points.) `overseas=False`: the
    départements and quartiers of metropolitan France only; a worker that meets an overseas point loads
    that zone's (a few small files) itself, and a file without any costs nothing."""
    from . import territories, vintages

    zones = [z for z in ZONES if z.has_contours and (overseas or z is ZONES[0])]
    for zone in zones:
        departement_index(zone.name)
        departement_degree_grid(zone.name)
    for rule in vintages.rules():
        for zone in zones:
            if zone.territory == rule.territory:
                qi = quartier_index(rule.dataset_id, zone.name)
                quartier_degree_grid(rule.dataset_id, zone.name)
                quartier_subcells(rule.dataset_id, zone.name)
                if distances:
                    qi.boundary_cells
    if communes:
        commune_cells()
        commune_subcells()
        commune_polygons()  # packed: each worker makes the polygons its exact tests meet
