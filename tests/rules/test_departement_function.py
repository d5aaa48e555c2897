"""`departement(place, date)`: the INSEE code of the département or collectivité of a place, read off the
geography oracle (the same answer as `in_qpv` / `in_overseas`), unknown with an ambiguity where none is named."""

import pandas as pd
import pytest

from eligibility.rules import evaluate, evaluate_frame
from eligibility.rules.expressions import Compiler, ExpressionError

CONDITIONS = """
conditions:
  - id: hors_polynesie
    label: Site hors de Polynésie française
    expression: departement(site, decision_date) != '987'
    legal_reference: {text: essai}
    message: Le site est en Polynésie française.
  - id: partage
    label: lu pour vérifier que les trois questions partagent une réponse
    expression: in_overseas(site, decision_date) or not in_qpv(site, decision_date) or True
    legal_reference: {text: essai}
    message: jamais
"""

MOISSAC = {"lon": 1.085312, "lat": 44.104617}      # Tarn-et-Garonne (82)
PAPEETE = {"lon": -149.5585, "lat": -17.5516}      # Polynésie française (987)
ATLANTIC = {"lon": -30.0, "lat": 40.0}             # no département


@pytest.fixture(scope="module")
def rule(place_rule):
    return place_rule("site-polynesie", "Site hors de Polynésie française", CONDITIONS)


@pytest.mark.parametrize("site,outcome,code", [
    (MOISSAC, "eligible", "82"),
    ({"quartier_code": "QN97401I"}, "eligible", "974"),
    (PAPEETE, "not_eligible", "987"),
])
def test_departement_reads_the_code_the_geography_names(rule, site, outcome, code):
    d = evaluate(rule, {"day": "2024-06-01", "site": site}).to_json()
    assert d["outcome"] == outcome
    (geo,) = d["trace"]["geography"]  # one oracle answer for departement, in_qpv and in_overseas
    assert geo["departement"] == code
    if outcome == "not_eligible":
        assert [r["condition"] for r in d["reasons"]] == ["hors_polynesie"]


def test_no_departement_is_unknown_with_an_ambiguity_not_a_default(rule):
    d = evaluate(rule, {"day": "2024-06-01", "site": ATLANTIC})
    assert d.outcome == "undetermined"
    assert [a["status"] for a in d.ambiguities] == ["territory_unknown"]
    d = evaluate(rule, {"day": "2024-06-01"})
    assert d.outcome == "undetermined" and d.missing_inputs == ["site"]


def test_frame_agrees_with_single_rows(rule):
    rows = [{"day": "2024-06-01", "site": s} for s in (MOISSAC, PAPEETE, ATLANTIC, None)]
    frame = evaluate_frame(rule, pd.DataFrame(rows))
    assert list(frame.outcome) == [evaluate(rule, r).outcome for r in rows]
    assert list(frame.outcome) == ["eligible", "not_eligible", "undetermined", "undetermined"]


def test_departement_is_text_and_wants_a_place_and_a_date(rule):
    assert Compiler(rule).compile("departement(site, day)").kind == "str"
    for bad in ("departement(day, day)", "departement(site)", "departement(site, day) == 987"):
        with pytest.raises(ExpressionError):
            Compiler(rule).compile(bad)
