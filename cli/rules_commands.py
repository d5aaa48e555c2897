"""`qpv evaluate`, `qpv explain` and `qpv rules list|show|validate|test|schema` (docs/rules.md)."""
from __future__ import annotations

from pathlib import Path

import click

from .common import emit, handle_errors, json_option, parse_date, read_facts, to_json
from .register_commands import record_answer, record_options


def _decide(dispositif: str, facts_path: str, date: str | None, record: dict):
    from eligibility.rules import evaluate

    day = parse_date(date, "--date") if date is not None else None  # an empty --date is a mistake, not "no date"
    facts = read_facts(facts_path)
    decision = evaluate(dispositif, facts, date=day)
    if record.pop("record"):
        from eligibility.register.recording import evaluate_question

        record_answer(record["register_url"], record["keep_facts"], evaluate_question(dispositif, facts, day),
                      decision.to_json())
    return decision


def _decision_command(name: str, full_trace: bool, doc: str):
    """`qpv evaluate` and `qpv explain` take the same arguments; only the text rendering differs."""

    @click.command(name, help=doc)
    @click.argument("dispositif")
    @click.option("--facts", "facts_path", required=True, help="Fichier JSON des faits (ou - pour l'entrée standard).")
    @click.option("--date", help="Date de décision AAAA-MM-JJ (remplace la date prévue par la règle).")
    @record_options
    @json_option
    @handle_errors
    def command(dispositif: str, facts_path: str, date: str | None, as_json: bool, **record) -> None:
        decision = _decide(dispositif, facts_path, date, record)
        emit(decision.to_json(), as_json, lambda _: decision.to_text(full_trace=full_trace))

    return command


evaluate_cmd = _decision_command(
    "evaluate", False, "Décision d'éligibilité (éligible / non éligible / indéterminé), montants, raisons et trace.")
explain_cmd = _decision_command(
    "explain", True, "La décision avec sa trace complète, en français : conditions, paramètres datés, géographie.")


@click.group("rules")
def rules() -> None:
    """Fichiers de règles : liste, contenu, validation, cas de test, schéma des faits."""


def _summary(rule) -> dict:
    m = rule.model
    return {"id": m.id, "kind": m.kind, "title": m.title, "version": m.version, "file": rule.path.name,
            "sha256": rule.sha256, "valid_from": m.validity.valid_from.isoformat(),
            "valid_to": m.validity.valid_to.isoformat() if m.validity.valid_to else None,
            "conditions": len(m.conditions), "parameters": len(m.parameters), "tests": len(m.tests)}


@rules.command("list")
@json_option
@handle_errors
def list_cmd(as_json: bool) -> None:
    """Liste les fichiers de règles chargés."""
    from eligibility.rules import load_rules

    rows = [_summary(r) for _, r in sorted(load_rules().items())]
    emit({"rules": rows}, as_json, lambda o: "\n".join(
        f"{r['id']} ({r['kind']}) — {r['title']} — version {r['version']}, {r['conditions']} conditions, "
        f"{r['tests']} cas de test" for r in o["rules"]))


@rules.command("show")
@click.argument("rule_id")
@json_option
@handle_errors
def show_cmd(rule_id: str, as_json: bool) -> None:
    """Affiche un fichier de règles (conditions, paramètres datés, textes)."""
    from eligibility.decisions.render import rule_text
    from eligibility.rules import get_rule

    rule = get_rule(rule_id)
    body = rule.model.model_dump(mode="json", by_alias=True, exclude={"tests"})
    out = {"rule": _summary(rule), "content": body}

    emit(out, as_json, lambda _: rule_text(rule))


@rules.command("validate")
@click.argument("paths", nargs=-1, type=click.Path())
@json_option
@handle_errors
def validate_cmd(paths: tuple[str, ...], as_json: bool) -> None:
    """Valide des fichiers de règles (tous ceux de rules/ par défaut). Code de sortie 2 si l'un est invalide."""
    from eligibility.errors import RuleFileError
    from eligibility.paths import rules_dir
    from eligibility.rules.loader import load_file

    files = [Path(p) for p in paths] or sorted(Path(rules_dir()).glob("*.yaml"))
    rows = []
    for f in files:
        try:
            rule = load_file(f)
            rows.append({"file": str(f), "id": rule.id, "ok": True, "message": "valide"})
        except (RuleFileError, OSError) as exc:
            rows.append({"file": str(f), "id": None, "ok": False, "message": str(exc)})
    ok = all(r["ok"] for r in rows)
    emit({"ok": ok, "files": rows}, as_json,
         lambda o: "\n".join(("OK " if r["ok"] else "KO ") + f"{r['file']} — {r['message']}" for r in o["files"]))
    if not ok:
        raise SystemExit(2)


@rules.command("test")
@click.argument("rule_ids", nargs=-1)
@json_option
@handle_errors
def test_cmd(rule_ids: tuple[str, ...], as_json: bool) -> None:
    """Exécute les cas de test YAML des règles. Code de sortie 1 si un cas échoue."""
    from eligibility.rules import get_rule, load_rules
    from eligibility.rules.testing import run_rule_tests

    ids = list(rule_ids) or sorted(load_rules())
    results = [r for rid in ids for r in run_rule_tests(get_rule(rid))]
    failed = [r for r in results if not r.ok]

    def text(o):
        lines = [("ok   " if r["ok"] else "ÉCHEC ") + f"{r['rule']} : {r['name']}" +
                 ("" if r["ok"] else "\n      " + "\n      ".join(r["problems"])) for r in o["cases"]]
        lines.append(f"{o['passed']} cas réussis, {o['failed']} en échec")
        return "\n".join(lines)

    emit({"ok": not failed, "passed": len(results) - len(failed), "failed": len(failed),
          "cases": [r.to_json() for r in results]}, as_json, text)
    if failed:
        raise SystemExit(1)


@rules.command("schema")
@click.argument("rule_id")
@json_option
@handle_errors
def schema_cmd(rule_id: str, as_json: bool) -> None:
    """Schéma JSON des faits attendus par une règle (toujours du JSON ; --json accepté par cohérence)."""
    from eligibility.rules import get_rule
    from eligibility.rules.facts import json_schema

    click.echo(to_json(json_schema(get_rule(rule_id))))


def register(group: click.Group) -> None:
    group.add_command(evaluate_cmd)
    group.add_command(explain_cmd)
    group.add_command(rules)
