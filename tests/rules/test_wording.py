"""Provenance stays in the trace: the French of `qpv evaluate` and `qpv explain`, run over EVERY YAML case of
EVERY rule file, shows no provenance tag, no note, no dotted fact path, no identifier and no enum code."""
import re

import pytest

from eligibility.errors import BadInput
from eligibility.rules import evaluate, load_rules

TAGS = re.compile(r"\[(?:C|C2|I|U)\]|law\.md|§|etalab|LEGIARTI|LEGITEXT|JORF|rédaction 2015|\[non confirmé\]")
ENGLISH = re.compile(r"\b(?:eligible|not_eligible|undetermined|inside|outside|unknown|true|false|None|null)\b")
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")  # condition ids, parameter names, codes: never French words
CASES = [(rid, case) for rid, rule in sorted(load_rules().items()) for case in rule.model.tests]


def notes_of(rule) -> set[str]:
    m = rule.model
    notes = {t.note for t in m.legal_texts} | {t.source for t in m.legal_texts}
    notes |= {v.note for p in m.parameters.values() for v in p.values} | {v.reference.note for p in m.parameters.values() for v in p.values}
    for _, ref in rule._all_references():
        notes.add(ref.note)
    return {n for n in notes if n and len(n) >= 30}  # a short note may equal a label word for word


def problems_in(text: str, rule) -> list[str]:
    found = [f"tag « {m.group(0)} »" for m in TAGS.finditer(text)]
    found += [f"anglais « {m.group(0)} »" for m in ENGLISH.finditer(text)]
    found += [f"identifiant « {m.group(0)} »" for m in SNAKE.finditer(text)]
    facts = rule.model.facts
    found += [f"chemin de fait « {p} »" for p in facts if re.search(rf"(?<![\w.]){re.escape(p)}(?![\w.])", text)]
    for path, fact in facts.items():
        for code in fact.values or []:
            label = (fact.labels or {}).get(code, "")
            if code.lower() in label.lower():
                continue  # « CDI » in « contrat à durée indéterminée (CDI) »: the code is a French word here
            if re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text):
                found.append(f"code « {code} » de {path}")
    found += [f"note « {n[:40]}… »" for n in notes_of(rule) if n in text]
    return found


@pytest.mark.parametrize("rid,case", CASES, ids=[f"{rid}:{c.name}" for rid, c in CASES])
def test_french_of_every_case_is_clean(rid, case):
    rule = load_rules()[rid]
    try:
        d = evaluate(rule, case.facts, date=case.date)
    except BadInput as exc:  # contradictory facts: the error names the fields, in French, without tags
        assert not TAGS.search(str(exc)) and "{" not in exc.detail, str(exc)
        return
    for full in (False, True):
        text = d.to_text(full_trace=full)
        bad = problems_in(text, rule)
        assert not bad, f"{bad}\n---\n{text}"
    # …and the provenance is still there, in the JSON trace
    if notes_of(rule):
        assert "provenance" in str(d.to_json())


def test_the_check_catches_what_it_looks_for():
    """The grep is not vacuous: each kind of leak is found in a text that has one."""
    rule = load_rules()["adultes-relais"]
    for leak in ("[C2]", "law.md §4", "rédaction 2015", "LEGIARTI000031014056", "person.birth_date", "not_covered",
                 "aide_annuelle_temps_plein", "employed", "undetermined"):
        assert problems_in(f"Décision : {leak}.", rule), leak
    assert not problems_in("Décision : contrat à durée indéterminée (CDI), 11 405,31 €.", rule)


@pytest.mark.parametrize("rid", sorted(load_rules()))
def test_rules_show_is_french_without_internals(rid):
    """`qpv rules show` (text) names conditions, values and texts in French; expressions, fact paths, codes and
    provenance notes are only in `--json`."""
    from click.testing import CliRunner

    from qpv_cli.main import qpv

    rule = load_rules()[rid]
    res = CliRunner().invoke(qpv, ["rules", "show", rid])
    assert res.exit_code == 0, res.output
    bad = problems_in(res.output, rule)
    assert not bad, f"{bad}\n---\n{res.output}"
    for p in rule.model.parameters.values():
        assert p.label in res.output
    shown = CliRunner().invoke(qpv, ["rules", "show", rid, "--json"]).output
    assert rule.model.conditions[0].expression.split()[0] in shown  # the internals are still in the JSON
