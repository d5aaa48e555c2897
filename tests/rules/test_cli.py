"""`qpv evaluate`, `qpv explain`, `qpv rules …`: contracts of DESIGN.md (one JSON object, exit codes)."""
import json

import pytest
from click.testing import CliRunner

from qpv_cli.main import qpv

FACTS = {
    "contract": {"type": "CDD", "signature_date": "2024-02-01", "duration_months": 12, "working_time_ratio": 0.8},
    "employee": {"residence": {"quartier_code": "QN08203M"}, "status": "jobseeker", "jobseeker_category": 2,
                 "employed_by_employer_last_6_months": False},
    "employer": {"kind": "association", "up_to_date_with_obligations": True, "economic_dismissal_last_6_months": False},
    "application_date": "2024-02-20",
}


@pytest.fixture
def facts_file(tmp_path):
    path = tmp_path / "faits.json"
    path.write_text(json.dumps(FACTS), encoding="utf-8")
    return str(path)


def run(*args):
    return CliRunner().invoke(qpv, list(args))


def test_evaluate_json(facts_file):
    res = run("evaluate", "emplois-francs", "--facts", facts_file, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert list(out)[:5] == ["dispositif", "outcome", "amounts", "reasons", "missing_inputs"]
    assert out["outcome"] == "eligible" and out["amounts"]["total"] == 2000.0
    assert [y["amount"] for y in out["amounts"]["schedule"]] == [2000.0, 0.0, 0.0]
    assert "trace" in out and out["trace"]["rule"]["id"] == "emplois-francs"
    again = run("evaluate", "emplois-francs", "--facts", facts_file, "--json")
    assert again.stdout == res.stdout  # same input, same bytes


def test_evaluate_date_option_and_text(facts_file):
    res = run("evaluate", "emplois-francs", "--facts", facts_file, "--date", "2025-02-01")
    assert res.exit_code == 0 and "NON ÉLIGIBLE" in res.stdout and "1er janvier 2020" in res.stdout


def test_explain_is_french_with_the_trace(facts_file):
    res = run("explain", "emplois-francs", "--facts", facts_file)
    assert res.exit_code == 0
    for words in ("Détail", "Conditions", "Valeurs datées utilisées", "chiffre non confirmé par un texte officiel lu",
                  "Géographie", "QP2024", "Date retenue : 01/02/2024"):
        assert words in res.stdout


@pytest.mark.parametrize("content,needle", [
    ("{\"contract\": ", "JSON mal formé"),
    ("[1, 2]", "objet JSON"),
    # the key the user wrote, then the fact's French name from the rule file
    ("{\"contract\": {\"type\": \"CDX\"}}", "champ « contract.type » (Type de contrat de travail) :"),
    ('{"employee": {"residence": {"lon": 200, "lat": 45}}}',
     "champ « employee.residence.lon » (Lieu de résidence du salarié à la date de signature, longitude) :"),
    ("{\"contract\": {\"duration_months\": \"douze\"}}", "nombre attendu"),
    ("{\"employe\": {}}", "champ inconnu"),
])
def test_bad_facts_exit_2(tmp_path, content, needle):
    path = tmp_path / "f.json"
    path.write_text(content, encoding="utf-8")
    res = run("evaluate", "emplois-francs", "--facts", str(path), "--json")
    assert res.exit_code == 2 and needle in res.stderr and res.stdout == ""
    assert "Traceback" not in res.stderr



@pytest.mark.parametrize("content", [b"{\"contract\": ", b"[1, 2]", b"\xff\xfe{}", None])
def test_attest_reads_a_facts_file_exactly_like_evaluate(tmp_path, content):
    """One reader (`qpv_cli.common.read_facts`) for `qpv evaluate` and `qpv attest --dispositif`: same message."""
    path = tmp_path / "f.json"
    if content is not None:  # None: the file does not exist
        path.write_bytes(content)
    evaluated = run("evaluate", "emplois-francs", "--facts", str(path))
    attested = run("attest", "--dispositif", "emplois-francs", "--facts", str(path))
    assert evaluated.exit_code == attested.exit_code == 2
    assert evaluated.stderr == attested.stderr and "--facts" in evaluated.stderr and "Traceback" not in evaluated.stderr


def test_facts_from_standard_input_equal_the_file(facts_file):
    res = CliRunner().invoke(qpv, ["evaluate", "emplois-francs", "--facts", "-", "--json"], input=json.dumps(FACTS))
    assert res.exit_code == 0 and res.stdout == run("evaluate", "emplois-francs", "--facts", facts_file, "--json").stdout


def test_unknown_dispositif_and_missing_file(facts_file, tmp_path):
    res = run("evaluate", "emplois-chers", "--facts", facts_file)
    assert res.exit_code == 2 and "dispositif inconnu" in res.stderr
    res = run("evaluate", "tfpb", "--facts", str(tmp_path / "absent.json"))
    assert res.exit_code == 2 and "illisible" in res.stderr
    res = run("evaluate", "tfpb", "--facts", facts_file, "--date", "2024-02-30")
    assert res.exit_code == 2 and "date invalide" in res.stderr


def test_rules_list_show_schema():
    out = json.loads(run("rules", "list", "--json").stdout)
    assert {"emplois-francs", "tfpb", "adultes-relais"} <= {r["id"] for r in out["rules"]}
    shown = json.loads(run("rules", "show", "tfpb", "--json").stdout)
    assert shown["content"]["parameters"]["taux_abattement"]["values"][0]["value"] == 0.3
    schema = json.loads(run("rules", "schema", "adultes-relais").stdout)
    assert schema["properties"]["person"] and "Place" in schema["$defs"]
    assert run("rules", "schema", "nope").exit_code == 2


def test_rules_test_and_validate(tmp_path):
    res = run("rules", "test", "tfpb", "--json")
    out = json.loads(res.stdout)
    assert res.exit_code == 0 and out["ok"] and out["failed"] == 0 and out["passed"] >= 20
    bad = tmp_path / "tfpb.yaml"
    bad.write_text("id: tfpb\nkind: dispositif\n", encoding="utf-8")
    res = run("rules", "validate", str(bad), "--json")
    assert res.exit_code == 2 and "règle tfpb" in json.loads(res.stdout)["files"][0]["message"]
    assert run("rules", "validate").exit_code == 0


def test_batch_error_cell_names_the_fact_in_french(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("contract.type,contract.signature_date,contract.working_time_ratio\nCDI,2024-03-01,7\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    res = run("batch", "evaluate", "emplois-francs", str(src), "-o", str(out), "--no-progress")
    assert res.exit_code in (0, 1), res.stderr
    line = out.read_text(encoding="utf-8").splitlines()[1]
    assert "champ « contract.working_time_ratio » (" in line and ") : valeur supérieure au maximum" in line
