"""The quartier boundary nearest to each point among those within a tolerance, from the boundary cells of
`boundary_distance` (no STRtree of boundary segments to build in each worker of a large batch).

`index.QuartierIndex.boundaries_within` asks an STRtree of the boundary segments for the segments whose
envelope meets the point's tolerance box, then GEOS distances, and keeps those within the tolerance. This
module gives the same pairs from the cells: every segment within `tol` of a point p is among the candidates
of p's cell (a segment s within tol of p has dist(o, s) <= δ + tol <= h + tol, where o is the cell's centre,
δ = |p - o| <= h its half-diagonal; a cell keeps every segment with dist(o, s) <= d(o) + 2h, and tol <= h);
a point in no stored cell is farther than REACH_M - h from every boundary. The distances are computed with
the arithmetic of GEOS's `Distance::pointToSegment` (the same operations in the same order, hence the same
bits, checked against `shapely.distance`), and the envelope test is the tree's, so the pairs, their
distances and the nearest quartier (equal distances: the lowest index) are those of the STRtree path.
"""
from __future__ import annotations

import numpy as np

from .boundary_distance import CellSegments


def geos_distance(px, py, ax, ay, bx, by) -> np.ndarray:
    """Distance from points to segments [a, b] as GEOS computes it (`algorithm::Distance::pointToSegment`,
    a point-point distance when a == b), bit for bit."""
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    degenerate = len2 == 0
    den = np.where(degenerate, 1.0, len2)
    r = ((px - ax) * dx + (py - ay) * dy) / den
    s = ((ay - py) * dx - (ax - px) * dy) / den
    ex, ey = px - ax, py - ay
    fx, fy = px - bx, py - by
    to_a = np.sqrt(ex * ex + ey * ey)
    to_b = np.sqrt(fx * fx + fy * fy)
    return np.where(degenerate | (r <= 0.0), to_a, np.where(r >= 1.0, to_b, np.abs(s) * np.sqrt(len2)))


def reaches(cells: CellSegments, tol: float) -> bool:
    """Whether the cells hold every segment within `tol` of any point (tol at most a half-diagonal)."""
    return 0.0 <= tol <= float(cells.meta[2]) * np.sqrt(0.5)


def nearest_within(cells: CellSegments, x: np.ndarray, y: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """(owner, distance) per point: the boundary (`cells.owner`) of the nearest segment within `tol` whose
    envelope meets the point's box [x ± tol] × [y ± tol] (equal distances: the lowest owner), -1 and NaN
    where there is none. Requires `reaches(cells, tol)`."""
    n = len(x)
    owner, dist = np.full(n, -1, np.int64), np.full(n, np.nan)
    if not n or not len(cells.keys):
        return owner, dist
    x0, y0, cell, ny = cells.meta
    with np.errstate(invalid="ignore"):
        fx, fy = np.floor((x - x0) / cell), np.floor((y - y0) / cell)
        rows = np.flatnonzero((fx >= 0) & (fy >= 0) & (fy < ny))
    key = (fx[rows] * ny + fy[rows]).astype(np.int64)
    pos = np.minimum(np.searchsorted(cells.keys, key), len(cells.keys) - 1)
    stored = cells.keys[pos] == key
    rows, pos = rows[stored], pos[stored]
    start = cells.offsets[pos]
    count = cells.offsets[pos + 1] - start
    rows, start, count = rows[count > 0], start[count > 0], count[count > 0]
    if not len(rows):
        return owner, dist
    which = np.repeat(np.arange(len(rows)), count)
    seg = cells.cand[np.repeat(start - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))]
    # the STRtree's test first (cheap): the segment's envelope meets the box (x - tol, y - tol, x + tol, y + tol)
    px, py = x[rows], y[rows]
    lo_x, hi_x, lo_y, hi_y = _envelopes(cells)
    hit = lo_x[seg] <= (px + tol)[which]
    hit &= hi_x[seg] >= (px - tol)[which]
    hit &= lo_y[seg] <= (py + tol)[which]
    hit &= hi_y[seg] >= (py - tol)[which]
    which, seg = which[hit], seg[hit]
    d = geos_distance(px[which], py[which], cells.a[seg, 0], cells.a[seg, 1], cells.b[seg, 0], cells.b[seg, 1])
    keep = d <= tol
    which, seg, d = which[keep], seg[keep], d[keep]
    if not len(which):
        return owner, dist
    order = np.lexsort((cells.owner[seg], d, which))  # per point: the nearest, then the lowest owner
    first = order[np.concatenate([[True], which[order][1:] != which[order][:-1]])]
    owner[rows[which[first]]] = cells.owner[seg[first]]
    dist[rows[which[first]]] = d[first]
    return owner, dist


def _envelopes(cells: CellSegments) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each segment's envelope (min x, max x, min y, max y), computed once per process."""
    env = cells.__dict__.get("_envelopes")
    if env is None:
        env = (np.minimum(cells.a[:, 0], cells.b[:, 0]), np.maximum(cells.a[:, 0], cells.b[:, 0]),
               np.minimum(cells.a[:, 1], cells.b[:, 1]), np.maximum(cells.a[:, 1], cells.b[:, 1]))
        object.__setattr__(cells, "_envelopes", env)
    return env
