"""One located point as the JSON object of `qpv locate --json`, with its trace (DESIGN.md).

Read off the result's columns for row i: a point located alone and the same point in a batch of a
million give the same object, byte for byte.
"""
from __future__ import annotations

import math

import numpy as np

from .. import datasets
from ..decisions.french import date_fr
from ..errors import BadInput
from . import carreaux, index, layers, territories, vintages
from .perimeters import load as load_perimeters
from .zones import row_zones

_FR_STATUS = {
    "inside": "le point est dans le quartier prioritaire {q}",
    "outside": "le point n'est dans aucun quartier prioritaire",
    "near_boundary": "le point est à {d} m ou moins de la limite du quartier {q} (tolérance {t} m) : réponse géographique indéterminée, "
                     "à vérifier sur le périmètre officiel (SIG Ville)",
    "not_covered": "aucune liste de quartiers fournie ne couvre ce point à cette date",
    "undetermined": "l'adresse n'a pas pu être localisée assez précisément",
}


def _num(v: float, nd: int) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), nd)


def _precision(rule) -> float:
    return float(getattr(layers.dataset(rule.dataset_id), "precision_m"))


def _int_at(arr, i: int) -> int:
    v = arr[i]
    return -1 if v is None else int(v)


def _vintage_part(res, i: int, date) -> dict:
    z = _int_at(res.zone, i)
    terr = territories.ZONES[z].territory if z >= 0 else None
    law = vintages.generation(terr, date) if terr and date else None
    law_json = None if law is None else {
        "vintage": law.vintage, "territory": law.territory, "valid_from": law.valid_from.isoformat(),
        "valid_to": law.valid_to.isoformat() if law.valid_to else None, "legal_basis": law.legal_basis,
        "confirmed": law.confirmed, "source": law.source}
    r = _int_at(res.rule, i)
    if r < 0:
        code = str(res.coverage[i] or "") if res.coverage is not None else ""
        why = vintages.NOT_COVERED_REASONS.get(code, code)
        if code == "hors_couverture":
            covering = [x for x in vintages.rules() if law and x.vintage == law.vintage and x.territory == terr]
            why += "".join(f" (fichier {x.dataset_id} : {x.coverage})" for x in covering)
        return {"chosen": None, "law_in_force": law_json, "explanation": why}
    rule = vintages.rules()[r]
    regions = "toutes les régions" if rule.regions is None else "région(s) " + ", ".join(rule.regions)
    layer = None
    if rule.layer is not None:
        entry = layers.layer_of(rule.dataset_id)
        regions = entry.coverage_text()
        beaten = sorted({x.dataset_id for x in vintages.rules() if x.layer is None and x.vintage == rule.vintage
                         and x.territory == rule.territory and vintages.places_overlap(x, rule)})
        layer = {"name": entry.name, "sha256": entry.sha256, "original_file": entry.original_file,
                 "original_sha256": entry.original_sha256, "source": entry.source, "licence": entry.licence,
                 "imported_at": entry.imported_at,
                 "why_chosen": (f"couche importée « {entry.name} » de la liste {rule.vintage}, en vigueur à cette date et "
                                f"couvrant ce lieu ({regions})"
                                + (f" : elle prime sur le fichier fourni {', '.join(beaten)} de la même liste" if beaten else ""))}
    return {
        "chosen": rule.vintage, "dataset": rule.dataset_id, "territory": rule.territory,
        "valid_from": rule.valid_from.isoformat(), "valid_to": rule.valid_to.isoformat() if rule.valid_to else None,
        "regions_covered": None if rule.regions is None else list(rule.regions),
        "legal_basis": rule.legal_basis, "confirmed": rule.confirmed, "note": rule.note, "law_in_force": law_json,
        "layer": layer,
        "explanation": (f"au {date_fr(date)}, {vintages.TERRITORY_WORDS.get(rule.territory, rule.territory)}, "
                        f"région {res.region[i] or '—'} : la liste {rule.vintage} s'applique du {date_fr(rule.valid_from)} au "
                        f"{date_fr(rule.valid_to) if rule.valid_to else '…'} ({rule.legal_basis}) ; "
                        + (f"la couche importée « {rule.layer} » (sha256 {layer['sha256'][:12]}…) couvre {regions}" if layer
                           else f"le fichier fourni couvre {regions}")
                        + ("" if rule.confirmed else " — base légale non confirmée dans les sources lues")),
    }


def _cited(res, key: tuple, compute) -> list[dict]:
    """The datasets a row's trace cites (manifest entry, sha256 of the bytes read): the same for every row of
    `res` that read the same files, so computed once per result and files (a batch's traces cost a row's
    fields, not a walk of the manifest and a path resolution per cited file). Each row gets its own copy."""
    memo = res.__dict__.setdefault("_cited", {})
    if key not in memo:
        memo[key] = compute()
    return [{**d, "files": [dict(f) for f in d["files"]]} if "files" in d else dict(d) for d in memo[key]]


# The columns of a result that `row_json` reads. A caller about to take many rows' traces one by one (a batch
# evaluated with traces: one place per row) computes them once for the whole result, vectorised: each row's
# `LocateResult.row` then slices them instead of computing its commune, distance and carreau alone.
TRACE_COLUMNS = ("status", "coverage", "reason", "departement", "region", "tolerance", "exact",
                 "distance_to_boundary_m", "commune_code", "commune_name", "carreau")


def compute_trace_columns(res) -> None:
    for name in TRACE_COLUMNS:
        getattr(res, name)


def row_json(res, i: int) -> dict:
    i = int(i)
    date = None if res.dates[i] is None or np.isnat(np.datetime64(res.dates[i], "D")) else np.datetime64(res.dates[i], "D").astype(object)
    status = str(res.status[i] or "undetermined")  # a row a caller padded without an answer
    r = _int_at(res.rule, i)
    rule = vintages.rules()[r] if r >= 0 else None
    per = load_perimeters(rule.dataset_id) if rule else None
    pos = _int_at(res.quartier_pos, i)
    quartier = None
    if per is not None and pos >= 0:
        quartier = {"code": str(per.code[pos]), "name": str(per.name[pos]), "communes": per.communes_of(pos)}
    dist = _num(res.distance_to_boundary_m[i], 2)
    commune = None if res.commune_code[i] is None else {"code": str(res.commune_code[i]), "name": str(res.commune_name[i])}
    zone = territories.ZONES[_int_at(res.zone, i)] if _int_at(res.zone, i) >= 0 else None
    coverage = (res.coverage[i] or None) if res.coverage is not None else None
    reason_code = res.reason[i] if res.reason[i] else None
    reason = vintages.NOT_COVERED_REASONS.get(reason_code, reason_code) if reason_code else None

    cog = territories.cog()
    dep = res.departement[i] or None
    reg = res.region[i] or None
    communes_file = index.communes_file(dep) if dep else None
    used = [  # the perimeter file comes first, from `layers` (bundled or imported)
        ("departements_geo", [datasets.source("departements_geo").label]),
        ("communes_geo", [communes_file] if communes_file else []),
        ("cog2026", ["departements.json", "regions.json"])]
    trace = {
        "date": date.isoformat() if date else None,
        "input": ({"crs": res.crs, "x": _num(res.x[i], 3), "y": _num(res.y[i], 3), "lon": _num(res.lon[i], 7), "lat": _num(res.lat[i], 7)}
                  if res.crs == "EPSG:2154" else {"crs": res.crs, "lon": _num(res.lon[i], 7), "lat": _num(res.lat[i], 7)}),
        "territory": None if zone is None else {
            "zone": zone.name, "territory": zone.territory,
            "departement": {"code": dep, "name": cog["dep"].get(dep, (None,))[0]} if dep else None,
            "region": {"code": reg, "name": cog["reg"].get(reg)} if reg else None,
            "source": "contours des départements (IGN Admin Express COG 2018, simplifiés)" if zone.has_contours
            else f"collectivité {zone.departements[0]} reconnue par son emprise (pas de contours IGN pour les COM)",
        },
        "projection": None if zone is None else f"EPSG:{zone.epsg}",
        "metric_coordinates": None if zone is None else [_num(res.x[i], 2), _num(res.y[i], 2)],
        "vintage": _vintage_part(res, i, date) if status != "undetermined" else None,
        "coverage": coverage,
        "geometry": None if rule is None or status == "undetermined" else {
            "method": "test exact (point dans polygone, distance)" if res.exact[i] else
                      f"grille d'accélération ({index.QUARTIER_CELL_M:g} m, marge {index.GRID_MARGIN_M:g} m) : "
                      "aucune limite de quartier à moins de la marge",
            "tolerance_m": _num(res.tolerance[i], 3),
            "tolerance_source": "option" if res.tolerance_m is not None else
            f"précision déclarée du fichier ({_num(_precision(rule), 3):g} m) × 2, au moins 1 m",
            "point_inside_perimeter": bool(res.contained[i]),
            "distance_to_boundary_m": dist,
            "quartier_geometry_repaired": bool(per.repaired[pos]) if pos >= 0 else None,
            "quartier_geometry_degenerate": bool(per.degenerate[pos]) if pos >= 0 else None,
        },
        "carreau": None if res.carreau[i] is None else {
            "id": res.carreau[i], "epsg": zone.carreau_epsg, "size_m": carreaux.SIZE_M,
            "note": "coin inférieur gauche, identifiant INSPIRE (law.md §6.2)" + (
                "" if zone.carreau_epsg == carreaux.METRO_EPSG else " ; grille UTM locale d'outre-mer [C2 pour 972/974, déduite ailleurs]")},
        "commune_source": "contours des communes IGN Admin Express COG 2018 (codes de 2018), simplifiés",
        "datasets": _cited(res, ("datasets", rule.dataset_id if rule else None, communes_file),
                           lambda: ([layers.provenance(rule.dataset_id)] if rule else [])
                           + [datasets.dataset(d).provenance(files) for d, files in used]),
        "zone_layers": _cited(res, ("zone_layers",), lambda: [
            {**layers.provenance(e.dataset_id), "tolerance_m": res.tolerance_m if res.tolerance_m is not None else e.tolerance_m}
            for e in layers.of_kind("zonage")]),
        "caveats": (list(layers.dataset(rule.dataset_id).caveats) if rule else []) + list(datasets.dataset("communes_geo").caveats),
        "conclusion": _FR_STATUS[status].format(q=quartier["code"] + " " + quartier["name"] if quartier else "—",
                                                d=f"{res.tolerance[i]:g}", t=f"{res.tolerance[i]:g}")
        + ((f" ; sur le périmètre {'de la couche importée' if rule and rule.layer else 'simplifié'}, le point est du côté "
            + ("intérieur" if res.contained[i] else "extérieur"))
           if status == "near_boundary" else ""),
    }
    return {
        "status": status,
        "quartier": quartier,
        "commune": commune,
        "departement": dep,
        "region": reg,
        "vintage": rule.vintage if rule else None,
        "legal_basis": rule.legal_basis if rule else None,
        "distance_to_boundary_m": dist,
        "carreau": res.carreau[i],
        "date": date.isoformat() if date else None,
        "reason": reason,
        "reason_code": reason_code,
        "zones": row_zones(res, i),
        "trace": trace,
    }


# Why a point outside France is refused (`locate_answer`); a batch row says the same (batch/locate.py).
OUTSIDE_FRANCE = "est hors du territoire français couvert (aucun département ni collectivité ne le contient)"


def locate_answer(res, where: str, date_given: bool, i: int = 0) -> dict:
    """The `qpv locate --json` object of row i: `row(i)`, except that a point outside France is bad
    input (BadInput naming `where`, e.g. "le point (2.0, 60.0)"), and the trace records whether the
    date was given (`date_source: "option"`) or defaulted to today. The CLI and the web service share it."""
    obj = res.row(i)
    if obj.get("reason_code") == "hors_france" or (obj["trace"].get("coverage") == "hors_france"):
        raise BadInput(f"{where} {OUTSIDE_FRANCE}", field="position")
    obj["trace"]["date_source"] = "option" if date_given else "default"
    return obj
