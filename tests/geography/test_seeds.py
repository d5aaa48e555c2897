"""Real cases from the seeds and SOURCES.md §6e, located with the bundled perimeters."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import shapely

from eligibility.geography import list_quartiers, locate_points
from eligibility.geography.perimeters import load

D2024 = dt.date(2024, 6, 1)
D2020 = dt.date(2020, 6, 1)


def interior_point(dataset_id: str, code: str) -> tuple[float, float]:
    """Centre of the largest circle inside the perimeter: far from its boundary by construction."""
    per = load(dataset_id)
    geom = per.geometry[per.position(code)]
    biggest = max(shapely.get_parts(geom), key=shapely.area)
    p = shapely.maximum_inscribed_circle(biggest)
    x, y = shapely.get_coordinates(p)[0]
    return float(x), float(y)


@pytest.mark.parametrize("name, code", [
    ("college:0400103V", "QN04005I"),   # Collège Lubet Barbon, La Moustey
    ("poste:07626A", "QN04005I"),       # 280 rue de la Provence, Saint-Pierre-du-Mont
    ("college:0820753Y", "QN08203M"),   # Moissac, 20 rue Sainte Catherine
    ("poste:15577A", "QN08203M"),       # Moissac BP
    ("college:0622425Z", "QN06208M"),   # Collège Paul Verlaine, Mont Liébaut
    ("poste:11719A", "QN06208M"),       # Béthune Mont Liébaut BP
    ("poste:00622A", "QN00402M"),       # Manosque, rue de la Reine Jeanne
    ("bano:041120030H-1", "QN00402M"),  # 1 rue Albert Honde, Manosque
    ("bano:041120023A-52", "QN00403M"), # 52 montée des Adrechs, Manosque
    ("college:0390883Y", "QN03901M"),   # Collège Maryse Bastié, Dole
])
def test_spot_checks_in_their_quartier(spot_points, name, code):
    lon, lat = spot_points[name]
    res = locate_points([lon], [lat], D2024)
    assert res.quartier_code[0] == code
    assert res.status[0] in ("inside", "near_boundary")
    assert res.vintage[0] == "QP2024"


def test_spot_check_outside(spot_points):
    lon, lat = spot_points["bano:041120010L-1"]  # 1 rue de l'Abattoir, Manosque
    res = locate_points([lon], [lat], D2024)
    assert res.status[0] == "outside" and res.quartier_code[0] is None
    assert res.commune_code[0] == "04112"


@pytest.mark.parametrize("code, commune", [("QN04004M", "40192"), ("QN04005I", "40281"), ("QN08203M", "82112"),
                                           ("QN08204M", "82112"), ("QN00402M", "04112"), ("QN00403M", "04112")])
def test_seed_quartiers_2024(code, commune):
    lon, lat = interior_point("qp2024", code)
    row = locate_points([lon], [lat], D2024).row(0)
    assert row["status"] == "inside"
    assert row["quartier"]["code"] == code
    assert row["commune"]["code"] == commune
    assert row["vintage"] == "QP2024" and "2023-1314" in row["legal_basis"]
    assert row["distance_to_boundary_m"] > 15


@pytest.mark.parametrize("code", ["QP082003", "QP082004"])
def test_moissac_2015_predecessors(code):
    lon, lat = interior_point("qp2015_occitanie", code)
    row = locate_points([lon], [lat], D2020).row(0)
    assert (row["status"], row["quartier"]["code"], row["vintage"]) == ("inside", code, "QP2015")
    assert "2014-1750" in row["legal_basis"]
    # the same place in 2024 answers with the 2024 list, never with a 2015 code
    later = locate_points([lon], [lat], D2024)
    assert later.vintage[0] == "QP2024"
    assert later.quartier_code[0] is None or later.quartier_code[0].startswith("QN")


BETHUNE_BRUAY = sorted([f"QN062{n:02d}M" for n in range(4, 19)] + ["QN06255M"])


def test_bethune_bruay_sixteen_quartiers():
    listed = [q["code"] for q in list_quartiers(epci="200072460")]
    assert listed == BETHUNE_BRUAY
    pts = np.array([interior_point("qp2024", c) for c in BETHUNE_BRUAY])
    res = locate_points(pts[:, 0], pts[:, 1], D2024)
    assert list(res.quartier_code) == BETHUNE_BRUAY
    assert set(res.status) == {"inside"}


def test_multi_commune_quartier_lists_every_commune():
    lon, lat = interior_point("qp2024", "QN06209M")
    row = locate_points([lon], [lat], D2024).row(0)
    assert row["quartier"]["communes"] == [{"code": "62119", "name": "Béthune"}, {"code": "62848", "name": "Verquin"}]


def test_not_covered_cases():
    lon_pey, lat_pey = interior_point("qp2024", "QN04004M")
    per = load("qp2024")
    reunion = str(per.code[per.departement == "974"][0])
    lon_reu, lat_reu = interior_point("qp2024", reunion)
    res = locate_points([lon_pey, lon_reu, lon_reu, lon_pey, 1.3], [lat_pey, lat_reu, lat_reu, lat_pey, 44.2],
                        np.array(["2020-01-01", "2024-06-01", "2025-06-01", "2014-12-31", "2020-01-01"]))
    assert list(res.status[:4]) == ["not_covered", "not_covered", "inside", "not_covered"]
    assert list(res.coverage[:4]) == ["hors_couverture", "millesime_non_fourni", "", "avant_qpv"]
    assert res.row(0)["reason"] and res.row(0)["distance_to_boundary_m"] is None
    # Occitan countryside in 2020: covered by QP2015 (Occitanie), and outside every quartier
    assert (res.status[4], res.vintage[4], res.region[4]) == ("outside", "QP2015", "76")


def test_every_quartier_is_found_at_its_centre_and_every_boundary_vertex_is_near():
    """All 1,606 non-degenerate QP2024 quartiers (and 2015 ones): centre -> inside it; vertex -> near_boundary."""
    for ds, day in (("qp2024", dt.date(2025, 6, 1)), ("qp2015_occitanie", D2020)):
        per = load(ds)
        ok = ~per.degenerate
        parts, owner = shapely.get_parts(per.geometry[ok], return_index=True)
        centres = shapely.get_coordinates(shapely.maximum_inscribed_circle(parts))[::2]
        res = locate_points(centres[:, 0], centres[:, 1], day)
        assert (res.quartier_code == per.code[ok][owner]).all()
        assert set(res.status) <= {"inside", "near_boundary"}
        vertices = shapely.get_coordinates(per.boundary[ok])
        on_edge = locate_points(vertices[:, 0], vertices[:, 1], day)
        assert set(on_edge.status) == {"near_boundary"}
