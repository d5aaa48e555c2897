"""Polygons kept packed and made when first met (`cache.PackedGeometries`), and the envelope pairs the exact
tests start from (`index.AreaIndex._meeting`): the same geometries, bounds and pairs as making them all at once
and asking an STRtree."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.geography import cache, index


def _wkb(geoms) -> list[bytes]:
    return list(shapely.to_wkb(geoms))


def _synthetic(kind: str, seed: int, n: int = 40) -> np.ndarray:
    """Geometries of one type (some empty), SYNTHETIC."""
    rng = np.random.default_rng(seed)
    pts = shapely.points(rng.uniform(0, 1000, n), rng.uniform(0, 1000, n))
    if kind == "point":
        geoms = pts
    elif kind == "line":
        geoms = [shapely.LineString(rng.uniform(0, 1000, (int(rng.integers(2, 6)), 2))) for _ in range(n)]
    elif kind == "polygon":
        geoms = shapely.buffer(pts, rng.uniform(1, 50, n), quad_segs=2)
    else:  # multipolygon, some with holes
        polys = shapely.buffer(pts, rng.uniform(5, 50, n), quad_segs=2)
        holed = shapely.difference(polys, shapely.buffer(pts, 2.0))
        geoms = np.array([shapely.MultiPolygon([a, b]) if i % 3 else shapely.MultiPolygon([a])
                          for i, (a, b) in enumerate(zip(holed, np.roll(polys, 1)))], dtype=object)
    empty = {"point": shapely.Point(), "line": shapely.LineString(), "polygon": shapely.Polygon(),
             "multipolygon": shapely.MultiPolygon()}[kind]
    geoms = np.asarray(geoms, dtype=object)
    geoms[rng.random(n) < 0.15] = empty
    return geoms


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(["point", "line", "polygon", "multipolygon"]), seed=st.integers(0, 2**16),
       asks=st.lists(st.lists(st.integers(0, 39), max_size=25), min_size=1, max_size=4))
def test_made_when_asked_are_the_geometries_made_at_once(kind, seed, asks):
    geoms = _synthetic(kind, seed)
    arrays = cache.pack_coordinates(geoms, "g")
    assert "g_coords" in arrays  # packed as coordinates (not the WKB fallback)
    packed = cache.PackedGeometries(arrays, "g")
    for ask in asks:  # in any order, with repeats, some already made
        got = packed.take(np.array(ask, dtype=np.int64))
        assert _wkb(got) == _wkb(geoms[ask])
        assert all(a is b for a, b in zip(got, packed.take(np.array(ask, dtype=np.int64))))  # made once, kept
    np.testing.assert_array_equal(packed.bounds, shapely.bounds(geoms))
    assert packed.coordinate_count == int(shapely.get_num_coordinates(geoms).sum())
    assert _wkb(packed.all()) == _wkb(geoms)


def test_communes_made_when_asked_match_the_whole_file():
    """A real département's communes: a subset made first, then all; bounds as stored in the entry."""
    ci = index.commune_index("40")
    whole = ci.polygons  # every polygon
    fresh = index.AreaIndex(ci.codes, ci.names, cache.PackedGeometries(_entry_arrays("40"), "poly"), None)
    some = np.random.default_rng(0).choice(len(whole), 50, replace=False)
    assert _wkb(fresh.shapes.take(some)) == _wkb(whole[some])
    np.testing.assert_array_equal(fresh.shapes.bounds, shapely.bounds(whole))


def _entry_arrays(dep: str) -> dict:
    rel, entry, zone = index._communes_entry(dep)
    src = index.datasets.source("communes_geo", rel)
    return cache.cached(f"communes-{dep}", cache.key(entry.sha256, str(zone.epsg), index.AREAS_LAYOUT),
                        lambda: pytest.fail("the entry is built by the index"), sources=[src])


@pytest.mark.parametrize("numpy_limit", [10**9, 0])  # envelopes compared in numpy; a tree of the boxes
@pytest.mark.parametrize("snap", [0.0, 200.0])
def test_envelope_pairs_are_the_strtree_pairs(monkeypatch, numpy_limit, snap):
    monkeypatch.setattr(index, "_PAIRS_IN_NUMPY", numpy_limit)
    ci = index.commune_index("13")
    fresh = index.AreaIndex(ci.codes, ci.names, cache.PackedGeometries(_entry_arrays("13"), "poly"), None)
    b = shapely.total_bounds(ci.polygons)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(b[0] - 1000, b[2] + 1000, 3000), rng.uniform(b[1] - 1000, b[3] + 1000, 3000)
    xy = shapely.get_coordinates(ci.polygons[:20])  # and vertices: on an envelope's edge
    x, y = np.concatenate([x, xy[:, 0]]), np.concatenate([y, xy[:, 1]])
    if snap:
        got = fresh._meeting(x - snap, y - snap, x + snap, y + snap)
        want = shapely.STRtree(ci.polygons).query(shapely.box(x - snap, y - snap, x + snap, y + snap))
    else:
        got = fresh._meeting(x, y, x, y)
        want = shapely.STRtree(ci.polygons).query(shapely.points(x, y))
    assert set(zip(*map(np.ndarray.tolist, got))) == set(zip(*map(np.ndarray.tolist, want)))
    assert len(got[0]) > 3000
