"""The YAML cases of every rule file (the same runner as `qpv rules test`)."""
import pytest

from eligibility.rules import load_rules
from eligibility.rules.testing import run_case

CASES = [(rid, case) for rid, rule in sorted(load_rules().items()) for case in rule.model.tests]


@pytest.mark.parametrize("rid,case", CASES, ids=[f"{rid}:{c.name}" for rid, c in CASES])
def test_yaml_case(rid, case):
    result = run_case(load_rules()[rid], case)
    assert result.ok, "\n".join(result.problems)


def test_every_dispositif_has_cases_for_each_outcome():
    for rid in ("emplois-francs", "tfpb", "adultes-relais"):
        outcomes = {c.expect.outcome for c in load_rules()[rid].model.tests}
        assert outcomes >= {"eligible", "not_eligible", "undetermined"}, rid


def test_every_consistency_check_has_a_bad_input_case():
    """Each contradiction a rule file declares is exercised by a case that expects it, naming its fields."""
    for rid, rule in sorted(load_rules().items()):
        cited = {tuple(sorted(c.expect.fields or [])) for c in rule.model.tests if c.expect.outcome == "bad_input"}
        for check in rule.model.consistency:
            assert tuple(sorted(check.fields)) in cited, (rid, check.id)


def test_every_condition_has_a_failing_case():
    """Each way of not being eligible is exercised by at least one case."""
    for rid in ("emplois-francs", "tfpb", "adultes-relais"):
        rule = load_rules()[rid]
        failed = {r for c in rule.model.tests for r in (c.expect.reasons or [])}
        assert failed == {c.id for c in rule.model.conditions}, rid


def test_runner_reports_a_wrong_expectation():
    rule = load_rules()["tfpb"]
    case = rule.model.tests[0].model_copy(deep=True)
    case.expect.outcome = "not_eligible"
    case.expect.amounts = {"abattement": 1.0}
    result = run_case(rule, case)
    assert not result.ok and len(result.problems) == 2
