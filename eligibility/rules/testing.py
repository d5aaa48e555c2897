"""Running the YAML test cases of rule files (pytest and `qpv rules test` share this)."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadInput, QpvError
from .evaluator import evaluate
from .loader import Rule


@dataclass
class CaseResult:
    rule: str
    name: str
    ok: bool
    problems: list[str]

    def to_json(self) -> dict:
        return {"rule": self.rule, "name": self.name, "ok": self.ok, "problems": self.problems}


def run_case(rule: Rule, case) -> CaseResult:
    problems: list[str] = []
    exp = case.expect
    try:
        d = evaluate(rule, case.facts, date=case.date)
    except BadInput as exc:
        if exp.outcome != "bad_input":
            return CaseResult(rule.id, case.name, False, [f"erreur : {exc}"])
        got = sorted((exc.field or "").split(", "))
        if exp.fields is not None and got != sorted(exp.fields):
            problems.append(f"champs cités {got}, attendus {sorted(exp.fields)}")
        return CaseResult(rule.id, case.name, not problems, problems)
    except QpvError as exc:
        return CaseResult(rule.id, case.name, False, [f"erreur : {exc}"])
    if d.outcome != exp.outcome:
        problems.append(f"outcome {d.outcome!r}, attendu {exp.outcome!r} (raisons : "
                        f"{[r['condition'] for r in d.reasons]}, manquants : {d.missing_inputs})")
    if exp.amounts is not None:
        for key, want in exp.amounts.items():
            got = d.amounts.get(key)
            if (got is None) != (want is None) or (want is not None and abs(got - want) > 0.005):
                problems.append(f"montant {key} = {got}, attendu {want}")
    if exp.reasons is not None:
        got = sorted(r["condition"] for r in d.reasons)
        if got != sorted(exp.reasons):
            problems.append(f"raisons {got}, attendues {sorted(exp.reasons)}")
    if exp.missing_inputs is not None and sorted(d.missing_inputs) != sorted(exp.missing_inputs):
        problems.append(f"faits manquants {d.missing_inputs}, attendus {sorted(exp.missing_inputs)}")
    if exp.ambiguities is not None:
        got = sorted(a.get("fact") or a.get("parameter") for a in d.ambiguities)
        if got != sorted(exp.ambiguities):
            problems.append(f"ambiguïtés {got}, attendues {sorted(exp.ambiguities)}")
    return CaseResult(rule.id, case.name, not problems, problems)


def run_rule_tests(rule: Rule) -> list[CaseResult]:
    return [run_case(rule, case) for case in rule.model.tests]
