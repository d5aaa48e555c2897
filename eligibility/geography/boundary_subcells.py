"""Third level of a quartier degree grid: its boundary cells split again, each sub-cell labelled with the
exact answer (inside, outside, near_boundary of one quartier) when that answer is the same everywhere in it.

The degree grid (`degree_grid.py`) sends every point of a fine cell within its margin (15 m) of a boundary to
the exact tests: about one point in nine of a batch near the quartiers. Each such cell is split into SUB x SUB
sub-cells (about 4.6 m x 3.4 m in metropolitan France). In the zone's metric CRS a sub-cell is a near-
parallelogram of centre c; every point p of it lies within h of c (half its longer diagonal, plus the slack
of `degree_grid.EDGE_SLACK_M` for the projection's bend and the rounding of the cell index). The distance to a
boundary is 1-Lipschitz, so with d1 the distance from c to the nearest quartier boundary (quartier k) and d2
to the nearest boundary of any other quartier (computed once, in numpy, when the entry is built):
- d1 - h > tol: no boundary within tol of any point of the sub-cell, and none crosses it: every point is in
  the polygon that holds c (the lowest index where perimeters overlap, as the exact path picks) or in none;
- d1 + h <= tol, d1 > h and d2 - h > d1 + h: every point is within tol of k's boundary only, k is its nearest
  (so its near_boundary quartier), and no boundary crosses the sub-cell (the polygon holding c holds it all);
- anything else (sub-cells within h of a boundary, or of the tol line, or with two quartiers alike): unknown,
  the point takes the exact tests.
Distances get `_EPS_M` of slack for rounding. The near_boundary labels hold for the tolerance the entry was built
for only (the degree grid's margin, the default); inside/outside labels for any smaller tolerance.

Storage, per boundary cell: a palette of up to 3 labels and 2 bits per sub-cell (0: unknown, else the palette
entry): ~22 bytes a cell instead of 2 bytes a sub-cell; the cells in the order of their places in the degree grid's
blocks, a bit per place saying which are boundary cells (`StoredCells`: a point's row is a count of bits).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from . import boundary_distance
from .degree_grid import _BLOCK, EDGE_SLACK_M, DegreeGrid, _quads
from .grid import CLEAR, CROSSING

SUB = 8                 # sub-cells per side of a boundary cell (a power of two)
LAYOUT = "subcells-4"   # of the stored arrays and their derivation (cache key; 3: overlaps labelled with the
#                         lowest index, as `index.lowest_per_point` now really picks; 4: rows in the order of
#                         the cells' places in the grid's blocks, found by counting bits, not by a search)
_EPS_M = 0.01           # slack on distances: numpy's and GEOS's roundings are far below a centimetre
_CELLS_PER_PASS = 2000  # boundary cells classified at a time while building (bounded memory)


@dataclass(frozen=True)
class StoredCells:
    """Which places (of a grid's cells, numbered 0 … size - 1) hold a stored cell, and its row among the stored
    ones: bit p % 64 of masks[p // 64] is set for a stored place p, and before[b] counts those of masks[:b], so a
    row is a count of bits (`rows`), not a search among the stored places (~1 MB of tables, not a sorted array of
    a few MB read at ~20 random places per point)."""
    masks: np.ndarray    # uint64
    before: np.ndarray   # int64

    @classmethod
    def at(cls, positions: np.ndarray, size: int) -> StoredCells:
        """From the places of the stored cells, in increasing order (their rows: 0, 1, …)."""
        masks = np.zeros(-(-size // 64), np.uint64)
        np.bitwise_or.at(masks, positions >> 6, np.left_shift(np.uint64(1), (positions & 63).astype(np.uint64)))
        before = np.concatenate([[0], np.cumsum(np.bitwise_count(masks), dtype=np.int64)[:-1]]) if len(masks) else masks
        return cls(masks, before.astype(np.int64))

    def rows(self, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(stored, row) of places `pos` (-1: none): whether each holds a stored cell, and its row if so."""
        at = np.maximum(pos, 0)
        b = np.minimum(at >> 6, max(len(self.masks) - 1, 0))
        bit = (at & 63).astype(np.uint64)
        word = self.masks[b] if len(self.masks) else np.zeros(len(pos), np.uint64)
        stored = (pos >= 0) & ((at >> 6) < len(self.masks)) & (((word >> bit) & np.uint64(1)) == 1)
        lower = word & ((np.uint64(1) << bit) - np.uint64(1))  # the stored cells before it in its word
        return stored, (self.before[b] if len(self.before) else 0) + np.bitwise_count(lower)


@dataclass(frozen=True)
class BoundarySubcells:
    sub: int
    tolerance: float     # metres: the near_boundary labels hold for this tolerance only
    n: int               # polygons: labels k (inside k), n + k (near, inside k), 2n + k (near k, outside), CLEAR
    cells: StoredCells   # the boundary cells among the places block * g.sub² + fine cell of the grid's blocks
    palette: np.ndarray  # int16 (cells, 3): the labels of codes 1, 2, 3
    codes: np.ndarray    # uint8 (cells, sub * sub // 4): 2 bits per sub-cell (fx * sub + fy), 0 = unknown

    def lookup(self, g: DegreeGrid, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """The label of each point's sub-cell (CROSSING: unknown, or not in a boundary cell). `g` is the
        degree grid the entry was built from; points must lie inside its box."""
        out = np.full(len(lon), CROSSING, np.int32)
        if not len(lon) or not len(self.codes):
            return out
        ix, iy = g.cells(lon, lat, g.sub * self.sub)  # exact powers of two: (ix >> shift) is the fine cell
        shift = self.sub.bit_length() - 1
        fx, fy = ix >> shift, iy >> shift
        pointer = g.coarse[g.coarse_of(fx, fy, g.sub)]  # a boundary cell lies in a block: _BLOCK - its number
        place = (_BLOCK - pointer.astype(np.int64)) * (g.sub * g.sub) + (fx & (g.sub - 1)) * g.sub + (fy & (g.sub - 1))
        stored, row = self.cells.rows(np.where(pointer <= _BLOCK, place, -1))
        j = (ix & (self.sub - 1)) * self.sub + (iy & (self.sub - 1))
        out[stored] = labels_at(self.palette, self.codes, row[stored], j[stored])
        return out

    def answers(self, labels: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(known, near, local quartier index or -1, contained) of labels, for tolerance `tol`: near_boundary
        labels are known only at the tolerance they were built for, inside/outside ones up to it."""
        n = self.n
        near = (labels >= n) & (labels < 3 * n)
        known = (labels != CROSSING) & (tol <= self.tolerance) & (~near | (tol == self.tolerance))
        local = np.where(labels >= 0, labels % max(n, 1), -1)
        contained = (labels >= 0) & (labels < 2 * n)
        return known, near, local, contained

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"sub_params": np.array([self.sub, self.tolerance, self.n], dtype=float), "sub_masks": self.cells.masks,
                "sub_before": self.cells.before, "sub_palette": self.palette, "sub_codes": self.codes}

    @classmethod
    def from_arrays(cls, arrays) -> BoundarySubcells:
        sub, tolerance, n = arrays["sub_params"]
        return cls(int(sub), float(tolerance), int(n), StoredCells(arrays["sub_masks"], arrays["sub_before"]),
                   arrays["sub_palette"], arrays["sub_codes"])


def build(g: DegreeGrid, polygons: np.ndarray, boundaries: np.ndarray, contains, project, tol: float,
          sub: int = SUB) -> BoundarySubcells:
    """Split the CROSSING fine cells of `g` (a quartier degree grid built against `polygons`, metric CRS).
    `contains(points) -> local index or -1` is the exact path's own test (overlaps: the lowest index);
    `project(lon, lat) -> (x, y)` the zone's projection; `tol` the tolerance of the near_boundary labels."""
    n = len(polygons)
    if 3 * n >= np.iinfo(np.int16).max:
        raise ValueError("too many polygons for int16 sub-cell labels")
    blk, fine = np.nonzero(g.blocks == CROSSING)
    coarse_of_block = np.zeros(len(g.blocks), np.int64)
    pointers = np.flatnonzero(g.coarse <= _BLOCK)
    coarse_of_block[_BLOCK - g.coarse[pointers]] = pointers
    cx, cy = np.divmod(coarse_of_block[blk], g.ny)
    fx, fy = np.divmod(fine.astype(np.int64), g.sub)
    ix, iy = cx * g.sub + fx, cy * g.sub + fy
    places = blk.astype(np.int64) * (g.sub * g.sub) + fine  # increasing: `np.nonzero` goes block by block
    palette = np.zeros((len(places), 3), np.int16)
    codes = np.zeros((len(places), sub * sub // 4), np.uint8)
    a, b, owner = boundary_distance.segments(boundaries)
    if len(places) and len(a):
        tree = shapely.STRtree(shapely.linestrings(np.stack([a, b], axis=1)))
        dlon, dlat = 1.0 / (g.per_deg_lon * g.sub), 1.0 / (g.per_deg_lat * g.sub)
        for at in range(0, len(places), _CELLS_PER_PASS):
            cut = slice(at, at + _CELLS_PER_PASS)
            lon_lo, lat_lo = g.lon0 + ix[cut] * dlon, g.lat0 + iy[cut] * dlat
            labels = _labels(lon_lo, lat_lo, dlon, dlat, sub, tree, a, b, owner, n, contains, project, tol)
            palette[cut], codes[cut] = pack_labels(labels)
    return BoundarySubcells(sub, float(tol), n, StoredCells.at(places, len(g.blocks) * g.sub * g.sub), palette, codes)


def _labels(lon_lo, lat_lo, dlon, dlat, sub, tree, a, b, owner, n, contains, project, tol) -> np.ndarray:
    """Labels (cells, sub * sub) of the sub-cells of the cells with lower-left corners (lon_lo, lat_lo)."""
    m = len(lon_lo)
    quads = _quads(lon_lo, lat_lo, dlon, dlat, project)
    corners = shapely.get_coordinates(quads).reshape(m, 5, 2)
    diag = np.maximum(np.hypot(*(corners[:, 2] - corners[:, 0]).T), np.hypot(*(corners[:, 3] - corners[:, 1]).T))
    h = diag / (2 * sub) + EDGE_SLACK_M  # every point of a sub-cell is within h of its centre
    # sub-cell centres, sub-cell (fx, fy) at fx * sub + fy (as the lookup numbers them)
    fx, fy = np.divmod(np.arange(sub * sub), sub)
    clon = lon_lo[:, None] + (fx[None, :] + 0.5) * (dlon / sub)
    clat = lat_lo[:, None] + (fy[None, :] + 0.5) * (dlat / sub)
    x, y = project(clon.ravel(), clat.ravel())
    centre = np.stack([x, y], axis=1)
    hc = np.repeat(h, sub * sub)
    # the segments that can matter: within tol + 2h (+ 1 m) of the cell; the others are farther than tol + h
    # from every centre, so they change neither "near" nor "nearest" below. Asked as the envelopes meeting the
    # cell's box grown by that much (a superset): the tree's `dwithin` query never returns a segment of length 0
    # (a boundary reduced to a point) for a polygon, at any distance, and such a boundary was missed
    r = tol + 2 * h.max() + 1.0
    lo_x, lo_y, hi_x, hi_y = shapely.bounds(quads).T
    ci, si = tree.query(shapely.box(lo_x - r, lo_y - r, hi_x + r, hi_y + r))
    order = np.argsort(ci, kind="stable")
    ci, si = ci[order], si[order]
    k = sub * sub
    d1, q1, d2 = np.full((m, k), np.inf), np.full((m, k), -1, np.int64), np.full((m, k), np.inf)
    if len(ci):
        # (pair, sub-cell) distances; per cell, the rows of its candidate segments are consecutive
        d = boundary_distance.point_segment_distance(centre.reshape(m, k, 2)[ci], a[si][:, None, :], b[si][:, None, :])
        cells, starts = np.unique(ci, return_index=True)
        row_cell = np.repeat(np.arange(len(cells)), np.diff(np.append(starts, len(ci))))
        po = owner[si][:, None]
        best = np.minimum.reduceat(d, starts, axis=0)
        # the nearest quartier (ties: the lowest index), then the nearest boundary of any other quartier
        q = np.minimum.reduceat(np.where(d == best[row_cell], po, np.iinfo(np.int64).max), starts, axis=0)
        d1[cells], q1[cells] = best, q
        d2[cells] = np.minimum.reduceat(np.where(po != q[row_cell], d, np.inf), starts, axis=0)
    d1, q1, d2 = d1.ravel(), q1.ravel(), d2.ravel()
    far = d1 - hc > tol + _EPS_M
    near = (d1 + hc + _EPS_M <= tol) & (d1 > hc + _EPS_M) & (d2 - hc > d1 + hc + 2 * _EPS_M)
    out = np.full(m * k, CROSSING, np.int32)
    known = np.flatnonzero(far | near)
    inside = contains(shapely.points(centre[known]))
    out[known] = np.where(inside >= 0, inside, CLEAR)
    is_near = near[known]
    out[known[is_near]] = np.where(inside[is_near] >= 0, n + inside[is_near], 2 * n + q1[known[is_near]])
    return out.reshape(m, k)


def labels_at(palette: np.ndarray, codes: np.ndarray, at: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The label of sub-cell j of stored cell `at` (CROSSING where its 2-bit code is 0: unknown)."""
    code = (codes[at, j >> 2] >> ((j & 3) * 2).astype(np.uint8)) & 3
    out = np.full(len(at), CROSSING, np.int32)
    known = np.flatnonzero(code)
    out[known] = palette[at[known], code[known] - 1]
    return out


def pack_labels(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(palette (cells, 3), codes (cells, k // 4)): each cell's first 3 distinct known labels get codes 1-3,
    the other sub-cells 0 (unknown: they take the exact tests)."""
    m, k = labels.shape
    order = np.argsort(labels, axis=1, kind="stable")
    s = np.take_along_axis(labels, order, axis=1)
    new = np.ones_like(s, bool)
    new[:, 1:] = s[:, 1:] != s[:, :-1]
    new &= s != CROSSING
    rank = np.cumsum(new, axis=1)
    code_sorted = np.where((s != CROSSING) & (rank <= 3), rank, 0).astype(np.uint8)
    palette = np.zeros((m, 3), np.int16)
    r, c = np.nonzero(new & (rank <= 3))
    palette[r, rank[r, c] - 1] = s[r, c]
    codes = np.empty_like(code_sorted)
    np.put_along_axis(codes, order, code_sorted, axis=1)
    packed = codes[:, 0::4] | (codes[:, 1::4] << 2) | (codes[:, 2::4] << 4) | (codes[:, 3::4] << 6)
    return palette, packed.astype(np.uint8)
