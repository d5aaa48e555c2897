"""Attestation: a filed record of one answer, as printable HTML and as PDF.

The identifier is the sha256 of the canonical JSON of what was asked, the full answer (with its trace,
hence the data checksums) and the engine and rule versions. Anyone holding the same inputs recomputes
it (`qpv attest` does); change the question, the date, a rule file or a data file and it changes.
Nothing time-dependent goes in: the same inputs give the same bytes, HTML and PDF alike.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ..jsonio import to_json
from ..errors import BadInput
from ..jsonio import json_problem
from .wording import (amount_lines, condition_lines, datasets_in, date_words, decision_verdict, distance_words, euros,
                      geocoding_facts, legal_reference_words, locate_verdict, number_words, place_words)

FONTS = Path(__file__).parent / "static" / "fonts"


def plain(obj: Any) -> Any:
    """`obj` as JSON reads it back: dates as text, numpy scalars as numbers, every key a string."""
    return json.loads(to_json(obj))


def canonical_plain(obj: Any) -> bytes:
    """The canonical bytes of a `plain` object: `json.dumps(obj, ensure_ascii=False, sort_keys=True,
    separators=(",", ":"))` in UTF-8. Sorted keys: the identifier must not depend on the order in which a domain
    builds its dicts. The register calls it tens of times per entry (each shared part, each personal value), so
    the encoder json.dumps would build at every call is built once (the same C encoder, the same bytes;
    `tests/register/test_fragments.py` compares them)."""
    if _CANONICAL is None or isinstance(obj, str):
        return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return "".join(_CANONICAL(obj, 0)).encode()


def _canonical_encoder():
    """json's own C encoder with json.dumps's canonical settings, minus the cycle check (plain JSON has no
    cycles); None where the C accelerator is absent."""
    from json import encoder

    if encoder.c_make_encoder is None:
        return None

    def default(value):
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    return encoder.c_make_encoder(None, default, encoder.encode_basestring, None, ":", ",", True, False, True)


_CANONICAL = _canonical_encoder()


def build(question: dict[str, Any], answer: dict[str, Any], versions: dict[str, Any], *,
          is_plain: bool = False) -> dict[str, Any]:
    """The attestation object. `question` is what was asked, with the date actually used. `is_plain`: the
    three arguments are already `plain` (the register makes the answer plain once for all its hashes)."""
    body = {
        "question": question,
        "answer": answer,
        "versions": {**versions, "datasets": datasets_in(answer.get("trace"))},
    }
    digest = hashlib.sha256(canonical_plain(body if is_plain else plain(body))).hexdigest()
    return {"identifier": identifier_of(digest), "sha256": digest, **body}


def identifier_of(digest: str) -> str:
    """The printed identifier of an attestation whose canonical JSON hashes to `digest`."""
    return "QPV-" + "-".join(digest[i:i + 4] for i in range(0, 20, 4)).upper()


def flat_facts(facts: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Facts as sorted dotted paths, nested or flat alike, so both spellings of a case attest the same.
    A place ({lon, lat} | {quartier_code} | {address}) stays one value."""
    from ..rules.facts import PLACE_PARTS

    out: dict[str, Any] = {}
    for key, value in facts.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and not set(value) <= set(PLACE_PARTS):
            out.update(flat_facts(value, path + "."))
        else:
            out[path] = value
    return dict(sorted(out.items()))


def sections(att: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The document's content, once, for both renderings: (section title, [(label, value)])."""
    q, v = att["question"], att["versions"]
    body = _evaluate_sections(att) if q["kind"] == "evaluate" else _locate_sections(att)
    data = [row for d in v["datasets"] for row in
            [(d["dataset"] + (f" ({d['vintage']})" if d.get("vintage") else ""), d["sha256"])]
            + [(f"    fichier lu : {f['path']}", f["sha256"]) for f in d.get("files") or []]] or [
        ("Jeux de données", "aucun cité par la trace")]
    rules = [("Moteur", v["engine"])] + [(r["file"], r["sha256"]) for r in v["rules"]]
    ident = [("Identifiant", att["identifier"]), ("Empreinte sha256", att["sha256"]), ("Recalcul", _recompute_command(q))]
    return body + [("Données de référence (sha256)", data), ("Règles et moteur (sha256)", rules), ("Identifiant", ident)]


def _recompute_command(q: dict[str, Any]) -> str:
    if q["kind"] == "evaluate":
        return (f"qpv attest --dispositif {q['dispositif']} --facts FAITS.json"
                + (f" --date {q['date']}" if q.get("date") else "") + " (FAITS.json : les faits ci-dessus)")
    where = f"--address \"{q['address']}\"" if q.get("address") else f"--lon {q['lon']} --lat {q['lat']}"
    return f"qpv attest {where} --date {q['date']}"


def _locate_sections(att: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    q, a = att["question"], att["answer"]
    asked = [("Adresse", q["address"])] if q.get("address") else [
        ("Point (WGS 84)", f"longitude {number_words(q['lon'], 7)}, latitude {number_words(q['lat'], 7)}")]
    asked.append(("Date d'appréciation", date_words(q["date"], today=dt.date.min)
                  + ("" if q.get("date_given") else " (date du jour de la demande, aucune date demandée)")))
    quartier = a.get("quartier") or {}
    commune = a.get("commune") or {}
    verdict = locate_verdict(a)
    answer = [("Réponse", f"{verdict['word']} — {verdict['detail']}")]
    where = geocoding_facts(a)
    if where:
        answer.append(("Adresse reconnue", f"{where['label'] or 'aucune'} (précision : {where['precision']})"))
    answer += [
        ("Quartier prioritaire", f"{quartier.get('name')} ({quartier.get('code')})" if quartier else "aucun"),
        ("Commune", f"{commune.get('name')} (code INSEE {commune.get('code')})" if commune else "non déterminée"),
        ("Distance à la limite la plus proche", distance_words(a.get("distance_to_boundary_m"))),
    ]
    confirmed = ((a.get("trace") or {}).get("vintage") or {}).get("confirmed")
    law = [
        ("Liste des quartiers", str(a.get("vintage") or "aucune")),
        ("Texte applicable", str(a.get("legal_basis") or "aucun texte : territoire non couvert")
         + (" (base légale non confirmée dans les sources lues)" if confirmed is False else "")),
    ]
    return [("Question posée", asked), ("Réponse", answer), ("Droit applicable", law)]


def fact_value_words(value: Any, labels: dict[str, str] | None = None) -> str:
    """A fact's value for people: the enum's French label, oui/non, a date in words, a place written out."""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dict):
        if "address" in value:
            return str(value["address"])
        if "quartier_code" in value:
            return f"quartier {value['quartier_code']}"
        return f"longitude {number_words(value.get('lon'), 7)}, latitude {number_words(value.get('lat'), 7)}"
    if isinstance(value, (int, float)):
        return number_words(value, 4)
    text = str(value)
    if labels and text in labels:
        return labels[text]
    try:
        return date_words(dt.date.fromisoformat(text), today=dt.date.min) if len(text) == 10 else text
    except ValueError:
        return text


def _evaluate_sections(att: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    q, d = att["question"], att["answer"]
    trace = d.get("trace") or {}
    rule = trace.get("rule") or {}
    labels = att.get("labels") or {}
    names = att.get("descriptions") or {}
    asked = [("Dispositif", str(rule.get("title") or q["dispositif"]))]
    asked += [(names.get(path) or path, fact_value_words(value, labels.get(path))) for path, value in q["facts"].items()] or [
        ("Faits", "aucun fait fourni")]
    asked.append(("Date de décision imposée", date_words(q["date"], today=dt.date.min) if q.get("date") else "aucune : celle que fixe la règle"))
    dd = trace.get("decision_date") or {}
    answer = [("Décision", decision_verdict(d["outcome"])["word"]),
              ("Date retenue", f"{date_words(dd.get('value'), today=dt.date.min) if dd.get('value') else 'inconnue'} ({dd.get('label') or '—'})")]
    for g in trace.get("geography") or []:
        answer.append((names.get(g.get("fact")) or "Lieu", place_words(g)["text"]))
    for r in d.get("reasons") or []:
        answer.append(("Pourquoi", f"{r.get('message')} — {legal_reference_words(r.get('legal_reference'))}"))
    for line in condition_lines(d):
        answer.append((f"{line['mark']} {line['label']}", f"{line['state']} — {line['reference']}"))
    for item in (d.get("amounts") or {}).get("schedule", []):
        answer.append((item["label"], euros(item["amount"])))
    for label, value in amount_lines(d):
        answer.append((label, value))
    for r in d.get("remarks") or []:
        answer.append(("À noter", f"{r.get('message')} — {legal_reference_words(r.get('legal_reference'))}"))
    if d.get("missing_inputs"):
        answer.append(("Informations manquantes", ", ".join(names.get(p) or p for p in d["missing_inputs"])))
    law = [("Règle", f"{rule.get('title') or rule.get('id')}, version {rule.get('version')}"),
           ("Date de décision fixée par", legal_reference_words(dd.get("legal_reference")))]
    return [("Question posée", asked), ("Décision", answer), ("Droit applicable", law)]


def check_url(att: dict[str, Any]) -> str:
    """Where anyone can check the identifier: the page recomputes it from the question."""
    return "/attestation/verifier?" + urlencode({"identifiant": att["identifier"], "question": to_json(att["question"])})


def registered(register, identifier: str) -> dict[str, Any] | None:
    """What the register says about an identifier, in French, for the verification page: when and for what it
    was recorded, and the full question when its facts are kept (else the page asks for the question printed
    on the attestation). None without a register; {"unavailable": …} when it cannot be read."""
    from ..errors import RegisterUnavailable
    from ..register import entries as E
    from ..register import lookup_attestation
    from ..register.wording import CHANNEL_FR, SERVED_FR, day_fr, outcome_fr, subject_fr, when_fr

    if register is None:
        return None
    try:
        found = lookup_attestation(identifier, register)
    except RegisterUnavailable as exc:
        return {"unavailable": f"le registre des décisions ne peut pas être consulté ({getattr(exc, 'reason', exc)})"}
    if found is None:
        return {"recorded": 0}
    e = found["entry"]
    times = found["recorded"]
    return {
        "recorded": times, "entry_id": e["id"],
        "when": when_fr(found["first_recorded_at"]) + ("" if times == 1 else
                                                      f", puis {times - 1} autre{'s' if times > 2 else ''} fois, "
                                                      f"la dernière le {when_fr(found['last_recorded_at'])}"),
        "subject": subject_fr(e), "outcome": outcome_fr(e["kind"], e["outcome"]),
        "how": f"{SERVED_FR.get(e['served'], e['served'])} donnée par {CHANNEL_FR.get(e['channel'], e['channel'])}",
        "date": day_fr(e["decision_date"]), "quartier": e["quartier"],
        "date_label": "Date de décision" if e["kind"] == "dispositif" else "Date de la question",
        "question": E.join_question(e["question"], e["facts"]) if e.get("facts_kept") else None,
    }


def _recheck(register, entry_id: int, question: dict[str, Any]) -> dict[str, Any]:
    """`qpv register recheck` of the entry with the question's facts, in French: reproduced with the rules
    recorded (the text archived in the register) or not, and why."""
    from ..errors import QpvError
    from ..register import entries as E
    from ..register.recheck import recheck

    _, facts = E.split_question(question)
    try:
        report = recheck(register, str(entry_id), facts)
    except QpvError as exc:  # facts that are not the recorded ones, a register that cannot be read
        return {"reproduced": False, "why": getattr(exc, "detail", None) or str(exc)}
    then = report["with_recorded_rules"]
    return {"reproduced": report["reproduced"], "why": then.get("why")}


def check(engine, identifier: str, question_text: str, register=None) -> dict[str, Any]:
    """Recompute the attestation of `question` with today's engine, rules and data, and compare identifiers.
    With a register: say when and for what the identifier was recorded, take the question from it when its
    facts are kept, and re-check the entry with the rules recorded. `holds` is None when there is no question
    to recompute (not pasted, facts not kept)."""
    from .pages import evaluation_attestation_for  # the same builders as the pages

    identifier = identifier.strip().upper()
    if not re.fullmatch(r"QPV(-[0-9A-F]{4}){5}", identifier):
        raise BadInput("identifiant attendu sous la forme QPV-XXXX-XXXX-XXXX-XXXX-XXXX (lettres A-F et chiffres)",
                       field="identifiant")
    record = registered(register, identifier)
    question = None
    if question_text.strip():
        try:
            question = json.loads(question_text)
        except json.JSONDecodeError as exc:
            raise BadInput(f"question illisible : {json_problem(exc)}", field="question") from None
    elif record and record.get("question"):
        question = record["question"]
    elif record is not None:  # what the register holds (only the facts' hash, or nothing) is still worth saying
        return {"identifier": identifier, "recomputed": None, "holds": None, "attestation": None, "register": record}
    else:
        raise BadInput("collez la question imprimée sur l'attestation (ou suivez son lien de vérification)", field="question")
    if not isinstance(question, dict) or question.get("kind") not in ("locate", "evaluate"):
        raise BadInput("question illisible : ce n'est pas la question d'une attestation qpv", field="question")
    if question["kind"] == "evaluate":
        now = evaluation_attestation_for(engine, str(question.get("dispositif")), dict(question.get("facts") or {}),
                                         question.get("date"))
    else:
        from .api import locate_answer

        lon, lat = question.get("lon"), question.get("lat")
        answer = locate_answer(engine, None if lon is None else str(lon), None if lat is None else str(lat),
                               question.get("address"), question.get("date"))
        now = build(question, answer, engine.versions())
    if record and record.get("recorded"):
        record["recheck"] = _recheck(register, record["entry_id"], question)
    return {"identifier": identifier, "recomputed": now["identifier"], "holds": now["identifier"] == identifier,
            "attestation": now, "register": record}


def render_pdf(att: dict[str, Any]) -> bytes:
    """The same sections as the HTML page, typeset by fpdf2 with the bundled DejaVu fonts."""
    from fpdf import FPDF
    from fpdf.enums import WrapMode, XPos, YPos

    pdf = FPDF(format="A4")
    # Fixed metadata: the creation date is the date of the question, so the bytes recompute.
    when = dt.date.fromisoformat(att["question"].get("date") or _decision_date(att))
    pdf.set_creation_date(dt.datetime(when.year, when.month, when.day, tzinfo=dt.timezone.utc))
    pdf.set_title(f"Attestation {att['identifier']}")
    pdf.set_producer("qpv")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def para(text: str, style: str, size: float, height: float, **kw) -> None:
        pdf.set_font("DejaVu", style, size)
        pdf.multi_cell(width, height, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT, **kw)

    para(title(att), "B", 15, 8)
    para(f"Identifiant {att['identifier']}", "B", 11, 7)
    for heading, rows in sections(att):
        pdf.ln(3)
        para(heading, "B", 12, 7)
        for label, value in rows:
            para(label, "B", 9, 5)
            # Hashes have no spaces: only they may break anywhere.
            para(value, "", 9, 5, wrapmode=WrapMode.WORD if " " in value else WrapMode.CHAR)
    pdf.ln(3)
    para(NOTICE, "", 8, 4)
    return bytes(pdf.output())


def title(att: dict[str, Any]) -> str:
    if att["question"]["kind"] == "evaluate":
        return "Attestation de décision d'éligibilité à un dispositif de la politique de la ville"
    return "Attestation de situation au regard des quartiers prioritaires de la politique de la ville"


def _decision_date(att: dict[str, Any]) -> str:
    """The PDF's fixed creation date: the decision date, or 1 January 2000 when it is unknown."""
    value = ((att["answer"].get("trace") or {}).get("decision_date") or {}).get("value")
    return value or "2000-01-01"


NOTICE = ("Document produit par le moteur qpv à partir des périmètres officiels publiés (ANCT) et des règles "
          "citées. Il ne remplace pas une décision de l'administration. L'identifiant se recalcule à partir de la "
          "question, de la réponse et des versions ci-dessus : un document modifié ne le retrouve pas.")
