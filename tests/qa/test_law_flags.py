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
             "owner": {"kind": "hlm", "signed_contrat_de_ville": True,
                       "convention_signature_date": "2015-06-01", "declaration_date": "2015-12-01"},
             "tfpb_base": 1000}
    path = tmp_path / "logement.json"
    path.write_text(json.dumps(facts), encoding="utf-8")
    r = CliRunner().invoke(qpv, ["evaluate", "tfpb", "--facts", str(path), "--json"])
    assert r.exit_code == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["outcome"] == "eligible" and obj["amounts"]["abattement"] == 300.0  # the 30 % figure itself is unchanged
    return {p["parameter"]: p for p in obj["trace"]["parameters"]}


@pytest.mark.parametrize("year, confirmed", [(2018, True), (2022, True), (2023, False), (2024, False), (2025, True)])
def test_tfpb_rate_is_confirmed_only_where_a_read_text_covers_the_year(tmp_path, year, confirmed):
    # The CGI wording read for law.md §2.1 [C] covers the impositions 2016 to 2022 and the BOFiP 2025 to 2030;
    # 2023 [C2] and 2024 [U] come from prorogations whose text was not read: the rate used to be cited, confirmed,
    # to the 2016-2022 wording for those years.
    taux = tfpb_trace_parameters(tmp_path, year)["taux_abattement"]
    assert taux["confirmed"] is confirmed
    assert ("2016 à 2022" in taux["legal_reference"]["text"]) is (2016 <= year <= 2022)


@pytest.mark.parametrize("year, confirmed", [(2017, False), (2018, True), (2022, True), (2023, False), (2024, False)])
def test_tfpb_convention_deadline_flags(tmp_path, year, confirmed):
    # law.md §2.1 History [C2]: convention required from 2017, 1 October deadline since the LFR 2017.
    regime = tfpb_trace_parameters(tmp_path, year)["regime_convention"]
    assert regime["value"] == "avant_1er_octobre" and regime["confirmed"] is confirmed
