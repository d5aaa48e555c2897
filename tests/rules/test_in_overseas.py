"""`in_overseas(place, date)`: metropolitan France or overseas, read off the place by the geography oracle
(three-valued, in the trace), usable by any rule file; the TFPB 31 March 2025 exception relies on it."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from eligibility.rules import evaluate, evaluate_frame
from eligibility.rules.expressions import Compiler, ExpressionError
from eligibility.rules.places import overseas

CONDITIONS = """
conditions:
  - id: outre_mer
    label: Site outre-mer
    expression: in_overseas(site, decision_date)
    legal_reference: {text: essai}
    message: Le site est en métropole.
  - id: qpv
    label: Site en QPV ou non (lu pour vérifier que les deux questions partagent une réponse)
    expression: in_qpv(site, decision_date) or not in_qpv(site, decision_date)
    legal_reference: {text: essai}
    message: jamais
"""

MOISSAC = {"lon": 1.085312, "lat": 44.104617}      # inside QN08203M (Tarn-et-Garonne, 82)
REUNION_OUTSIDE = {"lon": 55.45, "lat": -20.9}     # La Réunion (974), outside any quartier
ATLANTIC = {"lon": -30.0, "lat": 40.0}             # no département


@pytest.fixture(scope="module")
def rule(place_rule):
    return place_rule("site-outre-mer", "Site situé outre-mer", CONDITIONS)


@pytest.mark.parametrize("site,outcome,departement,territory", [
    (MOISSAC, "not_eligible", "82", "metropole"),
    ({"quartier_code": "QN08203M"}, "not_eligible", "82", "metropole"),
    ({"quartier_code": "QN97401I"}, "eligible", "974", "outre_mer"),
    ({"quartier_code": "QN97601M"}, "eligible", "976", "outre_mer"),
    (REUNION_OUTSIDE, "eligible", "974", "outre_mer"),
])
def test_territory_comes_from_the_place_and_is_in_the_trace(rule, site, outcome, departement, territory):
    d = evaluate(rule, {"day": "2025-06-01", "site": site}).to_json()
    assert d["outcome"] == outcome and d["missing_inputs"] == [] and d["ambiguities"] == []
    (geo,) = d["trace"]["geography"]  # in_qpv and in_overseas of the same place and date: one oracle answer
    assert geo["departement"] == departement and geo["territory"] == territory
    result = {"eligible": "true", "not_eligible": "false"}[outcome]
    assert d["trace"]["conditions"][0]["result"] == result


def test_a_place_with_no_departement_is_unknown_with_an_ambiguity(rule):
    d = evaluate(rule, {"day": "2025-06-01", "site": ATLANTIC}).to_json()
    assert d["outcome"] == "undetermined" and d["missing_inputs"] == []
    assert {"fact": "site", "status": "territory_unknown"} in [{k: a[k] for k in ("fact", "status")} for a in d["ambiguities"]]
    assert d["trace"]["geography"][0]["territory"] is None


def test_a_missing_place_or_date_is_a_missing_fact_never_metropole(rule):
    d = evaluate(rule, {"day": "2025-06-01"}).to_json()
    assert d["outcome"] == "undetermined" and d["missing_inputs"] == ["site"]
    d = evaluate(rule, {"site": MOISSAC}).to_json()
    assert d["outcome"] == "undetermined" and d["missing_inputs"] == ["day"]


def test_frame_answers_equal_single_decisions(rule):
    sites = [MOISSAC, REUNION_OUTSIDE, ATLANTIC, None, {"quartier_code": "QN97401I"}, MOISSAC]
    df = pd.DataFrame({"day": ["2025-06-01"] * len(sites), "site": sites})
    f = evaluate_frame(rule, df)
    for i, site in enumerate(sites):
        alone = evaluate(rule, {"day": "2025-06-01", **({"site": site} if site else {})})
        assert f.outcome[i] == alone.outcome and f.decision(i).to_json() == alone.to_json()


def test_in_overseas_wants_a_place_fact_and_a_date(rule):
    assert Compiler(rule).compile("in_overseas(site, day)").kind == "bool"  # a loaded rule is a compiler scope
    for bad in ("in_overseas(day, day)", "in_overseas(site)", "in_overseas(site, 1)"):
        with pytest.raises(ExpressionError, match="in_overseas"):
            Compiler(rule).compile(bad)


METROPOLE = [f"{i:02d}" for i in range(1, 96) if i != 20] + ["2A", "2B"] + [f"0{i:02d}" for i in range(1, 96)]
OVERSEAS = ["971", "972", "973", "974", "975", "976", "977", "978", "986", "987", "988"]


@given(st.lists(st.sampled_from(METROPOLE + OVERSEAS + ["", None, " "]), min_size=1, max_size=30))
def test_overseas_by_departement_code(codes):
    col = overseas(np.array(codes, dtype=object))
    for code, value, known in zip(codes, col.value, col.known):
        if code is None or not code.strip():
            assert not known and not value
        else:
            assert known and value == (code in OVERSEAS)
