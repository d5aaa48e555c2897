"""QA regressions: click's own strings in French (cli/french.py), and user errors found by the QA pass."""
from __future__ import annotations

import json

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
    assert "[défaut : 15]" in run("locate", "--help").stdout


def test_unknown_commune_is_bad_input_not_an_empty_list():
    r = run("quartiers", "list", "--commune", "99999", "--json")
    assert r.exit_code == 2 and r.stdout == ""
    assert "commune inconnue « 99999 »" in r.stderr


def test_known_commune_without_quartier_is_still_an_empty_list():
    r = run("quartiers", "list", "--commune", "40001", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout) == {"quartiers": []}
