"""Hypothesis strategies: random facts for the three dispositifs, over real places (see the rule files)."""
import datetime as dt

from hypothesis import strategies as st

PLACES = [
    {"lon": 1.08456, "lat": 44.10334},     # Moissac, QP082003 and QN08203M
    {"lon": 1.07878, "lat": 44.10137},     # QP082003 only
    {"lon": 1.08245, "lat": 44.10427},     # QN08203M only
    {"lon": -0.50666, "lat": 43.90127},    # Le Peyrouat QN04004M (no QP2015 file: not_covered before 2024)
    {"lon": 1.095, "lat": 44.085},         # outside
    {"lon": 1.086318, "lat": 44.106832},   # 3 m from a boundary
    {"quartier_code": "QN08203M"}, {"quartier_code": "QP082003"}, {"quartier_code": "QN04004M"},
]
EMPLOYERS = ["company", "association", "sem", "epa", "epic", "private_individual", "local_authority", "epci",
             "hlm", "eple", "public_health"]


def maybe(strategy, p_missing=True):
    return st.one_of(st.none(), strategy) if p_missing else strategy


def day(lo, hi):
    return st.dates(min_value=lo, max_value=hi).map(dt.date.isoformat)


ratio = st.sampled_from([0.0, 0.2, 0.5, 0.6, 0.75, 0.8, 1.0]) | st.floats(0, 1)


def emplois_francs(missing=True):
    return st.fixed_dictionaries({
        "contract.type": maybe(st.sampled_from(["CDI", "CDD"]), missing),
        "contract.signature_date": maybe(day(dt.date(2019, 10, 1), dt.date(2025, 3, 1)), missing),
        "contract.duration_months": maybe(st.integers(0, 40), missing),
        "contract.working_time_ratio": maybe(ratio, missing),
        "employee.residence": maybe(st.sampled_from(PLACES), missing),
        "employee.birth_date": maybe(day(dt.date(1960, 1, 1), dt.date(2004, 1, 1)), missing),
        "employee.status": maybe(st.sampled_from(["jobseeker", "csp", "mission_locale", "other"]), missing),
        "employee.jobseeker_category": maybe(st.integers(1, 8), missing),
        "employee.employed_by_employer_last_6_months": maybe(st.booleans(), missing),
        "employer.kind": maybe(st.sampled_from(EMPLOYERS), missing),
        "employer.up_to_date_with_obligations": maybe(st.booleans(), missing),
        "employer.economic_dismissal_last_6_months": maybe(st.booleans(), missing),
        "application_date": maybe(day(dt.date(2019, 10, 1), dt.date(2025, 6, 1)), missing),
    })


def tfpb(missing=True):
    return st.fixed_dictionaries({
        "tax_year": maybe(st.integers(2014, 2032), missing),
        "logement.location": maybe(st.sampled_from(PLACES), missing),
        "logement.social_rental": maybe(st.booleans(), missing),
        "logement.prior_exemption": maybe(st.sampled_from(["1384", "1384A", "1385_IIbis", "state_funded_before_1998", "none"]), missing),
        "logement.outre_mer": maybe(st.booleans(), missing),
        "owner.kind": maybe(st.sampled_from(["hlm", "sem", "other"]), missing),
        "owner.signed_contrat_de_ville": maybe(st.booleans(), missing),
        "owner.convention_signature_date": maybe(day(dt.date(2014, 1, 1), dt.date(2031, 1, 1)), missing),
        "owner.declaration_date": maybe(day(dt.date(2014, 1, 1), dt.date(2031, 1, 1)), missing),
        "tfpb_base": maybe(st.floats(0, 1e6), missing),
    })


def adultes_relais(missing=True):
    return st.fixed_dictionaries({
        "contract.type": maybe(st.sampled_from(["CDI", "CDD"]), missing),
        "contract.signature_date": maybe(day(dt.date(2013, 1, 18), dt.date(2027, 1, 1)), missing),
        "contract.duration_months": maybe(st.integers(0, 48), missing),
        "contract.working_time_ratio": maybe(ratio, missing),
        "person.birth_date": maybe(day(dt.date(1950, 1, 1), dt.date(2002, 1, 1)), missing),
        "person.employment": maybe(st.sampled_from(["none", "cae", "employed"]), missing),
        "person.residence": maybe(st.sampled_from(PLACES), missing),
        "person.prefect_residence_waiver": maybe(st.booleans(), missing),
        "employer.kind": maybe(st.sampled_from(EMPLOYERS), missing),
        "employer.manages_public_service": maybe(st.booleans(), missing),
        "convention.signature_date": maybe(day(dt.date(2012, 1, 1), dt.date(2027, 1, 1)), missing),
        "convention.duration_months": maybe(st.integers(0, 48), missing),
    })


FACTS = {"emplois-francs": emplois_francs, "tfpb": tfpb, "adultes-relais": adultes_relais}


@st.composite
def eligible_emplois_francs(draw):
    sign = draw(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2024, 12, 31)))
    kind = draw(st.sampled_from(["CDI", "CDD"]))
    return {
        "contract.type": kind, "contract.signature_date": sign.isoformat(),
        "contract.duration_months": draw(st.integers(6, 40)) if kind == "CDD" else None,
        "contract.working_time_ratio": 1.0,
        "employee.residence": {"quartier_code": "QN08203M" if sign.year >= 2024 else "QP082003"},
        "employee.birth_date": draw(day(dt.date(1960, 1, 1), dt.date(2004, 1, 1))),
        "employee.status": "jobseeker", "employee.jobseeker_category": draw(st.sampled_from([1, 2, 3, 6, 7, 8])),
        "employee.employed_by_employer_last_6_months": False, "employer.kind": draw(st.sampled_from(["company", "association", "sem"])),
        "employer.up_to_date_with_obligations": True, "employer.economic_dismissal_last_6_months": False,
        "application_date": (sign + dt.timedelta(days=draw(st.integers(0, 28)))).isoformat(),
    }


@st.composite
def eligible_adultes_relais(draw):
    sign = draw(st.dates(min_value=dt.date(2013, 1, 18), max_value=dt.date(2027, 1, 1)))
    kind = draw(st.sampled_from(["CDI", "CDD"]))
    return {
        "contract.type": kind, "contract.signature_date": sign.isoformat(),
        "contract.duration_months": draw(st.integers(1, 36)) if kind == "CDD" else None,
        "contract.working_time_ratio": 1.0,
        "person.birth_date": (sign - dt.timedelta(days=draw(st.integers(31 * 366, 60 * 365)))).isoformat(),
        "person.employment": draw(st.sampled_from(["none", "cae"])), "person.residence": None,
        "person.prefect_residence_waiver": True, "employer.kind": draw(st.sampled_from(["association", "hlm"])),
        "convention.signature_date": (sign - dt.timedelta(days=draw(st.integers(0, 300)))).isoformat(),
        "convention.duration_months": draw(st.integers(1, 36)),
    }


ELIGIBLE = {"emplois-francs": eligible_emplois_francs, "adultes-relais": eligible_adultes_relais}
