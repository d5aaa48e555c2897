"""Frames (batch layout, validation by column, collected errors) and dated parameters."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.errors import BadInput
from eligibility.rules import evaluate, evaluate_frame, load_rules, parameter_value, parameter_values
from eligibility.rules import values as V

EF_ROW = {
    "contract.type": "CDI", "contract.signature_date": "2022-03-01", "contract.working_time_ratio": 1.0,
    "employee.residence.quartier_code": "QP082003", "employee.status": "jobseeker",
    "employee.jobseeker_category": 1, "employee.employed_by_employer_last_6_months": False,
    "employer.kind": "company", "employer.up_to_date_with_obligations": True,
    "employer.economic_dismissal_last_6_months": False, "application_date": "2022-04-15",
}


def test_flat_place_columns_and_string_dates():
    df = pd.DataFrame([EF_ROW, {**EF_ROW, "employee.residence.quartier_code": None,
                                "employee.residence.lon": 1.095, "employee.residence.lat": 44.085}])
    f = evaluate_frame("emplois-francs", df)
    assert list(f.outcome) == ["eligible", "not_eligible"]
    assert f.amounts["total"].tolist()[0] == 15000 and np.isnan(f.amounts["total"].tolist()[1])
    assert [r["condition"] for r in f.reasons(1)] == ["residence_qpv"]


def test_absent_column_is_unknown_not_defaulted():
    df = pd.DataFrame([{k: v for k, v in EF_ROW.items() if k != "employer.kind"}])
    f = evaluate_frame("emplois-francs", df)
    assert f.outcome[0] == "undetermined" and f.missing(0) == ["employer.kind"]


def test_bad_values_are_reported_with_row_and_field():
    df = pd.DataFrame([EF_ROW, {**EF_ROW, "contract.type": "CDX", "contract.signature_date": "2022-02-30"},
                       {**EF_ROW, "contract.working_time_ratio": 1.5}])
    with pytest.raises(BadInput) as exc:
        evaluate_frame("emplois-francs", df)
    msg = str(exc.value)
    assert "ligne 2, champ « contract.type »" in msg and "ligne 2, champ « contract.signature_date »" in msg
    assert "ligne 3, champ « contract.working_time_ratio »" in msg
    f = evaluate_frame("emplois-francs", df, errors="collect")
    assert list(f.outcome) == ["eligible", "error", "error"]
    assert "CDX" in f.error(1) and f.error(0) is None
    assert f.decision(2).to_json()["error"].startswith("champ « contract.working_time_ratio »")


def test_unknown_quartier_code_is_a_row_error():
    df = pd.DataFrame([EF_ROW, {**EF_ROW, "employee.residence.quartier_code": "QX000000"}])
    f = evaluate_frame("emplois-francs", df, errors="collect")
    assert list(f.outcome) == ["eligible", "error"]
    with pytest.raises(BadInput, match="QX000000"):
        evaluate_frame("emplois-francs", df)


def test_place_needs_one_complete_form():
    with pytest.raises(BadInput, match="lon ET lat"):
        evaluate("emplois-francs", {"employee": {"residence": {"lon": 1.0}}})
    with pytest.raises(BadInput, match="une seule"):
        evaluate("emplois-francs", {"employee": {"residence": {"lon": 1.0, "lat": 44.0, "quartier_code": "X"}}})


def test_trace_records_the_geography_form_and_data():
    d = evaluate("emplois-francs", {"contract.signature_date": "2024-06-03",
                                    "employee.residence": {"lon": 1.08245, "lat": 44.10427}})
    g = d.trace["geography"][0]
    assert g["form"] == "lon_lat" and g["status"] == "inside" and g["quartier"] == "QN08203M" and g["vintage"] == "QP2024"
    assert any(v["dataset"] == "qp2024" and len(v["sha256"]) == 64 for v in d.trace["data_versions"])
    assert d.trace["rule"]["sha256"] == load_rules()["emplois-francs"].sha256
    d2 = evaluate("emplois-francs", {"contract.signature_date": "2024-06-03",
                                     "employee.residence": {"quartier_code": "QN08203M"}})
    assert d2.trace["geography"][0]["form"] == "quartier_code"


def test_date_override():
    d = evaluate("tfpb", {"tax_year": 2025}, date=dt.date(2031, 1, 1))
    assert d.trace["decision_date"]["value"] == "2031-01-01" and d.trace["decision_date"]["source"] == "option --date"


def test_unconfirmed_parameters_are_flagged_in_the_trace():
    d = evaluate("tfpb", {"tax_year": 2024, "logement.location": {"quartier_code": "QN04004M"}})
    used = {p["parameter"]: p for p in d.trace["parameters"]}
    assert used["abattement_en_vigueur"]["confirmed"] is False and "[U]" in used["abattement_en_vigueur"]["provenance"]["note"]
    # the 30 % rate for 2024 rests on an unread prorogation ([U]): flagged too (it was confirmed by mistake)
    assert used["taux_abattement"]["confirmed"] is False and "[I]" in used["taux_abattement"]["provenance"]["note"]
    # the reference of an unconfirmed figure is not shown as confirmed beside it (audit §2.1)
    assert used["taux_abattement"]["legal_reference"]["confirmed"] is False


def test_parameter_api():
    p = parameter_value("emplois-francs", "delai_demande_mois", dt.date(2023, 12, 31))
    assert p.value == 1 and p.start == dt.date(2023, 12, 31) and p.confirmed is False
    assert parameter_value("emplois-francs", "delai_demande_mois", dt.date(2023, 12, 30)).value == 3
    assert parameter_value("adultes-relais", "aide_annuelle_temps_plein", dt.date(2024, 9, 27)).value == 22810.61
    assert parameter_value("adultes-relais", "aide_annuelle_temps_plein", dt.date(2020, 1, 1)).value is None
    values, known = parameter_values("adultes-relais", "age_minimum", np.array(["2021-09-15", "2021-09-16"], dtype="datetime64[D]"))
    assert values.tolist() == [30.0, 26.0] and known.all()
    with pytest.raises(BadInput):
        parameter_value("tfpb", "nope", dt.date(2020, 1, 1))


@pytest.mark.parametrize("rid", sorted(load_rules()))
def test_every_day_of_a_rule_life_resolves_exactly_one_value(rid):
    """Every day from the start of the rule's life to its end (or 2040) falls in exactly one period."""
    rule = load_rules()[rid]
    start = V.days(rule.model.validity.valid_from)
    end = V.days(rule.model.validity.valid_to or dt.date(2040, 12, 31))
    days = np.arange(start, end + 1)
    for name, p in rule.params.items():
        inside = (days[:, None] >= p.starts[None, :]) & (days[:, None] <= p.ends[None, :])
        assert (inside.sum(axis=1) == 1).all(), name
        assert (p.period_index(days, np.ones(len(days), bool)) == inside.argmax(axis=1)).all(), name


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_date_in_a_rule_life_has_exactly_one_value_of_each_parameter(data):
    rules = load_rules()
    rule = rules[data.draw(st.sampled_from(sorted(rules)))]
    life_to = rule.model.validity.valid_to or dt.date(2100, 12, 31)
    day = data.draw(st.dates(min_value=rule.model.validity.valid_from, max_value=life_to))
    for name, p in rule.params.items():
        holding = [v for v in p.model.values if v.start <= day and (v.end is None or day <= v.end)]
        assert len(holding) == 1, (rule.id, name, day)
        assert p.at(day).start == holding[0].start


def test_quartier_codes_over_many_dates_agree_with_the_oracle():
    """Codes are asked once per validity period; every row must still match quartier_in_force at its date."""
    from eligibility.geography import quartier_in_force

    rng = np.random.default_rng(1)
    codes = rng.choice(["QN08203M", "QP082003", "QN97401I", "QN04004M", "qp082003 "], 300)
    days = (np.datetime64("2014-06-01") + rng.integers(0, 365 * 13, 300)).astype("datetime64[D]")
    df = pd.DataFrame({"contract.signature_date": days, "employee.residence.quartier_code": codes})
    f = evaluate_frame("emplois-francs", df)
    g = next(iter(f.ctx.geo.values()))
    for i in range(300):
        want = quartier_in_force(codes[i].strip().upper(), days[i].astype(dt.date))["in_force"]
        assert g.status[i] == ("inside" if want else "outside"), (codes[i], days[i])


def test_address_places_go_through_the_address_domain():
    d = evaluate("emplois-francs", {"contract.signature_date": "2024-06-03",
                                    "employee.residence": {"address": "rue qui n'existe pas, 99999 Nulle-Part"}})
    g = d.trace["geography"][0]
    assert g["form"] == "address" and g["status"] == "undetermined"
    assert d.outcome == "undetermined"
    assert [a["message"] for a in d.ambiguities if a == {"fact": "employee.residence", "status": "undetermined",
                                                         "message": a["message"]}]


@pytest.mark.parametrize("dtype", ["string", "str", "string[pyarrow]", object])
@pytest.mark.parametrize("column,expected_missing", [
    ("employer.kind", "employer.kind"),                                   # enum
    ("employer.economic_dismissal_last_6_months", "employer.economic_dismissal_last_6_months"),  # bool
    ("contract.working_time_ratio", "contract.working_time_ratio"),       # number
    ("employee.residence.quartier_code", "employee.residence"),           # place part
])
def test_blank_text_cell_is_a_missing_fact_for_every_string_dtype(dtype, column, expected_missing):
    # pandas 3 reads text as the `str` dtype, not object: a blank cell must still be an unknown fact,
    # not "valeur non autorisée" / "booléen attendu" / "nombre attendu" / "quartier inconnu".
    df = pd.DataFrame([EF_ROW, {**EF_ROW, column: ""}, {**EF_ROW, column: "  \t"}])
    df[column] = df[column].astype(str).astype(dtype)
    f = evaluate_frame("emplois-francs", df)
    assert f.outcome[0] == "eligible"
    for i in (1, 2):
        assert f.outcome[i] == "undetermined" and f.missing(i) == [expected_missing]


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet=" \t\u00a0\u2009", max_size=4), st.sampled_from(["string", "str", object]))
def test_any_whitespace_only_enum_is_missing_never_a_bad_value(blank, dtype):
    df = pd.DataFrame([{**EF_ROW, "contract.type": blank}])
    df["contract.type"] = df["contract.type"].astype(dtype)
    f = evaluate_frame("emplois-francs", df)
    assert f.outcome[0] == "undetermined" and "contract.type" in f.missing(0)


def test_a_wrong_value_in_a_string_column_is_still_an_error():
    df = pd.DataFrame([{**EF_ROW, "employer.up_to_date_with_obligations": "peut-être"}]).astype(
        {"employer.up_to_date_with_obligations": "string"})
    with pytest.raises(BadInput, match="booléen attendu"):
        evaluate_frame("emplois-francs", df)


def _dated_references(rule):
    m = rule.model
    refs = [m.decision_date.legal_reference] + [c.legal_reference for c in m.scope + m.conditions]
    refs += [e.legal_reference for c in m.scope + m.conditions for e in c.exceptions]
    refs += [a.legal_reference for a in m.amounts] + [o.legal_reference for o in m.obligations]
    return [r for r in refs if isinstance(r, list)]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_date_in_a_rule_life_cites_exactly_one_period_of_each_dated_reference(data):
    # A reason always cites the text in force on its decision date: one period, never none, never two.
    rules = load_rules()
    rule = rules[data.draw(st.sampled_from(sorted(r for r in rules if _dated_references(rules[r]))))]
    day = data.draw(st.dates(rule.model.validity.valid_from, rule.model.validity.valid_to or dt.date(2040, 12, 31)))
    for ref in _dated_references(rule):
        covering = [r for r in ref if r.start <= day and (r.end is None or day <= r.end)]
        assert len(covering) == 1
        cited = rule.ref_json(ref, day)
        assert cited["from"] == covering[0].start.isoformat() and "periods" not in cited


PLACE_CELLS = st.tuples(st.sampled_from([None, 2.35, 200.0, float("nan")]), st.sampled_from([None, 48.85, -95.0]),
                        st.sampled_from([None, "QN07503M", " "]), st.sampled_from([None, "1 rue de la Paix, Paris"]))


@settings(max_examples=80, deadline=None)
@given(st.lists(PLACE_CELLS, min_size=1, max_size=40))
def test_a_place_built_from_its_parts_knows_each_row_form_as_its_form_column_says(rows):
    """`PlaceCols.of_form` and `known` are the masks the form column was written from (no object comparison per
    row): they equal `form == name` and `form != None`, and so do those of a rows view that recomputes them."""
    from eligibility.rules.facts import BadValues, PlaceCols, _place_parts

    parts = {"lon": np.array([np.nan if r[0] is None else r[0] for r in rows]),
             "lat": np.array([np.nan if r[1] is None else r[1] for r in rows]),
             "quartier_code": pd.Series([r[2] for r in rows], dtype=object),
             "address": pd.Series([r[3] for r in rows], dtype=object)}
    place = _place_parts(parts, len(rows), "employee.residence", BadValues(load_rules()["emplois-francs"]))
    form = list(place.form)
    view = PlaceCols(place.form[::-1], place.lon[::-1], place.lat[::-1], place.quartier_code[::-1], place.address[::-1])
    for name in ("lon_lat", "quartier_code", "address"):
        assert list(place.of_form(name)) == [f == name for f in form]
        assert list(view.of_form(name)) == [f == name for f in form[::-1]]
    assert list(place.known) == [f is not None for f in form]
    assert list(view.known) == [f is not None for f in form[::-1]]
    picked = np.arange(len(rows))[::2]
    taken = place.take(picked)  # the rows view of the re-run behind missing inputs
    assert list(taken.form) == [form[i] for i in picked] and list(taken.known) == [form[i] is not None for i in picked]
    for name in ("lon_lat", "quartier_code", "address"):
        assert list(taken.of_form(name)) == [form[i] == name for i in picked]
