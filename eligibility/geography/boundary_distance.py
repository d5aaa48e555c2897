"""Exact distance to the nearest perimeter boundary near the quartiers, without a geometric library call
per point: a grid of cells, each holding the boundary segments that can be nearest to a point in it.

Within a cell of centre o and half-diagonal h, the distance d to the boundaries changes by at most h
(it is 1-Lipschitz), so every point p of the cell has d(p) <= d(o) + h, and a segment s can be nearest
to p only if dist(o, s) <= d(p) + h <= d(o) + 2h. The cell keeps exactly those segments, computed once
with GEOS when the index is built; a point then costs a cell lookup and a few exact point-segment
distances in numpy. Cells are kept only up to REACH_M from the boundaries: farther away the segments that
satisfy the condition grow in number (the band around the nearest ones widens with the distance), and the
vertex KD-tree of `index.QuartierIndex.nearest_boundary` answers those points.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

CELL_M = 250.0
REACH_M = 1000.0
_SLACK_M = 0.01  # widen the candidate test by 1 cm: floating-point rounding can never drop the nearest one
_BLOCK = 50_000  # points per numpy pass: bounds the (points x candidates) temporaries


def segments(boundaries: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, owner): every boundary as straight segments a[i] -> b[i] (float arrays (m, 2)) and the index
    of the boundary each belongs to. A degenerate boundary that is a point is a segment of length 0."""
    parts, owner = shapely.get_parts(boundaries, return_index=True)
    sub, sub_owner = shapely.get_parts(parts, return_index=True)
    owner = owner[sub_owner]
    xy, line = shapely.get_coordinates(sub, return_index=True)
    lone = np.bincount(line, minlength=len(sub)) == 1  # points (and lines of one vertex)
    starts = np.flatnonzero(line[1:] == line[:-1])
    single = np.flatnonzero(lone[line])
    a = np.concatenate([xy[starts], xy[single]])
    b = np.concatenate([xy[starts + 1], xy[single]])
    return a, b, np.concatenate([owner[line[starts]], owner[line[single]]]).astype(np.int64)


def point_segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance from points p to segments [a, b] (broadcast over the last axis of size 2)."""
    ab = b - a
    den = np.einsum("...i,...i->...", ab, ab)
    t = np.where(den > 0, np.einsum("...i,...i->...", p - a, ab) / np.where(den > 0, den, 1), 0.0)
    t = np.clip(t, 0.0, 1.0)
    closest = a + t[..., None] * ab
    return np.sqrt(np.einsum("...i,...i->...", p - closest, p - closest))


def build(boundaries: np.ndarray, cell: float = CELL_M, reach: float = REACH_M) -> dict[str, np.ndarray]:
    """The arrays of a `CellSegments` (stored in the geography cache): cells within `reach` of a boundary,
    each with its candidate segments."""
    a, b, owner = segments(boundaries)
    empty = {"meta": np.array([0.0, 0.0, cell, 1.0]), "keys": np.zeros(0, np.int64), "offsets": np.zeros(1, np.int64),
             "cand": np.zeros(0, np.int32), "a": a, "b": b, "owner": owner}
    if not len(a):
        return empty
    lo = np.minimum(a, b) - reach
    hi = np.maximum(a, b) + reach
    x0, y0 = np.floor(lo.min(axis=0) / cell) * cell
    ny = int(np.ceil((hi[:, 1].max() - y0) / cell)) + 1
    i0 = np.floor((lo - [x0, y0]) / cell).astype(np.int64)
    i1 = np.floor((hi - [x0, y0]) / cell).astype(np.int64)
    keys = []
    for s in range(0, len(a), 20_000):  # the cells around each segment's box, a block of segments at a time
        lo_i, hi_i = i0[s:s + 20_000], i1[s:s + 20_000]
        nx_, ny_ = hi_i[:, 0] - lo_i[:, 0] + 1, hi_i[:, 1] - lo_i[:, 1] + 1
        count = nx_ * ny_
        seg = np.repeat(np.arange(len(lo_i)), count)
        k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        ix = lo_i[seg, 0] + k // ny_[seg]
        iy = lo_i[seg, 1] + k % ny_[seg]
        keys.append(np.unique(ix * ny + iy))
    keys = np.unique(np.concatenate(keys))
    cx = x0 + (keys // ny + 0.5) * cell
    cy = y0 + (keys % ny + 0.5) * cell
    lines = shapely.linestrings(np.stack([a, b], axis=1))
    tree = shapely.STRtree(lines)
    centres = shapely.points(cx, cy)
    (ci, si), d = tree.query_nearest(centres, all_matches=False, return_distance=True)
    d_centre = np.full(len(keys), np.inf)
    d_centre[ci] = d
    keep = d_centre <= reach
    keys, centres, d_centre = keys[keep], centres[keep], d_centre[keep]
    half_diagonal = cell * np.sqrt(0.5)
    ci, si = tree.query(centres, predicate="dwithin", distance=d_centre + 2 * half_diagonal + _SLACK_M)
    order = np.lexsort((si, ci))
    ci, si = ci[order], si[order]
    offsets = np.concatenate([[0], np.cumsum(np.bincount(ci, minlength=len(keys)))]).astype(np.int64)
    return {**empty, "meta": np.array([x0, y0, cell, float(ny)]), "keys": keys, "offsets": offsets,
            "cand": si.astype(np.int32)}


@dataclass(frozen=True)
class CellSegments:
    meta: np.ndarray      # x0, y0, cell size, cells per column
    keys: np.ndarray      # int64, sorted: ix * ny + iy of every stored cell
    offsets: np.ndarray   # candidates of cell k: cand[offsets[k]:offsets[k + 1]]
    cand: np.ndarray      # int32 segment indexes
    a: np.ndarray
    b: np.ndarray
    owner: np.ndarray

    @classmethod
    def from_arrays(cls, arrays: dict) -> CellSegments:
        return cls(**{k: arrays[k] for k in ("meta", "keys", "offsets", "cand", "a", "b", "owner")})

    def nearest(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(answered, owner, distance): for points in a stored cell, the boundary index and exact distance
        of the nearest segment (ties: the lowest segment index); other points are left to the caller."""
        n = len(x)
        owner, dist = np.full(n, -1, np.int64), np.full(n, np.nan)
        x0, y0, cell, ny = self.meta
        if not len(self.keys):
            return np.zeros(n, bool), owner, dist
        with np.errstate(invalid="ignore"):
            ix, iy = np.floor((x - x0) / cell), np.floor((y - y0) / cell)
            inside = (ix >= 0) & (iy >= 0) & (iy < ny)
        key = np.where(inside, ix * ny + iy, -1).astype(np.int64)
        pos = np.minimum(np.searchsorted(self.keys, key), len(self.keys) - 1)
        answered = inside & (self.keys[pos] == key)
        rows = np.flatnonzero(answered)
        ax, ay, dx, dy, inv = self._segment_terms
        for s in range(0, len(rows), _BLOCK):
            r = rows[s:s + _BLOCK]
            k = pos[r]
            start, count = self.offsets[k], self.offsets[k + 1] - self.offsets[k]
            first = np.cumsum(count) - count
            which = np.repeat(np.arange(len(r)), count)
            seg = self.cand[np.repeat(start - first, count) + np.arange(count.sum())]
            ex, ey = x[r][which] - ax[seg], y[r][which] - ay[seg]  # p - a
            sx, sy = dx[seg], dy[seg]
            t = np.clip((ex * sx + ey * sy) * inv[seg], 0.0, 1.0)  # where the perpendicular foot falls
            ex -= t * sx
            ey -= t * sy
            d2 = ex * ex + ey * ey
            best = np.minimum.reduceat(d2, first)
            hit = np.flatnonzero(d2 == best[which])
            lead = hit[np.concatenate([[True], which[hit][1:] != which[hit][:-1]])]  # first minimum per point
            dist[r] = np.sqrt(best)  # sqrt is monotonic and correctly rounded: the min of the distances
            owner[r] = self.owner[seg[lead]]
        return answered, owner, dist

    @property
    def _segment_terms(self):
        terms = self.__dict__.get("_terms")
        if terms is None:
            d = self.b - self.a
            den = d[:, 0] ** 2 + d[:, 1] ** 2
            terms = (self.a[:, 0], self.a[:, 1], d[:, 0], d[:, 1], np.where(den > 0, 1.0 / np.where(den > 0, den, 1.0), 0.0))
            object.__setattr__(self, "_terms", terms)
        return terms
