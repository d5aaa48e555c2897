"""The rule file criteres_qpv as the rules engine reads it, cross-checked against the exact threshold code."""
import datetime as dt

import numpy as np
import pandas as pd

from eligibility.criteria import threshold as T
from eligibility.rules import evaluate_frame

# The rule file's own YAML cases run with every rule file in tests/rules/test_yaml_cases.py.


def test_engine_and_exact_threshold_agree_at_the_boundary():
    # For random medians and populations, a quartier whose income is 1 cent under our S is eligible and one
    # exactly at S is not, when the rule file's own expressions evaluate it.
    rng = np.random.default_rng(7)
    n = 400
    nat = rng.uniform(15_000, 25_000, n).round(2)
    uu = rng.uniform(12_000, 30_000, n).round(2)
    pop = rng.choice([9_901, 50_000, 4_999_900, 5_000_000, 11_000_000], n).astype(float)
    s = T.compute(nat, uu, pop)["threshold"].astype(float)
    rows = {
        "date_evaluation": [dt.date(2024, 1, 1)] * (2 * n),
        "revenu_median_national": np.r_[nat, nat], "unite_urbaine.revenu_median": np.r_[uu, uu],
        "unite_urbaine.population": np.r_[pop, pop], "quartier.population": np.full(2 * n, 1000.0),
        "quartier.revenu_median": np.r_[s - 0.01, s],
        "quartier.territoire": ["metropole"] * (2 * n), "quartier.dans_liste_precedente": [False] * (2 * n),
    }
    frame = evaluate_frame("criteres_qpv", pd.DataFrame(rows))
    outcome = np.asarray(frame.outcome)
    assert (outcome[:n] == "eligible").all()
    assert (outcome[n:] == "not_eligible").all()


def test_overseas_quartier_is_out_of_scope_not_failing():
    # Audit C2: art. 7, articles 2 to 5 do not apply overseas. A batch mixing territories: the overseas row is
    # out_of_scope (its failed population is not a reason), the unknown territory undetermined.
    rows = pd.DataFrame({
        "date_evaluation": [dt.date(2024, 1, 1)] * 3, "revenu_median_national": [18750.0] * 3,
        "unite_urbaine.revenu_median": [16000.0] * 3, "unite_urbaine.population": [50000.0] * 3,
        "quartier.population": [999.0] * 3, "quartier.revenu_median": [9000.0] * 3,
        "quartier.territoire": ["metropole", "outre_mer", None], "quartier.dans_liste_precedente": [False] * 3,
    })
    frame = evaluate_frame("criteres_qpv", rows)
    assert list(frame.outcome) == ["not_eligible", "out_of_scope", "undetermined"]
    assert [r["condition"] for r in frame.reasons(0)] == ["population_quartier"]
    assert [r["condition"] for r in frame.reasons(1)] == ["champ_metropole"]
    assert "article 7" in frame.reasons(1)[0]["message"]
    assert frame.reasons(2) == [] and frame.missing(2) == ["quartier.territoire"]
    assert [c["id"] for c in frame.trace(1)["scope"]] == ["champ_metropole"]
    assert "HORS DU CHAMP" in frame.decision(1).to_text()


def test_citations_follow_the_decree_in_force():
    rows = pd.DataFrame({"date_evaluation": [dt.date(2020, 1, 1), dt.date(2024, 1, 1)],
                         "revenu_median_national": [18750.0] * 2, "unite_urbaine.revenu_median": [16000.0] * 2,
                         "unite_urbaine.population": [8000.0] * 2, "quartier.population": [1200.0] * 2,
                         "quartier.revenu_median": [9000.0] * 2, "quartier.territoire": ["metropole"] * 2,
                         "quartier.dans_liste_precedente": [False] * 2})
    frame = evaluate_frame("criteres_qpv", rows)
    assert "2023-1312" not in frame.reasons(0)[0]["legal_reference"]["text"]
    assert "2023-1312" in frame.reasons(1)[0]["legal_reference"]["text"]
    notes = T.trace(T.compute(18750, 16000, 8000, dt.date(2024, 1, 1)))[0]["notes"]
    assert any("Dérogation de six ans" in n for n in notes)
    assert not any("Dérogation" in n for n in T.trace(T.compute(18750, 16000, 8000, dt.date(2020, 1, 1)))[0]["notes"])
