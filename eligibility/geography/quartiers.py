"""Quartiers as a list: which exist in which vintage, and whether one is in force at a date."""
from __future__ import annotations

import datetime as dt
import functools
import json
import re

import numpy as np

from .. import datasets
from ..errors import BadInput
from . import layers, territories, vintages
from .perimeters import PERIMETER_DATASETS, Perimeters
from .perimeters import load as load_perimeters

_COMMUNE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_SIREN = re.compile(r"^\d{9}$")


def _territory(dep: str) -> str:
    return "metropole" if len(dep) == 2 else "outre_mer"


def _summary(per, i: int) -> dict:
    return {"code": str(per.code[i]), "name": str(per.name[i]), "communes": per.communes_of(i), "vintage": per.vintage,
            "departement": str(per.departement[i]), "epci": str(per.epci[i]) or None}


def sources() -> list[str]:
    """Every perimeter file loaded: imported layers first (they win), then the bundled files."""
    return [e.dataset_id for e in layers.of_kind("perimetres")] + list(PERIMETER_DATASETS)


def of_vintage(vintage: str) -> list[tuple[Perimeters, np.ndarray]]:
    """The quartiers of a list as the engine answers with them: (perimeters, positions) per file, where a
    bundled file gives way to an imported layer of the same list on the départements the layer covers."""
    out, taken = [], set()
    rules = [r for r in vintages.rules() if r.vintage == vintage]
    for ds_id in dict.fromkeys(r.dataset_id for r in rules):
        per = load_perimeters(ds_id)
        mine = [r for r in rules if r.dataset_id == ds_id]
        keep = np.array([not _claimed(str(d), taken) for d in per.departement], dtype=bool)
        out.append((per, np.flatnonzero(keep)))
        for r in mine:
            if r.layer is not None:
                taken.add((r.territory, r.departements))
    return out


def _claimed(dep: str, taken: set) -> bool:
    for territory, deps in taken:
        if _territory(dep) == territory and (deps is None or dep in deps):
            return True
    return False


def known_vintages() -> list[str]:
    return sorted({r.vintage for r in vintages.rules()})


def _find(code: str):
    for ds_id in sources():
        per = load_perimeters(ds_id)
        i = per.position(code)
        if i is not None:
            return per, i
    raise BadInput(f"quartier inconnu « {code} » (codes attendus : QNdddnnX pour la liste 2024, QPdddnnn pour 2015 en Occitanie)",
                   field="code")


def _as_date(date) -> dt.date:
    if isinstance(date, dt.datetime):
        return date.date()
    if isinstance(date, dt.date):
        return date
    try:
        return dt.date.fromisoformat(str(date).strip())
    except ValueError:
        raise BadInput(f"date invalide « {date} » : format attendu AAAA-MM-JJ", field="date") from None


def quartier_in_force(code: str, date) -> dict:
    """{code, name, communes, vintage, in_force, legal_basis, dataset, ...} of a quartier at a date."""
    code = str(code).strip().upper()
    day = _as_date(date)
    per, i = _find(code)
    terr = _territory(str(per.departement[i]))
    rows = [r for r in vintages.rules() if r.dataset_id == per.dataset_id and r.territory == terr]
    live = [r for r in rows if r.valid_from <= day and (r.valid_to is None or day <= r.valid_to)]
    rule = live[0] if live else (rows[0] if rows else None)
    out = _summary(per, i)
    out.update({
        "date": day.isoformat(),
        "in_force": bool(live),
        "legal_basis": rule.legal_basis if rule else None,
        "legal_basis_confirmed": rule.confirmed if rule else None,
        "valid_from": rule.valid_from.isoformat() if rule else None,
        "valid_to": rule.valid_to.isoformat() if rule and rule.valid_to else None,
        "dataset": layers.provenance(per.dataset_id),
        "geometry_repaired": bool(per.repaired[i]),
        "geometry_degenerate": bool(per.degenerate[i]),
    })
    if not live:
        out["reason"] = (f"la liste {per.vintage} s'applique sur ce territoire ({terr}) du {rule.valid_from.isoformat()} au "
                         f"{rule.valid_to.isoformat() if rule.valid_to else '…'}" if rule else "aucune période de validité connue")
    return out


@functools.lru_cache(maxsize=1)
def _epci_members() -> dict[str, tuple[str, tuple[str, ...]]]:
    with datasets.open_verified("cog2026", "epci.json.gz") as f:
        return {e["code"]: (e["nom"], tuple(m["code"] for m in e["membres"])) for e in json.load(f)}


@functools.lru_cache(maxsize=1)
def _known_communes() -> frozenset[str]:
    """Every INSEE code the COG 2026 knows, current or former (perimeters may name merged communes)."""
    with datasets.open_verified("cog2026", "communes.json.gz") as f:
        rows = json.load(f)
    return frozenset([r["code"] for r in rows] + [old for r in rows for old in r.get("anciensCodes") or ()])


def territory_filter(commune=None, departement=None, epci=None):
    """A predicate (perimeters, i) -> bool for the quartiers of a commune, département or EPCI (checked
    against the COG 2026; BadInput names the option)."""
    if commune is not None and not _COMMUNE.match(str(commune).strip().upper()):
        raise BadInput(f"code commune INSEE invalide « {commune} » (5 caractères, ex. 40192)", field="commune")
    if commune is not None and str(commune).strip().upper() not in _known_communes():
        raise BadInput(f"commune inconnue « {commune} » (code INSEE absent du COG 2026)", field="commune")
    if departement is not None:
        departement = str(departement).strip().upper()
        if departement not in territories.cog()["dep"] and departement not in ("978", "987"):
            raise BadInput(f"département inconnu « {departement} »", field="departement")
    members: set[str] | None = None
    if epci is not None:
        epci = str(epci).strip()
        if not _SIREN.match(epci) or epci not in _epci_members():
            raise BadInput(f"EPCI inconnu « {epci} » (SIREN à 9 chiffres du COG 2026)", field="epci")
        members = set(_epci_members()[epci][1])

    def keep(per, i: int) -> bool:
        codes = {c["code"] for c in per.communes_of(i)}
        if commune is not None and str(commune).strip().upper() not in codes:
            return False
        if departement is not None and str(per.departement[i]) != departement:
            return False
        return members is None or bool(codes & members) or str(per.epci[i]) == epci
    return keep


def list_quartiers(commune=None, departement=None, epci=None, vintage=None) -> list[dict]:
    """Quartiers of the loaded vintages (bundled, or imported where a layer wins), filtered; sorted by
    vintage then code (deterministic)."""
    known = known_vintages()
    if vintage is not None:
        v = str(vintage).strip().upper()
        if v not in known:
            raise BadInput(f"millésime inconnu « {vintage} » (connus : {', '.join(known)})", field="vintage")
        wanted = [v]
    else:
        wanted = known
    keep = territory_filter(commune, departement, epci)
    out = []
    for v in wanted:
        rows = []
        for per, positions in of_vintage(v):
            for i in positions:  # ~1 700 rows of metadata, not a geometric hot path
                if keep(per, int(i)):
                    rows.append(_summary(per, int(i)))
        out.extend(sorted(rows, key=lambda q: q["code"]))
    return out


def perimeter_geojson(code: str, vintage: str | None = None) -> dict | None:
    """The quartier's perimeter (repaired, WGS84) as a GeoJSON geometry; None when it collapsed to a point."""
    import shapely

    per, i = _find(str(code).strip().upper())
    if vintage is not None and str(vintage).upper() != per.vintage:
        raise BadInput(f"le quartier {code} appartient au millésime {per.vintage}, pas {vintage}", field="vintage")
    if per.degenerate[i]:
        return None
    return json.loads(shapely.to_geojson(per.geometry[i]))


def commune_geojson(code: str) -> dict | None:
    """The commune's outline (bundled simplified contours, WGS 84) as a GeoJSON geometry; None when the
    contours do not hold it (a commune created after 2018, a COM)."""
    from . import index

    code = str(code).strip().upper()
    if not _COMMUNE.match(code):
        raise BadInput(f"code commune INSEE invalide « {code} » (5 caractères, ex. 40192)", field="commune")
    dep = code[:3] if code.startswith("97") else code[:2]
    rel = index.communes_file(dep)
    if rel is None:
        return None
    with datasets.open_verified("communes_geo", rel) as f:  # parses the very bytes that were hashed
        features = json.load(f)["features"]
    for feature in features:
        if str(feature.get("properties", {}).get("code")) == code:
            return feature.get("geometry")
    return None


def perimeters_near(lon: float, lat: float, date, radius_m: float) -> dict:
    """GeoJSON FeatureCollection of the perimeters in force at `date` within `radius_m` of the point."""
    import numpy as np
    import shapely

    from . import index
    from .locate import locate_points

    try:
        radius = float(radius_m)
    except (TypeError, ValueError):
        raise BadInput(f"rayon invalide « {radius_m} »", field="radius_m") from None
    if not 0 <= radius <= 20_000:
        raise BadInput(f"rayon hors de [0, 20 000] m : {radius_m}", field="radius_m")
    res = locate_points([lon], [lat], date)
    features = []
    r, z = int(res.rule[0]), int(res.zone[0])
    if r >= 0 and z >= 0:
        ds_id = vintages.rules()[r].dataset_id
        qi = index.quartier_index(ds_id, territories.ZONES[z].name)
        pt = shapely.points(res.x[:1], res.y[:1])
        _, hits, _ = qi.boundaries_within(pt, radius)
        hits = np.unique(hits)
        dist = shapely.distance(pt[0], qi.boundaries[hits])
        inside = shapely.intersects(pt[0], qi.polygons[hits])
        per = load_perimeters(ds_id)
        for h, d, ins in sorted(zip(hits, dist, inside), key=lambda t: (t[1], t[0])):  # a handful of quartiers
            pos = int(qi.positions[h])
            props = _summary(per, pos)
            props.update({"distance_to_boundary_m": round(float(d), 2), "point_inside": bool(ins)})
            geom = None if per.degenerate[pos] else json.loads(shapely.to_geojson(per.geometry[pos]))
            features.append({"type": "Feature", "properties": props, "geometry": geom})
    return {"type": "FeatureCollection", "features": features, "status": str(res.status[0]),
            "vintage": res.vintage[0], "date": str(res.dates[0])}
