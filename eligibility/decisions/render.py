"""Readable French for a decision and its trace (`qpv evaluate` without --json, `qpv explain`).

People read French, not our internals: facts by their French name, enum values by their label, dates as
01/02/2024, the text and article in force at the decision date, and one plain mention where a figure or a
reference is not confirmed. Expressions, dotted fact paths, codes and provenance notes stay in the JSON.
"""
from __future__ import annotations

import re
from typing import Any

from .french import FORM_WORDS, NOT_CONFIRMED_FIGURE, NOT_CONFIRMED_REFERENCE, date_fr, euros, number_fr, with_unit

__all__ = ["render_text", "rule_text", "ref_text", "euros", "OUTCOME_FR", "STATUS_FR"]

OUTCOME_FR = {"eligible": "ÉLIGIBLE", "not_eligible": "NON ÉLIGIBLE", "undetermined": "INDÉTERMINÉ",
              "error": "ERREUR DANS LES FAITS", "out_of_scope": "HORS DU CHAMP D'APPLICATION"}
RESULT_FR = {"true": "remplie", "false": "NON remplie", "unknown": "inconnue (faits manquants ou ambigus)"}
STATUS_FR = {"inside": "dans un quartier prioritaire", "outside": "hors quartier prioritaire",
             "near_boundary": "à proximité immédiate d'une limite", "not_covered": "territoire non couvert",
             "undetermined": "adresse non localisée", "not_asked": "question non posée (lieu ou date inconnu)"}
TERRITORY_FR = {"metropole": "métropole", "outre_mer": "outre-mer", None: "territoire inconnu"}
FORM_FR = {"lon_lat": "coordonnées", "quartier_code": "code de quartier", "address": "adresse", None: "non donné"}
SOURCE_FR = {"règle": "fixée par la règle", "option --date": "imposée par l'option --date"}


def ref_text(ref: dict | None) -> str:
    """« Code du travail, article L. 5134-102 » and, when not confirmed, the plain mention."""
    if not ref:
        return "—"
    out = ref["text"] + (f", {ref['article']}" if ref.get("article") else "")
    if ref.get("confirmed") is False:
        out += f" — {NOT_CONFIRMED_REFERENCE}"
    return out


class Words:
    """The French names of a rule's facts and enum values (from its file); plain fallbacks without it."""

    def __init__(self, rule=None):
        self.facts = rule.model.facts if rule is not None else {}

    def fact(self, path: str) -> str:
        f = self.facts.get(path)
        return f.name if f is not None else path

    def value(self, path: str, v: Any) -> str:
        if v is None:
            return "manquant"
        if isinstance(v, bool):
            return "oui" if v else "non"
        f = self.facts.get(path)
        if isinstance(v, dict):
            return ", ".join(f"{FORM_WORDS.get(k, k)} {x}" for k, x in v.items())
        if f is not None and f.type == "date":
            return date_fr(v)
        if isinstance(v, (int, float)):
            return number_fr(v)
        if f is not None and f.labels:
            return f.labels.get(str(v), str(v))
        return str(v)


def _amount_confirmed(amount: dict) -> bool:
    """An amount is sure when neither its figure nor its text is marked unconfirmed."""
    return amount.get("confirmed", True) and amount["legal_reference"].get("confirmed") is not False


def _figure_flag(confirmed: bool) -> str:
    return "" if confirmed else f" ({NOT_CONFIRMED_FIGURE})"


def render_text(d: dict[str, Any], full_trace: bool = False, rule=None) -> str:
    if rule is None:
        rule = _rule_of(d)
    w = Words(rule)
    t = d["trace"]
    lines = [f"{t['rule']['title']} — décision : {OUTCOME_FR[d['outcome']]}"]
    dd = t["decision_date"]
    lines.append(f"Date retenue : {date_fr(dd['value'])} ({dd['label']}, {SOURCE_FR.get(dd['source'], dd['source'])} ; "
                 f"{ref_text(dd['legal_reference'])})")
    if d.get("error"):
        lines.append(f"Erreur : {d['error']}")
    if d["amounts"]:
        lines.append("Montants :")
        flags = {a["id"]: _figure_flag(_amount_confirmed(a)) for a in t["amounts"]}
        for item in d["amounts"].get("schedule", []):
            aid = next((a["id"] for a in t["amounts"] if a["year"] == item["year"] and a["label"] == item["label"]), None)
            lines.append(f"  année {item['year']} : {euros(item['amount'])}{flags.get(aid, '')}")
        for a in t["amounts"]:
            if a["year"] is None:
                lines.append(f"  {a['label']} : {euros(d['amounts'].get(a['id']))}{flags[a['id']]}")
    for r in d.get("remarks") or []:
        lines.append(f"À noter : {r['message']} ({ref_text(r['legal_reference'])})")
    if d["reasons"]:
        lines.append("Hors du champ d'application :" if d["outcome"] == "out_of_scope" else "Conditions non remplies :")
        for r in d["reasons"]:
            lines.append(f"  ✗ {r['message']} ({ref_text(r['legal_reference'])})")
    if d["missing_inputs"]:
        lines.append("Informations manquantes :")
        lines += [f"  • {w.fact(p)}" for p in d["missing_inputs"]]
    for a in d["ambiguities"]:
        if a.get("fact"):
            lines.append(f"Incertitude sur « {w.fact(a['fact'])} » : {a['message']}")
        else:
            lines.append(f"Incertitude : {a['message']}")
    if d["obligations"]:
        lines.append("Obligations après la décision (non vérifiées ici) :")
        for o in d["obligations"]:
            lines.append(f"  • {o['label']} ({ref_text(o['legal_reference'])})")
    if not full_trace:
        return "\n".join(lines)

    lines.append("")
    lines.append(f"Détail — règle « {t['rule']['title']} », version {t['rule']['version']} "
                 f"(empreinte sha256 {t['rule']['sha256'][:16]}…)")
    for title, key in (("Champ d'application :", "scope"), ("Conditions :", "conditions")):
        if t.get(key):
            lines.append(title)
        for c in t.get(key, []):
            lines += _condition_lines(w, c)
    if t["parameters"]:
        lines.append("Valeurs datées utilisées :")
        for p in t["parameters"]:
            label = p.get("label") or "valeur"
            if p["from"] is None:
                lines.append(f"  {label} : aucune valeur prévue à cette date")
                continue
            period = f"du {date_fr(p['from'])} au {date_fr(p['to']) if p['to'] else '…'}"
            value = "valeur non connue" if p["value"] is None else _param_value(w, p)
            ref = {**p["legal_reference"], "confirmed": True} if p["legal_reference"] else None  # said once, below
            flag = "" if p["value"] is None or p["confirmed"] else f" — {NOT_CONFIRMED_FIGURE}"
            lines.append(f"  {label} = {value} ({period} ; {ref_text(ref)}){flag}")
    if t["geography"]:
        lines.append("Géographie :")
        for g in t["geography"]:
            parts = [STATUS_FR.get(g["status"], "réponse inconnue")]
            if g.get("quartier"):
                parts.append(f"quartier {g['quartier']}")
            if g.get("vintage"):
                parts.append(f"liste {g['vintage']}")
            where = TERRITORY_FR.get(g.get("territory"), "territoire inconnu") + (
                f" (département {g['departement']})" if g.get("departement") else "")
            lines.append(f"  {w.fact(g['fact'])} ({FORM_FR.get(g['form'], 'non donné')}) au {date_fr(g['date']) if g['date'] else 'date inconnue'} : "
                         f"{', '.join(parts)} ; {where}")
            if g.get("message"):
                lines.append(f"      {g['message']}")
    if t["amounts"]:
        lines.append("Calcul des montants :")
        for a in t["amounts"]:
            ref = a["legal_reference"]
            lines.append(f"  {a['label']} → {euros(a['value'])} ({ref_text({**ref, 'confirmed': True})})"
                         f"{_figure_flag(_amount_confirmed(a))}")  # one mention, not two
    for v in t["data_versions"]:
        lines.append(f"Données : {v['vintage']} (empreinte sha256 {v['sha256'][:16]}…)")
    return "\n".join(lines)


def _condition_lines(w: Words, c: dict) -> list[str]:
    lines = [f"  [{RESULT_FR[c['result']]}] {c['label']} — {ref_text(c['legal_reference'])}"]
    if c["inputs"]:
        lines.append("      faits : " + " ; ".join(f"{w.fact(k)} = {w.value(k, v)}" for k, v in c["inputs"].items()))
    for e in c["exceptions"]:
        state = "appliquée" if e["applied"] else RESULT_FR[e["result"]]
        lines.append(f"      exception « {e['label']} » : {state} ({ref_text(e['legal_reference'])})")
    return lines


def _param_value(w: Words, p: dict) -> str:
    v = p["value"]
    if p.get("value_label"):
        return p["value_label"]
    if isinstance(v, list):
        labels = {code: lab for f in w.facts.values() for code, lab in (f.labels or {}).items()}
        return ", ".join(labels.get(str(x), with_unit(x, None)) for x in v)
    return with_unit(v, p.get("unit"))


def rule_text(rule) -> str:
    """A rule file for people (`qpv rules show`): the period it covers, the date that matters, its conditions
    and amounts with the texts in force period by period, its dated values, the facts it asks and the texts it
    cites. Expressions, fact paths, codes and provenance notes stay in `qpv rules show --json`."""
    m = rule.model
    w = Words(rule)
    end = m.validity.valid_to
    out = [f"{m.title} — version {m.version} (empreinte sha256 du fichier {rule.sha256[:16]}…)"]
    if m.description:
        out.append(" ".join(m.description.split()))
    out.append(f"Période couverte : du {date_fr(m.validity.valid_from)} au {date_fr(end) if end else '…'}")
    out.append(f"Date qui compte : {m.decision_date.label} ({_refs_fr(rule, m.decision_date.legal_reference)})")
    for title, items in (("Champ d'application :", m.scope), ("Conditions (toutes doivent être remplies) :", m.conditions)):
        if items:
            out.append(title)
        for c in items:
            out += [f"  • {c.label}", f"      {_refs_fr(rule, c.legal_reference)}"]
            out += [f"      sauf : {e.label} ({_refs_fr(rule, e.legal_reference)})" for e in c.exceptions]
    if m.amounts:
        out.append("Montants :")
        out += [f"  • {a.label} ({_refs_fr(rule, a.legal_reference)})" for a in m.amounts]
    if m.parameters:
        out.append("Valeurs datées :")
    for p in m.parameters.values():
        out.append(f"  • {p.label}")
        for v in p.values:
            shown = {"value": v.value, "unit": p.unit, "value_label": (p.labels or {}).get(str(v.value))}
            value = "valeur non connue" if v.value is None else _param_value(w, shown)
            flag = "" if v.value is None or v.confirmed else f" — {NOT_CONFIRMED_FIGURE}"
            ref = {**rule.ref_json(v.reference), "confirmed": True}  # the figure's flag is said once, after
            out.append(f"      du {date_fr(v.start)} au {date_fr(v.end) if v.end else '…'} : {value} ({ref_text(ref)}){flag}")
    if m.remarks:
        out.append("Mentions ajoutées à la décision quand elles s'appliquent :")
        out += [f"  • {_without_placeholders(r.message)} ({_refs_fr(rule, r.legal_reference)})" for r in m.remarks]
    out.append("Informations demandées :")
    for f in m.facts.values():
        choices = " ; ".join(f.labels[v] for v in f.values or [] if v in (f.labels or {}))
        out.append(f"  • {' '.join(f.description.split())}" + (f" — au choix : {choices}" if choices else ""))
    out.append("Textes cités :")
    for t in m.legal_texts:
        out.append(f"  • {t.text} (date d'effet retenue : {date_fr(t.effective)})" + ("" if t.confirmed else f" — {NOT_CONFIRMED_REFERENCE}"))
    return "\n".join(out)


def _refs_fr(rule, ref) -> str:
    """A legal reference, or each period of a dated one with its dates, in French."""
    if isinstance(ref, list):
        return " ; ".join(f"{ref_text(rule.ref_json(r))} (du {date_fr(r.start)} au {date_fr(r.end) if r.end else '…'})"
                          for r in ref)
    return ref_text(rule.ref_json(ref))


def _without_placeholders(message: str) -> str:
    """A computed message out of any decision: each value to be computed reads « … »."""
    return re.sub(r"\{[^{}]*\}", "…", " ".join(message.split()))


def _rule_of(d: dict):
    """The rule file behind a decision read back from JSON (its French wording), when it still loads."""
    try:
        from ..rules import get_rule

        return get_rule(d["dispositif"])
    except Exception:  # noqa: BLE001 - wording only: without the file, the plain fallbacks are used
        return None
