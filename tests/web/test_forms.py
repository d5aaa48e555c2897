"""The dispositif form generated from a facts schema and the rule's labels, and the facts read back from it."""
import pytest
from hypothesis import given, settings, strategies as st

from eligibility.web.forms import FormProblems, facts_from_form, field_label, fields_from_schema, grouped

from .fakes import SCHEMA

LABELS = {"contract.type": {"CDI": "Contrat à durée indéterminée (CDI)", "CDD": "Contrat à durée déterminée (CDD)"}}
FIELDS = fields_from_schema(SCHEMA, LABELS)


def test_one_field_per_fact_path_with_its_kind():
    kinds = {f.name: f.kind for f in FIELDS}
    assert kinds == {"contract.type": "enum", "contract.signature_date": "date", "contract.duration_months": "number",
                     "contract.hours": "integer", "employee.residence": "place", "employee.on_staff": "bool"}
    by_name = {f.name: f for f in FIELDS}
    assert by_name["contract.type"].choices == [("CDI", "Contrat à durée indéterminée (CDI)"), ("CDD", "Contrat à durée déterminée (CDD)")]
    assert by_name["contract.duration_months"].maximum == 600
    assert by_name["employee.residence"].label == "Lieu de résidence du salarié"


def test_sections_follow_who_knows_the_facts():
    assert [(title, [f.name for f in fs]) for title, fs in grouped(FIELDS)] == [
        ("Le contrat de travail", ["contract.type", "contract.signature_date", "contract.duration_months", "contract.hours"]),
        ("Le salarié", ["employee.residence", "employee.on_staff"])]


def test_a_field_is_named_by_its_description_not_its_path():
    assert field_label(FIELDS, "employee.residence.lon") == "Lieu de résidence du salarié"
    from eligibility.web.forms import Field

    f = Field("x.kind", "Nature de l'employeur : entreprise, association", "enum")
    assert (f.short_label, f.hint) == ("Nature de l'employeur", "entreprise, association")
    g = Field("x.ratio", "Durée du travail rapportée au temps plein (1 = temps plein, 0,5 = mi-temps)", "number")
    assert (g.short_label, g.hint) == ("Durée du travail rapportée au temps plein", "1 = temps plein, 0,5 = mi-temps")
    q = Field("x.ok", "L'employeur est-il à jour (impôts, URSSAF) ?", "bool")
    assert q.short_label == q.label  # a question keeps its brackets


def test_facts_are_typed_and_flat_with_decimal_commas():
    form = {"contract.type": "CDI", "contract.signature_date": "2024-03-01", "contract.duration_months": "6,5",
            "contract.hours": "35", "employee.on_staff": "false", "employee.residence.lon": "1,3", "employee.residence.lat": "44"}
    assert facts_from_form(FIELDS, form) == {
        "contract.type": "CDI", "contract.signature_date": "2024-03-01", "contract.duration_months": 6.5,
        "contract.hours": 35, "employee.on_staff": False, "employee.residence": {"lon": 1.3, "lat": 44.0}}
    assert facts_from_form(FIELDS, {"employee.residence.quartier_code": "QN08004M"}) == {"employee.residence": {"quartier_code": "QN08004M"}}


@settings(deadline=None)
@given(st.dictionaries(st.sampled_from([f.name for f in FIELDS] + ["employee.residence.lon", "employee.residence.address"]),
                       st.sampled_from(["", " ", "  "])))
def test_empty_inputs_are_missing_never_defaulted(form):
    assert facts_from_form(FIELDS, form) == {}


@pytest.mark.parametrize("form, field", [
    ({"contract.duration_months": "six"}, "contract.duration_months"),
    ({"contract.duration_months": "601"}, "contract.duration_months"),
    ({"contract.hours": "35,5"}, "contract.hours"),
    ({"contract.type": "jobseeker"}, "contract.type"),
    ({"employee.on_staff": "peut-être"}, "employee.on_staff"),
    ({"employee.residence.lon": "1.3"}, "employee.residence.lat"),
    ({"employee.residence.address": "1 rue X", "employee.residence.quartier_code": "QN08004M"}, "employee.residence"),
])
def test_bad_values_name_their_field(form, field):
    with pytest.raises(FormProblems) as exc:
        facts_from_form(FIELDS, form)
    assert exc.value.field == field


def test_every_problem_is_reported_at_once():
    with pytest.raises(FormProblems) as exc:
        facts_from_form(FIELDS, {"contract.duration_months": "six", "contract.hours": "1,5", "employee.on_staff": "x",
                                 "employee.residence.lon": "1", "employee.residence.address": "1 rue X"})
    assert [f for f, _ in exc.value.problems] == ["contract.duration_months", "contract.hours", "employee.residence", "employee.on_staff"]
    assert all(m.startswith("« ") for _, m in exc.value.problems)  # each message names its field in French
