"""`locate_addresses`: honest answers for addresses, against the Manosque quartiers QN00402M / QN00403M.

Runs on `PolygonGeography` (conftest.py), a test double of geography's `locate_points` built on the real
QP2024 polygons, until the geography domain lands; `test_with_real_geography` uses the real one.
"""
import datetime as dt

import pandas as pd
import pytest

from eligibility.addresses import compose_address, locate_addresses
from eligibility.errors import BadInput

DATE = dt.date(2025, 1, 1)


def test_house_number_matches_are_located_as_usual(fake_geography, index):
    res = locate_addresses(["1 rue Albert Honde, 04100 Manosque", "52 montée des Adrechs, 04100 Manosque",
                            "1 rue de l'Abattoir, 04100 Manosque"], DATE, index=index)
    assert list(res.status) == ["inside", "inside", "outside"]
    assert list(res.quartier_code[:2]) == ["QN00402M", "QN00403M"]
    assert all(r is None for r in res.reason)


def test_street_crossing_a_perimeter_needs_a_house_number(fake_geography, index):
    # Avenue Saint-Lazare: 59 of its 69 BANO points are in QN00402M, the others outside
    res = locate_addresses(["avenue Saint-Lazare, 04100 Manosque", "Montée des Adrechs 04100 Manosque"], DATE,
                           index=index)
    assert list(res.status) == ["undetermined", "undetermined"]
    assert list(res.reason) == ["house number needed", "house number needed"]
    assert res.quartier_code[0] is None  # no guess kept
    row = res.row(0)
    assert row["reason_code"] == "house number needed" and row["reason"].startswith("numéro nécessaire")
    step = row["trace"]["geocoding"]
    assert step["level"] == "street" and step["chosen"]["label"].startswith("Avenue Saint-Lazare")


def test_street_wholly_on_one_side_is_answered(fake_geography, index):
    # Every BANO point of these streets is inside the named quartier, clear of its boundary (checked on
    # the double below); every point of rue de l'Abattoir is outside.
    texts = ["impasse des Edelweiss 04100 Manosque", "rue Lazarine Nègre 04100 Manosque",
             "rue de l'Abattoir 04100 Manosque"]
    res = locate_addresses(texts, DATE, index=index)
    for step, expected in zip(res.geocoding, ["inside", "inside", "outside"]):
        pts = index.points[index.points["street_id"] == step["source"]["street_id"]]
        assert set(fake_geography.locate_points(pts["lon"], pts["lat"], DATE).status) == {expected}
    assert list(res.status) == ["inside", "inside", "outside"]
    assert list(res.quartier_code[:2]) == ["QN00403M", "QN00402M"]
    assert all(r is None for r in res.reason)


def test_street_inside_but_near_the_boundary_is_not_answered(fake_geography, index):
    # Allée Bachagha Boualem: all 45 points in QN00403M, but some within 15 m of its boundary
    res = locate_addresses(["allée Bachagha Boualem 04100 Manosque"], DATE, index=index)
    assert res.status[0] == "undetermined" and res.reason[0] == "house number needed"


def test_weak_ambiguous_and_unknown_addresses_are_undetermined(fake_geography, index):
    res = locate_addresses(["Place de la République", "17 rue des Zzzzz 04100 Manosque", "xyz", ""], DATE,
                           index=index)
    assert list(res.status) == ["undetermined"] * 4
    assert list(res.reason) == ["ambiguous match", "street not found", "address not found", "address not found"]
    assert len(res.row(0)["trace"]["geocoding"]["candidates"]) >= 2


def test_trace_records_the_geocoding_step(fake_geography, index):
    res = locate_addresses(["1 R ALBERT HONDE 04100 MANOSQUE"], [DATE], index=index)
    step = res.row(0)["trace"]["geocoding"]
    assert step["input"] == "1 R ALBERT HONDE 04100 MANOSQUE"
    assert step["normalized"] == "1 RUE ALBERT HONDE, 04100 MANOSQUE"
    assert step["level"] == "housenumber" and step["score"] == 1.0
    assert step["source"]["record_id"] == "041120030H-1" and "ODbL" in step["source"]["licence"]
    assert step["candidates"][0]["label"] == "Rue Albert Honde 04100 Manosque"
    assert res.row(0)["trace"]["steps"] == ["fake"]  # geography's own trace is kept


def test_one_date_per_address_must_match_the_count(fake_geography, index):
    with pytest.raises(BadInput, match="dates"):
        locate_addresses(["a", "b"], [DATE], index=index)


def test_compose_address_from_batch_columns():
    df = pd.DataFrame({"numero": [1.0, None], "voie": ["rue Albert Honde", "Avenue Saint-Lazare"],
                       "code_postal": ["4100", "04100"], "commune": ["Manosque", None]})
    assert compose_address(df).tolist() == ["1 rue Albert Honde, 04100 Manosque", "Avenue Saint-Lazare, 04100"]
    assert compose_address(pd.DataFrame({"address": ["x", None]})).tolist() == ["x", ""]
    with pytest.raises(BadInput, match="colonnes d'adresse"):
        compose_address(pd.DataFrame({"lon": [1.0]}))


def test_with_real_geography(real_geography, index):
    texts = ["1 rue Albert Honde, 04100 Manosque", "avenue Saint-Lazare, 04100 Manosque",
             "1 rue de l'Abattoir, 04100 Manosque", "impasse des Edelweiss 04100 Manosque",
             "allée Bachagha Boualem 04100 Manosque", "Place de la République"]
    res = locate_addresses(texts, DATE, index=index)
    assert list(res.status) == ["inside", "undetermined", "outside", "inside", "undetermined", "undetermined"]
    assert list(res.reason) == [None, "house number needed", None, None, "house number needed", "ambiguous match"]
    assert res.row(0)["quartier"]["code"] == "QN00402M" and res.row(3)["quartier"]["code"] == "QN00403M"
    row = res.row(1)
    assert row["quartier"] is None and row["reason"].startswith("numéro nécessaire")
    assert row["reason_code"] == "house number needed"
    assert row["trace"]["geocoding"]["level"] == "street" and "conclusion" in row["trace"]


def test_a_street_named_by_many_rows_is_checked_once(fake_geography, index):
    fake_geography.calls.clear()
    res = locate_addresses(["avenue Saint-Lazare, 04100 Manosque"] * 50, DATE, index=index)
    assert set(res.reason) == {"house number needed"}
    n_points = int((index.points["street_id"] == res.geocoding_step(0)["source"]["street_id"]).sum())
    assert fake_geography.calls[0] == n_points  # the street's points once, not once per row


def test_batch_rows_equal_single_answers(fake_geography, index):
    texts = ["1 rue Albert Honde, 04100 Manosque", "avenue Saint-Lazare, 04100 Manosque", "xyz",
             "impasse des Edelweiss 04100 Manosque"]
    batch = locate_addresses(texts, DATE, index=index)
    for i, t in enumerate(texts):
        assert locate_addresses([t], DATE, index=index).row(0) == batch.row(i)
