"""The criteria's dated parameters and conditions, read from `rules/criteres_qpv.yaml` through the rules engine.

Each value carries its period, its legal reference and whether law.md confirms it, so that traces can
say « valeur non confirmée » for art. 4 after 2023 (law.md §1.3 [U]).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ..errors import BadInput
from ..rules import get_rule, parameter_value

RULE_ID = "criteres_qpv"


def parameter(name: str, date: dt.date) -> dict[str, Any]:
    """The value of `name` in force at `date`: {name, value (Decimal, exact), from, to, confirmed, reference, note}.

    A date outside every period is a BadInput (the law has no value then), never a default.
    """
    pv = parameter_value(RULE_ID, name, date)
    if pv is None or pv.value is None:
        raise BadInput(f"le paramètre « {name} » n'a pas de valeur connue au {date.isoformat()} "
                       "(les critères s'appliquent à partir du 2015-01-01)", field="date")
    return {
        "name": name,
        "value": Decimal(str(pv.value)),
        "from": pv.start.isoformat(),
        "to": pv.end.isoformat() if pv.end else None,
        "confirmed": pv.confirmed,
        "reference": pv.reference,
        "note": pv.note,
    }


def condition(condition_id: str, date: dt.date | None = None) -> dict[str, Any]:
    """A condition's id, label and legal reference in force at `date` (as the rules engine renders it)."""
    rule = get_rule(RULE_ID)
    cond = next(c for c in rule.model.scope + rule.model.conditions if c.id == condition_id)
    return {"rule": RULE_ID, "condition": cond.id, "label": cond.label,
            "legal_reference": rule.ref_json(cond.legal_reference, date)}


def trace_entry(p: dict[str, Any]) -> dict[str, Any]:
    """A parameter as the trace shows it (value as a JSON number)."""
    value = p["value"]
    out = dict(p)
    out["value"] = int(value) if value == value.to_integral_value() else float(value)
    return out


def derogation_note(date: dt.date) -> str | None:
    """The six-year derogation of art. 2 II (décret n° 2023-1312) in force at `date`, as a trace note.

    The carreaux do not say which quartiers were on the previous list, so the derivation cannot apply it
    itself: it says, where the unité urbaine is too small, that such a quartier would still qualify."""
    pv = parameter_value(RULE_ID, "derogation_liste_precedente", date)
    if pv is None or not pv.value:
        return None
    return ("Dérogation de six ans (art. 2 II) : pour un quartier qui figurait dans la liste précédente des quartiers "
            "prioritaires, le critère de l'unité urbaine est regardé comme satisfait"
            + ("" if pv.confirmed else " (point de départ et liste visée non confirmés)") + ".")
