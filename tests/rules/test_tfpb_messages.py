"""TFPB refusals say which deadline applied, its last day and the date given (issue 10, « Computed messages »)."""
import datetime as dt

import pytest

from eligibility.rules import evaluate

MOISSAC = {"lon": 1.08456, "lat": 44.10334}  # inside QP082003 (QP2015) and QN08203M (QP2024)


def facts(year: int, **owner) -> dict:
    new = year >= 2025
    return {"tax_year": year, "logement.location": MOISSAC, "logement.social_rental": True,
            "logement.prior_exemption": "1384", "owner.kind": "hlm", "owner.signed_contrat_de_ville": True,
            "owner.contrat_de_ville_signature_date": dt.date(2024, 6, 1) if new else dt.date(2015, 7, 3),
            "owner.convention_signature_date": dt.date(2024, 6, 1) if new else dt.date(2015, 7, 3),
            "owner.declaration_date": dt.date(2024, 12, 1) if new else dt.date(2015, 12, 1),
            "tfpb_base": 1000} | owner


@pytest.mark.parametrize("year, owner, condition, expected", [
    (2017, {"owner.convention_signature_date": dt.date(2017, 4, 3)}, "convention_signee_a_temps",
     "Convention signée le 03/04/2017 ; pour les impositions 2017, dernier jour le 31/03/2017"),
    (2018, {"owner.convention_signature_date": dt.date(2018, 3, 1)}, "convention_signee_a_temps",
     "Convention signée le 01/03/2018 ; pour les impositions 2018, dernier jour le 28/02/2018"),
    (2019, {"owner.convention_signature_date": dt.date(2018, 10, 1)}, "convention_signee_a_temps",
     "Convention signée le 01/10/2018 ; pour les impositions 2019, dernier jour le 30/09/2018"),
    (2026, {"owner.convention_signature_date": dt.date(2026, 1, 2)}, "convention_signee_a_temps",
     "Convention signée le 02/01/2026 ; pour les impositions 2026, dernier jour le 01/01/2026"),
    (2020, {"owner.declaration_date": dt.date(2020, 1, 1)}, "declaration_deposee",
     "Déclaration déposée le 01/01/2020 ; pour les impositions 2020, dernier jour le 31/12/2019"),
    (2020, {"owner.contrat_de_ville_signature_date": dt.date(2020, 1, 1)}, "contrat_de_ville_signe_a_temps",
     "Contrat de ville signé le 01/01/2020 ; pour les impositions 2020, dernier jour le 31/12/2019"),
    (2026, {"owner.contrat_de_ville_signature_date": dt.date(2026, 6, 1)}, "contrat_de_ville_signe_a_temps",
     "Contrat de ville signé le 01/06/2026 ; pour les impositions 2026, dernier jour le 01/01/2026"),
])
def test_a_late_signature_or_filing_names_the_last_day_and_the_date_given(year, owner, condition, expected):
    d = evaluate("tfpb", facts(year, **owner))
    message = next(r["message"] for r in d.reasons if r["condition"] == condition)
    assert message.startswith(expected), message


@pytest.mark.parametrize("year, day, ok", [(2019, dt.date(2018, 9, 30), True), (2019, dt.date(2018, 10, 1), False),
                                          (2017, dt.date(2017, 3, 31), True), (2018, dt.date(2018, 2, 28), True),
                                          (2026, dt.date(2026, 1, 1), True)])
def test_the_last_day_stated_is_the_last_day_accepted(year, day, ok):
    d = evaluate("tfpb", facts(year, **{"owner.convention_signature_date": day}))
    assert ("convention_signee_a_temps" not in [r["condition"] for r in d.reasons]) is ok
