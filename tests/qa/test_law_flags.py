"""QA of the rule files against law.md: a parameter value cited to a text must be covered by it, and figures
law.md marks [C2]/[U]/[I] must show as unconfirmed in the trace."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from qpv_cli.main import qpv

MOISSAC = {"lon": 1.08456, "lat": 44.10334}  # inside QP082003 (QP2015) and QN08203M (QP2024)


def tfpb_trace_parameters(tmp_path, tax_year: int) -> dict:
    facts = {"tax_year": tax_year, "logement": {"location": MOISSAC, "social_rental": True, "prior_exemption": "1384"},
             "owner": {"kind": "hlm", "signed_contrat_de_ville": True,  # 2025-2030: the 2024-2030 contrat de ville
                       "contrat_de_ville_signature_date": "2015-06-01" if tax_year < 2025 else "2024-06-01",
                       "convention_signature_date": "2015-06-01" if tax_year < 2025 else "2024-06-01",
                       "declaration_date": "2015-12-01" if tax_year < 2025 else "2024-12-01"},
             "tfpb_base": 1000}
    path = tmp_path / "logement.json"
    path.write_text(json.dumps(facts), encoding="utf-8")
    r = CliRunner().invoke(qpv, ["evaluate", "tfpb", "--facts", str(path), "--json"])
    assert r.exit_code == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["outcome"] == "eligible" and obj["amounts"]["abattement"] == 300.0  # the 30 % figure itself is unchanged
    return {p["parameter"]: p for p in obj["trace"]["parameters"]}


@pytest.mark.parametrize("year, confirmed", [(2016, True), (2017, True), (2018, True), (2022, True), (2023, False),
                                             (2024, False), (2025, True)])
def test_tfpb_rate_is_confirmed_only_where_a_read_text_covers_the_year(tmp_path, year, confirmed):
    # The CGI wordings read for law.md §2.1 [C] cover the impositions 2016 to 2022 and the BOFiP 2025 to 2030;
    # 2023 [C2] and 2024 [U] come from prorogations whose text was not read: the rate used to be cited, confirmed,
    # to the 2016-2022 wording for those years.
    taux = tfpb_trace_parameters(tmp_path, year)["taux_abattement"]
    assert taux["confirmed"] is confirmed
    assert ("2018 à 2022" in taux["legal_reference"]["text"]) is (2018 <= year <= 2022)
    assert ("2014-1654" in taux["legal_reference"]["text"]) is (year <= 2017)


@pytest.mark.parametrize("year, value, confirmed", [
    (2016, "aucune", True),                # audit T3: the 2016 wording (etalab, 2016-01-01) has no convention [C]
    (2017, "au_31_mars_2017", False),      # audit T1: LFR 2016 art. 47 [C2]
    (2018, "au_28_fevrier_2018", False),   # audit T2: 1 October 2017 with the 28 February 2018 tolerance [C2]
    (2019, "avant_1er_octobre", True), (2022, "avant_1er_octobre", True),
    (2023, "avant_1er_octobre", False), (2024, "avant_1er_octobre", False),
    (2025, "au_1er_janvier", True)])
def test_tfpb_convention_deadline_flags(tmp_path, year, value, confirmed):
    regime = tfpb_trace_parameters(tmp_path, year)["regime_convention"]
    assert regime["value"] == value and regime["confirmed"] is confirmed
