"""`qpv quartiers diff --from QP2015 --to QP2024`: what changed between two lists on a territory.

Quartiers are matched by geometry, not by name or code (codes changed between the lists): two
quartiers are "the same place" when their intersection covers at least MATCH_SHARE of the smaller
one. Areas are measured in each zone's metric CRS (Lambert-93 in metropolitan France). A list is taken
as the engine answers with it (`quartiers.of_vintage`: an imported layer wins over the bundled file on
the départements it covers); without a commune, département or EPCI, only the départements both lists
cover are compared, and the answer says which.
"""
from __future__ import annotations

import functools
import json

import numpy as np
import shapely

from .. import datasets
from ..errors import BadInput
from . import index, layers, quartiers, territories, vintages

MATCH_SHARE = 0.10
HECTARE = 10_000.0


def _covered_departements(vintage: str) -> set[str]:
    codes, regions = territories.dep_table()[0][:-1], territories.dep_table()[1][:-1]
    out: set[str] = set()
    for r in vintages.rules():
        if r.vintage != vintage:
            continue
        in_terr = [str(c) for c in codes if (len(str(c)) == 2) == (r.territory == "metropole")]
        if r.departements is not None:
            out |= set(r.departements)
        elif r.regions is not None:
            out |= {str(c) for c, g in zip(codes, regions) if str(g) in r.regions and str(c) in in_terr}
        else:
            out |= set(in_terr)
    return out


@functools.lru_cache(maxsize=1)
def _current_commune() -> dict[str, str]:
    """Former INSEE code -> today's (COG 2026): a commune merged since 2015 is compared under its new code."""
    with datasets.open_verified("cog2026", "communes.json.gz") as f:
        rows = json.load(f)
    out = {r["code"]: r["code"] for r in rows}
    for r in rows:
        for old in r.get("anciensCodes") or ():
            out.setdefault(old, r["code"])
    return out


def _collect(vintage: str, keep, deps: set[str] | None, used: list[str]):
    """[(code, name, communes, zone name, metric polygon)] of a list on the territory; appends to `used` the
    dataset id of every perimeter file (bundled or imported) that gave at least one quartier."""
    out = []
    for per, positions in quartiers.of_vintage(vintage):
        before = len(out)
        for zone in territories.ZONES:
            qi = index.quartier_index(per.dataset_id, zone.name)
            local = {int(p): k for k, p in enumerate(qi.positions)}
            for i in positions:
                i = int(i)
                if i not in local or (deps is not None and str(per.departement[i]) not in deps) or not keep(per, i):
                    continue
                out.append((str(per.code[i]), str(per.name[i]), per.communes_of(i), zone.name, qi.polygons[local[i]]))
        if len(out) > before:
            used.append(per.dataset_id)
    return out


def _vintage(v: str, option: str) -> str:
    known = quartiers.known_vintages()
    v = str(v or "").strip().upper()
    if v not in known:
        raise BadInput(f"millésime inconnu « {v} » (connus : {', '.join(known)})", field=option)
    return v


def diff(from_vintage: str, to_vintage: str, commune=None, departement=None, epci=None) -> dict:
    old_v, new_v = _vintage(from_vintage, "--from"), _vintage(to_vintage, "--to")
    if old_v == new_v:
        raise BadInput("--from et --to désignent la même liste", field="--to")
    keep = quartiers.territory_filter(commune, departement, epci)
    both = _covered_departements(old_v) & _covered_departements(new_v)
    scoped = commune is None and departement is None and epci is None
    if departement is not None and str(departement).strip().upper() not in both:
        raise BadInput(f"le département {departement} n'est pas couvert par les deux listes chargées ({old_v} et {new_v}) : "
                       "importez le fichier manquant (qpv data import)", field="--departement")
    used: list[str] = []
    old, new = _collect(old_v, keep, both, used), _collect(new_v, keep, both, used)
    pairs = _match(old, new)
    kept, old_matched, new_matched = [], set(), set()
    for i, j, shared in pairs:
        o, n = old[i], new[j]
        old_matched.add(i)
        new_matched.add(j)
        kept.append({"from": {"code": o[0], "name": o[1]}, "to": {"code": n[0], "name": n[1]},
                     "same_code": o[0] == n[0],
                     "area_from_ha": _ha(shapely.area(o[4])), "area_to_ha": _ha(shapely.area(n[4])),
                     "shared_ha": _ha(shared),
                     "gained_ha": _ha(shapely.area(shapely.difference(n[4], o[4]))),
                     "lost_ha": _ha(shapely.area(shapely.difference(o[4], n[4])))})
    left = [{"code": q[0], "name": q[1], "communes": q[2]} for k, q in enumerate(old) if k not in old_matched]
    entered = [{"code": q[0], "name": q[1], "communes": q[2]} for k, q in enumerate(new) if k not in new_matched]
    had, has = _communes(old), _communes(new)
    return {
        "from": old_v, "to": new_v,
        "territory": {"commune": commune, "departement": departement, "epci": epci},
        "compared_departements": sorted(both) if scoped else None,
        "match_rule": f"même lieu si l'intersection couvre au moins {MATCH_SHARE * 100:.0f} % du plus petit des deux périmètres",
        # the files compared, with the sha256 of the bytes read and their caveats
        "datasets": [{**layers.provenance(d), "title": layers.dataset(d).title, "caveats": layers.dataset(d).caveats}
                     for d in used],
        "counts": {"from": len(old), "to": len(new), "kept": len(kept), "left": len(left), "entered": len(entered)},
        "kept": sorted(kept, key=lambda k: (k["from"]["code"], k["to"]["code"])),
        "left": sorted(left, key=lambda q: q["code"]),
        "entered": sorted(entered, key=lambda q: q["code"]),
        "communes_lost_last": sorted(set(had) - set(has)),
        "communes_gained_first": sorted(set(has) - set(had)),
        "commune_names": {c: (had.get(c) or has.get(c)) for c in sorted(set(had) ^ set(has))},
    }


def _ha(m2) -> float:
    return round(float(m2) / HECTARE, 2)


def _match(old, new) -> list[tuple[int, int, float]]:
    """(old index, new index, shared area m²) of every pair sharing at least MATCH_SHARE of the smaller one."""
    out = []
    for zone in sorted({q[3] for q in old} & {q[3] for q in new}):
        oi = [k for k, q in enumerate(old) if q[3] == zone]
        ni = [k for k, q in enumerate(new) if q[3] == zone]
        op = np.array([old[k][4] for k in oi], dtype=object)
        npoly = np.array([new[k][4] for k in ni], dtype=object)
        a, b = shapely.STRtree(npoly).query(op, predicate="intersects")
        shared = shapely.area(shapely.intersection(op[a], npoly[b]))
        smaller = np.minimum(shapely.area(op[a]), shapely.area(npoly[b]))
        ok = shared >= MATCH_SHARE * smaller
        out.extend((oi[x], ni[y], float(s)) for x, y, s in zip(a[ok], b[ok], shared[ok]))
    return out


def _communes(items) -> dict[str, str]:
    """Today's code -> name of every commune holding at least one of the quartiers."""
    now = _current_commune()
    out: dict[str, str] = {}
    for q in items:
        for c in q[2]:
            out.setdefault(now.get(c["code"], c["code"]), c["name"])
    return out
