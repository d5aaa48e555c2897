"""QA regressions: click's own strings in French (cli/french.py), and user errors found by the QA pass."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from qpv_cli.main import qpv

ENGLISH = ("Usage:", "Show this message and exit.", "Error:", "Missing option", "Missing argument",
           "No such command", "No such option", "Try '", "[default:", "Options:\n  --version   Show")


def run(*args):
    return CliRunner().invoke(qpv, list(args))


def _no_english(text: str) -> None:
    for s in ENGLISH:
        assert s not in text, f"chaîne anglaise de click restée : {s!r} dans {text!r}"


@pytest.mark.parametrize("args", [["--help"], ["locate", "--help"], ["batch", "--help"], ["rules", "schema", "-h"]])
def test_help_is_french(args):
    r = run(*args)
    assert r.exit_code == 0
    assert r.stdout.startswith("Utilisation : qpv")
    assert "Affiche cette aide et quitte." in r.stdout
    _no_english(r.stdout)


@pytest.mark.parametrize("args, expected", [
    (["nope"], "Commande inconnue : 'nope'"),
    (["locat"], "Vouliez-vous dire 'locate' ?"),
    (["locate", "--lon"], "L'option '--lon' attend une valeur."),
    (["evaluate", "tfpb", "--bogus"], "Option inconnue : '--bogus'"),
    (["batch", "locate"], "Argument manquant 'IN'"),
])
def test_usage_errors_are_french_and_exit_2(args, expected):
    r = run(*args)
    assert r.exit_code == 2
    assert expected in r.stderr and "Erreur : " in r.stderr
    _no_english(r.stderr)
    assert r.stdout == ""


def test_default_marker_is_french():
    # `locate --tolerance` has no fixed default any more (the perimeter file's own): the batch chunk size does
    assert "[défaut : 100000;" in run("batch", "locate", "--help").stdout


def test_unknown_commune_is_bad_input_not_an_empty_list():
    r = run("quartiers", "list", "--commune", "99999", "--json")
    assert r.exit_code == 2 and r.stdout == ""
    assert "commune inconnue « 99999 »" in r.stderr


def test_known_commune_without_quartier_is_still_an_empty_list():
    r = run("quartiers", "list", "--commune", "40001", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout) == {"quartiers": []}


@pytest.mark.parametrize("facts, field, expected", [
    ('{"contract": {"working_time_ratio": NaN}}', "contract.working_time_ratio", "nombre fini attendu"),
    ('{"contract": {"working_time_ratio": 1e999}}', "contract.working_time_ratio", "nombre fini attendu"),
    ('{"contract": {"type": "XYZ"}}', "contract.type", "(attendu : 'CDI', 'CDD' ou 'CDI_INTERIMAIRE')"),
    ('{"contract": {"signature_date": "2024-13-01"}}', "contract.signature_date",
     "date attendue au format AAAA-MM-JJ, reçu « 2024-13-01 »"),
])
def test_invalid_facts_messages_are_french(tmp_path, facts, field, expected):
    path = tmp_path / "faits.json"
    path.write_text(facts, encoding="utf-8")
    r = run("evaluate", "emplois-francs", "--facts", str(path), "--json")
    assert r.exit_code == 2 and r.stdout == ""
    assert f"champ « {field} »" in r.stderr and expected in r.stderr
    for english in ("Input should", " or ", "(reçu '2024-13-01')"):  # pydantic's English; the value quoted twice
        assert english not in r.stderr


@pytest.mark.parametrize("where, expected", [("absent.json", "fichier introuvable"), ("", "c'est un dossier")])
def test_unreadable_facts_file_reason_is_french(tmp_path, where, expected):
    r = run("evaluate", "tfpb", "--facts", str(tmp_path / where), "--json")
    assert r.exit_code == 2 and expected in r.stderr
    assert "No such file" not in r.stderr and "Is a directory" not in r.stderr


@pytest.mark.parametrize("text, expected", [
    ('{"a":', "(ligne 1, colonne 6) : valeur attendue"),
    ("{a:1}", "nom de champ entre guillemets doubles attendu"),
    ('{"a":1} x', "texte en trop après l'objet JSON"),
    ('{"a":1 "b":2}', "virgule attendue"),
])
def test_malformed_facts_json_is_explained_in_french(tmp_path, text, expected):
    path = tmp_path / "faits.json"
    path.write_text(text, encoding="utf-8")
    r = run("evaluate", "tfpb", "--facts", str(path), "--json")
    assert r.exit_code == 2 and expected in r.stderr
    assert "Expecting" not in r.stderr and "Extra data" not in r.stderr


def test_threshold_negative_median_message_has_no_numpy_repr():
    r = run("threshold", "--national-median", "-5", "--uu-median", "1", "--uu-population", "1", "--json")
    assert r.exit_code == 2 and "reçu « -5 »" in r.stderr and "np.float64" not in r.stderr


def test_metavars_and_type_errors_are_french():
    help_text = run("batch", "locate", "--help").stdout
    assert "TEXTE" in help_text and "TEXT " not in help_text and "INTEGER" not in help_text
    assert run("--help").stdout.startswith("Utilisation : qpv [OPTIONS] COMMANDE [ARGUMENTS]...")
    r = run("batch", "locate", "x.csv", "-o", "y.csv", "--chunk-size", "abc")
    assert r.exit_code == 2 and "'abc' n'est pas un entier valide." in r.stderr


@pytest.mark.parametrize("args", [
    ["evaluate", "tfpb", "--facts", "examples/tfpb_moissac.json"],
    ["attest", "--lon", "-0.5066", "--lat", "43.9010"],
    ["batch", "locate", "examples/seed_points.csv", "-o", "{tmp}/out.csv", "--no-progress"],
    ["batch", "evaluate", "tfpb", "examples/seed_points.csv", "-o", "{tmp}/out.csv", "--no-progress"],
])
def test_empty_date_is_refused_everywhere(tmp_path, monkeypatch, args):
    # `--date ""` used to be read as « no date » (today, or the rule's date) by these commands, unlike qpv locate.
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    r = run(*[a.replace("{tmp}", str(tmp_path)) for a in args], "--date", "", "--json")
    assert r.exit_code == 2 and r.stdout == ""
    assert "champ « --date » : date invalide" in r.stderr
    assert not (tmp_path / "out.csv").exists()


def test_broken_parquet_input_is_explained_in_french(tmp_path):
    bad = tmp_path / "entree.parquet"
    bad.write_text("pas du parquet", encoding="utf-8")
    r = run("batch", "locate", str(bad), "-o", str(tmp_path / "out.csv"), "--date", "2024-06-01", "--no-progress")
    assert r.exit_code == 2 and "fichier Parquet illisible : pas un fichier Parquet" in r.stderr
    assert "magic bytes" not in r.stderr
