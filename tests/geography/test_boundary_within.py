"""The quartier boundary nearest within a tolerance from the boundary cells (`boundary_within`) equals the
STRtree path (`QuartierIndex.boundaries_within`: envelope query, GEOS distances), bit for bit."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.geography import boundary_distance, boundary_within, index

METRO = index.quartier_index("qp2024", "metropole")
OCCITANIE = index.quartier_index("qp2015_occitanie", "metropole")


def _by_tree(qi: index.QuartierIndex, x: np.ndarray, y: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """(quartier, distance) of the nearest boundary within tol, ties to the lowest quartier, from the STRtree."""
    owner, dist = np.full(len(x), -1, np.int64), np.full(len(x), np.nan)
    ni, nq, d = qi.boundaries_within(shapely.points(x, y), tol)
    order = np.lexsort((nq, d, ni))
    first = order[np.concatenate([[True], ni[order][1:] != ni[order][:-1]])] if len(order) else order
    owner[ni[first]], dist[ni[first]] = nq[first], d[first]
    return owner, dist


def _near_segments(qi: index.QuartierIndex, rng, n: int, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Points on boundary vertices, on segments, and moved from them by exactly tol (along the segment's
    normal, so at tol up to rounding), by distances around tol, or by a few metres in any direction."""
    a, b = qi.boundary_cells.a, qi.boundary_cells.b
    k = rng.integers(0, len(a), n)
    t = rng.uniform(0, 1, n)
    t[: n // 4] = 0.0  # vertices
    on = a[k] + t[:, None] * (b[k] - a[k])
    seg = b[k] - a[k]
    length = np.hypot(seg[:, 0], seg[:, 1])
    normal = np.stack([-seg[:, 1], seg[:, 0]], axis=1) / np.where(length > 0, length, 1.0)[:, None]
    away = rng.choice([0.0, tol, -tol, np.nextafter(tol, 0), np.nextafter(tol, 99), tol + 1e-9, 0.5 * tol, 3.0], n)
    p = on + away[:, None] * normal
    p[: n // 8] += rng.normal(0, max(tol, 1.0), (n // 8, 2))
    return p[:, 0].copy(), p[:, 1].copy()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), tol=st.sampled_from([0.0, 1.0, 5.0, 15.0, 25.0, 100.0]),
       which=st.sampled_from(["qp2024", "qp2015_occitanie"]))
def test_property_cells_give_the_trees_nearest_boundary_within_tolerance(seed, tol, which):
    qi = METRO if which == "qp2024" else OCCITANIE
    cells = qi.boundary_cells
    assert boundary_within.reaches(cells, tol)
    x, y = _near_segments(qi, np.random.default_rng(seed), 400, tol)
    got_q, got_d = boundary_within.nearest_within(cells, x, y, tol)
    want_q, want_d = _by_tree(qi, x, y, tol)
    np.testing.assert_array_equal(got_q, want_q)
    np.testing.assert_array_equal(got_d, want_d)  # same bits (NaN where none)
    if tol >= 1.0:
        assert (got_q >= 0).sum() > 100 and (got_q < 0).sum() > 0  # both answers really occur


def test_points_far_from_every_boundary_and_outside_the_cells():
    cells = METRO.boundary_cells
    x0, y0, cell, ny = cells.meta
    x = np.array([x0 - 5_000.0, x0 + 10.0, 1.0e6, 650_000.0, np.nan])
    y = np.array([y0 + 10.0, y0 - 5_000.0, 1.0e7, 6_100_000.0, 6_800_000.0])
    q, d = boundary_within.nearest_within(cells, x, y, 15.0)
    want_q, _ = _by_tree(METRO, x[:4], y[:4], 15.0)
    np.testing.assert_array_equal(q[:4], want_q)
    assert q[4] == -1 and np.isnan(d[4])


@pytest.mark.parametrize("order", [(0, 1, 2), (1, 0, 2), (2, 1, 0), (1, 2, 0)])
def test_equal_distances_go_to_the_lowest_quartier(order):
    """Two quartiers sharing an edge, and a third's boundary as far on the other side: points on the shared
    edge (distance 0 to both) and points halfway between two boundaries get the lowest index, as on the tree
    path."""
    squares = [shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100), shapely.box(0, 130, 200, 230)]
    polys = np.array([squares[k] for k in order], dtype=object)  # order[i]: the square at local index i
    bounds = shapely.boundary(polys)
    cells = boundary_distance.CellSegments.from_arrays(boundary_distance.build(bounds))
    qi = index.QuartierIndex("synthetic", index.ZONE_BY_NAME["metropole"], np.arange(3), polys, bounds, None,
                             exact_by_cells=False)
    x = np.array([100.0, 100.0, 100.0, 50.0, 150.0, 100.0 + 1e-9, 100.0])
    y = np.array([0.0, 50.0, 100.0, 115.0, 115.0, 50.0, 115.0])
    for tol in (0.0, 15.0, 20.0):
        got_q, got_d = boundary_within.nearest_within(cells, x, y, tol)
        np.testing.assert_array_equal(got_q, qi.nearest_within(x, y, tol))
        np.testing.assert_array_equal(got_q, _by_tree(qi, x, y, tol)[0])
    got_q, _ = boundary_within.nearest_within(cells, x, y, 15.0)
    at = {k: i for i, k in enumerate(order)}
    assert got_q[:3].tolist() == [min(at[0], at[1])] * 3  # on the shared edge: the lowest of the two indexes
    assert got_q[3] == min(at[0], at[2]) and got_q[4] == min(at[1], at[2])  # 15 m from a top and the third's bottom


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), scale=st.sampled_from([1e-3, 1.0, 50.0, 5_000.0]))
def test_property_geos_distance_is_shapelys_to_the_bit(seed, scale):
    rng = np.random.default_rng(seed)
    n = 3_000
    a = rng.uniform(600_000, 700_000, (n, 2))
    b = a + rng.normal(0, scale, (n, 2))
    b[:100] = a[:100]  # degenerate segments: a point
    b[100:200, 0] = a[100:200, 0]  # vertical, horizontal
    b[200:300, 1] = a[200:300, 1]
    t = rng.uniform(-0.5, 1.5, n)
    p = a + t[:, None] * (b - a) + rng.normal(0, scale, (n, 2)) * rng.choice([0.0, 1e-9, 1.0], (n, 1))
    p[300:400] = np.round(p[300:400], 1)
    got = boundary_within.geos_distance(p[:, 0], p[:, 1], a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    lines = np.where(np.all(a == b, axis=1), shapely.points(a), shapely.linestrings(np.stack([a, b], axis=1)))
    np.testing.assert_array_equal(got, shapely.distance(shapely.points(p), lines))


def test_quartier_index_answers_by_cells_only_when_allowed(monkeypatch):
    x, y = _near_segments(METRO, np.random.default_rng(3), 2_000, 15.0)
    calls = []
    real = boundary_within.nearest_within
    monkeypatch.setattr(boundary_within, "nearest_within", lambda *a: calls.append(1) or real(*a))
    tree_only = dataclasses.replace(METRO, exact_by_cells=False).nearest_within(x, y, 15.0)
    assert not calls
    np.testing.assert_array_equal(METRO.nearest_within(x, y, 15.0), tree_only)  # 2,000 points: by the cells
    assert calls and (tree_only >= 0).sum() > 500
