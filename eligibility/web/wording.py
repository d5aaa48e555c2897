"""Plain-French sentences for the answers, shared by the pages and the attestation."""
from __future__ import annotations

from typing import Any

STATUS_FR = {
    "inside": "se trouve dans un quartier prioritaire de la politique de la ville",
    "outside": "ne se trouve dans aucun quartier prioritaire de la politique de la ville",
    "near_boundary": "se trouve à quelques mètres de la limite d'un quartier prioritaire : la réponse est incertaine, "
                     "à vérifier sur le périmètre officiel",
    "not_covered": "se trouve sur un territoire que les périmètres chargés ne couvrent pas à cette date : "
                   "aucune réponse n'est possible",
    "undetermined": "n'a pas pu être placé assez précisément pour répondre",
}

OUTCOME_FR = {
    "eligible": "Éligible",
    "not_eligible": "Non éligible",
    "undetermined": "Indéterminé : des informations manquent ou sont incertaines",
    "out_of_scope": "Hors du champ d'application : ces règles ne s'appliquent pas à ce cas",
}


def status_sentence(answer: dict[str, Any], subject: str = "Ce lieu") -> str:
    status = answer.get("status")
    text = f"{subject} {STATUS_FR.get(status, f'a le statut « {status} »')}"
    q = answer.get("quartier") or {}
    if q.get("code") and status in ("inside", "near_boundary"):
        text += f" — quartier « {q.get('name')} » ({q.get('code')})"
    if status == "undetermined" and answer.get("reason"):
        text += f" : {answer['reason']}"
    return text + "."


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
    """Every dataset cited anywhere in a trace ({dataset, vintage, sha256, …}, or the address index as
    {index, sha256, …}), once each, in the order met."""
    found: dict[tuple, dict] = {}

    def walk(node):
        if isinstance(node, dict):
            name = node.get("dataset") or node.get("index")
            if isinstance(name, str) and isinstance(node.get("sha256"), str):
                found.setdefault((name, node["sha256"]), {"dataset": name, "vintage": node.get("vintage"), "sha256": node["sha256"]})
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(trace)
    return list(found.values())


def geocoding_words(answer: dict[str, Any]) -> str | None:
    """How an address was placed: the matched label, its level and score (None for a point)."""
    g = (answer.get("trace") or {}).get("geocoding")
    if not g:
        return None
    label = (g.get("chosen") or {}).get("label") or "aucune correspondance"
    source = (g.get("source") or {}).get("index")
    return f"{label} (précision : {g.get('level') or '—'}, score {g.get('score')}" + (f", base {source})" if source else ")")
