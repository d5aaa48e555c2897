"""Every (territory, région, date) resolves to exactly one bundled vintage or to not_covered."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.errors import DataIntegrityError
from eligibility.geography import vintages

REGIONS = ["11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94", "01", "02", "03", "04", "06", ""]


@settings(max_examples=300, deadline=None)
@given(date=st.dates(dt.date(2015, 1, 1), dt.date(2030, 12, 31)),
       territory=st.sampled_from(vintages.TERRITORIES), region=st.sampled_from(REGIONS))
def test_exactly_one_vintage_or_not_covered(date, territory, region):
    rule, reason = vintages.resolve(np.array([territory], object), np.array([region], object),
                                    np.array([date], dtype="datetime64[D]"))
    matching = [r for r in vintages.rules() if r.territory == territory and r.valid_from <= date
                and (r.valid_to is None or date <= r.valid_to) and (r.regions is None or region in r.regions)]
    assert len(matching) <= 1
    law = vintages.generation(territory, date)
    assert law is not None  # from 2015 on, the law always has a list in force
    if matching:
        assert rule[0] == vintages.rules().index(matching[0]) and reason[0] == ""
        assert matching[0].vintage == law.vintage  # the bundled file is the list the law puts in force
    else:
        assert rule[0] == -1 and reason[0] in ("hors_couverture", "millesime_non_fourni")


def test_calendar_cases():
    terr = np.array(["metropole", "metropole", "metropole", "outre_mer", "outre_mer", "metropole", ""], object)
    reg = np.array(["75", "76", "75", "04", "04", "76", ""], object)
    dates = np.array(["2020-01-01", "2023-12-31", "2024-01-01", "2024-12-31", "2025-01-01", "2014-12-31", "2024-01-01"],
                     dtype="datetime64[D]")
    rule, reason = vintages.resolve(terr, reg, dates)
    chosen = [vintages.rules()[r].vintage if r >= 0 else None for r in rule]
    assert chosen == [None, "QP2015", "QP2024", None, "QP2024", None, None]
    assert list(reason) == ["hors_couverture", "", "", "millesime_non_fourni", "", "avant_qpv", "hors_france"]


def test_every_generation_cites_a_decree_and_is_flagged_per_law_md():
    for g in vintages.GENERATIONS:
        assert "Décret n°" in g.legal_basis and "law.md" in g.source
        assert g.confirmed is False  # law.md marks these [C2]: kept, flagged unconfirmed


def _rule(ds, terr, start, end, regions=None, vintage="QP2024"):
    return vintages.Rule(ds, vintage, terr, start, end, regions, "décret", True, None, "")


def test_overlapping_manifest_periods_are_refused():
    a = _rule("a", "metropole", dt.date(2024, 1, 1), None)
    b = _rule("b", "metropole", dt.date(2025, 1, 1), None)
    with pytest.raises(DataIntegrityError, match="chevauchent"):
        vintages._check([a, b])
    # disjoint régions may share a period
    vintages._check([_rule("a", "metropole", dt.date(2015, 1, 1), dt.date(2023, 12, 31), ("76",), "QP2015"),
                     _rule("b", "metropole", dt.date(2015, 1, 1), dt.date(2023, 12, 31), ("75",), "QP2015")])


def test_manifest_contradicting_the_law_is_refused():
    with pytest.raises(DataIntegrityError, match="calendrier"):
        vintages._check([_rule("a", "metropole", dt.date(2020, 1, 1), None, vintage="QP2024")])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), near_periods=st.booleans())
def test_property_many_dates_resolved_per_period_equal_each_row_resolved_alone(seed, near_periods):
    """`locate._resolve` on a large batch of mixed dates (one table per (zone, département, period)) gives
    each row what `resolve_codes` gives it alone: dates on, and a day either side of, every period start."""
    from eligibility.geography import locate, territories

    rng = np.random.default_rng(seed)
    n = 3000
    reg_int = territories.dep_table()[2]
    zone = rng.integers(-1, len(territories.ZONES), n)
    dep = np.where(zone >= 0, rng.integers(-1, len(reg_int) - 1, n), -1)  # the table's last row is dep -1 ('')
    zone = np.where(dep < 0, -1, zone)
    starts = vintages.period_starts()[:-1]  # the last is year 10000
    if near_periods:
        days = starts[rng.integers(0, len(starts), n)] + rng.integers(-1, 2, n).astype("timedelta64[D]")
    else:
        days = np.datetime64("2013-01-01") + rng.integers(0, 365 * 20, n).astype("timedelta64[D]")
    rule, why = locate._resolve(zone, dep, days)
    want_rule, want_why = vintages.resolve_codes(locate._TERRITORY_OF_ZONE[zone], reg_int[dep], days, dep)
    assert rule.tolist() == want_rule.tolist() and why.tolist() == want_why.tolist()
    assert (rule >= 0).any() and (rule < 0).any()
