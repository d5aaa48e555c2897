"""The history of a place across the lists loaded: `qpv locate --history`.

The point is located at the start of every period the engine knows (each list's entry into force on
each territory, each file's first day of validity); consecutive dates answered by the same file and
quartier are one period. The answer says, dated: "in QP082003 until 2023-12-31, in QN08203M from
2024-01-01", with the file each period was read from.
"""
from __future__ import annotations

import datetime as dt

import numpy as np

from . import layers, vintages
from .locate import locate_points


def _period_starts() -> list[dt.date]:
    days = {g.valid_from for g in vintages.GENERATIONS} | {r.valid_from for r in vintages.rules()}
    return sorted(days)


def place_history(a, b, crs: str = "EPSG:4326", tolerance_m: float | None = None) -> list[dict]:
    """One entry per period, oldest first: {valid_from, valid_to, vintage, status, quartier, dataset, layer}."""
    starts = _period_starts()
    res = locate_points(np.full(len(starts), float(a)), np.full(len(starts), float(b)), np.array(starts, dtype="datetime64[D]"),
                        crs=crs, tolerance_m=tolerance_m)
    rules = vintages.rules()
    out: list[dict] = []
    for i, day in enumerate(starts):
        row = res.row(i)
        r = int(res.rule[i])
        rule = rules[r] if r >= 0 else None
        law = row["trace"]["vintage"]["law_in_force"] if row["trace"].get("vintage") else None
        if row["reason_code"] == "avant_qpv" or row["reason_code"] == "hors_france":
            continue
        key = (rule.dataset_id if rule else None, law["vintage"] if law else None, row["status"],
               (row["quartier"] or {}).get("code"))
        end = rule.valid_to if rule else (dt.date.fromisoformat(law["valid_to"]) if law and law["valid_to"] else None)
        if out and out[-1]["_key"] == key:
            out[-1]["valid_to"] = end.isoformat() if end else None
            continue
        if out and (out[-1]["valid_to"] is None or out[-1]["valid_to"] >= day.isoformat()):
            out[-1]["valid_to"] = (day - dt.timedelta(days=1)).isoformat()
        out.append({"_key": key, "valid_from": day.isoformat(), "valid_to": end.isoformat() if end else None,
                    "vintage": rule.vintage if rule else (law["vintage"] if law else None), "status": row["status"],
                    "quartier": row["quartier"], "distance_to_boundary_m": row["distance_to_boundary_m"],
                    "reason": row["reason"], "dataset": rule.dataset_id if rule else None,
                    "layer": rule.layer if rule else None,
                    # the sha256 of the perimeter file's bytes as read, bundled or imported
                    "sha256": layers.provenance(rule.dataset_id)["files"][0]["sha256"] if rule else None,
                    "legal_basis": rule.legal_basis if rule else (law["legal_basis"] if law else None)})
    for p in out:
        del p["_key"]
    return out


_WORDS = {"inside": "dans {q}", "outside": "hors de tout quartier ({v})", "near_boundary": "à la limite de {q} ({v}, indéterminé)",
          "not_covered": "non couvert ({v} : liste non chargée pour ce lieu)", "undetermined": "indéterminé"}


def sentence(periods: list[dict]) -> str:
    """ "dans QP082003 « … » jusqu'au 2023-12-31, dans QN08203M « … » depuis le 2024-01-01" """
    parts = []
    for k, p in enumerate(periods):
        q = p["quartier"]
        what = _WORDS[p["status"]].format(q=f"{q['code']} « {q['name']} »" if q else "—", v=p["vintage"] or "—")
        if p["valid_to"] is None:
            when = f"depuis le {p['valid_from']}"
        elif k == 0:
            when = f"jusqu'au {p['valid_to']}"
        else:
            when = f"du {p['valid_from']} au {p['valid_to']}"
        parts.append(f"{what} {when}")
    return ", ".join(parts) if parts else "aucune liste de quartiers n'a jamais couvert ce lieu"
