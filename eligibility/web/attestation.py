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
from pathlib import Path
from typing import Any

from ..jsonio import to_json
from .wording import OUTCOME_FR, datasets_in, distance_words, euros, geocoding_words, legal_reference_words, status_sentence

FONTS = Path(__file__).parent / "static" / "fonts"


def _canonical(obj: Any) -> bytes:
    # Sorted keys: the identifier must not depend on the order in which a domain builds its dicts.
    return json.dumps(json.loads(to_json(obj)), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def build(question: dict[str, Any], answer: dict[str, Any], versions: dict[str, Any]) -> dict[str, Any]:
    """The attestation object. `question` is what was asked, with the date actually used."""
    body = {
        "question": question,
        "answer": answer,
        "versions": {**versions, "datasets": datasets_in(answer.get("trace"))},
    }
    digest = hashlib.sha256(_canonical(body)).hexdigest()
    short = "-".join(digest[i:i + 4] for i in range(0, 20, 4)).upper()
    return {"identifier": f"QPV-{short}", "sha256": digest, **body}


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
    data = [(d["dataset"] + (f" ({d['vintage']})" if d.get("vintage") else ""), d["sha256"]) for d in v["datasets"]] or [
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
    asked = [("Adresse", q["address"])] if q.get("address") else [("Point (WGS 84)", f"longitude {q['lon']}, latitude {q['lat']}")]
    asked.append(("Date d'appréciation", q["date"] + ("" if q.get("date_given") else " (date du jour, aucune date demandée)")))
    quartier = a.get("quartier") or {}
    commune = a.get("commune") or {}
    answer = [
        ("Réponse", status_sentence(a, "Le lieu demandé")),
        ("Statut (code)", str(a.get("status"))),
        ("Quartier", f"{quartier.get('name')} ({quartier.get('code')})" if quartier else "aucun"),
        ("Commune", f"{commune.get('name')} ({commune.get('code')})" if commune else "non déterminée"),
        ("Distance à la limite la plus proche", distance_words(a.get("distance_to_boundary_m"))),
        ("Carreau INSEE 200 m", str(a.get("carreau") or "non déterminé")),
    ]
    if geocoding_words(a):
        answer.append(("Adresse reconnue", geocoding_words(a)))
    confirmed = ((a.get("trace") or {}).get("vintage") or {}).get("confirmed")
    law = [
        ("Millésime des périmètres", str(a.get("vintage") or "aucun")),
        ("Texte applicable", str(a.get("legal_basis") or "aucun texte : territoire non couvert")
         + (" (base légale non confirmée dans les sources lues)" if confirmed is False else "")),
    ]
    sections_ = [("Question posée", asked), ("Réponse", answer), ("Droit applicable", law)]
    caveats = (a.get("trace") or {}).get("caveats") or []
    if caveats:
        sections_.append(("Réserves sur les données (texte du manifeste)", [(f"Réserve {i}", c) for i, c in enumerate(caveats, 1)]))
    return sections_


def _evaluate_sections(att: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    q, d = att["question"], att["answer"]
    trace = d.get("trace") or {}
    rule = trace.get("rule") or {}
    asked = [("Dispositif", f"{rule.get('title') or q['dispositif']} ({q['dispositif']})")]
    # Values as JSON (what FAITS.json holds): false, 3.0, {"lon": …}; text as is.
    asked += [(path, value if isinstance(value, str) else to_json(value)) for path, value in q["facts"].items()] or [
        ("Faits", "aucun fait fourni")]
    asked.append(("Date de décision imposée", q.get("date") or "aucune : celle que fixe la règle"))
    dd = trace.get("decision_date") or {}
    answer = [("Décision", OUTCOME_FR.get(d["outcome"], d["outcome"])),
              ("Date retenue", f"{dd.get('value') or 'inconnue'} ({dd.get('label') or '—'})")]
    for item in (d.get("amounts") or {}).get("schedule", []):
        answer.append((item["label"], euros(item["amount"])))
    if "total" in (d.get("amounts") or {}):
        answer.append(("Total", euros(d["amounts"]["total"])))
    for r in d.get("reasons") or []:
        answer.append(("Condition non remplie", f"{r['message']} — {legal_reference_words(r.get('legal_reference'))}"))
    if d.get("missing_inputs"):
        answer.append(("Informations manquantes", ", ".join(d["missing_inputs"])))
    for amb in d.get("ambiguities") or []:
        answer.append(("Incertitude géographique", f"{amb.get('fact')} : {amb.get('message')}"))
    law = [("Règle", f"{rule.get('id')} version {rule.get('version')} ({rule.get('file')}, sha256 {rule.get('sha256')})"),
           ("Date de décision fixée par", legal_reference_words(dd.get("legal_reference")))]
    from ..decisions.render import STATUS_FR

    for g in trace.get("geography") or []:
        law.append((f"Géographie ({g.get('fact')})", f"{STATUS_FR.get(g.get('status'), g.get('status'))}, quartier "
                    f"{g.get('quartier') or '—'}, millésime {g.get('vintage') or '—'}, au {g.get('date') or '—'}"))
    return [("Question posée", asked), ("Décision", answer), ("Droit applicable", law)]


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
