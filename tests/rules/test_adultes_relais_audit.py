"""The adultes-relais rule against the December 2026 audit (docs/legal/law-audit-2026-12.md, A1-A7): citations of
the wording in force at the signature, unconfirmed amounts that say so, and the first-year rate, half-up to the
cent. The outcomes themselves are the « A… — » YAML cases of rules/adultes-relais.yaml."""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility.rules import evaluate, get_rule, parameter_value

BASE = {  # an eligible post: the person's residence does not matter (other priority territory)
    "contract.type": "CDD", "contract.duration_months": 36, "contract.working_time_ratio": 1,
    "person.birth_date": "1970-01-01", "person.employment": "none", "person.residence": {"lon": 1.095, "lat": 44.085},
    "person.other_priority_territory": True, "employer.kind": "association", "convention.duration_months": 36,
}


def signed(day: dt.date, **facts) -> dict:
    return {**BASE, "contract.signature_date": day.isoformat(), "convention.signature_date": day.isoformat(), **facts}


def figure(d) -> dict:
    return next(p for p in d.trace["parameters"] if p["parameter"] == "aide_annuelle_temps_plein")


def test_a1_both_published_amounts_are_flagged_and_the_trace_and_text_say_so():
    for day, value, text in ((dt.date(2023, 9, 15), 22555.73, "31 août 2023"), (dt.date(2024, 1, 2), 22810.61, "27 septembre 2024")):
        d = evaluate("adultes-relais", signed(day))
        p = figure(d)
        assert (p["value"], p["confirmed"], p["legal_reference"]["confirmed"]) == (value, False, False)
        assert text in p["legal_reference"]["text"] and "[C2]" in p["provenance"]["note"]
        assert "chiffre non confirmé" in d.to_text()
    assert figure(evaluate("adultes-relais", signed(dt.date(2024, 1, 1))))["from"] == "2024-01-01"  # not 1 July 2024


def test_a4_a_refusal_before_16_september_2021_cites_the_former_wording():
    d = evaluate("adultes-relais", signed(dt.date(2021, 9, 15), **{"person.birth_date": "1992-03-01"}))
    [reason] = d.reasons
    ref = reason["legal_reference"]
    assert reason["condition"] == "age_minimum"
    assert ref["text"] == "Code du travail, article L. 5134-102 (rédaction en vigueur du 8 août 2015 au 15 septembre 2021)"
    assert (ref["from"], ref["to"]) == ("2015-08-08", "2021-09-15")
    assert "LEGIARTI000031014056" in str(ref["provenance"])  # in the JSON trace…
    assert "LEGIARTI" not in d.to_text(full_trace=True)       # …never in what people read
    after = evaluate("adultes-relais", signed(dt.date(2021, 9, 16), **{"person.birth_date": "1992-03-01"}))
    assert after.outcome == "eligible"
    age = next(c for c in after.trace["conditions"] if c["id"] == "age_minimum")["legal_reference"]
    assert "depuis le 16 septembre 2021" in age["text"]


def test_a6_the_amount_is_the_first_year_rate():
    amount = next(a for a in get_rule("adultes-relais").model.amounts if a.id == "aide_annuelle")
    assert "première année" in amount.label and "revalorisé" in amount.label


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dates(dt.date(2013, 1, 18), dt.date(2027, 12, 31)),
       st.integers(5000, 10000).map(lambda x: Decimal(x) / 10000))
def test_amount_is_the_rate_in_force_times_working_time_half_up_never_above_it(day, ratio):
    """A6/A7 as a property: over every signature day, the amount is the full-time rate in force that day times
    the working time, rounded half-up to the cent in decimal; it never exceeds the rate; an unknown rate gives
    no amount, an ambiguity naming the parameter, and is still eligible (the amount is not required)."""
    d = evaluate("adultes-relais", signed(day, **{"contract.working_time_ratio": float(ratio)}))
    assert d.outcome == "eligible"
    rate = parameter_value("adultes-relais", "aide_annuelle_temps_plein", day).value
    got = d.amounts["aide_annuelle"]
    if rate is None:
        assert got is None and [a["parameter"] for a in d.ambiguities] == ["aide_annuelle_temps_plein"]
    else:
        want = (Decimal(str(rate)) * ratio).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert got == float(want) and got <= rate
