"""`qpv geocode` on the command line: one JSON object, French errors, exit code 2 on bad input."""
import json

from click.testing import CliRunner

from qpv_cli.main import qpv


def run(*args):
    return CliRunner().invoke(qpv, list(args))


def test_geocode_json_contract():
    r = run("geocode", "2 AV DES THERMES 04000 DIGNE LES BAINS", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert {"lon", "lat", "level", "score", "label", "source"} <= set(out)
    assert out["level"] == "housenumber" and out["label"] == "2 Avenue des Thermes 04000 Digne-les-Bains"
    assert "ODbL" in out["source"]["licence"]
    assert run("geocode", "--json", "2 AV DES THERMES 04000 DIGNE LES BAINS").stdout == r.stdout  # same bytes


def test_geocode_text_is_french():
    r = run("geocode", "1 rue Albert Honde 04100 Manosque")
    assert r.exit_code == 0 and "Adresse trouvée : 1 Rue Albert Honde 04100 Manosque" in r.output


def test_bad_input_exit_code_2():
    r = run("geocode", "  ")
    assert r.exit_code == 2 and "adresse vide" in r.output
    r = run("geocode", "index", "/nonexistent/adresses-04.csv")
    assert r.exit_code == 2 and "fichier introuvable" in r.output
    r = run("geocode", "--index", "/nonexistent", "1 rue X")
    assert r.exit_code == 2 and "pas d'index" in r.output


def test_geocode_index_builds_and_is_used(tmp_path):
    import gzip

    from eligibility.datasets import verified_path

    with gzip.open(verified_path("bano", "bano-04_2015-03-23.csv.gz"), "rt", encoding="utf-8") as f:
        head = [next(f) for _ in range(300)]
    src = tmp_path / "bano-extrait.csv"
    src.write_text("".join(head), encoding="utf-8")
    r = run("geocode", "index", str(src), "-o", str(tmp_path / "ix"), "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["points"] == 300 and summary["files"][0]["format"] == "bano"
    r = run("geocode", "--index", str(tmp_path / "ix"), "--json", "3 voie des amandiers aiglun")
    assert json.loads(r.stdout)["source"]["record_id"] == "040010012W-3"
