"""Exact distance to the nearest perimeter boundary near the quartiers, without a geometric library call
per point: a grid of cells, each holding the boundary segments that can be nearest to a point in it.

Within a cell of centre o and half-diagonal h, the distance d to the boundaries changes by at most h
(it is 1-Lipschitz), so every point p of the cell has d(p) <= d(o) + h, and a segment s can be nearest
to p only if dist(o, s) <= d(p) + h <= d(o) + 2h. The cell keeps exactly those segments, computed once
with GEOS when the index is built, in the order of their distance to the centre. A point p at
distance δ from its cell's centre then needs fewer: with U its exact distance to the cell's first
candidate (the nearest to the centre), a segment s can be nearest only if dist(o, s) - δ <= dist(p, s) <= U,
so only the candidates with dist(o, s) <= U + δ (a prefix of the cell's list) get exact distances, in
numpy. Cells are kept only up to REACH_M from the boundaries: farther away the segments that satisfy the
condition grow in number (the band around the nearest ones widens with the distance), and the vertex
KD-tree of `index.QuartierIndex.nearest_boundary` answers those points.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

CELL_M = 250.0
REACH_M = 1000.0
_SLACK_M = 0.01  # widen the candidate test by 1 cm: floating-point rounding can never drop the nearest one
LAYOUT = "sorted-3"  # of the stored arrays (part of the cache key)
_BLOCK = 8192  # points per numpy pass: the (points x candidates) temporaries (~60,000 pairs) stay in the CPU caches


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


def cell_order(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
    """The permutation that sorts points by their cell (ix, iy: whole numbers as floats), column by column;
    points of a cell keep their order. Two stable sorts of 16-bit halves of the cell number (numpy sorts
    16-bit keys with a radix sort: together ~4x faster than sorting 64-bit keys). Falls back to one 64-bit
    sort when the cells span more than 2**32 numbers."""
    if not len(ix):
        return np.zeros(0, np.int64)
    finite = np.isfinite(ix) & np.isfinite(iy)
    if not finite.all():  # NaN rows first (their order does not matter), the others sorted
        ix, iy = np.where(finite, ix, np.nanmin(ix[finite], initial=0.0)), np.where(finite, iy, np.nanmin(iy[finite], initial=0.0))
    cx, cy = ix - ix.min(), iy - iy.min()
    rows = cy.max() + 1
    key = cx * rows + cy
    if key.max() >= 2.0 ** 32:
        return np.argsort(key, kind="stable")
    key = key.astype(np.uint32)
    order = np.argsort((key & 0xFFFF).astype(np.uint16), kind="stable")
    return order[np.argsort((key[order] >> 16).astype(np.uint16), kind="stable")]


def point_segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance from points p to segments [a, b] (broadcast over the last axis of size 2).
    Written per coordinate (x0 * y0 + x1 * y1: the bits `einsum` gives for two terms, without its cost).
    When the points broadcast into the segments' shape (the far points: each point against its candidate
    segments), the terms are computed in place in two arrays of that shape: the same operations on the same
    numbers (the same bits), without a dozen fresh temporaries."""
    px, py, ax, ay = p[..., 0], p[..., 1], a[..., 0], a[..., 1]
    abx, aby = b[..., 0] - ax, b[..., 1] - ay
    if np.broadcast_shapes(px.shape, abx.shape) == abx.shape and abx.dtype == np.float64:
        return _point_segment_distance_in_place(px, py, ax, ay, abx, aby)
    return _point_segment_distance_fresh(px, py, ax, ay, abx, aby)


def _point_segment_distance_fresh(px, py, ax, ay, abx, aby) -> np.ndarray:
    """`point_segment_distance`'s arithmetic for any broadcast, one fresh array per term."""
    den = abx * abx + aby * aby
    some = den > 0
    t = np.where(some, ((px - ax) * abx + (py - ay) * aby) / np.where(some, den, 1), 0.0)
    t = np.clip(t, 0.0, 1.0)
    ex, ey = px - (ax + t * abx), py - (ay + t * aby)
    return np.sqrt(ex * ex + ey * ey)


def _point_segment_distance_in_place(px, py, ax, ay, abx: np.ndarray, aby: np.ndarray) -> np.ndarray:
    """`point_segment_distance`'s arithmetic, operation for operation, with abx and aby (fresh arrays of the
    result's shape) and two more arrays of that shape holding every intermediate value."""
    den = abx * abx
    t = aby * aby
    den += t                                   # abx * abx + aby * aby
    some = den > 0
    np.subtract(px, ax, out=t)
    t *= abx
    num_y = np.subtract(py, ay)
    if num_y.shape != t.shape:  # a point against segments of its own shape only: broadcast py - ay
        num_y = np.broadcast_to(num_y, t.shape).copy()
    num_y *= aby
    t += num_y                                 # (px - ax) * abx + (py - ay) * aby
    if some.all():
        t /= den                               # / np.where(some, den, 1) with every den > 0
    else:
        den[~some] = 1
        t /= den
        t[~some] = 0.0                         # np.where(some, …, 0.0)
    np.clip(t, 0.0, 1.0, out=t)
    abx *= t                                   # t * abx
    abx += ax                                  # ax + t * abx
    np.subtract(px, abx, out=abx)              # ex = px - (ax + t * abx)
    aby *= t
    aby += ay
    np.subtract(py, aby, out=aby)              # ey
    abx *= abx
    aby *= aby
    abx += aby                                 # ex * ex + ey * ey
    return np.sqrt(abx, out=abx)


def build(boundaries: np.ndarray, cell: float = CELL_M, reach: float = REACH_M) -> dict[str, np.ndarray]:
    """The arrays of a `CellSegments` (stored in the geography cache): cells within `reach` of a boundary,
    each with its candidate segments."""
    a, b, owner = segments(boundaries)
    empty = {"meta": np.array([0.0, 0.0, cell, 1.0]), "keys": np.zeros(0, np.int64), "offsets": np.zeros(1, np.int64),
             "cand": np.zeros(0, np.int32), "cand_d": np.zeros(0, np.float32), "a": a, "b": b, "owner": owner}
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
    d_cand = shapely.distance(centres[ci], lines[si])  # bounds only: the answers are computed in numpy
    order = np.lexsort((si, d_cand, ci))  # each cell's candidates from the nearest to its centre
    ci, si, d_cand = ci[order], si[order], d_cand[order]
    # stored in 32 bits, rounded down: a lower distance can only keep more candidates for a point, never fewer
    low = d_cand.astype(np.float32)
    d_cand = np.where(low > d_cand, np.nextafter(low, np.float32(-np.inf)), low)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(ci, minlength=len(keys)))]).astype(np.int64)
    return {**empty, "meta": np.array([x0, y0, cell, float(ny)]), "keys": keys, "offsets": offsets,
            "cand": si.astype(np.int32), "cand_d": d_cand}


@dataclass(frozen=True)
class CellSegments:
    meta: np.ndarray      # x0, y0, cell size, cells per column
    keys: np.ndarray      # int64, sorted: ix * ny + iy of every stored cell
    offsets: np.ndarray   # candidates of cell k: cand[offsets[k]:offsets[k + 1]]
    cand: np.ndarray      # int32 segment indexes, each cell's by distance to its centre (then index)
    cand_d: np.ndarray    # float32: distance of each candidate to its cell's centre, rounded down
    a: np.ndarray
    b: np.ndarray
    owner: np.ndarray

    @classmethod
    def from_arrays(cls, arrays: dict) -> CellSegments:
        return cls(**{k: arrays[k] for k in ("meta", "keys", "offsets", "cand", "cand_d", "a", "b", "owner")})

    def nearest(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(answered, owner, distance): for points in a stored cell, the boundary index and exact distance
        of the nearest segment (ties: the lowest segment index); other points are left to the caller."""
        n = len(x)
        owner, dist = np.full(n, -1, np.int64), np.full(n, np.nan)
        x0, y0, cell, ny = self.meta
        if not len(self.keys):
            return np.zeros(n, bool), owner, dist
        with np.errstate(invalid="ignore"):
            fx, fy = np.floor((x - x0) / cell), np.floor((y - y0) / cell)
            inside = (fx >= 0) & (fy >= 0) & (fy < ny)
        rows = np.flatnonzero(inside)
        # points cell by cell: the searches and gathers below run through memory in order
        rows = rows[cell_order(fx[rows], fy[rows])]
        key = (fx[rows] * ny + fy[rows]).astype(np.int64)
        pos = np.minimum(np.searchsorted(self.keys, key), len(self.keys) - 1)
        stored = self.keys[pos] == key
        rows, pos = rows[stored], pos[stored]
        answered = np.zeros(n, bool)
        answered[rows] = True
        span = self._span
        for s in range(0, len(rows), _BLOCK):
            r, k = rows[s:s + _BLOCK], pos[s:s + _BLOCK]
            px, py = x[r], y[r]
            start = self.offsets[k]
            delta = np.hypot(px - (x0 + (fx[r] + 0.5) * cell), py - (y0 + (fy[r] + 0.5) * cell))
            upper = np.sqrt(self._d2(px, py, self.cand[start]))  # the cell's first candidate
            # candidates with dist(centre, s) <= U + δ: a prefix of the cell's list, found by a search in it
            # (`_prefix`: the cell's distances shifted by k * span, compared with a limit shifted alike)
            base = k * span
            limit = base + np.minimum(upper + delta + _SLACK_M, span / 2)
            count = np.maximum(self._prefix(start, self.offsets[k + 1], base, limit) - start, 1)
            first = np.cumsum(count) - count
            which = np.repeat(np.arange(len(r)), count)
            seg = self.cand[np.repeat(start - first, count) + np.arange(count.sum())]
            d2 = self._d2(px[which], py[which], seg)
            best = np.minimum.reduceat(d2, first)
            tied = np.where(d2 == best[which], seg, np.iinfo(np.int32).max)
            dist[r] = np.sqrt(best)  # sqrt is monotonic and correctly rounded: the min of the distances
            owner[r] = self.owner[np.minimum.reduceat(tied, first)]
        return answered, owner, dist

    def _d2(self, px: np.ndarray, py: np.ndarray, seg: np.ndarray) -> np.ndarray:
        """Squared distance from points (px, py) to segments seg (same length), one arithmetic for all."""
        ax, ay, dx, dy, inv = self._segment_terms
        # the same operations as ex, ey = px - ax[seg], py - ay[seg]; t = clip((ex * sx + ey * sy) * inv[seg]);
        # ex -= t * sx; ey -= t * sy; ex * ex + ey * ey, each result written over an array no longer needed
        # (six arrays of the pairs instead of about twelve: the largest temporaries of a worker's chunk)
        ex = np.take(ax, seg)
        np.subtract(px, ex, out=ex)  # p - a
        ey = np.take(ay, seg)
        np.subtract(py, ey, out=ey)
        sx, sy = np.take(dx, seg), np.take(dy, seg)
        t = ex * sx
        u = ey * sy
        t += u  # ex * sx + ey * sy
        t *= np.take(inv, seg, out=u)
        np.clip(t, 0.0, 1.0, out=t)  # where the perpendicular foot falls
        sx *= t
        ex -= sx  # ex - t * sx
        sy *= t
        ey -= sy
        ex *= ex
        ey *= ey
        ex += ey
        return ex

    @property
    def _span(self) -> float:
        """Wider than twice any candidate's distance: cell k's distances shifted by k * span never meet cell k + 1's."""
        span = self.__dict__.get("_span_m")
        if span is None:
            span = 2.0 * (float(self.cand_d.max()) + 1.0) if len(self.cand_d) else 1.0
            object.__setattr__(self, "_span_m", span)
        return span

    def _prefix(self, start: np.ndarray, end: np.ndarray, base: np.ndarray, limit: np.ndarray) -> np.ndarray:
        """Per point, the first position p in [start, end) of its cell's candidates with base + cand_d[p] > limit
        (end if none): the position `np.searchsorted(cell_of * span + cand_d, limit, side="right")` gives over
        every cell's distances laid end to end (the same float64 sums, compared the same way), found by a
        branchless binary search within the cell's own candidates. No array over every candidate of the index
        (2.3 M for QP2024 metropole: ~0.1 CPU s and 19 MB of fresh pages in each worker that built it)."""
        pos = start.copy()
        width = end - start
        if not len(width):
            return pos
        last = len(self.cand_d) - 1
        step = 1 << (int(width.max()).bit_length() - 1) if width.max() > 0 else 0
        probe = np.empty_like(pos)
        value = np.empty(len(pos))
        ok = np.empty(len(pos), bool)
        while step:
            # invariant: every candidate before pos is within the limit; try pos + step
            np.add(pos, step - 1, out=probe)
            ok = np.less(probe, end, out=ok)
            np.minimum(probe, last, out=probe)
            np.add(base, self.cand_d[probe], out=value)
            ok &= value <= limit
            pos += ok * step
            step >>= 1
        return pos

    @property
    def _segment_terms(self):
        terms = self.__dict__.get("_terms")
        if terms is None:
            d = self.b - self.a
            den = d[:, 0] ** 2 + d[:, 1] ** 2
            terms = (self.a[:, 0], self.a[:, 1], d[:, 0], d[:, 1], np.where(den > 0, 1.0 / np.where(den > 0, den, 1.0), 0.0))
            object.__setattr__(self, "_terms", terms)
        return terms
