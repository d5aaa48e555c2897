"""`qpv register recheck`: recompute a recorded decision, with the rules it was taken under and with today's.

Reproduced means: the recorded question (its facts supplied again, or kept), computed with the rule file
recorded (its text is archived in the register) and the reference data of today, gives the very answer
recorded, hence the same attestation identifier. The data are not archived (they weigh megabytes): when
the datasets the answer cites have changed since, the decision cannot be reproduced and the report says
which. Today's answer (today's rules and data) is reported beside it, with what changed.
"""
from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from ..errors import BadInput
from . import entries as E


def normalise_facts(kind: str, facts: dict[str, Any]) -> dict[str, Any]:
    """Facts as the register hashed them: flat dotted paths for a decision, the place for a locate question."""
    if kind == "dispositif":
        from ..web.attestation import flat_facts

        return flat_facts(facts)
    place = {k: facts[k] for k in E.PLACE_KEYS if k in facts}
    if not place:
        raise BadInput("les faits d'une localisation sont {\"lon\": …, \"lat\": …}, {\"x\": …, \"y\": …} ou "
                       "{\"address\": …}", field="--facts")
    for k in ("lon", "lat", "x", "y"):
        if k in place:
            try:
                place[k] = float(place[k])
            except (TypeError, ValueError):
                raise BadInput(f"« {k} » doit être un nombre", field="--facts") from None
    if "address" in place:
        place["address"] = str(place["address"]).strip()
    return place


def _answer(question: dict[str, Any], date_given: bool, rule=None) -> dict[str, Any]:
    """The answer to a recorded question, through the functions that answered it."""
    if question["kind"] == "evaluate":
        from ..rules import evaluate

        day = dt.date.fromisoformat(question["date"]) if question.get("date") else None
        return evaluate(rule if rule is not None else question["dispositif"], question["facts"], date=day).to_json()
    from ..geography import locate_answer

    day = dt.date.fromisoformat(question["date"])
    tol = float(question["tolerance_m"]) if question.get("tolerance_m") is not None else None  # None: the file's own
    if "address" in question:
        from ..addresses import locate_addresses

        res, where = locate_addresses([question["address"]], [day], tolerance_m=tol), f"l'adresse « {question['address']} »"
    else:
        from ..geography import locate_points

        a, b = (question["x"], question["y"]) if "x" in question else (question["lon"], question["lat"])
        res = locate_points([a], [b], day, crs=question.get("crs", "EPSG:4326"), tolerance_m=tol)
        where = f"le point ({a}, {b})"
    return locate_answer(res, where, date_given=date_given)


def _recorded_rule(register, entry: dict[str, Any]):
    """(rule object or None for today's file, why not available or None)."""
    from ..rules import get_rule
    from ..rules.loader import load_file

    rule = entry.get("rule")
    if not rule:
        return None, None
    if get_rule(entry["dispositif"]).sha256 == rule["sha256"]:
        return None, None  # today's file is the recorded one
    archived = register.rule_text(rule["sha256"])
    if archived is None:
        return False, "le texte du fichier de règles enregistré n'est pas archivé dans le registre"
    with tempfile.TemporaryDirectory(prefix="qpv-recheck-") as folder:
        path = Path(folder) / archived["file"]
        path.write_text(archived["text"], encoding="utf-8")
        return load_file(path), None


def _datasets(answer: dict[str, Any]) -> dict[str, str]:
    from ..web.wording import datasets_in

    return {d["dataset"]: d["sha256"] for d in datasets_in(answer.get("trace"))}


def _changes(recorded: dict[str, Any], today: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """What differs between the recorded answer and today's, in the JSON keys people look at."""
    out = []

    def compare(what: str, a, b):
        if a != b:
            out.append({"what": what, "recorded": a, "today": b})

    if kind == "dispositif":
        compare("outcome", recorded.get("outcome"), today.get("outcome"))
        compare("amounts", recorded.get("amounts"), today.get("amounts"))
        compare("reasons", [r.get("rule") for r in recorded.get("reasons") or []], [r.get("rule") for r in today.get("reasons") or []])
        compare("missing_inputs", recorded.get("missing_inputs"), today.get("missing_inputs"))
        r0, r1 = (recorded.get("trace") or {}).get("rule") or {}, (today.get("trace") or {}).get("rule") or {}
        compare("rule_version", r0.get("version"), r1.get("version"))
        compare("rule_sha256", r0.get("sha256"), r1.get("sha256"))
    else:
        compare("status", recorded.get("status"), today.get("status"))
        compare("quartier", (recorded.get("quartier") or {}).get("code"), (today.get("quartier") or {}).get("code"))
        compare("vintage", recorded.get("vintage"), today.get("vintage"))
    d0, d1 = _datasets(recorded), _datasets(today)
    for name in sorted(set(d0) | set(d1)):
        compare(f"dataset:{name}", d0.get(name), d1.get(name))
    if not out and E.canonical(E.redact(recorded)) != E.canonical(E.redact(today)):
        out.append({"what": "trace", "recorded": None, "today": None})
    return out


def recheck(register, key: str, facts: dict[str, Any] | None = None) -> dict[str, Any]:
    """The recheck report (JSON of `qpv register recheck --json`); `reproduced` decides the exit code."""
    from ..web.attestation import build as attestation
    from ..web.engine import DomainEngine

    entry = register.get(key)
    if entry is None:
        raise BadInput(f"aucune entrée « {key} » dans le registre", field="ID")
    kind = entry["kind"]
    if facts is not None:
        facts = normalise_facts(kind, facts)
        if E.sha256_of(facts) != entry["facts_sha256"]:
            raise BadInput(f"ces faits ne sont pas ceux de l'entrée {entry['id']} : leur empreinte diffère de celle "
                           "enregistrée", field="--facts")
    elif entry.get("facts_kept"):
        facts = entry["facts"]
    else:
        raise BadInput(f"les faits de l'entrée {entry['id']} ne sont pas conservés (seule leur empreinte l'est) : "
                       "fournissez-les avec --facts FICHIER.json", field="--facts")
    question = E.join_question(entry["question"], facts)
    recorded_answer = entry.get("full_answer") or entry["answer"]
    date_given = ((entry["answer"].get("trace") or {}).get("date_source")) != "default"
    report: dict[str, Any] = {"id": entry["id"], "attestation_id": entry["attestation_id"], "kind": kind,
                              "recorded": {"outcome": entry["outcome"], "rule": entry["rule"],
                                           "decision_date": entry["decision_date"], "recorded_at": entry["recorded_at"]}}

    rule, why = _recorded_rule(register, entry) if kind == "dispositif" else (None, None)
    then: dict[str, Any] = {"available": rule is not False, "why": why}
    if rule is not False:
        answer = _answer(question, date_given, rule)
        att = attestation(question, answer, {k: v for k, v in entry["versions"].items() if k != "datasets"})
        then.update(outcome=answer.get("outcome") if kind == "dispositif" else answer.get("status"),
                    attestation_id=att["identifier"], reproduced=att["identifier"] == entry["attestation_id"])
        if not then["reproduced"]:
            changed = [c for c in _changes(recorded_answer, answer, kind) if c["what"].startswith("dataset:")]
            then["why"] = ("les données de référence citées par la décision ont changé depuis" if changed else
                           "le calcul avec les règles enregistrées ne redonne pas la réponse enregistrée")
            then["changes"] = _changes(recorded_answer, answer, kind)
    else:
        then["reproduced"] = False
    report["with_recorded_rules"] = then

    engine = DomainEngine()
    today_answer = _answer(question, date_given)
    today_att = attestation(question, today_answer, engine.versions())
    changes = _changes(recorded_answer, today_answer, kind)
    report["today"] = {"outcome": today_answer.get("outcome") if kind == "dispositif" else today_answer.get("status"),
                       "attestation_id": today_att["identifier"], "same_answer": not changes, "changes": changes}
    report["reproduced"] = bool(then.get("reproduced"))
    return report
