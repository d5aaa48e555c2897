"""Where a point lies in two areas (on an edge communes share, in two overlapping quartiers), the answer is the
area of lowest index, as the exact tests document, and not whichever an STRtree happens to return first
(`index.lowest_per_point`). The fast paths, whose sub-cells were labelled by those tests, agree."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.geography import index, locate, locate_points, territories
from eligibility.geography.perimeters import load as load_perimeters


@settings(max_examples=60, deadline=None)
@given(pairs=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 50)), max_size=60))
def test_lowest_per_point_is_the_minimum_of_each_points_pairs(pairs):
    points = np.array([p for p, _ in pairs], np.int64)
    areas = np.array([a for _, a in pairs], np.int64)
    expected = np.full(10, -1, np.int64)
    for p, a in pairs:
        expected[p] = a if expected[p] < 0 else min(expected[p], a)
    np.testing.assert_array_equal(index.lowest_per_point(10, points, areas), expected)


def test_a_vertex_communes_share_is_given_to_the_lowest_commune():
    """Every vertex of the first 60 communes of the Bouches-du-Rhône: an STRtree gave about four in ten of those on
    a shared edge to another commune than the lowest that holds them."""
    ci = index.commune_index("13")
    xy = shapely.get_coordinates(ci.polygons[:60])
    got = ci.locate_exactly(xy[:, 0], xy[:, 1], snap_m=0.0)
    holding = shapely.intersects_xy(ci.polygons[None, :], xy[:, 0, None], xy[:, 1, None])  # (vertices, communes)
    assert holding.any(axis=1).all()
    shared = holding.sum(axis=1) > 1
    assert shared.sum() > 100  # the case under test is there
    np.testing.assert_array_equal(got, holding.argmax(axis=1))  # argmax of booleans: the first (lowest) True


def _overlaps(zone: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, the lowest quartier holding it): a point inside each overlap of two QP2024 quartiers of `zone`."""
    qi = index.quartier_index("qp2024", zone)
    a, b = shapely.STRtree(qi.polygons).query(qi.polygons, predicate="intersects")
    a, b = a[a < b], b[a < b]
    common = shapely.intersection(qi.polygons[a], qi.polygons[b])
    keep = shapely.area(common) > 100.0
    pts = shapely.point_on_surface(common[keep])
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    holding = shapely.intersects_xy(qi.polygons[None, :], x[:, None], y[:, None])
    return x, y, holding.argmax(axis=1)


@pytest.mark.parametrize("zone", ["metropole", "mayotte"])
def test_a_point_in_two_overlapping_quartiers_gets_the_lowest_code_by_every_path(zone, monkeypatch):
    """A quartier's index follows its code (the perimeters are sorted by code): the lowest index is the lowest
    code, whichever path answers."""
    x, y, lowest = _overlaps(zone)
    assert len(x) >= 2  # QP2024 perimeters do overlap in both zones
    qi = index.quartier_index("qp2024", zone)
    np.testing.assert_array_equal(qi.contains(shapely.points(x, y)), lowest)
    assert (np.diff(qi.positions) > 0).all()
    expected = load_perimeters("qp2024").code[qi.positions[lowest]]
    lon, lat = territories.unproject(x, y, territories.ZONE_BY_NAME[zone].epsg)
    day = dt.date(2025, 1, 1)
    one_by_one = [locate_points(lon[i:i + 1], lat[i:i + 1], day).quartier_code[0] for i in range(len(lon))]
    assert one_by_one == list(expected)
    monkeypatch.setattr(locate, "FAST_MIN_POINTS", 1)  # the degree grids and their sub-cells, as a batch
    batch = locate_points(np.repeat(lon, 40), np.repeat(lat, 40), day).quartier_code.reshape(len(lon), 40)
    assert (batch == np.asarray(one_by_one, dtype=object)[:, None]).all()
