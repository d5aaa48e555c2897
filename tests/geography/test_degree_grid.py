"""The WGS84 degree grids (large batches) give exactly the answers of the metric path, which the
other tests tie to exact shapely tests; `row(i)` computes row i alone and equals locating it alone."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility.geography import cache, grid, index, locate, locate_points, territories

METRO = index.quartier_index("qp2024", "metropole")
COLUMNS = ("status", "quartier_code", "quartier_name", "vintage", "departement", "region", "reason", "coverage",
           "contained", "zone", "rule", "dep_idx", "quartier_pos", "exact")


def _points(seed: int, n: int, spread_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Around quartier centres (so near their boundaries), around département corners, and uniform
    over metropolitan France, the sea and the overseas boxes."""
    rng = np.random.default_rng(seed)
    c = shapely.get_coordinates(shapely.centroid(METRO.boundaries))
    k = rng.integers(0, len(c), n)
    lon1, lat1 = territories.unproject(c[k, 0] + rng.normal(0, spread_m, n), c[k, 1] + rng.normal(0, spread_m, n), 2154)
    dep = shapely.get_coordinates(index.departement_index("metropole").polygons)
    k = rng.integers(0, len(dep), n)
    lon2, lat2 = territories.unproject(dep[k, 0] + rng.normal(0, spread_m, n), dep[k, 1] + rng.normal(0, spread_m, n), 2154)
    boxes = np.array([z.bbox for z in territories.ZONES[:6]])
    b = boxes[rng.integers(0, len(boxes), n)]
    lon3, lat3 = rng.uniform(b[:, 0], b[:, 2]), rng.uniform(b[:, 1], b[:, 3])
    return np.concatenate([lon1, lon2, lon3]), np.concatenate([lat1, lat2, lat3])


def _both(lon, lat, dates, tol=15.0, undetermined=None):
    fast = locate.locate_points(lon, lat, dates, tolerance_m=tol, undetermined=undetermined)
    saved = locate.FAST_MIN_POINTS
    locate.FAST_MIN_POINTS = 10**12  # force the metric path
    try:
        ref = locate.locate_points(lon, lat, dates, tolerance_m=tol, undetermined=undetermined)
    finally:
        locate.FAST_MIN_POINTS = saved
    return fast, ref


def _assert_same(fast, ref):
    for col in COLUMNS:
        a, b = np.asarray(getattr(fast, col), dtype=object), np.asarray(getattr(ref, col), dtype=object)
        assert a.tolist() == b.tolist(), col


@pytest.fixture
def small_batches_take_the_degree_path(monkeypatch):
    monkeypatch.setattr(locate, "FAST_MIN_POINTS", 1)


def test_degree_path_equals_metric_path_on_many_points():
    lon, lat = _points(seed=1, n=15_000, spread_m=600.0)
    fast, ref = _both(lon, lat, dt.date(2025, 6, 1))
    assert fast.metric_path is not None and (~fast.metric_path).mean() > 0.7  # most points never projected (chosen near boundaries)
    assert (fast.status == "near_boundary").sum() > 50 and (fast.status == "inside").sum() > 1_000
    _assert_same(fast, ref)
    np.testing.assert_array_equal(fast.x[fast.zone >= 0], ref.x[ref.zone >= 0])  # lazy projection, same numbers


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), spread=st.sampled_from([30.0, 300.0, 3000.0]),
       tol=st.sampled_from([0.0, 5.0, 15.0]),
       day=st.dates(dt.date(2014, 6, 1), dt.date(2030, 12, 31)))
def test_property_degree_path_equals_exact_path(small_batches_take_the_degree_path, seed, spread, tol, day):
    """Any points, tolerance up to the degree grid's margin, any date (so QP2015 Occitanie, not_covered…)."""
    lon, lat = _points(seed, 60, spread)
    fast, ref = _both(lon, lat, day, tol=tol)
    _assert_same(fast, ref)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), spread=st.sampled_from([30.0, 300.0, 3000.0]), tol=st.sampled_from([0.0, 15.0]),
       day=st.dates(dt.date(2014, 6, 1), dt.date(2030, 12, 31)))
def test_property_degree_path_equals_exact_shapely_tests(monkeypatch, exact_only, seed, spread, tol, day):
    """The reference here uses no grid at all: départements and quartiers by exact shapely tests only."""
    lon, lat = _points(seed, 60, spread)
    monkeypatch.setattr(locate, "FAST_MIN_POINTS", 1)
    fast = locate_points(lon, lat, day, tolerance_m=tol)
    exact = exact_only(lon, lat, day, tolerance_m=tol)
    assert exact.exact[(exact.rule >= 0) & (exact.zone >= 0)].all()  # the reference ran exact tests only
    for col in ("status", "quartier_code", "vintage", "departement", "region", "reason", "contained"):
        assert np.asarray(getattr(fast, col), dtype=object).tolist() == np.asarray(getattr(exact, col), dtype=object).tolist(), col


def test_mixed_dates_and_undetermined_rows(small_batches_take_the_degree_path):
    lon, lat = _points(seed=3, n=400, spread_m=500.0)
    rng = np.random.default_rng(3)
    dates = np.array(["2014-06-01", "2020-03-01", "2024-06-01", "2025-06-01"], dtype="datetime64[D]")[rng.integers(0, 4, len(lon))]
    why = np.where(rng.random(len(lon)) < 0.1, "adresse introuvable", "")
    fast, ref = _both(np.where(why != "", np.nan, lon), np.where(why != "", np.nan, lat), dates, undetermined=why)
    assert {"QP2015", "QP2024"} <= set(fast.vintage) and (fast.status == "undetermined").any()
    _assert_same(fast, ref)


def test_tolerance_beyond_the_degree_margin_takes_the_metric_path():
    lon, lat = _points(seed=4, n=8_000, spread_m=300.0)
    res = locate_points(lon, lat, dt.date(2025, 6, 1), tolerance_m=20.0)
    assert res.metric_path is None  # every row took the metric path


@pytest.mark.parametrize("zone_name", ["metropole", "reunion"])
def test_degree_grid_labels_are_true_of_every_point_of_the_cell(zone_name):
    """A labelled cell is inside that quartier and farther than the margin from every boundary; a CLEAR
    cell is in no quartier and as far: checked with shapely on the projected points, not on the grid."""
    g, positions = index.quartier_degree_grid("qp2024", zone_name)
    qi = index.quartier_index("qp2024", zone_name)
    zone = territories.ZONE_BY_NAME[zone_name]
    rng = np.random.default_rng(5)
    c = shapely.get_coordinates(shapely.centroid(qi.boundaries))
    k = rng.integers(0, len(c), 30_000)
    lon, lat = territories.unproject(c[k, 0] + rng.normal(0, 400, len(k)), c[k, 1] + rng.normal(0, 400, len(k)), zone.epsg)
    lab = g.lookup(lon, lat)
    x, y = territories.project(lon, lat, zone.epsg)
    pts = shapely.points(x, y)
    answered = np.flatnonzero(lab != grid.CROSSING)
    assert len(answered) > 20_000 and (lab >= 0).sum() > 100
    near = qi.boundaries_within(pts[answered], g.margin)[0]
    assert len(near) == 0  # no boundary within the margin of an answered point
    np.testing.assert_array_equal(qi.contains(pts[answered]), lab[answered])
    assert len(positions) == len(qi.positions)


def test_departement_degree_grid_agrees_with_the_contours():
    dg, di = index.departement_degree_grid("metropole"), index.departement_index("metropole")
    rng = np.random.default_rng(6)
    lon, lat = rng.uniform(-5.9, 10.0, 40_000), rng.uniform(41.2, 51.2, 40_000)
    lab = dg.lookup(lon, lat)
    x, y = territories.project(lon, lat, 2154)
    ok = lab != grid.CROSSING
    assert ok.mean() > 0.95
    np.testing.assert_array_equal(lab[ok], di.locate(x[ok], y[ok]))


def test_row_is_computed_on_that_row_alone_and_equals_locating_it_alone():
    lon, lat = _points(seed=7, n=10_000, spread_m=300.0)
    res = locate_points(lon, lat, dt.date(2025, 6, 1))
    rows = [int(i) for i in np.flatnonzero(res.status == "near_boundary")[:3]] + [0, 1, len(res) - 1]
    for i in rows:
        obj = res.row(i)
        assert obj == locate_points([lon[i]], [lat[i]], dt.date(2025, 6, 1)).row(0)
    assert "distance_to_boundary_m" not in vars(res) and "_commune" not in vars(res)  # no whole column computed


@pytest.mark.parametrize("zone", territories.ZONES, ids=lambda z: z.name)
def test_projected_cell_edges_bend_less_than_the_slack(zone):
    """Cells are classified by the quadrilateral of their projected corners, grown by EDGE_SLACK_M: the
    true projected edges of the largest (coarse) cells must stay within that slack of their chords."""
    from eligibility.geography.degree_grid import EDGE_SLACK_M

    lon, lat = np.meshgrid(np.linspace(zone.bbox[0], zone.bbox[2], 40), np.linspace(zone.bbox[1], zone.bbox[3], 40))
    lon, lat = lon.ravel(), lat.ravel()
    worst = 0.0
    for dlon, dlat in ((1 / index.DEGREE_CELLS_PER_DEG[0], 0.0), (0.0, 1 / index.DEGREE_CELLS_PER_DEG[1])):
        xa, ya = territories.project(lon, lat, zone.epsg)
        xb, yb = territories.project(lon + dlon, lat + dlat, zone.epsg)
        for t in np.linspace(0, 1, 17)[1:-1]:
            xm, ym = territories.project(lon + t * dlon, lat + t * dlat, zone.epsg)
            bend = np.abs((xm - xa) * (yb - ya) - (ym - ya) * (xb - xa)) / np.hypot(xb - xa, yb - ya)
            worst = max(worst, float(bend.max()))
    assert 0.0 < worst < EDGE_SLACK_M * 0.8


@pytest.mark.parametrize("day", [dt.date(2014, 6, 1), dt.date(2023, 6, 1), dt.date(2024, 3, 1), dt.date(2025, 6, 1)])
def test_one_date_batches_read_per_label_tables_and_equal_the_metric_path(small_batches_take_the_degree_path, day):
    """Over 1000 rows with one date, the degree path resolves vintages per grid label (not per row):
    same answers as the metric path, including dates where régions differ in vintage or are not covered."""
    lon, lat = _points(seed=5, n=700, spread_m=400.0)
    fast, ref = _both(lon, lat, day)
    assert len(lon) > 1000 and fast.metric_path is not None
    _assert_same(fast, ref)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), spread=st.sampled_from([5.0, 30.0, 300.0]), tol=st.sampled_from([0.0, 1.0, 15.0, 200.0]))
def test_property_boundaries_within_equals_a_dwithin_query(seed, spread, tol):
    """The envelope query + GEOS distance finds the same (point, segment) pairs as GEOS `dwithin`."""
    lon, lat = _points(seed, 40, spread)
    x, y = territories.project(lon, lat, 2154)
    pts = shapely.points(x, y)
    tree, owner, pieces = METRO.pieces
    pi, si = tree.query(pts, predicate="dwithin", distance=tol)
    got_p, got_q, got_d = METRO.boundaries_within(pts, tol)
    want = sorted(zip(pi.tolist(), owner[si].tolist(), shapely.distance(pts[pi], pieces[si]).tolist()))
    assert sorted(zip(got_p.tolist(), got_q.tolist(), got_d.tolist())) == want


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6), spread=st.sampled_from([30.0, 300.0, 3000.0]), snap=st.sampled_from([0.0, 50.0, 500.0]))
def test_property_areas_within_equals_a_dwithin_query(seed, spread, snap):
    """Départements within `snap` of points (coast snap): the envelope query gives the GEOS `dwithin` pairs."""
    lon, lat = _points(seed, 700, spread)  # over SNAP_BY_PIECES points: the boundary-piece path
    x, y = territories.project(lon, lat, 2154)
    pts = shapely.points(x, y)
    di = index.departement_index("metropole")
    got = di._areas_within(pts, snap)
    tree, segs, owner = di._pieces
    pi, si = tree.query(pts, predicate="dwithin", distance=snap)
    d = shapely.distance(pts[pi], segs[si])
    best = {}
    for p, a, v in zip(pi.tolist(), owner[si].tolist(), d.tolist()):
        best[(p, a)] = min(v, best.get((p, a), np.inf))
    assert sorted(zip(got[0].tolist(), got[1].tolist(), got[2].tolist())) == sorted((p, a, v) for (p, a), v in best.items())


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6), areas=st.sampled_from(
           [("departements", z) for z in ["metropole", "guadeloupe", "martinique", "reunion", "mayotte"]]
           + [("communes", d) for d in ["971", "975", "2A", "90"]]),
       n=st.integers(1, 150), spread=st.sampled_from([100.0, 2000.0]), prebuilt=st.booleans())
def test_property_areas_within_a_few_points_the_same_whichever_path(seed, areas, n, spread, prebuilt):
    """Under SNAP_BY_PIECES points: from the whole polygons (metropolitan départements, communes, segments not
    built) or from the boundary segments (already built, or cheap and as many points as areas: an overseas
    département): the GEOS distances to the polygons, for every area within the snap distance."""
    kind, name = areas
    cached = index.departement_index(name) if kind == "departements" else index.commune_index(name)
    if cached is None:  # a département without a communes file
        return
    di = index.AreaIndex(cached.codes, cached.names, cache.PackedGeometries.made(cached.polygons), cached.grid)  # its own trees
    if prebuilt:  # as many points as make it build the segments (far from any coast)
        di._areas_within(shapely.points(np.zeros(index.SNAP_BY_PIECES), np.zeros(index.SNAP_BY_PIECES)), 1.0)
    rng = np.random.default_rng(seed)
    coast = shapely.get_coordinates(shapely.boundary(di.polygons))
    k = rng.integers(0, len(coast), n)
    x, y = coast[k, 0] + rng.normal(0, spread, n), coast[k, 1] + rng.normal(0, spread, n)
    pts = shapely.points(x, y)
    pts = pts[~shapely.intersects(shapely.union_all(di.polygons), pts)]  # off the coast, as locate_exactly asks
    snap = index.COAST_SNAP_M
    got = di._areas_within(pts, snap)
    assert (di._pieces is not None) == (prebuilt or di._vertices <= index.PIECES_CHEAP and len(pts) >= len(di.polygons))
    pi, ai = shapely.STRtree(di.polygons).query(pts, predicate="dwithin", distance=snap)
    want = sorted(zip(pi.tolist(), ai.tolist(), shapely.distance(pts[pi], di.polygons[ai]).tolist()))
    assert sorted(zip(got[0].tolist(), got[1].tolist(), got[2].tolist())) == want
