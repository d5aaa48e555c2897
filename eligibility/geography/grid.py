"""Acceleration grid: most points are answered by one array lookup instead of a geometric test.

Square cells (in a metric CRS) are classified once against a set of polygons:
- CLEAR (not stored): no polygon boundary within `margin` of the cell, and the cell is in no polygon;
- a polygon index k >= 0: no boundary within `margin`, and the whole cell lies inside polygon k;
- CROSSING: some boundary passes within `margin` of the cell (or polygons overlap there).
A point in a CLEAR or labelled cell is therefore farther than `margin` from every boundary, and its
containing polygon is known exactly; only points in CROSSING cells need the exact test. The answers
are identical to the exact path by construction (tests check it on random points).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

CLEAR = -1
CROSSING = -2
TILE = 32  # cells per side of the blocks of the dense "anything here?" mask
TILES_FROM = 5000  # fewer points search the keys directly (the same answers): a batch's one-point warm-up of the
                   # metric grids made the masks of two large grids, ~19 ms before its workers started


def boundary_pieces(boundaries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boundaries cut into 2-point segments (points stay points), with the index of their boundary.

    Small pieces make tree queries (intersects, nearest) cheap: each candidate costs O(1).
    """
    parts, owner = shapely.get_parts(boundaries, return_index=True)
    sub, sub_owner = shapely.get_parts(parts, return_index=True)
    owner = owner[sub_owner]
    kind = shapely.get_type_id(sub)
    lines, line_owner = sub[kind == 1], owner[kind == 1]
    xy, line_idx = shapely.get_coordinates(lines, return_index=True)
    starts = np.flatnonzero(line_idx[1:] == line_idx[:-1])
    seg = shapely.linestrings(np.stack([xy[starts], xy[starts + 1]], axis=1))
    return np.concatenate([seg, sub[kind == 0]]), np.concatenate([line_owner[line_idx[starts]], owner[kind == 0]])


@dataclass(frozen=True)
class Grid:
    x0: float
    y0: float
    cell: float
    margin: float
    ny: int
    keys: np.ndarray    # int64, sorted: ix * ny + iy of every stored cell
    labels: np.ndarray  # int32: polygon index, or CROSSING

    def _tiles(self) -> tuple[np.ndarray, int]:
        """Dense mask of TILE x TILE blocks holding at least one stored cell (points elsewhere are CLEAR)."""
        cached = self.__dict__.get("_tile_mask")
        if cached is None:
            ix, iy = self.keys // self.ny, self.keys % self.ny
            nty = int(self.ny // TILE + 1)
            ntx = int(ix.max() // TILE + 1) if len(ix) else 1
            mask = np.zeros(ntx * nty, dtype=bool)
            mask[(ix // TILE) * nty + iy // TILE] = True
            cached = (mask, nty)
            object.__setattr__(self, "_tile_mask", cached)
        return cached

    def lookup(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """CLEAR, CROSSING or the polygon index for each point (vectorised)."""
        out = np.full(len(x), CLEAR, dtype=np.int32)
        if not len(self.keys):
            return out
        ix = np.floor((np.asarray(x) - self.x0) / self.cell)
        iy = np.floor((np.asarray(y) - self.y0) / self.cell)
        ok = (ix >= 0) & (iy >= 0) & (iy < self.ny) & np.isfinite(ix) & np.isfinite(iy)
        ix = np.where(ok, ix, 0).astype(np.int64)
        iy = np.where(ok, iy, 0).astype(np.int64)
        if len(x) >= TILES_FROM or "_tile_mask" in self.__dict__:  # the mask costs a pass over every key, once
            mask, nty = self._tiles()
            tile = (ix // TILE) * nty + iy // TILE
            ok &= tile < len(mask)
            ok[ok] = mask[tile[ok]]
        sel = np.flatnonzero(ok)
        k = ix[sel] * self.ny + iy[sel]
        pos = np.minimum(np.searchsorted(self.keys, k), len(self.keys) - 1)
        found = self.keys[pos] == k
        out[sel[found]] = self.labels[pos[found]]
        return out

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}_params": np.array([self.x0, self.y0, self.cell, self.margin, self.ny], dtype=float),
                f"{prefix}_keys": self.keys, f"{prefix}_labels": self.labels}

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> Grid:
        x0, y0, cell, margin, ny = arrays[f"{prefix}_params"]
        return cls(float(x0), float(y0), float(cell), float(margin), int(ny), arrays[f"{prefix}_keys"], arrays[f"{prefix}_labels"])


def _candidate_cells(polygons: np.ndarray, boundaries: np.ndarray, cell: float, reach: float, x0: float, y0: float):
    """(ix, iy) of every cell meeting some polygon's (or lone boundary point's) box grown by `reach`."""
    b = shapely.bounds(np.where(shapely.is_empty(polygons), boundaries, polygons))
    lo_x = np.floor((b[:, 0] - reach - x0) / cell).astype(np.int64)
    hi_x = np.floor((b[:, 2] + reach - x0) / cell).astype(np.int64)
    lo_y = np.floor((b[:, 1] - reach - y0) / cell).astype(np.int64)
    hi_y = np.floor((b[:, 3] + reach - y0) / cell).astype(np.int64)
    nx, ny = hi_x - lo_x + 1, hi_y - lo_y + 1
    counts = nx * ny
    owner = np.repeat(np.arange(len(b)), counts)
    local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return lo_x[owner] + local // ny[owner], lo_y[owner] + local % ny[owner]


def build(polygons: np.ndarray, boundaries: np.ndarray, *, cell: float, margin: float) -> Grid:
    """Classify the cells around `polygons` (metric CRS). `boundaries[k]` is polygon k's boundary."""
    allb = shapely.total_bounds(np.concatenate([polygons[~shapely.is_empty(polygons)], boundaries]))
    x0 = np.floor((allb[0] - margin - 2 * cell) / cell) * cell
    y0 = np.floor((allb[1] - margin - 2 * cell) / cell) * cell
    ny = int(np.ceil((allb[3] + margin + 2 * cell - y0) / cell)) + 1
    ix, iy = _candidate_cells(polygons, boundaries, cell, margin + cell, x0, y0)
    keys = np.unique(ix * ny + iy)
    ix, iy = keys // ny, keys % ny
    cx0, cy0 = x0 + ix * cell, y0 + iy * cell
    grown = shapely.box(cx0 - margin, cy0 - margin, cx0 + cell + margin, cy0 + cell + margin)
    pieces, _ = boundary_pieces(boundaries)
    hit_cell, _ = shapely.STRtree(pieces).query(grown, predicate="intersects")
    crossing = np.zeros(len(keys), dtype=bool)
    crossing[hit_cell] = True
    labels = np.full(len(keys), CLEAR, dtype=np.int32)
    labels[crossing] = CROSSING
    quiet = np.flatnonzero(~crossing)
    centres = shapely.points(cx0[quiet] + cell / 2, cy0[quiet] + cell / 2)
    shapely.prepare(polygons)  # big polygons (départements): prepared tests are many times faster
    c_idx, p_idx = shapely.STRtree(polygons).query(centres)
    hit = shapely.intersects(polygons[p_idx], centres[c_idx])
    c_idx, p_idx = c_idx[hit], p_idx[hit]
    n_hits = np.bincount(c_idx, minlength=len(quiet))
    labels[quiet[c_idx]] = p_idx
    labels[quiet[n_hits > 1]] = CROSSING  # overlapping polygons: let the exact test decide
    keep = labels != CLEAR
    return Grid(float(x0), float(y0), float(cell), float(margin), ny, keys[keep], labels[keep].astype(np.int32))


@dataclass(frozen=True)
class StackedGrids:
    """Several grids (one per département) as dense blocks of labels in one array, so that one vectorised
    lookup answers points of any of them: where `Grid.lookup` searches sorted keys grid by grid, a point
    here costs a few gathers. Grid k's block covers the box of its stored cells; a point outside the block,
    or in a cell the grid does not store, is CLEAR, as in `Grid.lookup` (same arithmetic, same answers).
    A point of no grid (which < 0, or a grid given as None) reads CROSSING: the caller tests it exactly."""

    params: np.ndarray   # (m, 4) float: x0, y0, cell, ny of each grid (as in `Grid`)
    blocks: np.ndarray   # (m, 5) int64: first ix, first iy, columns, rows of the block, offset in `labels`
    labels: np.ndarray   # int16: block k column-major, labels[offset + (ix - ix0) * rows + (iy - iy0)]

    @classmethod
    def stack(cls, grids: list[Grid | None]) -> StackedGrids:
        params = np.zeros((len(grids), 4))
        blocks = np.zeros((len(grids), 5), np.int64)
        parts, offset = [], 0
        for k, g in enumerate(grids):
            blocks[k, 4] = offset
            if g is None:
                params[k] = (0.0, 0.0, 1.0, 0.0)  # ny = 0: no point is ever in this grid
                blocks[k, 2:4] = -1  # marks "no grid": CROSSING
                continue
            if len(g.labels) and (g.labels.max() > np.iinfo(np.int16).max):
                raise ValueError("more areas than int16 labels can hold")
            params[k] = (g.x0, g.y0, g.cell, g.ny)
            if not len(g.keys):
                continue
            ix, iy = g.keys // g.ny, g.keys % g.ny
            ix0, iy0 = ix.min(), iy.min()
            cols, rows = ix.max() - ix0 + 1, iy.max() - iy0 + 1
            block = np.full(cols * rows, CLEAR, np.int16)
            block[(ix - ix0) * rows + (iy - iy0)] = g.labels
            blocks[k, :4] = (ix0, iy0, cols, rows)
            parts.append(block)
            offset += len(block)
        labels = np.concatenate(parts) if parts else np.zeros(0, np.int16)
        return cls(params, blocks, labels)

    def lookup(self, which: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """CLEAR, CROSSING or the polygon index of grid `which[i]` for each point i (vectorised)."""
        some, cols, inside, pos, _ = self._place(which, x, y)
        out = np.where(inside, self.labels[np.minimum(pos, max(len(self.labels) - 1, 0))] if len(self.labels)
                       else np.int16(CLEAR), np.int16(CLEAR)).astype(np.int32)
        out[~some | (cols < 0)] = CROSSING
        return out

    def cell_positions(self, which: np.ndarray, x: np.ndarray, y: np.ndarray, sub: int) -> tuple[np.ndarray, np.ndarray]:
        """(position in `labels` of each point's cell, -1 outside its grid's block; its sub-cell fx * sub + fy
        when cells are split into sub x sub), by `lookup`'s arithmetic."""
        some, cols, inside, pos, (tx, ty) = self._place(which, x, y)
        inside &= some & (cols >= 0)
        with np.errstate(invalid="ignore"):
            fx = np.minimum(np.floor((tx - np.floor(tx)) * sub), sub - 1)
            fy = np.minimum(np.floor((ty - np.floor(ty)) * sub), sub - 1)
        j = np.where(inside, fx * sub + fy, 0).astype(np.int64)
        return np.where(inside, pos, -1), j

    def _place(self, which, x, y):
        """(has a grid, its block's columns, inside its block, position in `labels`, (x, y) in cells of the grid)."""
        which = np.asarray(which, dtype=np.int64)
        some = which >= 0
        w = np.where(some, which, 0)
        x0, y0, cell, ny = (self.params[w, j] for j in range(4))
        ix0, iy0, cols, rows, offset = (self.blocks[w, j] for j in range(5))
        with np.errstate(invalid="ignore"):
            tx = (np.asarray(x, dtype=float) - x0) / cell  # the arithmetic of `Grid.lookup`
            ty = (np.asarray(y, dtype=float) - y0) / cell
            ix = np.floor(tx) - ix0
            iy = np.floor(ty) - iy0
            inside = (ix >= 0) & (iy >= 0) & (ix < cols) & (iy < rows)  # NaN compares False
        pos = offset + np.where(inside, ix * rows + iy, 0).astype(np.int64)
        return some, cols, inside, pos, (tx, ty)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}_params": self.params, f"{prefix}_blocks": self.blocks, f"{prefix}_labels": self.labels}

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> StackedGrids:
        return cls(arrays[f"{prefix}_params"], arrays[f"{prefix}_blocks"], arrays[f"{prefix}_labels"])
