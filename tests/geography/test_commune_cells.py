"""Communes of large batches come from the stacked grids of every département (`grid.StackedGrids`,
`index.commune_cells`); the answers must be exactly those of the exact tests (GEOS point-in-polygon
and the coast snap), including points exactly on a commune boundary and overseas."""
from __future__ import annotations

import datetime as dt

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.geography import grid, index, locate_points, territories

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
    """The exact test as it was written with point geometries (`shapely.intersects`): for each point, the first
    commune in the tree's order whose polygon touches it, -1 for none."""
    pts = shapely.points(x, y)
    pi, ai = ci.tree.query(pts)
    hit = shapely.intersects(ci.polygons[ai], pts[pi])
    out = np.full(len(x), -1, np.int64)
    out[pi[hit][::-1]] = ai[hit][::-1]
    return out


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
