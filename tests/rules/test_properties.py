"""Properties of the issue, with hypothesis, over the three dispositifs and real places."""
import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from qpv_cli.common import to_json
from eligibility.rules import evaluate, evaluate_frame, load_rules

from rules_strategies import ELIGIBLE, FACTS

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DISPOSITIFS = sorted(FACTS)


def drop_none(facts):
    return {k: v for k, v in facts.items() if v is not None}


@SETTINGS
@given(st.data())
def test_missing_fact_never_gives_eligible_by_default(data):
    """Eligible with missing facts only if EVERY way of filling them in is eligible with the same amounts."""
    rid = data.draw(st.sampled_from(DISPOSITIFS))
    facts = drop_none(data.draw(FACTS[rid](missing=True)))
    d = evaluate(rid, facts)
    if d.outcome != "eligible":
        return
    full = data.draw(FACTS[rid](missing=False))
    completed = {**full, **facts}
    e = evaluate(rid, completed)
    assert e.outcome == "eligible", (facts, completed)
    for key, value in d.amounts.items():
        if isinstance(value, float):
            assert e.amounts[key] == value


@SETTINGS
@given(st.data())
def test_a_missing_decisive_fact_is_listed(data):
    rid = data.draw(st.sampled_from(DISPOSITIFS))
    facts = drop_none(data.draw(FACTS[rid](missing=True)))
    d = evaluate(rid, facts)
    if d.outcome == "undetermined":
        assert d.missing_inputs or d.ambiguities
        assert set(d.missing_inputs) <= set(load_rules()[rid].model.facts) - set(facts)


@SETTINGS
@given(st.data())
def test_reasons_are_in_the_trace_with_their_legal_reference(data):
    rid = data.draw(st.sampled_from(DISPOSITIFS))
    d = evaluate(rid, drop_none(data.draw(FACTS[rid]())))
    traced = {c["id"]: c for c in d.trace["conditions"]}
    assert (d.outcome == "not_eligible") == bool(d.reasons)
    for r in d.reasons:
        c = traced[r["condition"]]
        assert c["result"] == "false"
        assert r["legal_reference"] == c["legal_reference"] and r["legal_reference"]["text"]
        assert r["rule"] == rid and r["message"]
    assert {c["id"] for c in d.trace["conditions"] if c["result"] == "false"} == {r["condition"] for r in d.reasons}


@SETTINGS
@given(st.data())
def test_determinism(data):
    rid = data.draw(st.sampled_from(DISPOSITIFS))
    facts = drop_none(data.draw(FACTS[rid]()))
    first = to_json(evaluate(rid, facts).to_json())
    evaluate(rid, drop_none(data.draw(FACTS[rid]())))  # something else in between
    assert to_json(evaluate(rid, dict(reversed(list(facts.items())))).to_json()) == first


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_batch_row_equals_the_row_alone(data):
    rid = data.draw(st.sampled_from(DISPOSITIFS))
    rows = data.draw(st.lists(FACTS[rid](), min_size=1, max_size=12))
    frame = evaluate_frame(rid, pd.DataFrame(rows))
    for i, row in enumerate(rows):
        alone = evaluate(rid, drop_none(row))
        assert to_json(frame.decision(i).to_json()) == to_json(alone.to_json())
        assert frame.outcome[i] == alone.outcome


CEILINGS = {"emplois-francs": {"CDI": (7000, 5000, 5000, 17000), "CDD": (5500, 2500, 0, 8000)}}


@SETTINGS
@given(st.data(), st.floats(0.5, 1), st.floats(0.5, 1))
def test_amounts_within_ceilings_and_monotonic_in_working_time(data, r1, r2):
    rid = data.draw(st.sampled_from(sorted(ELIGIBLE)))
    facts = drop_none(data.draw(ELIGIBLE[rid]()))
    lo, hi = sorted((r1, r2))
    a = evaluate(rid, {**facts, "contract.working_time_ratio": lo})
    b = evaluate(rid, {**facts, "contract.working_time_ratio": hi})
    assert a.outcome == b.outcome == "eligible", (a.reasons, a.missing_inputs)
    for key, value in a.amounts.items():
        if isinstance(value, float):
            assert value <= b.amounts[key] + 1e-9, key
    if rid == "emplois-francs":
        c1, c2, c3, total = CEILINGS[rid][facts["contract.type"]]
        am = b.amounts
        assert am["annee_1"] <= c1 and am["annee_2"] <= c2 and am["annee_3"] <= c3 and am["total"] <= total
        assert abs(am["annee_1"] + am["annee_2"] + am["annee_3"] - am["total"]) < 0.02
    else:
        assert b.amounts["aide_annuelle"] is None or b.amounts["aide_annuelle"] <= 22810.61


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_tfpb_abatement_is_30_percent_of_the_base(data):
    facts = data.draw(FACTS["tfpb"](missing=False))
    d = evaluate("tfpb", facts)
    if d.outcome == "eligible":
        assert d.amounts["abattement"] == round(0.3 * facts["tfpb_base"], 2)


@SETTINGS
@given(st.data())
def test_dropping_facts_from_an_eligible_case(data):
    """From an eligible case, drop some facts: eligible only if no completion of them changes the answer."""
    rid = data.draw(st.sampled_from(sorted(ELIGIBLE)))
    base = drop_none(data.draw(ELIGIBLE[rid]()))
    assert evaluate(rid, base).outcome == "eligible"
    dropped = data.draw(st.sets(st.sampled_from(sorted(base)), min_size=1, max_size=3))
    facts = {k: v for k, v in base.items() if k not in dropped}
    d = evaluate(rid, facts)
    if d.outcome == "eligible":
        filler = data.draw(FACTS[rid](missing=False))
        e = evaluate(rid, {**filler, **facts})
        assert e.outcome == "eligible" and e.amounts == d.amounts, (dropped, e.reasons)
    else:
        assert d.outcome == "undetermined" and d.missing_inputs
        assert set(d.missing_inputs) & dropped  # a dropped fact is named (others may be absent from the start)
        assert set(d.missing_inputs) <= set(load_rules()[rid].model.facts) - set(facts)
