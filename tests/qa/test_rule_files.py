"""QA regressions: a broken or missing rules directory (QPV_RULES_DIR) is a clear French error, exit 2."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from qpv_cli.main import qpv

RULES = Path(__file__).resolve().parents[2] / "rules"
FACTS = Path(__file__).resolve().parents[2] / "examples" / "tfpb_moissac.json"


def run(*args):
    return CliRunner().invoke(qpv, list(args))


def test_missing_rules_directory_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("QPV_RULES_DIR", str(tmp_path / "absent"))
    r = run("evaluate", "tfpb", "--facts", str(FACTS), "--json")
    assert r.exit_code == 2 and r.stdout == ""
    assert "dossier de règles introuvable" in r.stderr and "QPV_RULES_DIR" in r.stderr
    assert "dispositif inconnu" not in r.stderr  # used to blame the dispositif, with an empty list of known ones


@pytest.fixture
def rules_copy(monkeypatch, tmp_path):
    dst = tmp_path / "rules"
    shutil.copytree(RULES, dst)
    monkeypatch.setenv("QPV_RULES_DIR", str(dst))
    return dst


def test_yaml_syntax_error_says_where_in_french(rules_copy):
    (rules_copy / "tfpb.yaml").write_text("id: tfpb\n  bad: [\n", encoding="utf-8")
    r = run("evaluate", "tfpb", "--facts", str(FACTS), "--json")
    assert r.exit_code == 2 and r.stdout == ""
    assert "YAML illisible (ligne 2, colonne 6)" in r.stderr
    assert "mapping values" not in r.stderr  # PyYAML's English


@pytest.mark.parametrize("old, new, expected", [
    ("expression: logement.social_rental", "expression: __import__('os').system('true')", "appel non autorisé"),
    ("expression: logement.social_rental", "expression: logement.inconnu", "nom inconnu « logement.inconnu »"),
    ("{from: 2024-01-01, to: 2024-12-31, value: true", "{from: 2024-02-01, to: 2024-12-31, value: true",
     "trou entre le 2023-12-31 et le 2024-02-01"),
])
def test_broken_rule_is_refused_with_its_place(rules_copy, old, new, expected):
    text = (rules_copy / "tfpb.yaml").read_text(encoding="utf-8")
    assert old in text
    (rules_copy / "tfpb.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    r = run("evaluate", "tfpb", "--facts", str(FACTS), "--json")
    assert r.exit_code == 2 and r.stdout == ""
    assert expected in r.stderr and "tfpb.yaml" in r.stderr and "Traceback" not in r.stderr
