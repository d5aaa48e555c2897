"""Attestation: a filed record of one answer, as printable HTML and as PDF.

The identifier is the sha256 of the canonical JSON of what was asked, the full answer (with its trace,
hence the data checksums) and the engine and rule versions. Anyone holding the same inputs recomputes
it (`qpv attest` does); change the question, the date, a rule file or a data file and it changes.
Nothing time-dependent goes in: the same inputs give the same bytes, HTML and PDF alike.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from .wording import datasets_in, distance_words, geocoding_words, status_sentence

FONTS = Path(__file__).parent / "static" / "fonts"


def _canonical(obj: Any) -> bytes:
    from qpv_cli.common import to_json
    import json

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


def sections(att: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The document's content, once, for both renderings: (section title, [(label, value)])."""
    q, a, v = att["question"], att["answer"], att["versions"]
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
    data = [(d["dataset"] + (f" ({d['vintage']})" if d.get("vintage") else ""), d["sha256"]) for d in v["datasets"]] or [
        ("Jeux de données", "aucun cité par la trace")]
    rules = [("Moteur", v["engine"])] + [(r["file"], r["sha256"]) for r in v["rules"]]
    ident = [("Identifiant", att["identifier"]), ("Empreinte sha256", att["sha256"]),
             ("Recalcul", "qpv attest " + (f"--address \"{q['address']}\"" if q.get("address") else f"--lon {q['lon']} --lat {q['lat']}")
              + f" --date {q['date']}")]
    return [("Question posée", asked), ("Réponse", answer), ("Droit applicable", law),
            ("Données de référence (sha256)", data), ("Règles et moteur (sha256)", rules), ("Identifiant", ident)]


def render_pdf(att: dict[str, Any]) -> bytes:
    """The same sections as the HTML page, typeset by fpdf2 with the bundled DejaVu fonts."""
    from fpdf import FPDF
    from fpdf.enums import WrapMode, XPos, YPos

    pdf = FPDF(format="A4")
    # Fixed metadata: the creation date is the date of the question, so the bytes recompute.
    when = dt.date.fromisoformat(att["question"]["date"])
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

    para("Attestation de situation au regard des quartiers prioritaires de la politique de la ville", "B", 15, 8)
    para(f"Identifiant {att['identifier']}", "B", 11, 7)
    for title, rows in sections(att):
        pdf.ln(3)
        para(title, "B", 12, 7)
        for label, value in rows:
            para(label, "B", 9, 5)
            # Hashes have no spaces: only they may break anywhere.
            para(value, "", 9, 5, wrapmode=WrapMode.WORD if " " in value else WrapMode.CHAR)
    pdf.ln(3)
    para(NOTICE, "", 8, 4)
    return bytes(pdf.output())


NOTICE = ("Document produit par le moteur qpv à partir des périmètres officiels publiés (ANCT) et des règles "
          "citées. Il ne remplace pas une décision de l'administration. L'identifiant se recalcule à partir de la "
          "question, de la réponse et des versions ci-dessus : un document modifié ne le retrouve pas.")
