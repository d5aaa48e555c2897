"""The sub-cells of the quartier degree grid's boundary cells (`boundary_subcells.py`): points near and on
quartier boundaries get exactly the answers of the exact shapely tests, and the sub-cells do answer
many of them (near_boundary included), without projection."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility.geography import boundary_distance, boundary_subcells, grid, index, locate, locate_points, territories

# distances to a boundary around the places where a sub-cell's answer changes: on it, within a sub-cell's
# half-diagonal (~2.9 m), around the 15 m tolerance, and beyond the boundary cells (~60 m)
_OFFSETS = np.array([0.0, 1e-7, 0.5, 2.8, 2.95, 3.1, 6.0, 11.9, 12.1, 14.99, 15.0, 15.01, 17.9, 18.1, 25.0, 40.0, 70.0])


def _near_boundaries(seed: int, n: int, dataset_id: str = "qp2024") -> tuple[np.ndarray, np.ndarray]:
    """Points of the boundaries of `dataset_id` (vertices and along segments) moved by the offsets above,
    in a random direction, as WGS84 lon/lat."""
    rng = np.random.default_rng(seed)
    a, b, _ = boundary_distance.segments(index.quartier_index(dataset_id, "metropole").boundaries)
    s = rng.integers(0, len(a), n)
    t = np.where(rng.random(n) < 0.3, 0.0, rng.random(n))  # a third exactly on a vertex
    off = np.where(rng.random(n) < 0.8, _OFFSETS[rng.integers(0, len(_OFFSETS), n)], rng.uniform(0, 80, n))
    ang = rng.uniform(0, 2 * np.pi, n)
    x = a[s, 0] + t * (b[s, 0] - a[s, 0]) + off * np.cos(ang)
    y = a[s, 1] + t * (b[s, 1] - a[s, 1]) + off * np.sin(ang)
    return territories.unproject(x, y, 2154)


def _fast_and_exact(monkeypatch, exact_only, lon, lat, day, tol):
    """The degree path (grids and sub-cells) and a reference by exact shapely tests only."""
    monkeypatch.setattr(locate, "FAST_MIN_POINTS", 1)
    return locate_points(lon, lat, day, tolerance_m=tol), exact_only(lon, lat, day, tolerance_m=tol)


def _assert_same(fast, exact):
    for col in ("status", "quartier_code", "vintage", "departement", "contained"):
        a, b = np.asarray(getattr(fast, col), dtype=object), np.asarray(getattr(exact, col), dtype=object)
        assert a.tolist() == b.tolist(), col


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), tol=st.sampled_from([15.0, 15.0, 5.0, 0.0]),
       dataset=st.sampled_from(["qp2024", "qp2015_occitanie"]),
       day=st.sampled_from([dt.date(2020, 6, 1), dt.date(2025, 6, 1)]))
def test_property_points_on_and_near_boundaries_get_the_exact_answers(monkeypatch, exact_only, seed, tol, dataset, day):
    lon, lat = _near_boundaries(seed, 300, dataset)
    fast, exact = _fast_and_exact(monkeypatch, exact_only, lon, lat, day, tol)
    _assert_same(fast, exact)


@pytest.mark.parametrize("dataset, day", [("qp2024", dt.date(2025, 6, 1)), ("qp2015_occitanie", dt.date(2020, 6, 1))])
def test_boundaries_reduced_to_a_point_are_not_missed(monkeypatch, exact_only, dataset, day):
    """Some quartier boundaries have parts that are a single point (segments of length 0). The STRtree's
    `dwithin` query never returned them for a polygon (a cell), so sub-cells a few metres from such a point were
    labelled outside: a point 14.26 m from quartier 1322's point in QP2024 (2.22821378, 48.93925055) read
    « outside » instead of « near_boundary »."""
    a, b, _ = boundary_distance.segments(index.quartier_index(dataset, "metropole").boundaries)
    lone = np.flatnonzero(np.all(a == b, axis=1))
    assert len(lone)
    rng = np.random.default_rng(1)
    k = lone[rng.integers(0, len(lone), 600)]
    off, ang = rng.uniform(0, 25, len(k)), rng.uniform(0, 2 * np.pi, len(k))
    lon, lat = territories.unproject(a[k, 0] + off * np.cos(ang), a[k, 1] + off * np.sin(ang), 2154)
    if dataset == "qp2024":
        lon, lat = np.append(lon, 2.2282137814536314), np.append(lat, 48.93925054883543)
    fast, exact = _fast_and_exact(monkeypatch, exact_only, lon, lat, day, 15.0)
    _assert_same(fast, exact)
    assert (exact.status == "near_boundary").sum() > 100
    if dataset == "qp2024":
        assert fast.status[-1] == "near_boundary"


def test_sub_cells_answer_most_boundary_cell_points_with_the_exact_answers(monkeypatch, exact_only):
    """Not vacuous: of the points in the degree grid's boundary cells, the sub-cells answer many (inside,
    outside and near_boundary alike), and every answer is the exact one."""
    lon, lat = _near_boundaries(7, 6000)
    day = dt.date(2025, 6, 1)
    g, _ = index.quartier_degree_grid("qp2024", "metropole")
    sc = index.quartier_subcells("qp2024", "metropole")
    in_box = (lon >= g.lon0) & (lat >= g.lat0)
    lon, lat = lon[in_box], lat[in_box]
    boundary_cell = g.lookup(lon, lat) == grid.CROSSING
    known, near, _, contained = sc.answers(sc.lookup(g, lon, lat), 15.0)
    assert boundary_cell.sum() > 2000
    assert known[boundary_cell].mean() > 0.4  # many skip the exact tests (these points crowd the thresholds)
    assert near[known].sum() > 200 and contained[known].sum() > 200 and (~near & ~contained)[known].sum() > 200
    fast, exact = _fast_and_exact(monkeypatch, exact_only, lon, lat, day, 15.0)
    _assert_same(fast, exact)
    # answered without projection (but points in a département's boundary cell take the whole metric path)
    assert (~fast.metric_path[known & boundary_cell]).mean() > 0.8


def test_near_boundary_labels_hold_for_their_own_tolerance_only():
    sc = index.quartier_subcells("qp2024", "metropole")
    n = sc.n
    labels = np.array([grid.CROSSING, grid.CLEAR, 3, n + 3, 2 * n + 5])
    known, near, local, contained = sc.answers(labels, sc.tolerance)
    assert known.tolist() == [False, True, True, True, True]
    assert near.tolist() == [False, False, False, True, True]
    assert local[1:].tolist() == [-1, 3, 3, 5] and contained[1:].tolist() == [False, True, True, False]
    known, *_ = sc.answers(labels, 5.0)  # a smaller tolerance: inside/outside still hold, near_boundary not
    assert known.tolist() == [False, True, True, False, False]
    known, *_ = sc.answers(labels, 20.0)  # a larger one: nothing (the degree path never asks)
    assert not known.any()


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10**6), distinct=st.integers(0, 6))
def test_property_packed_codes_give_back_each_sub_cells_label(seed, distinct):
    """Up to 3 distinct labels per cell are kept exactly; the others read as unknown (exact tests)."""
    rng = np.random.default_rng(seed)
    k = boundary_subcells.SUB ** 2
    values = rng.choice(np.arange(-1, 40), size=distinct, replace=False) if distinct else np.zeros(0, int)
    pool = np.append(values, grid.CROSSING)
    labels = pool[rng.integers(0, len(pool), (5, k))].astype(np.int32)
    palette, codes = boundary_subcells.pack_labels(labels)
    j = np.arange(k)
    code = (codes[:, j >> 2] >> ((j & 3) * 2).astype(np.uint8)) & 3
    got = np.where(code > 0, np.take_along_axis(palette, np.maximum(code.astype(np.int64) - 1, 0), axis=1), grid.CROSSING)
    for row in range(len(labels)):
        kept = np.unique(labels[row][labels[row] != grid.CROSSING])[:3]
        expected = np.where(np.isin(labels[row], kept), labels[row], grid.CROSSING)
        assert got[row].tolist() == expected.tolist()


@pytest.mark.parametrize("zone", ["guadeloupe", "reunion"])
def test_overseas_sub_cells_agree_with_the_exact_tests(monkeypatch, exact_only, zone):
    """Other zones, other projections: points around their quartiers' boundaries."""
    qi = index.quartier_index("qp2024", zone)
    rng = np.random.default_rng(11)
    a, b, _ = boundary_distance.segments(qi.boundaries)
    s = rng.integers(0, len(a), 800)
    off = _OFFSETS[rng.integers(0, len(_OFFSETS), 800)]
    ang = rng.uniform(0, 2 * np.pi, 800)
    x, y = a[s, 0] + off * np.cos(ang), a[s, 1] + off * np.sin(ang)
    lon, lat = territories.unproject(x, y, territories.ZONE_BY_NAME[zone].epsg)
    fast, exact = _fast_and_exact(monkeypatch, exact_only, lon, lat, dt.date(2025, 6, 1), 15.0)
    _assert_same(fast, exact)
    assert (fast.status == "near_boundary").sum() > 50



def test_load_all_without_overseas_loads_metropolitan_indexes_and_overseas_points_load_theirs_on_demand(
        monkeypatch, exact_only, forget):
    """What a batch loads before forking its workers (`load_all(overseas=False)`): metropolitan France's
    départements, quartiers, degree grids and sub-cells only; an overseas point met later loads its zone's."""
    from eligibility.geography import cache

    loaded, real = [], cache.cached

    def spy(name, *args, **kwargs):
        loaded.append(name)
        return real(name, *args, **kwargs)

    overseas = ("guadeloupe", "martinique", "guyane", "reunion", "mayotte")
    forget()
    monkeypatch.setattr(cache, "cached", spy)
    try:
        index.load_all(overseas=False)
        assert {"quartiers-sub-qp2024-metropole", "quartiers-sub-qp2015_occitanie-metropole",
                "departements-deg-metropole"} <= set(loaded)
        assert not [name for name in loaded if name.endswith(overseas)]
        reunion = territories.ZONE_BY_NAME["reunion"]
        x, y = shapely.get_coordinates(index.quartier_index("qp2024", "reunion").boundaries[:1])[0]
        lon, lat = territories.unproject(np.array([x, 2.0e6]), np.array([y, 6.0e6]), reunion.epsg)
        lon[1], lat[1] = 2.35, 48.85  # and a point in Paris
        fast, exact = _fast_and_exact(monkeypatch, exact_only, lon, lat, dt.date(2025, 6, 1), 15.0)
        _assert_same(fast, exact)
        assert fast.zone.tolist() == [territories.ZONES.index(reunion), 0] and fast.status[0] == "near_boundary"
        assert {"departements-deg-reunion", "quartiers-deg-qp2024-reunion"} <= set(loaded)
    finally:
        forget()


@settings(max_examples=100, deadline=None)
@given(size=st.integers(0, 700), seed=st.integers(0, 10**6), share=st.floats(0, 1))
def test_property_stored_cells_give_each_place_its_row(size, seed, share):
    """`StoredCells` finds a stored place's row by counting bits: the row a search among the sorted places gives;
    a place not stored, or -1 (no place), is not found."""
    rng = np.random.default_rng(seed)
    places = np.flatnonzero(rng.random(size) < share).astype(np.int64)
    cells = boundary_subcells.StoredCells.at(places, size)
    asked = np.concatenate([np.arange(size), [-1]]).astype(np.int64)
    stored, row = cells.rows(asked)
    assert stored.tolist() == np.isin(asked, places).tolist()
    assert row[stored].tolist() == np.searchsorted(places, asked[stored]).tolist()
