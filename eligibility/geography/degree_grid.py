"""Acceleration grid in the input's own WGS84 degrees: most points are answered without projecting them.

Cells are lon/lat rectangles whose sides are powers of two of a degree (so a cell's edges are exact
binary fractions). Each cell is classified in the zone's metric CRS: its four projected corners make a
quadrilateral (a projected edge bends away from its chord by at most 3.3 cm for the 1 km coarse cells,
far less for the fine ones; tests/geography/test_degree_grid.py measures it), and the tests use that
quadrilateral grown by `EDGE_SLACK_M` (covers that bend and the rounding of the cell index):
- CLEAR: no boundary within `margin` and in no polygon (and, with `snap`, no polygon within `snap`);
- polygon k >= 0: no boundary within `margin`, and the whole cell is inside polygon k (and no other);
- CROSSING: anything else; the point then runs the metric path (projection, exact tests).
So a point in a CLEAR or labelled cell gets, without projection, exactly the answer of the metric path.

Two levels: a dense array of coarse cells over the zone's box; each coarse cell that is CROSSING is
split into sub x sub fine cells, stored as one block. One lookup is a few array operations per point.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from .grid import CLEAR, CROSSING

EDGE_SLACK_M = 0.05
LAYOUT = "degree-grid-2"
_QUADS_PER_CHUNK = 400_000  # cells classified at a time while building (bounded memory)  # part of the cache key: change it when the stored arrays change
_BLOCK = -3  # coarse values <= _BLOCK point to block (_BLOCK - value)


@dataclass(frozen=True)
class DegreeGrid:
    lon0: float
    lat0: float
    per_deg_lon: float   # coarse cells per degree (a power of two)
    per_deg_lat: float
    nx: int              # coarse cells along lon, lat
    ny: int
    sub: int             # fine cells per coarse side in a block
    margin: float        # metres: no boundary within this of a CLEAR or labelled cell
    coarse: np.ndarray   # int32 (nx * ny): label, or a block pointer
    blocks: np.ndarray   # int16 (n_blocks, sub * sub): labels of fine cells (polygon counts stay far below 32767)

    def lookup(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """CLEAR, CROSSING or the polygon index for each point; points off the grid are CLEAR."""
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        ok = (lon >= self.lon0) & (lon < self.lon0 + self.nx / self.per_deg_lon) & \
             (lat >= self.lat0) & (lat < self.lat0 + self.ny / self.per_deg_lat)  # NaN is not ok
        out = np.full(len(lon), CLEAR, dtype=np.int32)
        sel = np.flatnonzero(ok)
        out[sel] = self.lookup_cells(*self.cells(lon[sel], lat[sel], self.sub), self.sub)
        return out

    def cells(self, lon: np.ndarray, lat: np.ndarray, sub: int, clip: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Fine cell indices (int32) at `sub` fine cells per coarse cell. Points must lie inside the
        grid's box (the zone's box), or `clip` them to its edge (the caller then discards those rows).
        Grids of one zone share their coarse cells: indices computed once serve both of its grids."""
        fx = (lon - self.lon0) * (self.per_deg_lon * sub)
        fy = (lat - self.lat0) * (self.per_deg_lat * sub)
        if clip:
            np.clip(fx, 0, self.nx * sub - 1, out=fx)
            np.clip(fy, 0, self.ny * sub - 1, out=fy)
        ix, iy = fx.astype(np.int32), fy.astype(np.int32)  # non-negative: truncation is floor
        if not clip and len(ix) and (ix.min() < 0 or iy.min() < 0 or ix.max() >= self.nx * sub or iy.max() >= self.ny * sub):
            raise ValueError("points outside the degree grid's box")
        return ix, iy

    def coarse_of(self, ix: np.ndarray, iy: np.ndarray, sub: int) -> np.ndarray:
        """Coarse cell number of fine cells given at resolution `sub` (same for every grid of a zone)."""
        shift = int(sub).bit_length() - 1
        return (ix >> shift) * self.ny + (iy >> shift)

    def lookup_cells(self, ix: np.ndarray, iy: np.ndarray, sub: int, coarse: np.ndarray | None = None) -> np.ndarray:
        """Labels of the fine cells (ix, iy) given at resolution `sub` (a power of two >= self.sub);
        `coarse`: their coarse cell numbers, if already computed."""
        out = self.coarse[self.coarse_of(ix, iy, sub) if coarse is None else coarse]
        sel = np.flatnonzero(out <= _BLOCK)
        if len(sel):
            down = (int(sub) // self.sub).bit_length() - 1  # from `sub` to this grid's fine cells
            fx, fy = (ix[sel] >> down) & (self.sub - 1), (iy[sel] >> down) & (self.sub - 1)
            out[sel] = self.blocks[_BLOCK - out[sel], fx * self.sub + fy]
        return out

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        params = [self.lon0, self.lat0, self.per_deg_lon, self.per_deg_lat, self.nx, self.ny, self.sub, self.margin]
        return {f"{prefix}_params": np.array(params, dtype=float), f"{prefix}_coarse": self.coarse,
                f"{prefix}_blocks": self.blocks}

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> DegreeGrid:
        lon0, lat0, pl, pt, nx, ny, sub, margin = arrays[f"{prefix}_params"]
        return cls(float(lon0), float(lat0), float(pl), float(pt), int(nx), int(ny), int(sub), float(margin),
                   arrays[f"{prefix}_coarse"], arrays[f"{prefix}_blocks"])


def _quads(lon_lo: np.ndarray, lat_lo: np.ndarray, dlon: float, dlat: float, project) -> np.ndarray:
    """Projected quadrilaterals of the cells with lower-left corners (lon_lo, lat_lo)."""
    lon = np.stack([lon_lo, lon_lo + dlon, lon_lo + dlon, lon_lo, lon_lo], axis=1)
    lat = np.stack([lat_lo, lat_lo, lat_lo + dlat, lat_lo + dlat, lat_lo], axis=1)
    x, y = project(lon.ravel(), lat.ravel())
    return shapely.polygons(np.stack([x, y], axis=1).reshape(-1, 5, 2))


def _classify(quads: np.ndarray, pieces: shapely.STRtree, polygons: np.ndarray, polygon_tree: shapely.STRtree,
              margin: float, snap: float) -> np.ndarray:
    labels = np.full(len(quads), CLEAR, dtype=np.int32)
    hit = pieces.query(quads, predicate="dwithin", distance=margin + EDGE_SLACK_M)[0]
    labels[hit] = CROSSING
    quiet = np.flatnonzero(labels == CLEAR)
    centres = shapely.centroid(quads[quiet])
    c_idx, p_idx = polygon_tree.query(centres)  # envelopes; the test below runs on the prepared polygons
    inside = shapely.intersects(polygons[p_idx], centres[c_idx])
    c_idx, p_idx = c_idx[inside], p_idx[inside]
    n_hits = np.bincount(c_idx, minlength=len(quiet))
    labels[quiet[c_idx]] = p_idx
    labels[quiet[n_hits > 1]] = CROSSING  # overlapping polygons: the exact path decides
    if snap > 0:  # outside every polygon but within `snap` of one (so of its boundary): the exact path snaps
        out = quiet[n_hits == 0]
        near = pieces.query(quads[out], predicate="dwithin", distance=snap + EDGE_SLACK_M)[0]
        labels[out[near]] = CROSSING
    return labels


def build(polygons: np.ndarray, pieces: np.ndarray, bbox: tuple[float, float, float, float], project, *,
          per_deg_lon: float, per_deg_lat: float, sub: int, margin: float, snap: float = 0.0) -> DegreeGrid:
    """Classify the cells over `bbox` (lon/lat) against `polygons` (metric CRS; `pieces` = their
    boundaries cut into segments). `project(lon, lat) -> (x, y)` is the zone's projection."""
    if len(polygons) >= np.iinfo(np.int16).max:
        raise ValueError("too many polygons for int16 fine labels")
    lon0 = np.floor(bbox[0] * per_deg_lon) / per_deg_lon
    lat0 = np.floor(bbox[1] * per_deg_lat) / per_deg_lat
    nx = int(np.ceil((bbox[2] - lon0) * per_deg_lon)) + 1
    ny = int(np.ceil((bbox[3] - lat0) * per_deg_lat)) + 1
    shapely.prepare(polygons)
    piece_tree, polygon_tree = shapely.STRtree(pieces), shapely.STRtree(polygons)

    def classify(lon_lo: np.ndarray, lat_lo: np.ndarray, dlon: float, dlat: float) -> np.ndarray:
        out = np.empty(len(lon_lo), dtype=np.int32)
        for at in range(0, len(lon_lo), _QUADS_PER_CHUNK):  # bounded memory on big zones
            cut = slice(at, at + _QUADS_PER_CHUNK)
            out[cut] = _classify(_quads(lon_lo[cut], lat_lo[cut], dlon, dlat, project),
                                 piece_tree, polygons, polygon_tree, margin, snap)
        return out

    dlon, dlat = 1.0 / per_deg_lon, 1.0 / per_deg_lat
    ix, iy = np.divmod(np.arange(nx * ny, dtype=np.int64), ny)
    coarse = classify(lon0 + ix * dlon, lat0 + iy * dlat, dlon, dlat)
    split = np.flatnonzero(coarse == CROSSING)
    fx, fy = np.divmod(np.arange(sub * sub, dtype=np.int64), sub)  # fine cell (fx, fy) at fx * sub + fy
    flon = (lon0 + ix[split] * dlon)[:, None] + fx[None, :] * (dlon / sub)
    flat = (lat0 + iy[split] * dlat)[:, None] + fy[None, :] * (dlat / sub)
    blocks = classify(flon.ravel(), flat.ravel(), dlon / sub, dlat / sub).astype(np.int16).reshape(len(split), sub * sub)
    coarse[split] = _BLOCK - np.arange(len(split), dtype=np.int32)
    return DegreeGrid(float(lon0), float(lat0), float(per_deg_lon), float(per_deg_lat), nx, ny, int(sub), float(margin),
                      coarse, blocks)
