"""Rule files are validated on load; errors name the file, the rule and the field."""
import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml

from eligibility.errors import RuleFileError
from eligibility.paths import rules_dir
from eligibility.rules.loader import load_file, load_rules

BASE = yaml.safe_load((Path(rules_dir()) / "tfpb.yaml").read_text(encoding="utf-8"))


def write(tmp_path, data, name="tfpb.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def broken(tmp_path, edit):
    data = copy.deepcopy(BASE)
    edit(data)
    with pytest.raises(RuleFileError) as exc:
        load_file(write(tmp_path, data))
    return str(exc.value)


def test_shipped_rule_files_load():
    rules = load_rules()
    assert {"emplois-francs", "tfpb", "adultes-relais"} <= set(rules)


def test_unknown_key_is_refused(tmp_path):
    msg = broken(tmp_path, lambda d: d["conditions"][0].update(expresion="True"))
    assert "tfpb.yaml" in msg and "règle tfpb" in msg and "conditions.0.expresion" in msg


def test_missing_required_field(tmp_path):
    msg = broken(tmp_path, lambda d: d["conditions"][1].pop("message"))
    assert "conditions.1.message" in msg and "obligatoire" in msg


def test_unknown_name_in_expression(tmp_path):
    msg = broken(tmp_path, lambda d: d["conditions"][1].update(expression="logement.social_rentl"))
    assert "conditions[logement_locatif_social].expression" in msg and "nom inconnu" in msg


def test_type_error_in_expression(tmp_path):
    msg = broken(tmp_path, lambda d: d["conditions"][1].update(expression="tax_year < owner.declaration_date"))
    assert "types incompatibles" in msg


def test_condition_must_be_boolean(tmp_path):
    msg = broken(tmp_path, lambda d: d["conditions"][1].update(expression="tax_year + 1"))
    assert "doit donner un(e) bool" in msg


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')", "(lambda: True)()", "logement.social_rental.__class__",
    "[x for x in [1]]", "tax_year[0] == 1", "eval('1') == 1", "open('f')", "tax_year ** 2 > 1",
    "logement.social_rental if True", "f'{tax_year}' == 'a'",
])
def test_unsafe_or_unknown_syntax_is_refused(tmp_path, text):
    msg = broken(tmp_path, lambda d: d["conditions"][1].update(expression=text))
    assert "règle tfpb" in msg and "conditions[logement_locatif_social]" in msg


def test_undeclared_legal_text(tmp_path):
    msg = broken(tmp_path, lambda d: d["conditions"][0]["legal_reference"][0].update(text="cgi-9999"))
    assert "conditions[annee_d_imposition].legal_reference" in msg and "cgi-9999" in msg


def test_parameter_gap(tmp_path):
    def edit(d):
        d["parameters"]["taux_abattement"]["values"][-2]["to"] = dt.date(2024, 12, 30)
    msg = broken(tmp_path, edit)
    assert "parameters.taux_abattement.values" in msg and "trou" in msg


def test_parameter_overlap(tmp_path):
    def edit(d):
        d["parameters"]["taux_abattement"]["values"][-1]["from"] = dt.date(2024, 6, 1)
    assert "chevauchement" in broken(tmp_path, edit)


def test_parameter_must_cover_the_rule_life(tmp_path):
    def edit(d):
        d["parameters"]["taux_abattement"]["values"][-1]["to"] = dt.date(2029, 12, 31)
    assert "aucune valeur après" in broken(tmp_path, edit)


def test_duplicate_condition_id(tmp_path):
    msg = broken(tmp_path, lambda d: d["conditions"][1].update(id="annee_d_imposition"))
    assert "en double" in msg


def test_circular_definition(tmp_path):
    def edit(d):
        d["definitions"] = {"a": {"label": "a", "expression": "b + 1"}, "b": {"label": "b", "expression": "a + 1"}}
    assert "circulaire" in broken(tmp_path, edit)


def test_id_must_match_file_name(tmp_path):
    with pytest.raises(RuleFileError, match="nom du fichier"):
        load_file(write(tmp_path, BASE, name="autre.yaml"))


def test_bad_yaml(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(RuleFileError, match="YAML illisible"):
        load_file(path)


def test_test_case_facts_must_fit_the_schema(tmp_path):
    msg = broken(tmp_path, lambda d: d["tests"][0]["facts"].update({"owner.kind": "bailleur"}))
    assert "tests[" in msg and "owner.kind" in msg
    msg = broken(tmp_path, lambda d: d["tests"][0]["expect"].update(reasons=["pas_une_condition"]))
    assert "expect.reasons" in msg


def test_enum_labels_must_name_declared_values():
    """`labels` gives French text per enum value; a label for a value the enum lacks is a file error."""
    from eligibility.rules.model import Fact

    ok = Fact(type="enum", description="Type", values=["CDI", "CDD"], labels={"CDI": "Contrat à durée indéterminée"})
    assert ok.labels == {"CDI": "Contrat à durée indéterminée"}
    with pytest.raises(ValueError, match="valeurs inconnues"):
        Fact(type="enum", description="Type", values=["CDI"], labels={"CDX": "?"})


def test_dated_reference_gap_is_refused(tmp_path):
    def edit(d):
        d["conditions"][0]["legal_reference"][0]["to"] = dt.date(2017, 12, 30)
    msg = broken(tmp_path, edit)
    assert "conditions[annee_d_imposition].legal_reference" in msg and "trou" in msg


def test_dated_reference_must_cover_the_rule_life(tmp_path):
    def edit(d):
        d["conditions"][0]["legal_reference"] = d["conditions"][0]["legal_reference"][:-1]
    msg = broken(tmp_path, edit)
    assert "conditions[annee_d_imposition].legal_reference" in msg and "aucune valeur après" in msg
