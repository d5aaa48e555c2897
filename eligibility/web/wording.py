"""Plain-French sentences for the answers, shared by the pages and the attestation."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

def distance_words(meters: Any) -> str:
    if meters is None:
        return "non calculée"
    return f"{float(meters):,.0f} m".replace(",", " ")


def legal_reference_words(ref: Any) -> str:
    """« Décret …, art. 4 », saying in words when the figure or text is not confirmed (never the provenance
    notes, which stay in the JSON)."""
    from ..decisions.render import ref_text

    if isinstance(ref, str):
        return ref
    return ref_text(ref)


def euros(amount: Any) -> str:
    from ..decisions.render import euros as render_euros

    return render_euros(None if amount is None else float(amount))


def datasets_in(trace: Any) -> list[dict[str, Any]]:
    """Every dataset cited anywhere in a trace ({dataset, vintage, sha256, files, …}, or the address index
    as {index, sha256, files, …}), once each, in the order met, with the files read and the sha256 of their
    bytes as the trace gives them ({path, sha256}; names only for the address index's sources)."""
    return merge_datasets(dataset_nodes(trace))


def is_dataset_node(node: dict) -> bool:
    """A dict of a trace that cites a dataset (`datasets_in`)."""
    name = node.get("dataset") or node.get("index")
    return isinstance(name, str) and isinstance(node.get("sha256"), str)


def dataset_nodes(trace: Any) -> list[dict]:
    """The dicts of `trace` that cite a dataset, depth first in the order met (dict values in their order)."""
    out: list[dict] = []

    def walk(node):
        if isinstance(node, dict):
            if is_dataset_node(node):
                out.append(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(trace)
    return out


def merge_datasets(nodes) -> list[dict[str, Any]]:
    """`datasets_in` of the dataset nodes `nodes` (`dataset_nodes`): one entry per dataset and sha256."""
    found: dict[tuple, dict] = {}
    for node in nodes:
        name = node.get("dataset") or node.get("index")
        entry = found.setdefault((name, node["sha256"]), {"dataset": name, "vintage": node.get("vintage"),
                                                          "sha256": node["sha256"], "files": []})
        for f in node.get("files") or []:
            if isinstance(f, dict) and f not in entry["files"]:
                entry["files"].append({"path": f.get("path"), "sha256": f.get("sha256")})
    return list(found.values())


MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre")


def date_words(value: Any, today: dt.date | None = None) -> str:
    """« 1er janvier 2025 », and « (aujourd'hui) » when it is today's date."""
    if not value:
        return "inconnue"
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    words = f"{'1er' if day.day == 1 else day.day} {MONTHS_FR[day.month - 1]} {day.year}"
    return words + (" (aujourd'hui)" if day == (today or dt.date.today()) else "")


def number_words(value: Any, digits: int = 2) -> str:
    """A number with a decimal comma and no useless zeros (0,9 ; 1)."""
    text = f"{float(value):.{digits}f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


# Verdicts, one short bold word each; the tone picks the colour.
LOCATE_VERDICT = {"inside": ("OUI", "oui"), "outside": ("NON", "non")}
DECISION_VERDICT = {"eligible": ("ÉLIGIBLE", "oui"), "not_eligible": ("NON ÉLIGIBLE", "non"),
                    "undetermined": ("INCOMPLET", "verifier"), "error": ("ERREUR DANS LES FAITS", "non"),
                    "out_of_scope": ("HORS DU CHAMP", "non")}


def locate_verdict(answer: dict[str, Any]) -> dict[str, str]:
    """{word, detail, tone} of a locate answer: « OUI — dans le quartier prioritaire … », « NON », « À VÉRIFIER »."""
    status = answer.get("status")
    q = answer.get("quartier") or {}
    word, tone = LOCATE_VERDICT.get(status, ("À VÉRIFIER", "verifier"))
    if status == "inside":
        detail = f"dans le quartier prioritaire « {q.get('name')} » ({q.get('code')})"
    elif status == "outside":
        detail = "hors de tout quartier prioritaire de la politique de la ville"
    elif status == "near_boundary":
        detail = (f"à quelques mètres de la limite du quartier prioritaire « {q.get('name')} » ({q.get('code')}) : "
                  "à vérifier sur le périmètre officiel" if q else "à quelques mètres de la limite d'un quartier prioritaire")
    elif status == "not_covered":
        detail = "aucune liste de quartiers chargée ne couvre ce lieu à cette date" + (
            f" : {answer['reason']}" if answer.get("reason") else "")
    else:
        detail = "le lieu n'a pas pu être placé assez précisément pour répondre"
    return {"word": word, "detail": detail, "tone": tone}


def decision_verdict(outcome: str) -> dict[str, str]:
    word, tone = DECISION_VERDICT.get(outcome, (outcome.upper(), "verifier"))
    return {"word": word, "tone": tone}


PRECISION_FR = {"housenumber": "au numéro", "street": "à la voie seulement (sans numéro)",
                "locality": "au lieu-dit", "municipality": "à la commune seulement"}


def geocoding_facts(answer: dict[str, Any]) -> dict[str, Any] | None:
    """How an address was placed, for people: {label, precision, score} (None for a point)."""
    g = (answer.get("trace") or {}).get("geocoding")
    if not g:
        return None
    chosen = g.get("chosen") or {}
    return {"label": chosen.get("label"), "precision": PRECISION_FR.get(g.get("level"), "inconnue"),
            "score": None if g.get("score") is None else number_words(g["score"])}


def address_index_coverage(answer: dict[str, Any]) -> str | None:
    """The départements the address index that placed this answer holds."""
    return index_coverage_words(((answer.get("trace") or {}).get("geocoding") or {}).get("index") or {})


def index_coverage_words(index: dict[str, Any]) -> str | None:
    """« Alpes-de-Haute-Provence (04), Tarn-et-Garonne (82, en partie) », read from the index's file names."""
    parts = []
    for name in index.get("files") or []:
        m = re.match(r"[a-z]+-([0-9][0-9AB][0-9]?)[_-]", str(name))
        if m:
            parts.append((m.group(1), "partiel" in name))
    if not parts:
        return None
    from ..geography.territories import cog

    names = cog()["dep"]
    return ", ".join(f"{names.get(code, (code,))[0]} ({code}{', en partie' if partial else ''})" for code, partial in parts)


def address_failure(answer: dict[str, Any]) -> dict[str, Any] | None:
    """Why an address could not be placed, what the index covers, and the geocoder's candidates; None when
    the address was placed (or the question was a point)."""
    g = (answer.get("trace") or {}).get("geocoding") or {}
    placed = (answer.get("trace") or {}).get("input") or {}
    if answer.get("status") != "undetermined" and placed.get("lon") is not None:
        return None
    if not g and answer.get("status") != "undetermined":
        return None
    return {"why": answer.get("reason") or g.get("message") or "adresse non localisée",
            "code": answer.get("reason_code") or g.get("reason"),
            "coverage": address_index_coverage(answer),
            "candidates": [c["label"] for c in g.get("candidates") or [] if c.get("label")]}


CONDITION_MARK = {"true": ("✓", "remplie"), "false": ("✗", "non remplie"), "unknown": ("?", "à compléter")}


def condition_lines(decision: dict[str, Any]) -> list[dict[str, str]]:
    """One line per condition of the rule: mark, French label, state and its legal reference."""
    out = []
    trace = decision.get("trace") or {}
    for c in (trace.get("scope") or []) + (trace.get("conditions") or []):  # field of application first
        mark, state = CONDITION_MARK.get(c.get("result"), ("?", "à compléter"))
        out.append({"mark": mark, "state": state, "result": c.get("result"), "label": c.get("label"),
                    "reference": legal_reference_words(c.get("legal_reference"))})
    return out


def amount_lines(decision: dict[str, Any]) -> list[tuple[str, str]]:
    """The amounts with the French label of the rule (never the amount's identifier)."""
    amounts = decision.get("amounts") or {}
    labels = {a.get("id"): a.get("label") for a in (decision.get("trace") or {}).get("amounts") or []}
    out = []
    for key, value in amounts.items():
        if key in ("schedule", "currency"):
            continue
        if key != "total" and amounts.get("schedule"):
            continue  # the yearly amounts are in the schedule table
        out.append(("Total" if key == "total" else labels.get(key) or key.replace("_", " ").capitalize(), euros(value)))
    return out


def place_words(g: dict[str, Any]) -> dict[str, str | None]:
    """A place of a decision written out ({text, problem}) from its trace entry: the address or point, the
    quartier by name, the commune; `problem` says why it could not be placed."""
    geo = g.get("geography") or {}
    if g.get("form") == "quartier_code":
        communes = ", ".join(c.get("name", "") for c in geo.get("communes") or [])
        state = "en vigueur" if geo.get("in_force") else "pas en vigueur"
        return {"text": f"quartier « {geo.get('name')} » ({geo.get('code')}){f', {communes}' if communes else ''} : {state} "
                        f"au {date_words(g.get('date'), today=dt.date.min)}", "problem": None}
    failure = address_failure(geo) if g.get("form") == "address" else None
    if failure:
        coverage = f" ; la base d'adresses de démonstration ne couvre que : {failure['coverage']}" if failure["coverage"] else ""
        return {"text": f"non localisé : {failure['why']}", "problem": f"{failure['why']}{coverage}"}
    from ..decisions.render import STATUS_FR

    verdict = locate_verdict(geo) if geo else {"word": "", "detail": STATUS_FR.get(g.get("status"), "non déterminé")}
    where = geocoding_facts(geo)
    parts = [where["label"]] if where and where.get("label") else []
    commune = geo.get("commune") or {}
    if commune.get("name") and not any(commune["name"] in p for p in parts):
        parts.append(commune["name"])
    prefix = f"{', '.join(parts)} — " if parts else ""
    problem = verdict["detail"] if verdict["word"] == "À VÉRIFIER" else None
    return {"text": f"{prefix}{verdict['word'].lower() + ', ' if verdict['word'] in ('OUI', 'NON') else ''}{verdict['detail']}",
            "problem": problem}
