"""Readable French for a decision and its trace (`qpv evaluate` without --json, `qpv explain`)."""
from __future__ import annotations

from typing import Any

OUTCOME_FR = {"eligible": "ÉLIGIBLE", "not_eligible": "NON ÉLIGIBLE", "undetermined": "INDÉTERMINÉ",
              "error": "ERREUR DANS LES FAITS", "out_of_scope": "HORS DU CHAMP D'APPLICATION"}
RESULT_FR = {"true": "remplie", "false": "NON remplie", "unknown": "inconnue (faits manquants ou ambigus)"}
STATUS_FR = {"inside": "dans un quartier prioritaire", "outside": "hors quartier prioritaire",
             "near_boundary": "à proximité immédiate d'une limite", "not_covered": "territoire non couvert",
             "undetermined": "adresse non localisée", "not_asked": "question non posée (lieu ou date inconnu)"}
TERRITORY_FR = {"metropole": "métropole", "outre_mer": "outre-mer", None: "territoire inconnu"}


def ref_text(ref: dict | None) -> str:
    if not ref:
        return "—"
    out = ref["text"] + (f", {ref['article']}" if ref.get("article") else "")
    if not ref.get("confirmed", True):
        out += " [non confirmé]"
    return out


def euros(x: float | None) -> str:
    if x is None:
        return "inconnu"
    whole, cents = f"{x:,.2f}".split(".")
    return f"{whole.replace(',', ' ')},{cents} €"


def shown(v: Any) -> str:
    """A fact value in French text."""
    if v is None:
        return "manquant"
    if isinstance(v, bool):
        return "oui" if v else "non"
    if isinstance(v, dict):
        return ", ".join(f"{k} {x}" for k, x in v.items())
    return str(v)


def render_text(d: dict[str, Any], full_trace: bool = False) -> str:
    t = d["trace"]
    lines = [f"{t['rule']['title']} — décision : {OUTCOME_FR[d['outcome']]}"]
    dd = t["decision_date"]
    lines.append(f"Date retenue : {dd['value'] or 'inconnue'} ({dd['label']} ; source : {dd['source']} ; "
                 f"{ref_text(dd['legal_reference'])})")
    if d.get("error"):
        lines.append(f"Erreur : {d['error']}")
    if d["amounts"]:
        lines.append("Montants :")
        for item in d["amounts"].get("schedule", []):
            lines.append(f"  année {item['year']} : {euros(item['amount'])}")
        for a in t["amounts"]:
            if a["year"] is None:
                lines.append(f"  {a['label']} : {euros(d['amounts'].get(a['id']))}")
    if d["reasons"]:
        lines.append("Hors du champ d'application :" if d["outcome"] == "out_of_scope" else "Conditions non remplies :")
        for r in d["reasons"]:
            lines.append(f"  ✗ {r['message']} ({ref_text(r['legal_reference'])})")
    if d["missing_inputs"]:
        lines.append("Faits manquants : " + ", ".join(d["missing_inputs"]))
    for a in d["ambiguities"]:
        lines.append(f"Ambiguïté : {a.get('fact') or a.get('parameter')} — {a['message']}")
    if d["obligations"]:
        lines.append("Obligations après la décision (non vérifiées ici) :")
        for o in d["obligations"]:
            lines.append(f"  • {o['label']} ({ref_text(o['legal_reference'])})")
    if not full_trace:
        return "\n".join(lines)

    lines.append("")
    lines.append(f"Trace — règle {t['rule']['id']} version {t['rule']['version']} "
                 f"(fichier {t['rule']['file']}, sha256 {t['rule']['sha256'][:16]}…)")
    if t.get("scope"):
        lines.append("Champ d'application :")
    for c in t.get("scope", []):
        lines.append(f"  [{RESULT_FR[c['result']]}] {c['label']} — {ref_text(c['legal_reference'])}")
    lines.append("Conditions :")
    for c in t["conditions"]:
        lines.append(f"  [{RESULT_FR[c['result']]}] {c['label']} — {ref_text(c['legal_reference'])}")
        lines.append(f"      règle : {c['expression']}")
        if c["inputs"]:
            lines.append("      faits : " + " ; ".join(f"{k} = {shown(v)}" for k, v in c["inputs"].items()))
        if c["parameters"]:
            lines.append(f"      paramètres : {', '.join(c['parameters'])}")
        for e in c["exceptions"]:
            state = "appliquée" if e["applied"] else RESULT_FR[e["result"]]
            lines.append(f"      exception « {e['label']} » : {state} ({ref_text(e['legal_reference'])})")
    if t["parameters"]:
        lines.append("Paramètres utilisés :")
        for p in t["parameters"]:
            period = f"du {p['from']} au {p['to'] or '…'}" if p["from"] else "aucune période en vigueur"
            value = "valeur non connue" if p["value"] is None else shown(p["value"])
            flag = "" if p["confirmed"] else " [non confirmé]"
            note = f" — {p['note']}" if p.get("note") else ""
            lines.append(f"  {p['parameter']} = {value} ({period} ; {ref_text(p['legal_reference'])}){flag}{note}")
    if t["geography"]:
        lines.append("Géographie :")
        for g in t["geography"]:
            where = f"quartier {g['quartier']}" if g.get("quartier") else ""
            lines.append(f"  {g['fact']} (forme {g['form'] or '—'}) au {g['date'] or '?'} : "
                         f"{STATUS_FR.get(g['status'], g['status'])} {where} millésime {g.get('vintage') or '—'}"
                         f" ; {TERRITORY_FR[g.get('territory')]}"
                         + (f" (département {g['departement']})" if g.get("departement") else ""))
    if t["amounts"]:
        lines.append("Calcul des montants :")
        for a in t["amounts"]:
            cap = f", plafond {a['ceiling']}" if a["ceiling"] else ""
            lines.append(f"  {a['label']} = {a['expression']}{cap} → {euros(a['value'])} ({ref_text(a['legal_reference'])})")
    for v in t["data_versions"]:
        lines.append(f"Données : {v['dataset']} (millésime {v['vintage']}, sha256 {v['sha256'][:16]}…)")
    return "\n".join(lines)
