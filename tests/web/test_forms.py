"""The dispositif form generated from a facts schema, and the facts read back from it."""
import pytest
from hypothesis import given, strategies as st

from eligibility.errors import BadInput
from eligibility.web.forms import facts_from_form, fields_from_schema

from .fakes import SCHEMA

FIELDS = fields_from_schema(SCHEMA)


def test_one_field_per_fact_path_with_its_kind():
    kinds = {f.name: f.kind for f in FIELDS}
    assert kinds == {"contract.type": "enum", "contract.signature_date": "date", "contract.duration_months": "number",
                     "contract.hours": "integer", "employee.residence": "place", "employee.on_staff": "bool"}
    by_name = {f.name: f for f in FIELDS}
    assert by_name["contract.type"].choices == ["CDI", "CDD"]
    assert by_name["contract.duration_months"].maximum == 600
    assert by_name["employee.residence"].label == "Lieu de résidence du salarié"


def test_facts_are_typed_and_flat():
    form = {"contract.type": "CDI", "contract.signature_date": "2024-03-01", "contract.duration_months": "6,5",
            "contract.hours": "35", "employee.on_staff": "false", "employee.residence.lon": "1.3", "employee.residence.lat": "44"}
    assert facts_from_form(FIELDS, form) == {
        "contract.type": "CDI", "contract.signature_date": "2024-03-01", "contract.duration_months": 6.5,
        "contract.hours": 35, "employee.on_staff": False, "employee.residence": {"lon": 1.3, "lat": 44.0}}
    assert facts_from_form(FIELDS, {"employee.residence.quartier_code": "QN08004M"}) == {"employee.residence": {"quartier_code": "QN08004M"}}


@given(st.dictionaries(st.sampled_from([f.name for f in FIELDS] + ["employee.residence.lon", "employee.residence.address"]),
                       st.sampled_from(["", " ", "  "])))
def test_empty_inputs_are_missing_never_defaulted(form):
    assert facts_from_form(FIELDS, form) == {}


@pytest.mark.parametrize("form, field", [
    ({"contract.duration_months": "six"}, "contract.duration_months"),
    ({"contract.hours": "35.5"}, "contract.hours"),
    ({"employee.on_staff": "peut-être"}, "employee.on_staff"),
    ({"employee.residence.lon": "1.3"}, "employee.residence.lat"),
])
def test_bad_values_name_their_field(form, field):
    with pytest.raises(BadInput) as exc:
        facts_from_form(FIELDS, form)
    assert exc.value.field == field
