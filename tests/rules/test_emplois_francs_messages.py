"""Emplois francs decisions say what applied (issue 10, audit §2.1.2): the deadline reason names the délai, its
last valid day and the date given; the emplois francs+ majoration is stated when it applies; a CDI intérimaire
with a duration is contradictory like a CDI."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility.errors import BadInput
from eligibility.rules import evaluate
from eligibility.rules.messages import elides

BASE = {  # eligible: a jobseeker living in Moissac (QP082003 and QN08203M), CDI, full time
    "contract.type": "CDI", "contract.working_time_ratio": 1, "employee.residence": {"quartier_code": "QP082003"},
    "employee.birth_date": "1990-01-01", "employee.status": "jobseeker", "employee.jobseeker_category": 1,
    "employee.employed_by_employer_last_6_months": False, "employer.kind": "company",
    "employer.up_to_date_with_obligations": True, "employer.economic_dismissal_last_6_months": False,
}


def decide(signed: str, sent: str, **facts):
    residence = {"quartier_code": "QN08203M" if signed >= "2024" else "QP082003"}
    return evaluate("emplois-francs", {**BASE, "employee.residence": residence, "contract.signature_date": signed,
                                       "application_date": sent, **facts})


def deadline_message(d) -> str:
    return next(r["message"] for r in d.reasons if r["condition"] == "demande_dans_le_delai")


@pytest.mark.parametrize("signed, sent, expected", [
    ("2023-12-31", "2024-02-01", "Demande transmise le 01/02/2024 ; délai d'un mois, dernier jour le 31/01/2024"),
    ("2024-01-02", "2024-02-03", "Demande transmise le 03/02/2024 ; délai d'un mois, dernier jour le 02/02/2024"),
    ("2022-03-15", "2022-06-16", "Demande transmise le 16/06/2022 ; délai de trois mois, dernier jour le 15/06/2022"),
    ("2023-11-30", "2024-03-01", "Demande transmise le 01/03/2024 ; délai de trois mois, dernier jour le 29/02/2024"),
])
def test_the_deadline_reason_is_computed(signed, sent, expected):
    d = decide(signed, sent)
    assert [r["condition"] for r in d.reasons] == ["demande_dans_le_delai"]
    assert deadline_message(d).startswith(expected), deadline_message(d)
    assert expected in d.to_text()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dates(dt.date(2020, 1, 1), dt.date(2024, 12, 31)), st.integers(0, 150))
def test_the_stated_last_day_is_the_one_the_decision_used(signed, days_after):
    """Late exactly when the request comes after the last day the message states (and that day is the signature's
    quantième, one or three months on, clamped to the month's end)."""
    sent = signed + dt.timedelta(days=days_after)
    d = decide(signed.isoformat(), sent.isoformat())
    late = "demande_dans_le_delai" in [r["condition"] for r in d.reasons]
    if not late:
        assert d.outcome == "eligible", d.reasons
        return
    m = re.search(r"délai (?:d'un|de trois) mois, dernier jour le (\d\d)/(\d\d)/(\d{4})", deadline_message(d))
    last = dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    assert sent > last and last > signed
    assert last.day == signed.day or last.day < signed.day and (last + dt.timedelta(days=1)).day == 1


def test_emplois_francs_plus_is_stated_when_it_applies():
    young = {"employee.birth_date": "2000-01-01"}
    d = decide("2021-01-15", "2021-02-01", **young)
    [remark] = d.remarks
    assert remark["id"] == "emplois_francs_plus" and "Décret n° 2020-1278" in remark["legal_reference"]["text"]
    assert "majoration emplois francs+ appliquée" in remark["message"] and "21 ans le 15/01/2021" in remark["message"]
    assert "7 000,00 € au lieu de 5 000,00 €" in remark["message"]
    assert "À noter : majoration emplois francs+ appliquée" in d.to_text()
    # extended by décret 2021-363: cited as the text in force for a contract of May 2021
    may = decide("2021-05-31", "2021-06-15", **young)
    assert "2021-363" in may.remarks[0]["legal_reference"]["text"]
    assert decide("2021-06-01", "2021-06-15", **young).remarks == []          # after the window
    assert decide("2021-01-15", "2021-02-01").remarks == []                   # 31 years old
    refused = decide("2021-01-15", "2021-02-01", **young, **{"employer.kind": "epic"})
    assert refused.outcome == "not_eligible" and refused.remarks == []        # stated on eligible decisions only


def test_a_cdi_interimaire_with_a_duration_is_contradictory():
    with pytest.raises(BadInput) as exc:
        decide("2022-03-01", "2022-03-15", **{"contract.type": "CDI_INTERIMAIRE", "contract.duration_months": 12})
    assert exc.value.field == "contract.type, contract.duration_months"
    assert "CDI intérimaire" in str(exc.value) and "12 mois" in str(exc.value)


def test_de_elides_before_a_vowel_only():
    assert elides("délai de ", "un mois") and elides("de ", "inconnu")
    assert not elides("délai de ", "trois mois") and not elides("délai de ", "onze mois")
    assert not elides("le ", "un mois") and not elides("monde ", "un")


def test_a_category_4_refusal_points_to_the_csp_route():
    d = decide("2022-03-01", "2022-03-15", **{"employee.jobseeker_category": 4})
    [reason] = d.reasons
    assert reason["condition"] == "public_eligible" and "catégorie 4" in reason["message"]
    assert "contrat de sécurisation professionnelle" in reason["message"]
    assert decide("2022-03-01", "2022-03-15", **{"employee.status": "csp", "employee.jobseeker_category": 4}).outcome == "eligible"
