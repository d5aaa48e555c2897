"""`qpv batch … --record` builds its entries the fast way: each decision's plain object straight from the frame
(`DecisionFrame.decision_json`, no pydantic dump, no JSON text parsed back), the missing inputs of every row blamed
at once (`blame_each`), the references and parameter values shared by the decisions of a frame and recognised by
the entry builder by identity (one `Builder` per chunk). Each entry must be byte for byte the entry of the same
decision built alone, the slow way (`entries.build` on `Decision.to_json()`), as the service records it.
"""
from __future__ import annotations

import json

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.jsonio import to_json
from eligibility.register import entries as E
from eligibility.register.recording import evaluate_question
from eligibility.rules import load_rules
from eligibility.rules.evaluator import evaluate_frame
from eligibility.web.attestation import canonical_plain, flat_facts

from .conftest import versions

# Every YAML case of every dispositif that gives a decision (contradictory facts give none).
CASES = {rid: [flat_facts(c.facts) for c in rule.model.tests if c.expect.outcome != "bad_input"]
         for rid, rule in sorted(load_rules().items()) if rule.model.kind == "dispositif"}
RECORDED_AT = "2026-12-03T00:00:00.000000Z"
DATA = "0" * 64


def _frame(rid: str, rows: list[dict]):
    return evaluate_frame(load_rules()[rid], pd.DataFrame(rows), errors="collect")


def test_decision_json_is_the_decision_dumped_for_every_yaml_case():
    """`decision_json` (rows blamed at once, shared parts) gives the bytes `decision(i).to_json()` gives on a frame
    that blamed each row alone, and is plain JSON already (what the JSON text would parse back to)."""
    assert set(CASES) >= {"emplois-francs", "tfpb", "adultes-relais"}
    for rid, rows in CASES.items():
        fast, slow = _frame(rid, rows), _frame(rid, rows)
        fast.blame_each(range(len(rows)))
        for i in range(len(rows)):
            got, expected = fast.decision_json(i), slow.decision(i).to_json()
            assert to_json(got) == to_json(expected), (rid, i)
            assert json.loads(to_json(got)) == got
            assert canonical_plain(got) == canonical_plain(json.loads(to_json(expected)))


def test_evaluate_json_is_evaluate_dumped():
    """The web service's answer (`evaluate_json`) is `evaluate(...).to_json()`, byte for byte, for every YAML case."""
    from eligibility.rules import evaluate
    from eligibility.rules.evaluator import evaluate_json

    for rid, rule in sorted(load_rules().items()):
        for case in rule.model.tests if rule.model.kind == "dispositif" else []:
            if case.expect.outcome != "bad_input":
                assert to_json(evaluate_json(rid, case.facts, case.date)) == \
                    to_json(evaluate(rid, case.facts, case.date).to_json()), (rid, case.name)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_entry_built_the_fast_way_is_the_entry_built_alone(data):
    rid = data.draw(st.sampled_from(sorted(CASES)))
    picks = data.draw(st.lists(st.sampled_from(range(len(CASES[rid]))), min_size=1, max_size=10))
    rows = [CASES[rid][k] for k in picks]  # repeats: the same shared parts met again by the same builder
    keep_facts = data.draw(st.booleans())
    fast = _frame(rid, rows)
    fast.blame_each(range(len(rows)))
    plain_versions = E.plain(versions())
    builder = E.Builder(plain_versions, served="answer", channel="batch", data_sha256=DATA, keep_facts=keep_facts)
    for i, facts in enumerate(rows):
        question = E.plain(evaluate_question(rid, facts, None))
        got = builder.build(question, fast.decision_json(i), recorded_at=RECORDED_AT)
        alone = E.Builder(plain_versions, served="answer", channel="batch", data_sha256=DATA,
                          keep_facts=keep_facts).build(question, E.plain(_frame(rid, [facts]).decision(0).to_json()),
                                                       recorded_at=RECORDED_AT)
        assert got == alone
        assert E.body_digest(got["row"]) == E.body_digest(alone["row"])
