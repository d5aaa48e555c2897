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
    }
    frame = evaluate_frame("criteres_qpv", pd.DataFrame(rows))
    outcome = np.asarray(frame.outcome)
    assert (outcome[:n] == "eligible").all()
    assert (outcome[n:] == "not_eligible").all()
