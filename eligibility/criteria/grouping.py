"""Contiguous groups of carreaux and their population-weighted medians, vectorised.

Grouping is a connected-components labelling of the graph whose nodes are the selected carreaux and
whose edges join grid neighbours (4-connectivity by default: a common side; 8 adds common corners).
Neighbour pairs are found by a sorted-key lookup (numpy searchsorted) and the components by
scipy.sparse.csgraph: no flood fill, no per-carreau Python loop.

Populations are handled as integer milli-inhabitants so that sums and cumulative sums are exact and do
not depend on row order (INSEE's `ind` has at most one decimal).
"""
from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..geography.carreaux import NEIGHBOUR_OFFSETS, check_connectivity

_OFF = np.int64(1 << 30)
MILLI = 1000


def grid_keys(easting: np.ndarray, northing: np.ndarray, size: int) -> np.ndarray:
    """One sortable int64 per carreau: column then row of the grid (orders by easting, then northing)."""
    gx = np.asarray(easting, dtype=np.int64) // size + _OFF
    gy = np.asarray(northing, dtype=np.int64) // size + _OFF
    return (gx << np.int64(32)) | gy


def label(keys: np.ndarray, connectivity: int = 4, zone: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Group ids (0..n-1) of carreaux given by their grid keys, and n.

    Two carreaux are in the same group when a chain of neighbours joins them; with `zone` (an int
    array), only neighbours of equal zone are joined (a quartier lies in one unité urbaine). Group ids
    are numbered by the smallest key of each group, so they do not depend on the row order.
    """
    m = len(keys)
    if m == 0:
        return np.zeros(0, dtype=np.int64), 0
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    rows, cols = [], []
    # each undirected edge once: the offsets pointing "forward" (right, up, and the two diagonals)
    forward = NEIGHBOUR_OFFSETS[check_connectivity(connectivity)]
    forward = forward[(forward[:, 0] > 0) | ((forward[:, 0] == 0) & (forward[:, 1] > 0))]
    for dx, dy in forward:  # 2 or 4 vectorised passes, not a loop over carreaux
        target = keys + (np.int64(dx) << np.int64(32)) + np.int64(dy)
        pos = np.searchsorted(sorted_keys, target)
        pos_c = np.minimum(pos, m - 1)
        hit = (pos < m) & (sorted_keys[pos_c] == target)
        i = np.flatnonzero(hit)
        j = order[pos_c[hit]]
        if zone is not None:
            same = zone[i] == zone[j]
            i, j = i[same], j[same]
        rows.append(i)
        cols.append(j)
    i = np.concatenate(rows)
    j = np.concatenate(cols)
    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(m, m)).tocsr()
    n, raw = connected_components(graph, directed=False)
    # renumber by each group's smallest key
    _, first = np.unique(raw[order], return_index=True)  # position of each group's smallest key
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(n)
    return rank[raw], int(n)


def to_milli(population: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(population, dtype=float) * MILLI).astype(np.int64)


def weighted_median(values: np.ndarray, weights_milli: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    """Lower population-weighted median of `values` in each group (NaN for a group without population).

    The median of group g is the smallest value v such that the population of its carreaux with a
    value <= v is at least half the group's population. It stands in for the median over individuals,
    which carreau data cannot give.
    """
    out = np.full(n, np.nan)
    if n == 0:
        return out
    order = np.lexsort((values, groups))
    v = values[order]
    cw = np.cumsum(weights_milli[order])                    # exact (integers)
    totals = np.bincount(groups, weights=None, minlength=n)  # carreaux per group
    end = np.cumsum(totals)                                  # one past each group's last index
    start = end - totals
    before = np.where(start > 0, cw[np.maximum(start - 1, 0)], 0)
    pop = cw[end - 1] - before
    half = before + (pop + 1) // 2                           # ceil(pop / 2) within the group
    pos = np.searchsorted(cw, half, side="left")
    pos = np.clip(pos, start, end - 1)
    ok = pop > 0
    out[ok] = v[pos[ok]]
    return out


def group_population_milli(weights_milli: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    """Exact population of each group, in milli-inhabitants (int64)."""
    # float64 sums of integers below 2**53 are exact, whatever the order
    return np.bincount(groups, weights=weights_milli.astype(float), minlength=n).astype(np.int64)
