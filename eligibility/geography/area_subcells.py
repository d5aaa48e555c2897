"""Sub-cells of the commune grids: each crossing cell (a commune boundary within it) split into SUB x SUB
sub-cells, each labelled with the commune that holds all of it, where one does.

A large batch reads the commune of most points from the stacked 200 m grids (`grid.StackedGrids`); about one
point in eight falls in a crossing cell and took the exact point-in-polygon tests, a fifth of a 100,000-row
chunk's time. Here most of them are answered by one more lookup.

Why a label holds for every point of its sub-cell: the sub-cell is a square (the commune grids are metric) of
centre c, every point p of it within h of c (half its diagonal, plus `_EPS_M` for rounding). With d the distance
from c to the nearest boundary of any commune, d > h means no boundary meets the segment c-p: p lies in exactly
the communes c lies in, and the exact test's answer (the lowest index among the communes holding the point) is
the same. Two such sub-cells side by side are a step of the side apart, under 2h: no boundary separates their
centres either, so one test per connected group of such sub-cells answers the whole group. Sub-cells whose
centre lies in no commune (the sea, a gap between simplified communes) stay unknown: the exact path snaps
those points to the nearest commune within a few metres, which depends on the point.

Storage as for the quartiers' sub-cells (`boundary_subcells`): per crossing cell a palette of up to 3 labels and
2 bits per sub-cell (0: unknown), in the order of the cells' positions in the stacked labels; a bit per position
says which are crossing cells, and a point's row is the count of those bits before its cell's (`StoredCells`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import shapely

from . import boundary_distance
from .boundary_subcells import StoredCells, labels_at, pack_labels
from .grid import CROSSING, StackedGrids

SUB = 8                  # sub-cells per side of a crossing cell: 25 m for the 200 m commune cells
LAYOUT = "area-subcells-3"  # 3: the lowest index where communes overlap (`index.lowest_per_point`)
_EPS_M = 0.01            # slack on distances (numpy's and GEOS's roundings are far below a centimetre)
_CELLS_PER_PASS = 4000   # crossing cells classified at a time while building (bounded memory)


@dataclass(frozen=True)
class AreaSubcells:
    sub: int
    cells: StoredCells   # which places of the stacked grids' labels are crossing cells, and their rows
    palette: np.ndarray  # int16 (cells, 3): local area index of codes 1, 2, 3
    codes: np.ndarray    # uint8 (cells, sub * sub // 4): 2 bits per sub-cell (fx * sub + fy), 0 = unknown

    def lookup(self, grids: StackedGrids, which: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Local area index of grid `which[i]` holding each point, or CROSSING (unknown: test exactly).
        `grids`: the grids the entry was built from."""
        out = np.full(len(x), CROSSING, np.int32)
        if not len(x) or not len(self.codes):
            return out
        pos, j = grids.cell_positions(which, x, y, self.sub)
        crossing, row = self.cells.rows(pos)
        out[crossing] = labels_at(self.palette, self.codes, row[crossing], j[crossing])
        return out

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"asub_params": np.array([self.sub], dtype=np.int64), "asub_masks": self.cells.masks,
                "asub_before": self.cells.before, "asub_palette": self.palette, "asub_codes": self.codes}

    @classmethod
    def from_arrays(cls, arrays) -> AreaSubcells:
        return cls(int(arrays["asub_params"][0]), StoredCells(arrays["asub_masks"], arrays["asub_before"]),
                   arrays["asub_palette"], arrays["asub_codes"])


def build(grids: StackedGrids, areas: Callable[[int], tuple[np.ndarray, Callable] | None], sub: int = SUB) -> AreaSubcells:
    """Split every crossing cell of `grids`. `areas(k)`: grid k's polygons (metric CRS) and its exact test
    `locate(x, y) -> local index or -1` without snapping (the exact path's own), or None (no areas)."""
    keys, palettes, codes = [], [], []
    for k in range(len(grids.params)):
        x0, y0, cell, _ = grids.params[k]
        ix0, iy0, cols, rows, offset = grids.blocks[k]
        if cols <= 0:
            continue
        local = np.flatnonzero(grids.labels[offset:offset + cols * rows] == CROSSING)
        given = areas(k) if len(local) else None
        if given is None:
            continue
        polygons, locate = given
        a, b, _ = boundary_distance.segments(shapely.boundary(polygons))
        tree = shapely.STRtree(shapely.linestrings(np.stack([a, b], axis=1))) if len(a) else None
        for at in range(0, len(local), _CELLS_PER_PASS):
            part = local[at:at + _CELLS_PER_PASS]
            lx = x0 + (ix0 + part // rows) * cell
            ly = y0 + (iy0 + part % rows) * cell
            labels = _labels(lx, ly, cell, sub, tree, a, b, locate)
            p, c = pack_labels(labels)
            keys.append(offset + part)
            palettes.append(p)
            codes.append(c)
    if not keys:
        keys, palettes, codes = [np.zeros(0, np.int64)], [np.zeros((0, 3), np.int16)], [np.zeros((0, sub * sub // 4), np.uint8)]
    keys, palette, code = np.concatenate(keys).astype(np.int64), np.concatenate(palettes), np.concatenate(codes)
    order = np.argsort(keys, kind="stable")
    return AreaSubcells(sub, StoredCells.at(keys[order], len(grids.labels)), palette[order], code[order])


def _labels(lx: np.ndarray, ly: np.ndarray, cell: float, sub: int, tree, a, b, locate) -> np.ndarray:
    """Labels (cells, sub * sub) of the sub-cells of the square cells with lower-left corners (lx, ly)."""
    m, k = len(lx), sub * sub
    side = cell / sub
    h = side * np.sqrt(0.5) + _EPS_M
    fx, fy = np.divmod(np.arange(k), sub)
    cx = lx[:, None] + (fx[None, :] + 0.5) * side
    cy = ly[:, None] + (fy[None, :] + 0.5) * side
    d = np.full((m, k), np.inf)
    if tree is not None:
        # segments within h of some centre meet the cell's box grown by h: the others cannot make d <= h
        ci, si = tree.query(shapely.box(lx - h, ly - h, lx + cell + h, ly + cell + h))
        if len(ci):
            order = np.argsort(ci, kind="stable")
            ci, si = ci[order], si[order]
            centre = np.stack([cx, cy], axis=2)
            dist = boundary_distance.point_segment_distance(centre[ci], a[si][:, None, :], b[si][:, None, :])
            cells, starts = np.unique(ci, return_index=True)
            d[cells] = np.minimum.reduceat(dist, starts, axis=0)
    clear = (d > h + _EPS_M).reshape(m, sub, sub)
    group = _groups(clear)  # (m, sub, sub): a group number per clear sub-cell, -1 elsewhere
    flat = group.reshape(m, k)
    cell_of, first = np.nonzero(flat == np.arange(k)[None, :])  # each group's first sub-cell numbers it
    out = np.full((m, k), CROSSING, np.int32)
    if len(cell_of):
        found = locate(cx[cell_of, first], cy[cell_of, first])
        rep = np.full((m, k), -1, np.int64)
        rep[cell_of, first] = found
        has = flat >= 0
        label = np.take_along_axis(rep, np.maximum(flat, 0), axis=1)
        out[has & (label >= 0)] = label[has & (label >= 0)]
    return out


def _groups(clear: np.ndarray) -> np.ndarray:
    """Connected groups (4-neighbours) of the True sub-cells of each cell: each gets the smallest sub-cell
    number fx * sub + fy of its group; False sub-cells -1. Minimum labels spread to the neighbours, and each
    sub-cell then takes its label's label (a group's labels fall fast along long paths), cells that changed
    only, until none does."""
    m, sub, _ = clear.shape
    k = sub * sub
    label = np.where(clear, np.arange(k).reshape(1, sub, sub), k)  # k: not clear (reads k below too)
    active = np.arange(m)
    while len(active):
        old, ok = label[active], clear[active]
        new = old.copy()
        np.minimum(new[:, 1:, :], old[:, :-1, :], out=new[:, 1:, :])
        np.minimum(new[:, :-1, :], old[:, 1:, :], out=new[:, :-1, :])
        np.minimum(new[:, :, 1:], old[:, :, :-1], out=new[:, :, 1:])
        np.minimum(new[:, :, :-1], old[:, :, 1:], out=new[:, :, :-1])
        new[~ok] = k
        flat = np.concatenate([new.reshape(len(active), k), np.full((len(active), 1), k)], axis=1)
        new = np.take_along_axis(flat, flat[:, :k], axis=1).reshape(old.shape)
        changed = (new != old).reshape(len(active), k).any(axis=1)
        label[active] = new
        active = active[changed]
    return np.where(clear, label, -1)
