"""Command-line contract of `qpv threshold` and `qpv perimeters derive|compare` (DESIGN.md)."""
import json

import pytest
from click.testing import CliRunner

from qpv_cli.main import qpv


def run(*args):
    res = CliRunner().invoke(qpv, list(args))
    return res.exit_code, res.stdout, res.stderr


def test_threshold_json_contract():
    code, out, _ = run("threshold", "--national-median", "18750", "--uu-median", "16000", "--uu-population", "9999", "--json")
    assert code == 0
    obj = json.loads(out)  # exactly one JSON object
    assert obj["threshold"] == 10800 and obj["unite_urbaine_eligible"] is True
    assert [s["step"] for s in obj["trace"]] == ["unite_urbaine_eligible", "regime", "seuil"]
    assert obj["trace"][2]["legal_reference"]["article"] == "art. 4"


def test_threshold_from_bundled_unite_urbaine_is_labelled():
    code, out, _ = run("threshold", "--unite-urbaine", "40401", "--json")
    obj = json.loads(out)
    assert code == 0 and obj["threshold"] == 12900
    assert "MED18" in obj["trace"][2]["inputs"]["uu_median_source"]


def test_threshold_text_is_french():
    code, out, _ = run("threshold", "--national-median", "18750", "--uu-median", "22000", "--uu-population", "10500000")
    assert code == 0 and "Seuil S = 12 700 €" in out and "non confirmées" in out


@pytest.mark.parametrize("args, fragment", [
    (["threshold", "--national-median", "abc", "--uu-median", "1", "--uu-population", "1"], "--national-median"),
    (["threshold", "--uu-median", "16000"], "manquante"),
    (["threshold", "--unite-urbaine", "00000", "--json"], "inconnue"),
    (["threshold", "--national-median", "1", "--uu-median", "1", "--uu-population", "1", "--date", "2014-01-01"], "2015"),
    (["perimeters", "derive", "--carreaux", "nope.csv", "-o", "x.geojson"], "introuvable"),
    (["perimeters", "derive", "--carreaux", "filosofi2019_carreaux_bethune_bruay", "--uu-median", "20000",
      "-o", "x.geojson"], "une seule unité urbaine"),
    (["perimeters", "derive", "--carreaux", "filosofi2019_carreaux_dole", "--unite-urbaine", "39402",
      "--threshold", "-5", "-o", "x.geojson"], "seuil strictement positif"),
    (["perimeters", "compare", "nope.geojson"], "introuvable"),
    (["perimeters", "derive", "--carreaux", "filosofi2019_carreaux_dole", "--unite-urbaine", "39402",
      "--connectivity", "6", "-o", "x.geojson"], "côté commun"),
    (["perimeters", "derive", "--carreaux", "filosofi2019_carreaux_dole", "--unite-urbaine", "39402",
      "--geojson-groups", "some", "-o", "x.geojson"], "candidates"),
])
def test_bad_input_exits_2_with_a_french_message(args, fragment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(*args)
    assert code == 2 and out == ""
    assert err.startswith("Erreur : ") and fragment in err and "Traceback" not in err


def test_derive_writes_geojson_and_table_deterministically(tmp_path):
    args = ["perimeters", "derive", "--carreaux", "filosofi2019_carreaux_bethune_bruay", "--unite-urbaine", "00752",
            "--uu-median", "34000", "--json"]
    # S = 0.6 × (0.7 × 21 730 + 0.3 × 34 000) = 15 246.6 → 15 300: high enough for the proxy to find candidates
    code, out, _ = run(*args, "-o", str(tmp_path / "a.geojson"))
    assert code == 0
    obj = json.loads(out)
    assert obj["summary"]["candidates"] >= 1 and obj["unites_urbaines"][0]["threshold"] == 15300
    first = (tmp_path / "a.geojson").read_bytes()
    fc = json.loads(first)
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == obj["summary"]["groups"]
    for f in fc["features"]:
        geom = f["geometry"]
        ring = geom["coordinates"][0] if geom["type"] == "Polygon" else geom["coordinates"][0][0]
        lon, lat = ring[0]
        assert 2.3 < lon < 2.9 and 50.4 < lat < 50.6  # WGS84, Béthune-Bruay area
        assert len(f["properties"]["carreaux"]) == f["properties"]["n_carreaux"]
    assert (tmp_path / "a.csv").read_text().startswith("id,status,unite_urbaine")
    run(*args, "-o", str(tmp_path / "b.geojson"))
    assert (tmp_path / "b.geojson").read_bytes() == first


def test_compare_on_a_bundled_extract(tmp_path):
    cand = tmp_path / "mdm.geojson"
    code, _, _ = run("perimeters", "derive", "--carreaux", "filosofi2019_carreaux_montdemarsan", "--unite-urbaine", "40401",
                     "-o", str(cand))
    assert code == 0
    code, out, _ = run("perimeters", "compare", str(cand), "--vintage", "QP2024", "--json")
    assert code == 0
    obj = json.loads(out)
    q = {x["code"]: x for x in obj["quartiers"]}
    # SOURCES.md §4a: 13 carreaux centred in QN04004M (Σind 2 051.5) and 7 in QN04005I
    assert q["QN04004M"]["carreaux"] == 13 and q["QN04004M"]["population"] == 2051.5
    assert q["QN04005I"]["carreaux"] == 7
