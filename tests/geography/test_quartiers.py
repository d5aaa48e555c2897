"""quartier_in_force and list_quartiers."""
from __future__ import annotations

import datetime as dt

import pytest

from eligibility.errors import BadInput
from eligibility.geography import (
    list_quartiers,
    perimeter_geojson,
    perimeters_near,
    quartier_in_force,
)


def test_in_force_by_date_and_territory():
    q = quartier_in_force("QN04004M", dt.date(2024, 1, 1))
    assert q["in_force"] and q["vintage"] == "QP2024" and q["communes"] == [{"code": "40192", "name": "Mont-de-Marsan"}]
    assert not quartier_in_force("QN04004M", "2023-12-31")["in_force"]
    assert quartier_in_force("QP082003", "2023-12-31")["in_force"]
    assert not quartier_in_force("QP082003", "2024-01-01")["in_force"]
    overseas = next(q for q in list_quartiers(departement="974"))
    assert not quartier_in_force(overseas["code"], "2024-06-01")["in_force"]  # overseas QP2024 list: from 2025
    assert quartier_in_force(overseas["code"], "2025-01-01")["in_force"]
    assert quartier_in_force("qn04004m", "2024-05-01")["code"] == "QN04004M"


def test_unknown_code_or_bad_date():
    with pytest.raises(BadInput):
        quartier_in_force("QN99999Z", "2024-01-01")
    with pytest.raises(BadInput):
        quartier_in_force("QN04004M", "demain")


def test_list_filters():
    assert len(list_quartiers()) == 1609 + 105
    assert len(list_quartiers(vintage="QP2015")) == 105
    assert {q["code"] for q in list_quartiers(commune="62848")} == {"QN06209M"}  # a second commune of a quartier
    b = list_quartiers(departement="62", vintage="QP2024")
    assert all(q["departement"] == "62" for q in b) and len(b) == 64
    epci = list_quartiers(epci="200072460")
    assert len(epci) == 16 and all(q["vintage"] == "QP2024" for q in epci)
    codes = [q["code"] for q in list_quartiers()]
    assert codes == sorted(codes, key=lambda c: (c.startswith("QN"), c))  # QP2015 then QP2024, by code


@pytest.mark.parametrize("kw", [dict(vintage="QP2030"), dict(commune="ABCDE"), dict(departement="00"), dict(epci="999999999")])
def test_list_bad_filters(kw):
    with pytest.raises(BadInput):
        list_quartiers(**kw)


def test_geojson_helpers():
    g = perimeter_geojson("QN04004M")
    assert g["type"] == "MultiPolygon"
    assert perimeter_geojson("QN09105I") is None  # collapsed to a point in the simplified file
    fc = perimeters_near(-0.5066, 43.901, "2024-06-01", 1000)
    assert fc["features"][0]["properties"]["code"] == "QN04004M" and fc["features"][0]["properties"]["point_inside"]
