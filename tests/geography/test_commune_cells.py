"""Communes of large batches come from the stacked grids of every département (`grid.StackedGrids`,
`index.commune_cells`) and the sub-cells of their crossing cells (`area_subcells`); the answers must be exactly
those of the exact tests (GEOS point-in-polygon and the coast snap), including points exactly on a commune
boundary and overseas. A labelled sub-cell gives the exact test's commune for every point in it, its groups are
the connected ones, and the sub-cells answer most points of the crossing cells."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.errors import DataIntegrityError
from eligibility.geography import area_subcells, grid, index, locate_points, territories
from eligibility.geography.area_subcells import _groups

DAY = dt.date(2025, 6, 1)


def _polygons(seed: int) -> np.ndarray:
    """A few squares side by side (shared edges), one overlapping pair, one star-shaped polygon."""
    rng = np.random.default_rng(seed)
    size = rng.uniform(300, 900)
    squares = [shapely.box(i * size, 0, (i + 1) * size, size) for i in range(3)]
    squares.append(shapely.box(size * 0.5, size * 0.5, size * 1.5, size * 1.5))  # overlaps two of them
    angles = np.sort(rng.uniform(0, 2 * np.pi, 12))
    r = rng.uniform(100, 500, 12)
    star = shapely.polygons(np.column_stack([3000 + r * np.cos(angles), 500 + r * np.sin(angles)]))
    return np.array(squares + [star], dtype=object)


@settings(max_examples=25, deadline=None)
@given(seeds=st.lists(st.integers(0, 2**16), min_size=1, max_size=4), cell=st.sampled_from([50.0, 100.0, 200.0]),
       none_at=st.integers(0, 4))
def test_stacked_grids_answer_as_each_grid(seeds, cell, none_at):
    grids = [grid.build(p, shapely.boundary(p), cell=cell, margin=0.0) for p in map(_polygons, seeds)]
    grids.insert(min(none_at, len(grids)), None)  # a département without communes
    stacked = grid.StackedGrids.stack(grids)
    rng = np.random.default_rng(seeds[0])
    n = 5_000
    which = rng.integers(-1, len(grids), n)
    x, y = rng.uniform(-500, 4_000, n), rng.uniform(-500, 1_500, n)
    x[:200] = np.round(x[:200] / cell) * cell  # exactly on cell edges
    y[200:400] = np.round(y[200:400] / cell) * cell
    x[400:410] = np.nan
    got = stacked.lookup(which, x, y)
    for k, g in enumerate(grids):
        rows = np.flatnonzero(which == k)
        want = g.lookup(x[rows], y[rows]) if g is not None else np.full(len(rows), grid.CROSSING)
        np.testing.assert_array_equal(got[rows], want)
    assert (got[which < 0] == grid.CROSSING).all()


def _exact_communes(res) -> np.ndarray:
    """The reference: each point's commune by the exact tests alone, département by département."""
    out = np.full(len(res), None, dtype=object)
    deps = territories.dep_table()[0]
    for d in np.unique(res.dep_idx[res.dep_idx >= 0]):
        rows = np.flatnonzero(res.dep_idx == d)
        ci = index.commune_index(deps[d])
        if ci is None:
            continue
        k = ci.locate_exactly(res.x[rows], res.y[rows])
        out[rows[k >= 0]] = ci.labels[0][k[k >= 0]]
    return out


def _boundary_points(dep: str, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Commune polygon vertices (exactly on a boundary), edge midpoints, and points within 30 m."""
    xy = shapely.get_coordinates(index.commune_index(dep).polygons)
    k = rng.integers(0, len(xy) - 1, n)
    mid = (xy[k] + xy[k + 1]) / 2
    pick = rng.integers(0, 3, n)
    pts = np.where((pick == 0)[:, None], xy[k], np.where((pick == 1)[:, None], mid, xy[k] + rng.normal(0, 30, (n, 2))))
    return pts[:, 0], pts[:, 1]


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**16), deps=st.lists(st.sampled_from(["13", "59", "75", "92", "2A", "40"]), min_size=1, max_size=3))
def test_large_batch_communes_are_the_exact_ones_on_boundaries(seed, deps):
    rng = np.random.default_rng(seed)
    parts = [_boundary_points(d, 2_500, rng) for d in deps]
    x, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    res = locate_points(x, y, DAY, crs="EPSG:2154")  # Lambert-93 as given: the vertices stay exact
    assert len(res) >= index.SMALL_BATCH  # the stacked grids answer
    np.testing.assert_array_equal(res.commune_code, _exact_communes(res))


def test_large_batch_communes_overseas_and_off_the_coasts():
    rng = np.random.default_rng(7)
    lon, lat = [], []
    for zone in territories.ZONES:  # every zone's box: coasts, sea (snapped or none), overseas communes
        x0, y0, x1, y1 = zone.bbox
        lon.append(rng.uniform(x0, x1, 1_500))
        lat.append(rng.uniform(y0, y1, 1_500))
    res = locate_points(np.concatenate(lon), np.concatenate(lat), DAY)
    assert {"971", "972", "973", "974", "976"} <= set(res.departement)
    got, want = res.commune_code, _exact_communes(res)
    has_contours = res.zone >= 0
    has_contours[has_contours] = [territories.ZONES[z].has_contours for z in res.zone[has_contours]]
    np.testing.assert_array_equal(got[has_contours], want[has_contours])
    assert np.equal(got[has_contours], None).mean() < 0.9  # most points of a box are in some commune


def _intersecting_with_point_objects(ci, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The exact test with point geometries (`shapely.intersects`): for each point, the lowest commune whose
    polygon touches it, -1 for none."""
    pts = shapely.points(x, y)
    pi, ai = shapely.STRtree(ci.polygons).query(pts)
    hit = shapely.intersects(ci.polygons[ai], pts[pi])
    return _lowest(len(x), pi[hit], ai[hit])


def _lowest(n: int, points: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """Per point, the lowest of its areas (-1: none), by `np.minimum.at` (not the engine's own function)."""
    out = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(out, points, areas)
    return np.where(out == np.iinfo(np.int64).max, -1, out)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**16), dep=st.sampled_from(["13", "59", "75", "92", "2A", "40", "971", "974"]))
def test_exact_tests_from_coordinates_are_the_point_object_tests(seed, dep):
    """`AreaIndex.locate_exactly` tests the coordinates (`intersects_xy`): the same communes as the test with
    point objects, on commune vertices and edge midpoints (exactly on boundaries shared by two communes: the
    same one wins) and points within 30 m."""
    rng = np.random.default_rng(seed)
    x, y = _boundary_points(dep, 3_000, rng)
    ci = index.commune_index(dep)
    np.testing.assert_array_equal(ci.locate_exactly(x, y, snap_m=0.0), _intersecting_with_point_objects(ci, x, y))


def _exact(polygons):
    """The exact path's test without snapping: the lowest index among the polygons holding the point, else -1."""
    tree = shapely.STRtree(polygons)

    def locate(x, y):
        pi, ai = tree.query(shapely.points(x, y))
        hit = shapely.intersects_xy(polygons[ai], x[pi], y[pi])
        return _lowest(len(x), pi[hit], ai[hit])
    return locate


@settings(max_examples=20, deadline=None)
@given(seeds=st.lists(st.integers(0, 2**16), min_size=1, max_size=3), cell=st.sampled_from([50.0, 100.0, 200.0]),
       sub=st.sampled_from([4, 8]))
def test_a_labelled_sub_cell_holds_the_exact_answer_for_every_point(seeds, cell, sub):
    sets = [_polygons(s) for s in seeds]
    grids = [grid.build(p, shapely.boundary(p), cell=cell, margin=0.0) for p in sets]
    stacked = grid.StackedGrids.stack(grids)
    subcells = area_subcells.build(stacked, lambda k: (sets[k], _exact(sets[k])), sub=sub)
    rng = np.random.default_rng(seeds[0])
    n = 20_000
    which = rng.integers(0, len(grids), n)
    x, y = rng.uniform(-500, 4_000, n), rng.uniform(-500, 1_500, n)
    # and points on and next to the edges: the boundary crosses these sub-cells
    edges = shapely.get_coordinates(shapely.boundary(sets[0]))
    k = rng.integers(0, len(edges), 2_000)
    x[:2_000], y[:2_000], which[:2_000] = edges[k, 0] + rng.normal(0, 3, 2_000), edges[k, 1], 0
    crossing = np.flatnonzero(stacked.lookup(which, x, y) == grid.CROSSING)
    got = subcells.lookup(stacked, which[crossing], x[crossing], y[crossing])
    want = np.full(len(crossing), -1)
    for g in range(len(sets)):
        rows = np.flatnonzero(which[crossing] == g)
        want[rows] = _exact(sets[g])(x[crossing[rows]], y[crossing[rows]])
    known = got != grid.CROSSING
    np.testing.assert_array_equal(got[known], want[known])
    assert (got[known] >= 0).all()  # a point in no polygon is never labelled (the exact path snaps it)
    # most points of crossing cells that are in some polygon are answered here (not those put next to edges)
    spread = (crossing >= 2_000) & (want >= 0)
    # (at least 45% over 200 seeds with the coarsest sub-cells, 4 per 200 m cell, on squares of ~300 m)
    assert known[spread].mean() > 0.4


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 8), st.floats(0.2, 0.9))
def test_groups_are_the_connected_sub_cells(seed, sub, density):
    rng = np.random.default_rng(seed)
    clear = rng.random((5, sub, sub)) < density
    got = _groups(clear)
    for c in range(len(clear)):  # reference: a flood fill from each unvisited clear sub-cell, in number order
        want = np.full((sub, sub), -1)
        for start in range(sub * sub):
            sx, sy = divmod(start, sub)
            if not clear[c, sx, sy] or want[sx, sy] >= 0:
                continue
            stack = [(sx, sy)]
            while stack:
                i, j = stack.pop()
                if 0 <= i < sub and 0 <= j < sub and clear[c, i, j] and want[i, j] < 0:
                    want[i, j] = start
                    stack += [(i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)]
        np.testing.assert_array_equal(got[c], want)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), cell=st.sampled_from([50.0, 200.0]), sub=st.sampled_from([4, 8, 16]))
def test_cell_positions_are_those_of_the_lookup(seed, cell, sub):
    sets = [_polygons(seed), _polygons(seed + 1)]
    stacked = grid.StackedGrids.stack([grid.build(p, shapely.boundary(p), cell=cell, margin=0.0) for p in sets])
    rng = np.random.default_rng(seed)
    n = 3_000
    which = rng.integers(-1, 2, n)
    x, y = rng.uniform(-500, 4_000, n), rng.uniform(-500, 1_500, n)
    x[:300] = np.round(x[:300] / cell) * cell  # on cell edges
    pos, j = stacked.cell_positions(which, x, y, sub)
    inside = pos >= 0
    np.testing.assert_array_equal(stacked.labels[pos[inside]], stacked.lookup(which[inside], x[inside], y[inside]))
    assert ((j >= 0) & (j < sub * sub)).all()
    # the sub-cell is where the point is: its fx, fy from the cell's lower-left corner
    w = which[inside]
    x0, y0 = stacked.params[w, 0], stacked.params[w, 1]
    fx, fy = np.divmod(j[inside], sub)
    tx = (x[inside] - x0) / cell
    ty = (y[inside] - y0) / cell
    assert (np.abs((tx - np.floor(tx)) * sub - fx - 0.5) <= 0.5 + 1e-9).all()
    assert (np.abs((ty - np.floor(ty)) * sub - fy - 0.5) <= 0.5 + 1e-9).all()


def test_the_communes_sub_cells_answer_most_points_of_crossing_cells():
    """On the bundled communes: points on and near commune boundaries get the exact test's commune wherever a
    sub-cell answers; and of points spread over a département that fall in crossing cells (the exact tests took
    them all before), the sub-cells answer most."""
    rng = np.random.default_rng(3)
    cells, subcells = index.commune_cells(), index.commune_subcells()
    deps = territories.dep_table()[0]
    for dep in ("75", "13", "2A"):
        ci = index.commune_index(dep)
        bx, by = _boundary_points(dep, 4_000, rng)
        x0, y0, x1, y1 = shapely.total_bounds(ci.polygons)
        x = np.concatenate([bx, rng.uniform(x0, x1, 40_000)])
        y = np.concatenate([by, rng.uniform(y0, y1, 40_000)])
        d = np.full(len(x), int(np.flatnonzero(deps == dep)[0]))
        crossing = np.flatnonzero(cells.grids.lookup(d, x, y) == grid.CROSSING)
        got = subcells.lookup(cells.grids, d[crossing], x[crossing], y[crossing])
        want = ci.locate_exactly(x[crossing], y[crossing], snap_m=0.0)
        known = got != grid.CROSSING
        np.testing.assert_array_equal(got[known], want[known])
        spread = (crossing >= len(bx)) & (want >= 0)
        assert spread.sum() > 100 and known[spread].mean() > 0.6, dep


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), cell=st.sampled_from([50.0, 100.0, 200.0]))
def test_a_few_points_searched_directly_read_as_in_a_large_batch_through_the_tile_mask(seed, cell):
    """`Grid.lookup` skips its tile mask for fewer than TILES_FROM points (a one-point warm-up no longer builds it):
    the same labels, point by point, as the lookup of a large batch through the mask."""
    polygons = _polygons(seed)
    rng = np.random.default_rng(seed)
    n = grid.TILES_FROM + 1_000
    x, y = rng.uniform(-2_000, 6_000, n), rng.uniform(-2_000, 3_000, n)
    x[:300] = np.round(x[:300] / cell) * cell  # on cell edges
    x[300:310] = np.nan
    few = grid.build(polygons, shapely.boundary(polygons), cell=cell, margin=0.0)
    many = grid.build(polygons, shapely.boundary(polygons), cell=cell, margin=0.0)
    direct = np.concatenate([few.lookup(x[s:s + 500], y[s:s + 500]) for s in range(0, n, 500)])
    assert "_tile_mask" not in few.__dict__
    np.testing.assert_array_equal(direct, many.lookup(x, y))
    assert "_tile_mask" in many.__dict__
    assert {grid.CLEAR, grid.CROSSING} <= set(direct.tolist())  # not a run of empty cells only


def test_sub_cells_built_over_other_grids_are_refused(monkeypatch):
    """The sub-cells find a point's row by its cell's position in the stacked grids: an entry whose grids are not
    the loaded ones (another layout) is refused with a French message, never read with shifted rows."""
    import dataclasses

    import pytest

    from eligibility.errors import DataIntegrityError

    cells = index.commune_cells()
    other = dataclasses.replace(cells, grids=dataclasses.replace(cells.grids, labels=cells.grids.labels[:-64]))
    monkeypatch.setattr(index, "commune_cells", lambda: other)
    index.commune_subcells.cache_clear()
    try:
        with pytest.raises(DataIntegrityError, match="qpv data prepare"):
            index.commune_subcells()
    finally:
        index.commune_subcells.cache_clear()


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**16), deps=st.lists(st.sampled_from(["13", "59", "75", "2A", "40", "974"]), min_size=2, max_size=4))
def test_every_communes_polygons_in_one_query_answer_as_each_departements_index(seed, deps):
    """`commune_polygons().locate_exactly` (one tree of every commune's envelope, one call for the points of many
    départements) against each département's own exact tests: on shared vertices, edges, nearby points and
    points off the coast (the snap)."""
    rng = np.random.default_rng(seed)
    positions = {d: i for i, d in enumerate(territories.dep_table()[0])}
    parts = [_boundary_points(d, 800, rng) for d in deps]
    dep = np.concatenate([np.full(len(p[0]), positions[d]) for d, p in zip(deps, parts)])
    x, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    x, y = x + rng.choice([0.0, 0.0, 150.0], len(x)), y  # some moved off the coasts and borders
    got = index.commune_polygons().locate_exactly(dep, x, y)
    want = np.full(len(x), -1)
    for d in deps:
        rows = np.flatnonzero(dep == positions[d])
        want[rows] = index.commune_index(d).locate_exactly(x[rows], y[rows])
    np.testing.assert_array_equal(got, want)
    assert (got >= 0).mean() > 0.9


def test_stacked_polygons_of_another_commune_table_are_refused(monkeypatch):
    """An entry whose communes are not those of the loaded commune grids is refused, never read shifted."""
    cells = index.commune_cells()
    short = index.CommuneCells(cells.grids, cells.first - np.minimum(cells.first, 1), cells.codes, cells.names)
    index.commune_polygons.cache_clear()
    monkeypatch.setattr(index, "commune_cells", lambda: short)
    try:
        with pytest.raises(DataIntegrityError, match="contours des communes"):
            index.commune_polygons()
    finally:
        index.commune_polygons.cache_clear()
