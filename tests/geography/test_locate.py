"""locate_points: grid answers equal exact answers; hypothesis properties; determinism; bad input."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from qpv_cli.common import to_json

from eligibility.errors import BadInput
from eligibility.geography import grid, index, locate_points, territories
from eligibility.geography.locate import _classify
from eligibility.geography.perimeters import load

D2024 = dt.date(2024, 6, 1)
METRO = index.quartier_index("qp2024", "metropole")


class AlwaysExact:
    """Test double for a grid that sends every point to the exact tests (the reference answer)."""

    margin = METRO.grid.margin

    @staticmethod
    def lookup(x, y):
        return np.full(len(x), grid.CROSSING, np.int32)


def _near_quartiers(n: int, spread: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    c = shapely.get_coordinates(shapely.centroid(METRO.boundaries))
    k = rng.integers(0, len(c), n)
    return c[k, 0] + rng.normal(0, spread, n), c[k, 1] + rng.normal(0, spread, n)


@pytest.mark.parametrize("tol", [0.0, 15.0, 25.0])
def test_grid_gives_exactly_the_exact_answers(tol):
    x, y = _near_quartiers(40_000, 400.0, seed=int(tol))
    fast = _classify(METRO, x, y, tol)
    ref = _classify(index.QuartierIndex(METRO.dataset_id, METRO.zone, METRO.positions, METRO.polygons,
                                        METRO.boundaries, AlwaysExact(), exact_by_cells=False), x, y, tol)
    assert (~fast[3]).sum() > 10_000  # the grid really answered most points
    np.testing.assert_array_equal(fast[0], ref[0])
    np.testing.assert_array_equal(fast[1], ref[1])
    np.testing.assert_array_equal(fast[2], ref[2])


@pytest.mark.parametrize("tol", [15.0, 100.0])  # 100 m is beyond the grid margin: exact path only
def test_status_agrees_with_exact_distance(tol):
    x, y = _near_quartiers(5_000, 300.0, seed=7)
    lon, lat = territories.unproject(x, y, 2154)
    res = locate_points(lon, lat, D2024, tolerance_m=tol)
    d = res.distance_to_boundary_m
    ok = res.status != "not_covered"
    assert ok.sum() > 4_000
    st_, d_, c_ = res.status[ok], d[ok], res.contained[ok]
    assert (st_ == "near_boundary").sum() > 100
    assert (d_[st_ == "near_boundary"] <= tol).all()
    assert (d_[st_ == "inside"] > tol).all() and c_[st_ == "inside"].all()
    assert (d_[st_ == "outside"] > tol).all() and not c_[st_ == "outside"].any()
    assert res.exact[ok].all() if tol > 25.0 else not res.exact[ok].all()
    # distance is exact: compare with shapely on the projected geometry, independently of the trees
    i = np.flatnonzero(ok)[:200]
    pts = shapely.points(res.x[i], res.y[i])
    ref = np.array([shapely.distance(p, METRO.boundaries).min() for p in pts])
    np.testing.assert_allclose(d[i], ref, rtol=0, atol=1e-6)


def _vintage_dates(vintage: str, territory: str):
    if vintage == "QP2015":
        return st.dates(dt.date(2015, 1, 1), dt.date(2023, 12, 31))
    return st.dates(dt.date(2024, 1, 1) if territory == "metropole" else dt.date(2025, 1, 1), dt.date(2030, 12, 31))


CASES = [(ds, z) for ds in ("qp2024", "qp2015_occitanie") for z in territories.ZONES
         if len(index.quartier_index(ds, z.name).positions)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(case=st.sampled_from(CASES), pick=st.integers(0, 10_000), u=st.floats(0, 1), v=st.floats(0, 1), data=st.data())
def test_point_well_inside_a_quartier_is_inside_it(case, pick, u, v, data):
    ds, zone = case
    qi = index.quartier_index(ds, zone.name)
    k = pick % len(qi.positions)
    poly = qi.polygons[k]
    assume(not shapely.is_empty(poly))
    x0, y0, x1, y1 = shapely.bounds(poly)
    x, y = x0 + u * (x1 - x0), y0 + v * (y1 - y0)
    p = shapely.Point(x, y)
    assume(shapely.contains(poly, p) and shapely.distance(p, qi.boundaries).min() > 15.0)
    lon, lat = territories.unproject(np.array([x]), np.array([y]), zone.epsg)
    per = load(ds)
    day = data.draw(_vintage_dates(per.vintage, zone.territory))
    res = locate_points(lon, lat, day)
    assume(res.departement[0] != "")  # a quartier on a coast the simplified département contour misses
    assume(ds != "qp2015_occitanie" or res.region[0] == "76")
    assert res.status[0] == "inside"
    assert res.quartier_code[0] == per.code[qi.positions[k]]


@settings(max_examples=40, deadline=None)
@given(lon=st.floats(-4.5, 7.5), lat=st.floats(43.0, 50.5))
def test_points_far_from_every_perimeter_are_outside(lon, lat):
    res = locate_points([lon], [lat], D2024)
    assume(res.status[0] != "not_covered")
    if res.distance_to_boundary_m[0] > 15.0 and not res.contained[0]:
        assert res.status[0] == "outside" and res.quartier_code[0] is None


def test_answers_are_deterministic_and_arrays_agree_with_single_points():
    x, y = _near_quartiers(60, 150.0, seed=3)
    lon, lat = territories.unproject(x, y, 2154)
    lon = np.concatenate([lon, [55.45, 1.3, -0.5, -30.0]])
    lat = np.concatenate([lat, [-20.9, 44.2, 43.9, 40.0]])
    dates = np.array(["2024-06-01"] * 60 + ["2025-02-01", "2020-01-01", "2020-01-01", "2024-01-01"], dtype="datetime64[D]")
    batch = locate_points(lon, lat, dates)
    again = locate_points(lon, lat, dates)
    rows = [to_json(batch.row(i)) for i in range(len(lon))]
    assert rows == [to_json(again.row(i)) for i in range(len(lon))]
    single = [to_json(locate_points(lon[i:i + 1], lat[i:i + 1], dates[i:i + 1]).row(0)) for i in range(len(lon))]
    assert rows == single
    assert {"inside", "outside", "not_covered"} <= set(batch.status)


def test_lambert93_input_agrees_with_wgs84():
    x, y = _near_quartiers(500, 200.0, seed=11)
    lon, lat = territories.unproject(x, y, 2154)
    a = locate_points(lon, lat, D2024)
    b = locate_points(x, y, D2024, crs="EPSG:2154")
    np.testing.assert_array_equal(a.status, b.status)
    np.testing.assert_array_equal(a.quartier_code, b.quartier_code)
    np.testing.assert_allclose(a.distance_to_boundary_m, b.distance_to_boundary_m, atol=0.01)


def test_overseas_uses_local_projection_and_grid():
    per = load("qp2024")
    code = str(per.code[per.departement == "974"][0])
    qi = index.quartier_index("qp2024", "reunion")
    k = int(np.flatnonzero(per.code[qi.positions] == code)[0])
    x, y = shapely.get_coordinates(shapely.maximum_inscribed_circle(qi.polygons[k]))[0]
    lon, lat = territories.unproject(np.array([x]), np.array([y]), 2975)
    row = locate_points(lon, lat, dt.date(2025, 3, 1)).row(0)
    assert row["status"] == "inside" and row["quartier"]["code"] == code
    assert row["trace"]["projection"] == "EPSG:2975"
    assert row["carreau"].startswith("CRS2975RES200m")
    assert row["trace"]["vintage"]["confirmed"] is False  # décret 2024-1212 is [C2] in law.md


@pytest.mark.parametrize("kwargs, field", [
    (dict(lon=[float("nan")], lat=[45.0]), "lon"),
    (dict(lon=[200.0], lat=[45.0]), "lon"),
    (dict(lon=[2.0], lat=[-91.0]), "lat"),
    (dict(lon=["abc"], lat=[45.0]), "lon"),
    (dict(lon=[2.0, 3.0], lat=[45.0]), "lat"),
    (dict(lon=[2.0], lat=[45.0], dates="2024-02-30"), "date"),
    (dict(lon=[2.0], lat=[45.0], crs="EPSG:3857"), "crs"),
    (dict(lon=[2.0], lat=[45.0], tolerance_m=-1), "tolerance"),
    (dict(lon=[5e6], lat=[6.5e6], crs="EPSG:2154"), "x"),
])
def test_bad_input_names_the_field(kwargs, field):
    kwargs.setdefault("dates", D2024)
    with pytest.raises(BadInput) as err:
        locate_points(kwargs.pop("lon"), kwargs.pop("lat"), kwargs.pop("dates"), **kwargs)
    assert err.value.field == field


def test_bad_row_is_named_in_a_batch():
    with pytest.raises(BadInput) as err:
        locate_points([2.0, 2.1, float("nan")], [45.0, 45.1, 45.2], D2024)
    assert err.value.row == 3
    with pytest.raises(BadInput) as err:
        locate_points([2.0, "deux", 2.2], [45.0, 45.1, 45.2], D2024)
    assert (err.value.row, err.value.field) == (2, "lon")
    with pytest.raises(BadInput) as err:  # numpy alone would read "2024-06" as 1 June
        locate_points([2.0, 2.1], [45.0, 45.1], ["2024-06-01", "2024-06"])
    assert (err.value.row, err.value.field) == (2, "date")
    ok = locate_points([2.0, 2.1], [45.0, 45.1], ["2024-06-01", dt.date(2024, 6, 2)])
    assert [str(d) for d in ok.dates] == ["2024-06-01", "2024-06-02"]


def test_undetermined_rows_for_the_address_domain():
    res = locate_points([2.35, float("nan")], [48.85, float("nan")], D2024, undetermined=["", "rue introuvable"])
    assert list(res.status) == [res.status[0], "undetermined"] and res.status[0] in ("inside", "outside", "near_boundary")
    row = res.row(1)
    assert row["status"] == "undetermined" and row["reason"] == "rue introuvable" and row["quartier"] is None


def test_result_padded_by_a_caller_still_renders():
    """The address domain spreads a result over more rows, padding with None / NaN (its `_expand`)."""
    res = locate_points([-0.5066], [43.901], D2024)
    padded = res.__class__.__new__(res.__class__)
    for name, value in vars(res).items():
        if isinstance(value, np.ndarray) and value.ndim == 1:
            full = np.full(2, np.nan if value.dtype.kind == "f" else None, dtype=float if value.dtype.kind == "f" else object)
            full[1] = value[0]
            value = full
        setattr(padded, name, value)
    assert padded.row(1)["quartier"]["code"] == res.row(0)["quartier"]["code"]
    assert padded.row(0)["quartier"] is None
    assert np.isnan(padded.distance_to_boundary_m[0])


def test_small_and_large_batch_distances_agree():
    x, y = _near_quartiers(3_000, 3_000.0, seed=5)
    q_small, d_small = METRO.nearest_boundary(x, y, small_batch=10**9)
    q_large, d_large = METRO.nearest_boundary(x, y, small_batch=0)
    np.testing.assert_allclose(d_small, d_large, rtol=0, atol=1e-6)
    same = np.abs(d_small - d_large) < 1e-9
    assert (q_small[same] == q_large[same]).mean() > 0.99  # exact ties between two quartiers may pick either


def test_collectivites_without_contours_take_the_commune_of_their_quartier():
    per = load("qp2024")
    for dep, commune in (("978", "97801"), ("987", None)):
        i = int(np.flatnonzero(per.departement == dep)[0])
        x, y = shapely.get_coordinates(shapely.maximum_inscribed_circle(shapely.get_parts(per.geometry[i])[0]))[0]
        res = locate_points([x], [y], dt.date(2025, 6, 1))
        assert res.status[0] == "inside" and res.departement[0] == dep
        assert res.commune_code[0] == (commune or per.communes[i])
        assert res.carreau[0] is None  # no INSEE grid published for the COM


def test_commune_grid_gives_the_exact_answers():
    ci = index.commune_index("40")
    rng = np.random.default_rng(2)
    b = shapely.total_bounds(ci.polygons)
    x, y = rng.uniform(b[0], b[2], 20_000), rng.uniform(b[1], b[3], 20_000)
    np.testing.assert_array_equal(ci.locate(x, y, area_grid=index.commune_grid("40")), ci.locate(x, y))


def test_a_vintage_with_few_points_in_a_large_batch_gets_exact_distances():
    """In a large batch every vintage's group takes the boundary cells, even a group of a few points (here
    QP2015 Occitanie, dated 2020, among QP2024 points): still the exact distance (GEOS as the oracle)."""
    x, y = _near_quartiers(6_000, 2_000.0, seed=11)
    lon, lat = territories.unproject(x, y, 2154)
    occitanie = index.quartier_index("qp2015_occitanie", "metropole")
    ox, oy = shapely.get_coordinates(shapely.centroid(occitanie.boundaries))[:40].T
    olon, olat = territories.unproject(ox + 300.0, oy - 200.0, 2154)
    dates = np.array([D2024] * len(lon) + [dt.date(2020, 6, 1)] * len(olon), dtype="datetime64[D]")
    res = locate_points(np.concatenate([lon, olon]), np.concatenate([lat, olat]), dates)
    few = np.flatnonzero(res.vintage == "QP2015")
    assert 0 < len(few) <= index.SMALL_BATCH < len(res)
    pts = shapely.points(res.x[few], res.y[few])
    truth = shapely.distance(pts[:, None], occitanie.boundaries[None, :]).min(axis=1)
    np.testing.assert_allclose(res.distance_to_boundary_m[few], truth, rtol=0, atol=1e-6)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(zone=st.sampled_from(["metropole", "guadeloupe", "martinique", "guyane", "reunion", "mayotte"]),
       seed=st.integers(0, 2**16))
def test_large_batch_distances_are_exact_in_every_zone(zone, seed):
    """The large-batch path (boundary cells within 1 km, vertex KD-tree farther) against GEOS, in metropolitan
    France and overseas: points on boundary vertices, along segments, millimetres to centimetres off them, and
    up to kilometres away."""
    qi = index.quartier_index("qp2024", zone)
    rng = np.random.default_rng(seed)
    verts = shapely.get_coordinates(qi.boundaries)
    k = rng.integers(0, len(verts) - 1, 1_000)
    along = verts[k] + rng.uniform(0, 1, (len(k), 1)) * (verts[k + 1] - verts[k])
    pts = np.concatenate([verts[k], along, along + rng.normal(0, 0.01, along.shape),
                          verts[k] + rng.normal(0, 300, along.shape), verts[k] + rng.normal(0, 5_000, along.shape)])
    owner, dist = qi.nearest_boundary(pts[:, 0], pts[:, 1], small_batch=0)
    geoms = shapely.points(pts)
    (_, _), truth = shapely.STRtree(qi.boundaries).query_nearest(geoms, all_matches=False, return_distance=True)
    np.testing.assert_allclose(dist, truth, rtol=0, atol=1e-6)
    np.testing.assert_allclose(shapely.distance(geoms, qi.boundaries[owner]), truth, rtol=0, atol=1e-6)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), first_as_objects=st.booleans(), overseas=st.booleans())
def test_carreau_text_buffer_equals_the_carreau_column(seed, first_as_objects, overseas):
    """`LocateResult.text("carreau")` holds the same ids as `carreau`, row by row, empty where it is None:
    metropolitan points with points abroad among them (one zone's buffer), or with overseas points too (UTM
    grids) and a collectivité without an INSEE grid."""
    rng = np.random.default_rng(seed)
    lon = np.concatenate([rng.uniform(-1, 6, 300), [-74.0, 2.35, 13.4]])
    lat = np.concatenate([rng.uniform(43.5, 49.5, 300), [40.7, 48.85, 52.5]])
    if overseas:
        lon = np.concatenate([lon, rng.uniform(55.2, 55.8, 40), [-61.55, -149.56]])
        lat = np.concatenate([lat, rng.uniform(-21.4, -20.9, 40), [16.25, -17.53]])
    order = rng.permutation(len(lon))
    res = locate_points(lon[order], lat[order], D2024)
    if first_as_objects:
        res.carreau
    offsets, data = res.text("carreau")
    text = data.tobytes().decode("ascii")
    got = [text[a:b] or None for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
    expected = list(locate_points(lon[order], lat[order], D2024).carreau)
    assert got == expected
    assert any(v is None for v in expected) and sum(v is not None for v in expected) > 250
    assert res.text("status") is None


@settings(max_examples=150, deadline=None)
@given(keys=st.lists(st.tuples(st.integers(-1, 9), st.integers(-1, 40), st.integers(-1, 3000)), max_size=60),
       width=st.integers(1, 3), dtype=st.sampled_from([np.int8, np.int16, np.int64, object]))
def test_groups_are_every_distinct_key_with_its_rows(keys, width, dtype):
    """`_groups` (keys packed in place, groups counted by `bincount`): each distinct key tuple once, in sorted
    order, with the ascending rows holding it; int8/int16/int64 codes and object columns with None (-1)."""
    from eligibility.geography.locate import _groups

    cols = []
    for j in range(width):
        values = [k[j] for k in keys]
        if dtype is object:
            cols.append(np.array([None if v == -1 else v for v in values], dtype=object))
        else:
            cols.append(np.array([v for v in values], dtype=np.int64).clip(np.iinfo(dtype).min, np.iinfo(dtype).max).astype(dtype))
    as_int = [np.array([-1 if v is None else int(v) for v in c], dtype=np.int64) for c in cols]
    tuples = list(zip(*[c.tolist() for c in as_int]))
    want = [(t, [i for i, u in enumerate(tuples) if u == t]) for t in sorted(set(tuples))]
    got = [(key, list(np.asarray(rows))) for key, rows in _groups(*cols)]
    assert got == want
