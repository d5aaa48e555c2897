"""Perimeters load repaired: valid, polygonal, nothing of the published outline lost."""
from __future__ import annotations

import gzip
import json

import numpy as np
import shapely

from eligibility import datasets
from eligibility.geography.perimeters import keep_polygonal, load


def test_qp2024_counts_and_repair():
    per = load("qp2024")
    assert len(per.code) == 1609 and len(set(per.code)) == 1609
    assert int(per.repaired.sum()) == 85  # SOURCES.md §1a
    assert shapely.is_valid(per.geometry).all()
    assert set(shapely.get_type_id(per.geometry).tolist()) == {6}  # MultiPolygon only
    assert sorted(per.code[per.degenerate]) == ["QN09105I", "QN09113I", "QN09503I"]
    for code in ("QN04005I", "QN06213M", "QN06237M"):  # the invalid ones in the seed départements
        assert per.repaired[per.position(code)]


def test_repair_keeps_every_published_vertex():
    path = datasets.verified_path("qp2024")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        feats = {ft["properties"]["code_qp"]: ft["geometry"] for ft in json.load(f)["features"]}
    per = load("qp2024")
    repaired = np.flatnonzero(per.repaired & ~per.degenerate)
    raw = shapely.from_geojson([json.dumps(feats[c]) for c in per.code[repaired]])
    assert not shapely.is_valid(raw).any()
    dropped_lines = 0
    for raw_g, fixed in zip(raw, per.geometry[repaired]):  # 82 geometries, load-time check
        full = shapely.make_valid(raw_g)
        pts = shapely.points(shapely.get_coordinates(raw_g))
        assert shapely.distance(pts, full).max() < 1e-9      # make_valid keeps every published vertex...
        assert abs(shapely.area(fixed) - shapely.area(full)) < 1e-12  # ...and we lose no area
        assert shapely.area(shapely.symmetric_difference(fixed, shapely.intersection(full, fixed))) < 1e-12
        dropped_lines += int(shapely.distance(pts, fixed).max() > 1e-9)  # only zero-area spikes are dropped
    assert dropped_lines < len(repaired)


def test_keep_polygonal_drops_lines_from_a_bowtie():
    bowtie = shapely.from_wkt("POLYGON ((0 0, 2 2, 2 0, 0 2, 0 0))")
    out = keep_polygonal(np.array([bowtie]))[0]
    assert shapely.is_valid(out) and shapely.get_type_id(out) == 6
    assert abs(shapely.area(out) - 2.0) < 1e-12  # both triangles kept


def test_qp2015_occitanie():
    per = load("qp2015_occitanie")
    assert len(per.code) == 105 and per.vintage == "QP2015"
    assert {"QP082003", "QP082004"} <= set(per.code)
    assert shapely.is_valid(per.geometry).all()


def test_multi_commune_quartiers():
    per = load("qp2024")
    i = per.position("QN06209M")
    assert per.communes_of(i) == [{"code": "62119", "name": "Béthune"}, {"code": "62848", "name": "Verquin"}]
    multi = sum(len(per.communes_of(k)) > 1 for k in range(len(per.code)))
    assert multi == 149  # SOURCES.md §1a
