"""French words for people: dates, verdicts, labels of every enum value, place and amount lines."""
import datetime as dt

from hypothesis import given, settings, strategies as st

from eligibility.rules import load_rules
from eligibility.web.wording import (amount_lines, condition_lines, date_words, decision_verdict, locate_verdict,
                                     number_words)


def test_every_enum_value_of_every_rule_has_a_french_label():
    missing = [(rule_id, path, code) for rule_id, rule in load_rules().items() for path, fact in rule.model.facts.items()
               for code in fact.values or () if code not in (fact.labels or {})]
    assert missing == []


def test_fact_descriptions_hide_technical_names():
    for rule in load_rules().values():
        for path, fact in rule.model.facts.items():
            assert "{" not in fact.description and path not in fact.description, path


@settings(deadline=None)  # shared test machines: timing is not what is tested
@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_dates_in_words(day):
    words = date_words(day.isoformat(), today=dt.date(1900, 1, 1))
    assert words.endswith(str(day.year)) and not any(ch == "-" for ch in words)
    assert words.startswith("1er " if day.day == 1 else f"{day.day} ")


def test_today_is_said():
    assert date_words("2026-12-03", today=dt.date(2026, 12, 3)) == "3 décembre 2026 (aujourd'hui)"
    assert date_words("2025-01-01", today=dt.date(2026, 12, 3)) == "1er janvier 2025"


def test_one_bold_verdict_per_answer():
    q = {"code": "QN00401M", "name": "Centre Ville - Pigeonnier"}
    assert locate_verdict({"status": "inside", "quartier": q})["word"] == "OUI"
    assert "« Centre Ville - Pigeonnier » (QN00401M)" in locate_verdict({"status": "inside", "quartier": q})["detail"]
    assert locate_verdict({"status": "outside"})["word"] == "NON"
    for status in ("near_boundary", "not_covered", "undetermined"):
        assert locate_verdict({"status": status, "quartier": None})["word"] == "À VÉRIFIER"
    assert [decision_verdict(o)["word"] for o in ("eligible", "not_eligible", "undetermined")] == [
        "ÉLIGIBLE", "NON ÉLIGIBLE", "INCOMPLET"]


def test_numbers_take_a_decimal_comma():
    assert number_words(0.9) == "0,9" and number_words(1.0) == "1" and number_words(22810.61) == "22810,61"


def test_conditions_and_amounts_in_french():
    decision = {"amounts": {"aide_annuelle": 22810.61}, "trace": {
        "amounts": [{"id": "aide_annuelle", "label": "Aide annuelle de l'État"}],
        "conditions": [{"label": "Âge", "result": "true", "legal_reference": {"text": "Code du travail", "article": "L. 5134-102"}},
                       {"label": "Résidence", "result": "unknown", "legal_reference": None}]}}
    assert amount_lines(decision) == [("Aide annuelle de l'État", "22 810,61 €")]
    lines = condition_lines(decision)
    assert [(c["mark"], c["state"]) for c in lines] == [("✓", "remplie"), ("?", "à compléter")]
    assert lines[0]["reference"] == "Code du travail, L. 5134-102"
