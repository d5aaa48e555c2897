"""Properties of the issue, with hypothesis, over the three dispositifs and real places."""
import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from qpv_cli.common import to_json
from eligibility.errors import BadInput
from eligibility.rules import evaluate, evaluate_frame, load_rules

# --- strategies: random facts over real places (coordinates explained in the rule files' tests) ---

PLACES = [
    {"lon": 1.08456, "lat": 44.10334},     # Moissac, QP082003 and QN08203M
    {"lon": 1.07878, "lat": 44.10137},     # QP082003 only
    {"lon": 1.08245, "lat": 44.10427},     # QN08203M only
    {"lon": -0.50666, "lat": 43.90127},    # Le Peyrouat QN04004M (no QP2015 file: not_covered before 2024)
    {"lon": 1.095, "lat": 44.085},         # outside
    {"lon": 1.086318, "lat": 44.106832},   # 3 m from a boundary
    {"quartier_code": "QN08203M"}, {"quartier_code": "QP082003"}, {"quartier_code": "QN04004M"},
    {"quartier_code": "QN97401I"}, {"lon": -30.0, "lat": 40.0},  # La Réunion (overseas); the Atlantic (no département)
]
EMPLOYERS = ["company", "association", "sem", "epa", "epic", "private_individual", "local_authority", "epci",
             "hlm", "eple", "public_health"]


def maybe(strategy, p_missing=True):
    return st.one_of(st.none(), strategy) if p_missing else strategy


def day(lo, hi):
    return st.dates(min_value=lo, max_value=hi).map(dt.date.isoformat)


ratio = st.sampled_from([0.2, 0.5, 0.6, 0.75, 0.8, 1.0]) | st.floats(0, 1, exclude_min=True)  # 0 is bad input


def coherent(facts: dict) -> dict:
    """Facts that contradict each other are bad input (the rule files' `consistency` checks, tested apart):
    random facts keep clear of them. Birth dates are drawn before every signature date."""
    f = dict(facts)
    if f.get("contract.type") == "CDI":
        f["contract.duration_months"] = None
    sign, sent = f.get("contract.signature_date"), f.get("application_date")
    if sign and sent and sent < sign:
        f["application_date"] = sign
    return f


def contract(first, last, max_months, missing):
    """The contract.* facts shared by emplois-francs and adultes-relais."""
    return {
        "contract.type": maybe(st.sampled_from(["CDI", "CDD"]), missing),
        "contract.signature_date": maybe(day(first, last), missing),
        "contract.duration_months": maybe(st.integers(0, max_months), missing),
        "contract.working_time_ratio": maybe(ratio, missing),
    }


def emplois_francs(missing=True):
    return st.fixed_dictionaries({
        **contract(dt.date(2019, 10, 1), dt.date(2025, 3, 1), 40, missing),
        "employee.residence": maybe(st.sampled_from(PLACES), missing),
        "employee.birth_date": maybe(day(dt.date(1960, 1, 1), dt.date(2004, 1, 1)), missing),
        "employee.status": maybe(st.sampled_from(["jobseeker", "csp", "mission_locale", "other"]), missing),
        "employee.jobseeker_category": maybe(st.integers(1, 8), missing),
        "employee.employed_by_employer_last_6_months": maybe(st.booleans(), missing),
        "employer.kind": maybe(st.sampled_from(EMPLOYERS), missing),
        "employer.up_to_date_with_obligations": maybe(st.booleans(), missing),
        "employer.economic_dismissal_last_6_months": maybe(st.booleans(), missing),
        "application_date": maybe(day(dt.date(2019, 10, 1), dt.date(2025, 6, 1)), missing),
    }).map(coherent)


def tfpb(missing=True):
    return st.fixed_dictionaries({
        "tax_year": maybe(st.integers(2014, 2032), missing),
        "logement.location": maybe(st.sampled_from(PLACES), missing),
        "logement.social_rental": maybe(st.booleans(), missing),
        "logement.prior_exemption": maybe(st.sampled_from(["1384", "1384A", "1385_IIbis", "state_funded_before_1998",
                                                            "autre_sans_exoneration", "none"]), missing),
        "logement.abattement_2024": maybe(st.booleans(), missing),
        "owner.kind": maybe(st.sampled_from(["hlm", "sem", "other"]), missing),
        "owner.signed_contrat_de_ville": maybe(st.booleans(), missing),
        "owner.contrat_de_ville_signature_date": maybe(day(dt.date(2014, 1, 1), dt.date(2031, 1, 1)), missing),
        "owner.convention_signature_date": maybe(day(dt.date(2014, 1, 1), dt.date(2031, 1, 1)), missing),
        "owner.declaration_date": maybe(day(dt.date(2014, 1, 1), dt.date(2031, 1, 1)), missing),
        "tfpb_base": maybe(st.floats(0, 1e6), missing),
    })


def adultes_relais(missing=True):
    return st.fixed_dictionaries({
        **contract(dt.date(2013, 1, 18), dt.date(2027, 1, 1), 48, missing),
        "person.birth_date": maybe(day(dt.date(1950, 1, 1), dt.date(2002, 1, 1)), missing),
        "person.employment": maybe(st.sampled_from(["none", "cae", "contrat_avenir", "employed"]), missing),
        "person.residence": maybe(st.sampled_from(PLACES), missing),
        "person.other_priority_territory": maybe(st.booleans(), missing),
        "person.prefect_residence_waiver": maybe(st.booleans(), missing),
        "employer.kind": maybe(st.sampled_from(EMPLOYERS), missing),
        "employer.local_public_establishment": maybe(st.booleans(), missing),
        "employer.manages_public_service": maybe(st.booleans(), missing),
        "convention.signature_date": maybe(day(dt.date(2012, 1, 1), dt.date(2027, 1, 1)), missing),
        "convention.duration_months": maybe(st.integers(0, 48), missing),
    }).map(coherent)


FACTS = {"emplois-francs": emplois_francs, "tfpb": tfpb, "adultes-relais": adultes_relais}


def full_time_contract(draw, first: dt.date, last: dt.date, cdd_months: tuple[int, int]) -> tuple[dt.date, dict]:
    """A signature date in [first, last] and a full-time CDI or CDD (facts shared by two dispositifs)."""
    sign = draw(st.dates(min_value=first, max_value=last))
    kind = draw(st.sampled_from(["CDI", "CDD"]))
    return sign, {"contract.type": kind, "contract.signature_date": sign.isoformat(),
                  "contract.duration_months": draw(st.integers(*cdd_months)) if kind == "CDD" else None,
                  "contract.working_time_ratio": 1.0}


@st.composite
def eligible_emplois_francs(draw):
    sign, contract = full_time_contract(draw, dt.date(2020, 1, 1), dt.date(2024, 12, 31), (6, 40))
    return {
        **contract,
        "employee.residence": {"quartier_code": "QN08203M" if sign.year >= 2024 else "QP082003"},
        "employee.birth_date": draw(day(dt.date(1960, 1, 1), dt.date(2004, 1, 1))),
        "employee.status": "jobseeker", "employee.jobseeker_category": draw(st.sampled_from([1, 2, 3, 6, 7, 8])),
        "employee.employed_by_employer_last_6_months": False, "employer.kind": draw(st.sampled_from(["company", "association", "sem"])),
        "employer.up_to_date_with_obligations": True, "employer.economic_dismissal_last_6_months": False,
        "application_date": (sign + dt.timedelta(days=draw(st.integers(0, 28)))).isoformat(),
    }


@st.composite
def eligible_adultes_relais(draw):
    sign, contract = full_time_contract(draw, dt.date(2013, 1, 18), dt.date(2027, 1, 1), (1, 36))
    return {
        **contract,
        "person.birth_date": (sign - dt.timedelta(days=draw(st.integers(31 * 366, 60 * 365)))).isoformat(),
        "person.employment": draw(st.sampled_from(["none", "cae"])), "person.residence": None,
        "person.prefect_residence_waiver": True, "employer.kind": draw(st.sampled_from(["association", "hlm"])),
        "convention.signature_date": (sign - dt.timedelta(days=draw(st.integers(0, 300)))).isoformat(),
        "convention.duration_months": draw(st.integers(1, 36)),
    }


ELIGIBLE = {"emplois-francs": eligible_emplois_francs, "adultes-relais": eligible_adultes_relais}

# --- properties ---

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DISPOSITIFS = sorted(FACTS)


def drop_none(facts):
    return {k: v for k, v in facts.items() if v is not None}


def random_decision(data):
    """A dispositif, random facts with some missing, and its decision."""
    rid = data.draw(st.sampled_from(DISPOSITIFS))
    facts = drop_none(data.draw(FACTS[rid](missing=True)))
    return rid, facts, evaluate(rid, facts)


@SETTINGS
@given(st.data())
def test_missing_fact_never_gives_eligible_by_default(data):
    """Eligible with missing facts only if EVERY way of filling them in is eligible with the same amounts."""
    rid, facts, d = random_decision(data)
    if d.outcome != "eligible":
        return
    full = data.draw(FACTS[rid](missing=False))
    completed = coherent({**full, **facts})
    e = evaluate(rid, completed)
    assert e.outcome == "eligible", (facts, completed)
    for key, value in d.amounts.items():
        if isinstance(value, float):
            assert e.amounts[key] == value


@SETTINGS
@given(st.data())
def test_a_missing_decisive_fact_is_listed(data):
    rid, facts, d = random_decision(data)
    if d.outcome == "undetermined":
        assert d.missing_inputs or d.ambiguities
        assert set(d.missing_inputs) <= set(load_rules()[rid].model.facts) - set(facts)


@SETTINGS
@given(st.data())
def test_reasons_are_in_the_trace_with_their_legal_reference(data):
    rid, _, d = random_decision(data)
    traced = {c["id"]: c for c in d.trace["conditions"]}
    assert (d.outcome == "not_eligible") == bool(d.reasons)
    for r in d.reasons:
        c = traced[r["condition"]]
        assert c["result"] == "false"
        assert r["legal_reference"] == c["legal_reference"] and r["legal_reference"]["text"]
        assert r["rule"] == rid and r["message"]
    assert {c["id"] for c in d.trace["conditions"] if c["result"] == "false"} == {r["condition"] for r in d.reasons}


@SETTINGS
@given(st.data())
def test_determinism(data):
    rid = data.draw(st.sampled_from(DISPOSITIFS))
    facts = drop_none(data.draw(FACTS[rid]()))
    first = to_json(evaluate(rid, facts).to_json())
    evaluate(rid, drop_none(data.draw(FACTS[rid]())))  # something else in between
    assert to_json(evaluate(rid, dict(reversed(list(facts.items())))).to_json()) == first


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_batch_row_equals_the_row_alone(data):
    rid = data.draw(st.sampled_from(DISPOSITIFS))
    rows = data.draw(st.lists(FACTS[rid](), min_size=1, max_size=12))
    frame = evaluate_frame(rid, pd.DataFrame(rows))
    for i, row in enumerate(rows):
        alone = evaluate(rid, drop_none(row))
        assert to_json(frame.decision(i).to_json()) == to_json(alone.to_json())
        assert frame.outcome[i] == alone.outcome


CEILINGS = {"emplois-francs": {"CDI": (7000, 5000, 5000, 17000), "CDD": (5500, 2500, 0, 8000)}}


@SETTINGS
@given(st.data(), st.floats(0.5, 1), st.floats(0.5, 1))
def test_amounts_within_ceilings_and_monotonic_in_working_time(data, r1, r2):
    rid = data.draw(st.sampled_from(sorted(ELIGIBLE)))
    facts = drop_none(data.draw(ELIGIBLE[rid]()))
    lo, hi = sorted((r1, r2))
    a = evaluate(rid, {**facts, "contract.working_time_ratio": lo})
    b = evaluate(rid, {**facts, "contract.working_time_ratio": hi})
    assert a.outcome == b.outcome == "eligible", (a.reasons, a.missing_inputs)
    for key, value in a.amounts.items():
        if isinstance(value, float):
            assert value <= b.amounts[key] + 1e-9, key
    if rid == "emplois-francs":
        c1, c2, c3, total = CEILINGS[rid][facts["contract.type"]]
        am = b.amounts
        assert am["annee_1"] <= c1 and am["annee_2"] <= c2 and am["annee_3"] <= c3 and am["total"] <= total
        assert abs(am["annee_1"] + am["annee_2"] + am["annee_3"] - am["total"]) < 0.02
    else:
        assert b.amounts["aide_annuelle"] is None or b.amounts["aide_annuelle"] <= 22810.61


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_tfpb_abatement_is_30_percent_of_the_base(data):
    facts = data.draw(FACTS["tfpb"](missing=False))
    d = evaluate("tfpb", facts)
    if d.outcome == "eligible":
        assert d.amounts["abattement"] == round(0.3 * facts["tfpb_base"], 2)


@SETTINGS
@given(st.data())
def test_dropping_facts_from_an_eligible_case(data):
    """From an eligible case, drop some facts: eligible only if no completion of them changes the answer."""
    rid = data.draw(st.sampled_from(sorted(ELIGIBLE)))
    base = drop_none(data.draw(ELIGIBLE[rid]()))
    assert evaluate(rid, base).outcome == "eligible"
    dropped = data.draw(st.sets(st.sampled_from(sorted(base)), min_size=1, max_size=3))
    facts = {k: v for k, v in base.items() if k not in dropped}
    d = evaluate(rid, facts)
    if d.outcome == "eligible":
        filler = data.draw(FACTS[rid](missing=False))
        try:
            e = evaluate(rid, {**filler, **facts})
        except BadInput:  # a completion that contradicts the kept facts (a CDI with a duration) is no completion
            assume(False)
        assert e.outcome == "eligible" and e.amounts == d.amounts, (dropped, e.reasons)
    else:
        assert d.outcome == "undetermined" and d.missing_inputs
        assert set(d.missing_inputs) & dropped  # a dropped fact is named (others may be absent from the start)
        assert set(d.missing_inputs) <= set(load_rules()[rid].model.facts) - set(facts)
