"""`qpv rules schema DISPOSITIF` publishes valid JSON Schema that accepts the shipped examples and rejects
what the engine rejects."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from qpv_cli.main import qpv

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CASES = {
    "emplois-francs": ["emplois-francs_peyrouat.json", "emplois-francs_incomplete.json"],
    "tfpb": ["tfpb_moissac.json"],
    "adultes-relais": ["adultes-relais_manosque.json"],
    "criteres_qpv": [],
}


@pytest.mark.parametrize("dispositif", sorted(CASES))
def test_schema_is_valid_draft_2020_12(dispositif):
    r = CliRunner().invoke(qpv, ["rules", "schema", dispositif])
    assert r.exit_code == 0
    schema = json.loads(r.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for name in CASES[dispositif]:
        facts = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
        assert list(validator.iter_errors(facts)) == [], name
    assert not validator.is_valid({"champ_inconnu": 1})  # the engine refuses unknown fields too
