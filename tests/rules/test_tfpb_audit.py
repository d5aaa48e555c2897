"""The TFPB rule against the December 2026 audit (docs/legal/law-audit-2026-12.md, T1-T9): the citations
change with the tax year (dated legal references), unconfirmed figures say so, and users' messages carry
no provenance tags. The outcomes themselves are the « T… — » YAML cases of rules/tfpb.yaml."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from eligibility.rules import evaluate, get_rule

MOISSAC = {"lon": 1.08456, "lat": 44.10334}  # inside QP082003 (QP2015) and QN08203M (QP2024)
TAGS = re.compile(r"\[(C|C2|U|I)\]|law\.md|etalab|LEGIARTI|rédaction 2015")


def facts(year: int, **owner) -> dict:
    new = year >= 2025
    return {"tax_year": year, "logement.location": MOISSAC, "logement.social_rental": True,
            "logement.prior_exemption": "1384", "owner.kind": "hlm", "owner.signed_contrat_de_ville": True,
            "owner.contrat_de_ville_signature_date": dt.date(2024, 6, 1) if new else dt.date(2015, 7, 3),
            "owner.convention_signature_date": dt.date(2024, 6, 1) if new else dt.date(2015, 7, 3),
            "owner.declaration_date": dt.date(2024, 12, 1) if new else dt.date(2015, 12, 1),
            "tfpb_base": 1000} | owner


def cited(d, condition: str) -> dict:
    return next(c for c in d.trace["conditions"] if c["id"] == condition)["legal_reference"]


@pytest.mark.parametrize("year, text", [
    (2016, "2014-1654"), (2017, "2014-1654"), (2020, "2018 à 2022"), (2023, "Prorogation"),
    (2025, "2023-1322"), (2030, "2023-1322")])
def test_statutory_basis_is_cited_by_tax_year(year, text):
    # T7: the loi n° 2023-1322 art. 73 for 2025-2030 (the BOFiP is doctrine, cited where it is the only text read);
    # T9: never the 2016-2022 wording for 2025, never the BOFiP 2025-2030 for 2016-2024.
    d = evaluate("tfpb", facts(year))
    ref = cited(d, "annee_d_imposition")
    assert text in ref["text"], ref
    assert ref["from"] <= f"{year}-01-01" <= (ref["to"] or "9999")
    dd = d.trace["decision_date"]["legal_reference"]
    assert ("BOFiP" in dd["text"]) is (year >= 2025)
    assert dd["confirmed"] is False  # T6: 1 January for the location is an inference in every year


@pytest.mark.parametrize("year, convention, text, confirmed", [
    (2017, dt.date(2017, 4, 1), "2016-1918", False),   # T1 / T9: LFR 2016 art. 47, secondary source
    (2018, dt.date(2018, 3, 1), "2017-1775", False),   # T2: the 28 February 2018 tolerance, secondary source
    (2020, dt.date(2019, 10, 1), "2018 à 2022", True),
    (2026, dt.date(2026, 1, 2), "BOFiP", True),
])
def test_convention_refusal_cites_the_text_of_its_year(year, convention, text, confirmed):
    d = evaluate("tfpb", facts(year, **{"owner.convention_signature_date": convention}))
    assert d.outcome == "not_eligible"
    [reason] = d.reasons
    assert reason["condition"] == "convention_signee_a_temps"
    assert text in reason["legal_reference"]["text"] and reason["legal_reference"]["confirmed"] is confirmed


def test_2025_declaration_of_the_old_contract_is_refused_with_its_own_citation():
    # T4: for 2025-2030 a declaration filed for the 2015 contrat de ville does not count.
    d = evaluate("tfpb", facts(2025, **{"owner.declaration_date": dt.date(2015, 12, 1)}))
    assert [r["condition"] for r in d.reasons] == ["declaration_deposee"]
    ref = d.reasons[0]["legal_reference"]
    assert "2025-127" in ref["text"] and ref["confirmed"] is False


def test_unknown_tax_year_lists_every_period_of_a_reference():
    d = evaluate("tfpb", facts(2020, tax_year=None))
    ref = cited(d, "annee_d_imposition")
    assert [p["from"] for p in ref["periods"]] == ["2016-01-01", "2018-01-01", "2023-01-01", "2025-01-01"]
    assert ref["confirmed"] is False


def test_second_category_without_prior_exemption_is_never_a_silent_refusal():
    # T8: the BOFiP names a second category the stored copy cuts off: undetermined, with a plain-French note.
    d = evaluate("tfpb", facts(2025, **{"logement.prior_exemption": "autre_sans_exoneration"}))
    assert d.outcome == "undetermined" and d.reasons == []
    [amb] = d.ambiguities
    assert amb["parameter"] == "seconde_categorie_admise" and not TAGS.search(amb["message"])


def test_overseas_renewal_asks_for_the_2024_abatement_and_names_the_departement():
    # T5: La Réunion, 2025, convention signed in March (no 31 March report overseas).
    d = evaluate("tfpb", facts(2025, **{"logement.location": {"quartier_code": "QN97401I"},
                                        "owner.convention_signature_date": dt.date(2025, 3, 15)}))
    assert d.outcome == "undetermined" and d.missing_inputs == ["logement.abattement_2024"]
    geo = d.trace["geography"][0]
    assert geo["departement"] == "974" and geo["territory"] == "outre_mer"


def test_messages_and_labels_shown_to_people_carry_no_provenance_tags():
    m = get_rule("tfpb").model
    shown = [c.message for c in m.conditions] + [c.label for c in m.conditions] + [t.text for t in m.legal_texts]
    shown += [lab for f in m.facts.values() for lab in (f.labels or {}).values()]
    assert not [s for s in shown if TAGS.search(s)]
    for name, f in m.facts.items():
        if f.type == "enum":
            assert set(f.labels or {}) == set(f.values), name  # every enum value has a French label


# Computed messages (issue 10): a late signature or filing names the tax year, the last valid day and the date given.

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
