"""The payment phase of emplois francs (rules/emplois-francs-paiement.yaml) through the three ways in: the CLI,
a batch file and the web API give the same answer; the trace says where décret 2019-1471 was not read."""
import json

import pandas as pd
from click.testing import CliRunner
from fastapi.testclient import TestClient

from eligibility.rules import evaluate
from eligibility.web import create_app
from qpv_cli.main import qpv

FACTS = {"contract": {"type": "CDI", "signature_date": "2022-03-01", "start_date": "2022-03-07",
                      "working_time_ratio": 1, "follows_emploi_franc_cdd": False, "still_running": True},
         "employee": {"birth_date": "1990-01-01"},
         "payment": {"semester": 1, "days_present": 184, "unpaid_absence_days": 23, "short_time_work_days": 0,
                     "attestation_date": "2022-09-20", "earlier_attestation_over_4_months_late": False}}


def test_cli_gives_the_amount_due_with_its_trace(tmp_path):
    path = tmp_path / "f.json"
    path.write_text(json.dumps(FACTS), encoding="utf-8")
    res = CliRunner().invoke(qpv, ["evaluate", "emplois-francs-paiement", "--facts", str(path), "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["outcome"] == "eligible" and d["amounts"]["montant_du"] == 2187.5  # 2 500 € × 161 / 184 days
    # the payment conditions come from décret 2018-230 art. 8: the trace says 2019-1471 art. 8 was not read
    attestation = next(c for c in d["trace"]["conditions"] if c["id"] == "attestation_dans_les_deux_mois")
    assert attestation["legal_reference"]["confirmed"] is False
    assert "non lu" in json.dumps(attestation["legal_reference"], ensure_ascii=False)


def test_late_attestation_and_minimum_are_reasons_not_amounts():
    late = evaluate("emplois-francs-paiement", {**FACTS, "payment": {**FACTS["payment"], "attestation_date": "2023-01-07"}})
    assert late.outcome == "not_eligible" and late.amounts == {}
    assert [r["condition"] for r in late.reasons] == ["attestation_dans_les_deux_mois", "attestation_dans_les_quatre_mois"]
    small = evaluate("emplois-francs-paiement", {**FACTS, "contract": {**FACTS["contract"], "working_time_ratio": 0.03}})
    assert [r["condition"] for r in small.reasons] == ["minimum_de_versement"]


def test_batch_file_gives_one_row_per_input_row_equal_to_single_decisions(tmp_path):
    flat = pd.json_normalize(FACTS).iloc[0].to_dict()
    rows = [flat, {**flat, "payment.attestation_date": "2022-11-07"}, {**flat, "contract.working_time_ratio": 0.03},
            {**flat, "payment.days_present": "beaucoup"}]
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    pd.DataFrame(rows).to_csv(src, sep=";", index=False)
    res = CliRunner().invoke(qpv, ["batch", "evaluate", "emplois-francs-paiement", str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out, sep=";", dtype=str, keep_default_na=False)
    assert list(got["outcome"]) == ["eligible", "not_eligible", "not_eligible", "error"]
    assert got["amount.montant_du"][0] == "2187,5"
    for i in range(3):
        assert got["outcome"][i] == evaluate("emplois-francs-paiement", rows[i]).outcome


def test_web_api_returns_the_cli_bytes(tmp_path):
    path = tmp_path / "f.json"
    path.write_text(json.dumps(FACTS), encoding="utf-8")
    cli = CliRunner().invoke(qpv, ["evaluate", "emplois-francs-paiement", "--facts", str(path), "--json"])
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        r = client.post("/api/evaluate/emplois-francs-paiement", json=FACTS)
        assert r.status_code == 200, r.text
        assert r.json() == json.loads(cli.stdout)
        bad = client.post("/api/evaluate/emplois-francs-paiement",
                          json={**FACTS, "payment": {**FACTS["payment"], "semester": 9}})
        assert 400 <= bad.status_code < 500 and "payment.semester" in bad.text


def test_emplois_francs_plus_is_stated_for_a_first_year_semester_only():
    young = {**FACTS, "contract": {**FACTS["contract"], "signature_date": "2021-03-01", "start_date": "2021-03-01"},
             "employee": {"birth_date": "2000-01-01"},
             "payment": {**FACTS["payment"], "attestation_date": "2021-09-15"}}
    d = evaluate("emplois-francs-paiement", young)
    [remark] = d.remarks
    assert "taux annuel de 7 000,00 € au lieu de 5 000,00 €" in remark["message"]
    assert "2021-94" in remark["legal_reference"]["text"]  # the decree that extended the window to March 2021
    third = evaluate("emplois-francs-paiement", {**young, "payment": {**young["payment"], "semester": 3,
                                                                       "attestation_date": "2022-09-15"}})
    assert third.outcome == "eligible" and third.remarks == []  # second year: 5 000 €, nothing to state
