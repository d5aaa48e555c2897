"""Engine features of issue 10: decimal money, contradictory facts as bad input, computed messages, dated
legal references, provenance kept out of the French, and "not covered" saying what to do next."""
import copy
import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.errors import BadInput, RuleFileError
from eligibility.paths import rules_dir
from eligibility.rules import evaluate, evaluate_frame
from eligibility.rules.loader import load_file
from eligibility.rules.money import cents, half_up
from qpv_cli.main import qpv

AR = yaml.safe_load((Path(rules_dir()) / "adultes-relais.yaml").read_text(encoding="utf-8"))
AR_BASE = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in AR["tests"][0]["facts"].items()}


def decimal_half_up(x: Decimal, digits: int = 2) -> float:
    return float(x.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


# --- a. money -------------------------------------------------------------------------------------

def test_the_audit_example_rounds_up():
    assert cents(np.array([22810.61 * 0.5]))[0] == 11405.31  # np.round gives 11405.30
    assert np.round(22810.61 * 0.5, 2) == 11405.3  # the binary rounding the engine no longer uses


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**9), st.integers(0, 10_000))
def test_cents_times_ratio_round_half_up_in_decimal(amount_cents, ratio_ten_thousandths):
    """An amount in cents times a working-time ratio with up to four decimals, computed in float as the
    evaluator does, rounds exactly as decimal ROUND_HALF_UP of the exact product."""
    x = (amount_cents / 100) * (ratio_ten_thousandths / 10_000)
    exact = Decimal(amount_cents) / 100 * Decimal(ratio_ten_thousandths) / 10_000
    assert cents(np.array([x]))[0] == decimal_half_up(exact)


@settings(max_examples=200, deadline=None)
@given(st.integers(-10**11, 10**11), st.integers(0, 6))
def test_half_up_of_exact_decimals_and_negatives(millionths, digits):
    x = millionths / 10**6
    exact = Decimal(millionths).scaleb(-6)
    assert half_up(np.array([x]), digits)[0] == decimal_half_up(exact, digits)


def test_round_in_expressions_is_half_up(tmp_path):
    data = copy.deepcopy(AR)
    data["amounts"][0]["expression"] = "round(aide_annuelle_temps_plein * contract.working_time_ratio, 1)"
    rule = load_file(_write(tmp_path, data))
    d = evaluate(rule, {**AR_BASE, "contract.working_time_ratio": 0.5})
    assert d.amounts["aide_annuelle"] == 11405.3  # 11 405,305 to the tenth: 11 405,3 (then to the cent)


# --- b. contradictory facts ------------------------------------------------------------------------

def test_contradiction_is_bad_input_naming_both_fields():
    with pytest.raises(BadInput) as exc:
        evaluate("adultes-relais", {**AR_BASE, "person.birth_date": "2030-01-01"})
    assert exc.value.field == "person.birth_date, contract.signature_date"
    assert "01/01/2030" in exc.value.detail and "01/10/2024" in exc.value.detail  # computed, French dates


def test_contradiction_in_the_cli_exits_2(tmp_path):
    path = tmp_path / "faits.json"
    path.write_text(json.dumps({**AR_BASE, "contract.type": "CDI"}), encoding="utf-8")
    res = CliRunner().invoke(qpv, ["evaluate", "adultes-relais", "--facts", str(path)])
    assert res.exit_code == 2
    assert "contract.type" in res.output and "contract.duration_months" in res.output and "CDI" in res.output


def test_contradiction_in_a_batch_is_one_error_row():
    rows = [AR_BASE, {**AR_BASE, "contract.working_time_ratio": 0.0}, AR_BASE]
    frame = evaluate_frame("adultes-relais", pd.DataFrame(rows), errors="collect")
    assert list(frame.outcome) == ["eligible", "error", "eligible"]
    assert "contract.working_time_ratio" in frame.error(1) and "durée du travail nulle" in frame.error(1)
    assert frame.decision(1).reasons == [] and frame.decision(1).missing_inputs == []
    with pytest.raises(BadInput) as exc:
        evaluate_frame("adultes-relais", pd.DataFrame(rows))
    assert "ligne 2" in str(exc.value)


def test_contradiction_in_the_api_is_400():
    from fastapi.testclient import TestClient

    from eligibility.web import create_app
    from eligibility.web.settings import WebSettings

    client = TestClient(create_app(WebSettings()), raise_server_exceptions=False)
    r = client.post("/api/evaluate/adultes-relais", json={**AR_BASE, "contract.working_time_ratio": 0})
    assert 400 <= r.status_code < 500
    assert "contract.working_time_ratio" in r.text


def test_consistency_fields_must_be_facts(tmp_path):
    data = copy.deepcopy(AR)
    data["consistency"][0]["fields"] = ["contract.ratio"]
    with pytest.raises(RuleFileError, match=r"consistency\[temps_de_travail_nul\].fields"):
        load_file(_write(tmp_path, data))


# --- c. provenance stays in the JSON -----------------------------------------------------------------

def test_loader_refuses_provenance_tags_in_text_people_read(tmp_path):
    for edit in (lambda d: d["conditions"][0].update(message="Trop jeune [C2]."),
                 lambda d: d["legal_texts"][0].update(text="Code du travail (etalab-codes)"),
                 lambda d: d["facts"]["person.employment"]["labels"].update(none="sans emploi (law.md §4)")):
        data = copy.deepcopy(AR)
        edit(data)
        with pytest.raises(RuleFileError, match="note de provenance"):
            load_file(_write(tmp_path, data))


def test_text_parameters_need_french_labels(tmp_path):
    data = copy.deepcopy(yaml.safe_load((Path(rules_dir()) / "tfpb.yaml").read_text(encoding="utf-8")))
    data["parameters"]["regime_convention"].pop("labels")
    with pytest.raises(RuleFileError, match="libellé français"):
        load_file(_write(tmp_path, data, "tfpb.yaml"))


def test_notes_are_under_provenance_in_the_json():
    d = evaluate("adultes-relais", AR_BASE).to_json()
    refs = [c["legal_reference"] for c in d["trace"]["conditions"]]
    assert all("note" not in r for r in refs)
    assert any("provenance" in r for r in refs)
    figure = next(p for p in d["trace"]["parameters"] if p["parameter"] == "aide_annuelle_temps_plein")
    assert figure["provenance"]["note"] and figure["legal_reference"]["confirmed"] == figure["confirmed"]


# --- d. computed messages, remarks and dated references ------------------------------------------------

def _toy(tmp_path, **edits):
    data = copy.deepcopy(AR)
    data["conditions"][0]["message"] = ("Âge le {contract.signature_date} : {age(person.birth_date, decision_date)} ans, "
                                        "minimum {age_minimum} ; aide {aide_annuelle_temps_plein:euros}, "
                                        "convention de {convention.duration_months:mois}, contrat {contract.type}")
    data["remarks"] = [{"id": "mi_temps", "when": "contract.working_time_ratio < 1",
                        "message": "aide proratisée : {aide_annuelle_temps_plein * contract.working_time_ratio:euros}",
                        "legal_reference": {"text": "ct-d5134", "article": "D. 5134-158"}}]
    for k, v in edits.items():
        data[k] = v
    return load_file(_write(tmp_path, data))


def test_reason_messages_are_computed_in_french(tmp_path):
    rule = _toy(tmp_path)
    d = evaluate(rule, {**AR_BASE, "person.birth_date": "2000-01-01"})
    msg = next(r["message"] for r in d.reasons if r["condition"] == "age_minimum")
    for part in ("Âge le 01/10/2024", ": 24 ans", "minimum 26", "convention de 36 mois",
                 "contrat Contrat à durée déterminée (CDD)"):  # the enum fact by its label
        assert part in msg, msg


def test_remarks_state_what_applied(tmp_path):
    rule = _toy(tmp_path)
    d = evaluate(rule, {**AR_BASE, "contract.working_time_ratio": 0.5})
    assert [r["id"] for r in d.remarks] == ["mi_temps"]
    assert "À noter : aide proratisée" in d.to_text()
    assert evaluate(rule, AR_BASE).remarks == []


@pytest.mark.parametrize("message, error", [("{contract.sigature_date}", "nom inconnu"),
                                            ("{contract.type:euros}", "attend un nombre"),
                                            ("{contract.type:xx}", "format inconnu"),
                                            ("{person.residence}", "affichable")])
def test_placeholders_are_checked_on_load(tmp_path, message, error):
    data = copy.deepcopy(AR)
    data["conditions"][0]["message"] = message
    with pytest.raises(RuleFileError, match=error):
        load_file(_write(tmp_path, data))


def test_dated_references_cite_the_wording_in_force(tmp_path):
    data = copy.deepcopy(AR)
    data["conditions"][0]["legal_reference"] = [
        {"from": "2013-01-18", "to": "2021-09-15", "text": "ct-l5134", "article": "L. 5134-102 (ancienne)"},
        {"from": "2021-09-16", "text": "ct-l5134-102-2021", "article": "L. 5134-102"}]
    rule = load_file(_write(tmp_path, data))
    young = {**AR_BASE, "person.birth_date": "1995-01-01"}
    before = evaluate(rule, {**young, "contract.signature_date": "2021-09-15", "convention.signature_date": "2021-09-01"})
    assert before.reasons[0]["legal_reference"]["article"] == "L. 5134-102 (ancienne)"
    assert (before.reasons[0]["legal_reference"]["from"], before.reasons[0]["legal_reference"]["to"]) == ("2013-01-18", "2021-09-15")
    after = evaluate(rule, {**young, "contract.signature_date": "2021-09-16", "convention.signature_date": "2021-09-01",
                            "person.birth_date": "1999-01-01"})
    assert after.reasons[0]["legal_reference"]["article"] == "L. 5134-102"
    data["conditions"][0]["legal_reference"][1]["from"] = "2021-09-01"
    with pytest.raises(RuleFileError, match="chevauchement"):
        load_file(_write(tmp_path, data))


# --- e. not covered says what to do next -------------------------------------------------------------

def test_not_covered_names_the_list_and_where_to_check():
    # Le Peyrouat (Landes): no QP2015 file for Nouvelle-Aquitaine, so 2023 is not covered
    d = evaluate("adultes-relais", {**AR_BASE, "person.residence": {"lon": -0.50666, "lat": 43.90127},
                                    "contract.signature_date": "2023-03-01", "convention.signature_date": "2023-02-01"})
    amb = next(a for a in d.ambiguities if a.get("fact") == "person.residence")
    assert amb["status"] == "not_covered"
    assert "2014-1750" in amb["message"] and "sig.ville.gouv.fr" in amb["message"] and "01/03/2023" in amb["message"]
    assert "2014-1751" not in amb["message"]  # the place is in metropolitan France: only its list is named
    assert "sig.ville.gouv.fr" in d.to_text()


def test_not_covered_before_2015_says_no_list_was_in_force():
    from eligibility.geography.vintages import not_covered_guidance

    text = not_covered_guidance(dt.date(2013, 3, 1), None)
    assert "aucune liste" in text and "01/01/2015" in text and "sig.ville.gouv.fr" in text


def _write(tmp_path, data, name="adultes-relais.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False),
                    encoding="utf-8")
    return path
