"""Compare derived candidates with an official perimeter vintage, carreau by carreau.

A carreau belongs to an official quartier when its centre does (geography's `locate_points`, with no
boundary tolerance). Over the inhabited carreaux of the area:
- per official quartier: the share of its carreaux that the derivation flags low-income, and the share
  that falls in a candidate (recall per quartier), by count and by population;
- per derived group: the official quartier it shares most carreaux with, and that share;
- overall precision (candidate carreaux inside some official quartier) and recall (official carreaux
  inside some candidate), by count and by population.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..datasets import manifest, sha256_file
from ..errors import BadInput
from ..jsonio import json_problem
from ..geography.carreaux import centres
from .derivation import CANDIDATE
from .filosofi import Carreaux, read_carreaux
from .output import FORMAT

Locate = Callable[..., Any]


def read_candidates(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"fichier de candidats introuvable : {path}", field="CANDIDATES")
    try:
        fc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        reason = (f"ligne {exc.lineno}, colonne {exc.colno} : {json_problem(exc)}" if isinstance(exc, json.JSONDecodeError)
                  else "pas de l'UTF-8")
        raise BadInput(f"{path.name} : JSON illisible ({reason})", field="CANDIDATES") from None
    if not isinstance(fc, dict) or fc.get("format") != FORMAT:
        raise BadInput(f"{path.name} : ce n'est pas une sortie de « qpv perimeters derive » (format {FORMAT} attendu)",
                       field="CANDIDATES")
    return fc


def _source_carreaux(fc: dict[str, Any], override: str | None) -> Carreaux:
    meta = fc["derivation"]
    column = meta["income_statistic"]["column"]
    if override is not None:
        return read_carreaux(override, column)
    src = meta["carreaux_source"]
    if "dataset" in src:
        return read_carreaux(src["dataset"], column)
    path = Path(src["path"])
    if not path.is_file() or sha256_file(path) != src["sha256"]:
        raise BadInput(f"le fichier de carreaux de la dérivation ({path}) est absent ou a changé : "
                       "indiquez-le avec --carreaux", field="carreaux")
    return read_carreaux(path, column)


def vintage_date(vintage: str) -> dt.date:
    """First day the vintage is in force in metropolitan France (from the manifest)."""
    for ds in manifest().datasets:
        if ds.kind == "perimeters" and ds.vintage == vintage:
            dates = [v.valid_from for v in ds.validity if v.territory == "metropole"] or [v.valid_from for v in ds.validity]
            if dates:
                return min(dates)
    known = sorted({d.vintage for d in manifest().datasets if d.kind == "perimeters"})
    raise BadInput(f"millésime de périmètres inconnu « {vintage} » (connus : {', '.join(known)})", field="vintage")


def _official(c: Carreaux, vintage: str, locate: Locate | None) -> tuple[np.ndarray, dict[str, str], dict[str, Any]]:
    """Official quartier code of each carreau centre ('' when outside), names, and the geography provenance."""
    from pyproj import Transformer

    if locate is None:
        from ..geography import locate_points as locate
    x, y = centres(c.easting, c.northing, c.size)
    lon, lat = Transformer.from_crs(f"EPSG:{c.epsg}", "EPSG:4326", always_xy=True).transform(x, y)
    date = vintage_date(vintage)
    res = locate(lon, lat, date, crs="EPSG:4326", tolerance_m=0.0)
    status = np.asarray(res.status, dtype=object)
    code = np.asarray(res.quartier_code, dtype=object)
    got = {str(v) for v, s in zip(np.asarray(res.vintage, dtype=object)[status == "inside"], status[status == "inside"])}
    if got - {vintage}:
        raise BadInput(f"la géographie a répondu avec le millésime {sorted(got)} au {date}, pas {vintage}", field="vintage")
    inside = np.isin(status, ["inside", "near_boundary"]) & pd.notna(code) & (code != "")
    codes = np.where(inside, code, "").astype(str)
    names = dict(zip(codes[inside], np.asarray(res.quartier_name, dtype=object)[inside].astype(str)))
    return codes, names, {"vintage": vintage, "date": date.isoformat(), "rule": "centre du carreau dans le périmètre"}


def _share(num: float, den: float) -> float | None:
    return None if den == 0 else round(num / den, 4)


def compare(candidates: str | Path, vintage: str = "QP2024", carreaux: str | None = None,
            locate: Locate | None = None) -> dict[str, Any]:
    fc = read_candidates(candidates)
    c = _source_carreaux(fc, carreaux)
    official, names, geo = _official(c, vintage, locate)

    index = pd.Index(c.ids)
    flagged = np.zeros(len(c), dtype=bool)
    in_candidate = np.zeros(len(c), dtype=bool)
    group_of = np.full(len(c), -1, dtype=np.int64)
    feats = fc["features"]
    for k, f in enumerate(feats):  # one step per derived group
        pos = index.get_indexer(f["properties"]["carreaux"])
        if (pos < 0).any():
            raise BadInput(f"le groupe {f['id']} cite des carreaux absents du fichier de carreaux", field="CANDIDATES")
        flagged[pos] = True
        group_of[pos] = k
        if f["properties"]["status"] == CANDIDATE:
            in_candidate[pos] = True

    pop = c.population
    df = pd.DataFrame({"code": official, "pop": pop, "flag": flagged, "cand": in_candidate,
                       "pop_flag": pop * flagged, "pop_cand": pop * in_candidate})
    per_q = df[df["code"] != ""].groupby("code", sort=True).agg(
        n=("pop", "size"), people=("pop", "sum"), flag=("flag", "sum"), cand=("cand", "sum"),
        pop_flag=("pop_flag", "sum"), pop_cand=("pop_cand", "sum"))
    quartiers = [{
        "code": code, "name": names.get(code), "carreaux": int(r.n), "population": round(float(r.people), 1),
        "share_flagged": _share(r.flag, r.n), "share_in_candidate": _share(r.cand, r.n),
        "population_share_in_candidate": _share(r.pop_cand, r.people),
    } for code, r in per_q.iterrows()]

    # per derived group: the official quartier sharing most carreaux (ties: smallest code)
    sel = group_of >= 0
    by = pd.DataFrame({"g": group_of[sel], "code": official[sel], "pop": pop[sel]})
    totals = by.groupby("g").agg(n=("pop", "size"), people=("pop", "sum"))
    shared = (by[by["code"] != ""].groupby(["g", "code"], sort=True).agg(n=("pop", "size"), people=("pop", "sum"))
              .reset_index().sort_values(["g", "n", "code"], ascending=[True, False, True], kind="stable")
              .drop_duplicates("g").set_index("g"))
    groups = []
    for k, f in enumerate(feats):  # one step per derived group
        t = totals.loc[k] if k in totals.index else None
        b = shared.loc[k] if k in shared.index else None
        groups.append({
            "id": f["id"], "status": f["properties"]["status"],
            "carreaux": 0 if t is None else int(t["n"]),
            "population": 0.0 if t is None else round(float(t["people"]), 1),
            "best_quartier": None if b is None else {
                "code": b["code"], "name": names.get(b["code"]), "shared_carreaux": int(b["n"]),
                "share_of_group": _share(b["n"], t["n"]), "population_share_of_group": _share(b["people"], t["people"])},
        })

    in_official = official != ""

    def overall(sel: np.ndarray) -> dict[str, Any]:
        tp = sel & in_official
        return {"carreaux": int(sel.sum()), "in_official": int(tp.sum()),
                "precision": _share(tp.sum(), sel.sum()), "recall": _share(tp.sum(), in_official.sum()),
                "population_precision": _share(pop[tp].sum(), pop[sel].sum()),
                "population_recall": _share(pop[tp].sum(), pop[in_official].sum())}

    meta = fc["derivation"]
    partial = fc.get("groups_written", "all") != "all"
    if partial:  # only candidate groups were written: the low-income set is not known here
        for q in quartiers:
            q["share_flagged"] = None
    return {
        "vintage": vintage,
        "official": geo | {"carreaux_in_official_quartiers": int(in_official.sum()),
                           "population_in_official_quartiers": round(float(pop[in_official].sum()), 1)},
        "carreaux_source": c.source,
        "income_statistic": meta["income_statistic"],
        "thresholds": {u["code"]: u["threshold"] for u in meta["unites_urbaines"]},
        "carreaux": len(c),
        "candidates": overall(in_candidate),
        "low_income": None if partial else overall(flagged),
        "quartiers": quartiers,
        "groups": groups,
    }
