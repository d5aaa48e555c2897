"""Comparison of derived candidates with official perimeters (by carreau centre)."""
import types

import numpy as np
import pytest
from pyproj import Transformer

from eligibility.criteria import output
from eligibility.criteria.comparison import compare, vintage_date
from eligibility.criteria.derivation import derive
from eligibility.errors import BadInput

from .helpers import FIXED, ORIGIN_E, ORIGIN_N, make

LOW, HIGH = 9000.0, 20000.0


class FakeLocate:
    """Test double for geography.locate_points: official quartiers given as sets of grid cells."""

    def __init__(self, quartiers):
        self.quartiers = quartiers
        self.to_grid = Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)
        self.calls = []

    def __call__(self, lon, lat, date, crs, tolerance_m):
        self.calls.append((date, crs, tolerance_m))
        x, y = self.to_grid.transform(np.asarray(lon), np.asarray(lat))
        cells = list(zip(((x - ORIGIN_E) // 200).astype(int).tolist(), ((y - ORIGIN_N) // 200).astype(int).tolist()))
        code = np.array([next((q for q, s in self.quartiers.items() if c in s), "") for c in cells], dtype=object)
        status = np.where(code != "", "inside", "outside").astype(object)
        return types.SimpleNamespace(status=status, quartier_code=code, quartier_name=np.char.add("Nom ", code.astype(str)),
                                     vintage=np.full(len(code), "QP2024", dtype=object))


def grid(w, h, pop, income):
    return [(i, j, pop, income) for i in range(w) for j in range(h)]


@pytest.fixture
def derived(tmp_path, monkeypatch):
    # candidate A: 3×2 low-income block at columns 0-2 (1 200 inhabitants); a 1-carreau low group at (8, 8);
    # everything else in a 10×10 grid is high-income
    cells = {(c, r): (100.0, HIGH) for c in range(10) for r in range(10)}
    cells.update({(c, r): (200.0, LOW) for c in range(3) for r in range(2)})
    cells[(8, 8)] = (50.0, LOW)
    carreaux = make([(c, r, p, i) for (c, r), (p, i) in sorted(cells.items())])
    src = tmp_path / "carreaux.csv"
    src.write_text("idcar_200m,ind,ind_snv\n" + "".join(
        f"{cid},{p},{p * i}\n" for cid, p, i in zip(carreaux.ids, carreaux.population, carreaux.income)), encoding="utf-8")
    from eligibility.criteria.filosofi import read_carreaux

    d = derive(read_carreaux(src), **FIXED)
    out = tmp_path / "cand.geojson"
    output.write(d, out)
    return out


def test_metrics_by_carreau_centre(derived):
    # official QN1: the candidate block plus one more column (8 carreaux, 6 of them in the candidate)
    official = {"QN1": {(c, r) for c in range(4) for r in range(2)}, "QN2": {(9, 0)}}
    fake = FakeLocate(official)
    res = compare(derived, "QP2024", locate=fake)
    assert fake.calls == [(vintage_date("QP2024"), "EPSG:4326", 0.0)]
    q = {x["code"]: x for x in res["quartiers"]}
    assert q["QN1"]["carreaux"] == 8 and q["QN1"]["share_in_candidate"] == 0.75 and q["QN1"]["share_flagged"] == 0.75
    assert q["QN1"]["population_share_in_candidate"] == round(1200 / 1400, 4)
    assert q["QN2"]["share_in_candidate"] == 0.0
    cand = res["candidates"]
    assert cand["carreaux"] == 6 and cand["precision"] == 1.0 and cand["recall"] == round(6 / 9, 4)
    low = res["low_income"]  # the lone (8, 8) carreau is flagged but outside every quartier
    assert low["carreaux"] == 7 and low["precision"] == round(6 / 7, 4)
    groups = {g["status"]: g for g in res["groups"]}
    assert groups["candidate"]["best_quartier"]["code"] == "QN1"
    assert groups["candidate"]["best_quartier"]["share_of_group"] == 1.0
    assert groups["below_population"]["best_quartier"] is None
    assert "proxy" in res["income_statistic"]["label"]


def test_disjoint_and_empty_official_sets(derived):
    res = compare(derived, "QP2024", locate=FakeLocate({"QN9": {(5, 5)}}))
    assert (res["candidates"]["precision"], res["candidates"]["recall"]) == (0.0, 0.0)
    assert res["quartiers"][0]["share_in_candidate"] == 0.0
    res = compare(derived, "QP2024", locate=FakeLocate({}))
    assert res["candidates"]["recall"] is None and res["quartiers"] == []


def test_changed_carreaux_file_is_refused(derived, tmp_path):
    (tmp_path / "carreaux.csv").write_text("idcar_200m,ind,ind_snv\n", encoding="utf-8")
    with pytest.raises(BadInput, match="a changé"):
        compare(derived, "QP2024", locate=FakeLocate({}))


def test_unknown_vintage_and_foreign_file(derived, tmp_path):
    with pytest.raises(BadInput, match="QP2024"):
        compare(derived, "QP1999", locate=FakeLocate({}))
    other = tmp_path / "other.geojson"
    other.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(BadInput, match="perimeters derive"):
        compare(other, "QP2024", locate=FakeLocate({}))


def test_candidates_only_geojson_gives_no_low_income_metrics(derived, tmp_path):
    import json

    fc = json.loads(derived.read_text())
    fc["groups_written"] = "candidates"
    fc["features"] = [f for f in fc["features"] if f["properties"]["status"] == "candidate"]
    partial = tmp_path / "partial.geojson"
    partial.write_text(json.dumps(fc), encoding="utf-8")
    res = compare(partial, "QP2024", locate=FakeLocate({"QN1": {(0, 0), (5, 5)}}))
    assert res["low_income"] is None and res["quartiers"][0]["share_flagged"] is None
    assert res["candidates"]["recall"] == 0.5
