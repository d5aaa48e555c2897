"""Threshold S (décret 2014-767 art. 4) and the unité urbaine criterion (art. 2 I 1°)."""
import datetime as dt

import numpy as np
import pytest

from eligibility.criteria import threshold as T
from eligibility.errors import BadInput


@pytest.mark.parametrize("nat, uu, pop, before, expected", [
    # law.md §1.2 worked examples
    (18750, 16000, 100_000, 10755.0, 10800),
    (18750, 21000, 100_000, 11655.0, 11700),
    (18750, 22000, 10_500_000, 12615.0, 12700),
])
def test_law_worked_cases(nat, uu, pop, before, expected):
    r = T.compute(nat, uu, pop)
    assert r["threshold_exact"][0] == pytest.approx(before)
    assert r["threshold"][0] == expected


def test_exact_multiple_of_100_is_not_pushed_up():
    # 0.6 × (0.7 × 20 000 + 0.3 × 20 000) = 12 000 exactly: « arrondi aux 100 € supérieurs » leaves it at 12 000
    r = T.compute(20000, 20000, 50_000)
    assert r["threshold"][0] == 12000


def test_one_cent_above_a_hundred_rounds_up():
    # 0.6 * (0.7 * a + 0.3 * b) = 12000.006 with b = 20000.05 → 12 100
    r = T.compute(20000, 20000.05, 50_000)
    assert r["threshold_exact"][0] == pytest.approx(12000.009)
    assert r["threshold"][0] == 12100


def test_both_population_regimes_on_the_same_medians():
    # 0.6 × (0.7 × 18 750 + 0.3 × 22 000) = 11 835 → 11 900 ; 0.6 × (0.3 × 18 750 + 0.7 × 22 000) = 12 615 → 12 700
    r = T.compute(18750, 22000, [4_999_900, 5_000_000, 4_999_901])
    assert r["large_uu"].tolist() == [False, True, True]  # 4 999 901 rounds up to 5 000 000 (art. 2 I 1°)
    assert r["threshold"].tolist() == [11900, 12700, 12700]


@pytest.mark.parametrize("population, rounded, eligible", [
    (9_900, 9_900, False),
    (9_901, 10_000, True),   # « arrondi aux 100 habitants supérieurs »
    (9_999, 10_000, True),
    (10_000, 10_000, True),  # « au moins 10 000 »
    (0, 0, False),
])
def test_unite_urbaine_boundary_populations(population, rounded, eligible):
    r = T.compute(18750, 16000, population)
    assert r["population_rounded"][0] == rounded
    assert bool(r["unite_urbaine_eligible"][0]) is eligible


def test_vectorised_equals_one_by_one():
    rng = np.random.default_rng(4)
    nat = rng.uniform(15000, 25000, 200).round(2)
    uu = rng.uniform(12000, 30000, 200).round(2)
    pop = rng.integers(0, 12_000_000, 200)
    batch = T.compute(nat, uu, pop)
    for i in range(0, 200, 37):
        one = T.compute(nat[i], uu[i], pop[i])
        assert one["threshold"][0] == batch["threshold"][i]
        assert one["unite_urbaine_eligible"][0] == batch["unite_urbaine_eligible"][i]


def test_trace_cites_the_decree_and_flags_unconfirmed_values_after_2023():
    r = T.compute(18750, 16000, 50_000, dt.date(2024, 1, 1))
    steps = {s["step"]: s for s in T.trace(r)}
    assert steps["seuil"]["result"] == 10800
    assert "art. 4" in steps["seuil"]["legal_reference"]["article"]
    assert "2023-1312" in steps["seuil"]["legal_reference"]["text"]
    assert set(steps["seuil"]["unconfirmed_parameters"]) == {
        "seuil_facteur", "seuil_poids_national", "seuil_poids_unite_urbaine", "seuil_arrondi"}
    assert "art. 2 I 1°" in steps["unite_urbaine_eligible"]["legal_reference"]["article"]
    assert any("au moins" in n for n in steps["unite_urbaine_eligible"]["notes"])


def test_2014_text_values_are_confirmed():
    r = T.compute(18750, 16000, 50_000, dt.date(2020, 6, 1))
    seuil = T.trace(r)[2]
    assert seuil["unconfirmed_parameters"] == []
    assert "2014-767" in seuil["legal_reference"]["text"] and "2023" not in seuil["legal_reference"]["text"]


def test_date_before_the_criteria_is_refused():
    with pytest.raises(BadInput, match="2015-01-01"):
        T.compute(18750, 16000, 50_000, dt.date(2014, 12, 31))


@pytest.mark.parametrize("nat, uu, pop, field", [
    (-1, 16000, 50_000, "national_median"),
    (18750, float("nan"), 50_000, "uu_median"),
    (18750, 16000, -5, "uu_population"),
    ("abc", 16000, 50_000, "national_median"),
])
def test_bad_values_name_their_field(nat, uu, pop, field):
    with pytest.raises(BadInput) as exc:
        T.compute(nat, uu, pop)
    assert exc.value.field == field
