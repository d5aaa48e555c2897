"""Derive candidate quartiers prioritaires from carreaux (décret n° 2014-767 art. 2 and 4).

1. each carreau gets its unité urbaine (given by the caller, or from its commune `lcog_geo`) and that
   unité urbaine's threshold S;
2. a carreau is low-income when its income statistic is below S (unknown income: never flagged, counted);
3. contiguous low-income carreaux of one unité urbaine form a group (grouping.py);
4. each group's population and population-weighted median income are checked against the criteria:
   `candidate` when all hold; `below_population` when only the 1 000-inhabitant minimum fails (what the
   Béthune-Bruay contrat de ville calls a quartier d'intérêt communautaire); `unite_urbaine_ineligible`
   when the unité urbaine has fewer than 10 000 inhabitants.

Everything is computed on arrays in a canonical order (by grid position), so the row order of the input
never changes a result.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import Any

import numpy as np

from ..errors import BadInput
from ..geography.carreaux import METRO_EPSG, check_connectivity
from . import grouping, threshold as T
from . import unites_urbaines as UU
from .filosofi import Carreaux
from .parameters import condition, derogation_note, parameter, trace_entry

CANDIDATE, BELOW_POPULATION, UU_INELIGIBLE = "candidate", "below_population", "unite_urbaine_ineligible"
MEDIAN_UNKNOWN = "median_unknown"
CONNECTIVITY_NOTE = {
    4: "4-connexité : deux carreaux sont contigus s'ils ont un côté commun (« espace urbain continu », art. 1)",
    8: "8-connexité : deux carreaux sont contigus s'ils ont un côté ou un coin commun",
}


@dataclasses.dataclass
class Derivation:
    carreaux: Carreaux            # canonical order (by grid position)
    uu_index: np.ndarray          # per carreau: index in `unites_urbaines`, -1 outside any unité urbaine
    threshold: np.ndarray         # per carreau: S of its unité urbaine, NaN when unknown
    low_income: np.ndarray        # per carreau: income < S
    group: np.ndarray             # per carreau: group id, -1 when not low-income
    groups: dict[str, np.ndarray]  # per group: anchor, uu, n_carreaux, population, median_income, threshold, criteria, status
    unites_urbaines: list[dict[str, Any]]
    national_median: dict[str, Any]
    connectivity: int
    date: dt.date
    min_population: dict[str, Any]

    @property
    def n_groups(self) -> int:
        return len(self.groups["status"])

    def group_id(self, k: int) -> str:
        return f"Q-{self.groups['anchor'][k]}"

    @functools.cached_property
    def member_index(self) -> tuple[np.ndarray, np.ndarray]:
        """(order, bounds): the carreaux of group k are order[bounds[k]:bounds[k + 1]], in grid order."""
        sel = np.flatnonzero(self.group >= 0)
        order = sel[np.argsort(self.group[sel], kind="stable")]
        return order, np.searchsorted(self.group[order], np.arange(self.n_groups + 1))

    def members(self, k: int) -> np.ndarray:
        order, bounds = self.member_index
        return order[bounds[k]:bounds[k + 1]]

    @functools.cached_property
    def _conditions(self) -> dict[str, dict[str, Any]]:
        out = {name: condition(name, self.date) for name in ("unite_urbaine_eligible", "population_quartier", "revenu_median")}
        note = derogation_note(self.date)
        if note:  # which carreaux belonged to a quartier of the previous list is not known here
            out["unite_urbaine_eligible"]["notes"] = [note]
        return out

    def group_row(self, k: int) -> dict[str, Any]:
        g = self.groups
        uu = self.unites_urbaines[g["uu"][k]]
        return {
            "id": self.group_id(k),
            "status": str(g["status"][k]),
            "unite_urbaine": {"code": uu["code"], "name": uu["name"]},
            "n_carreaux": int(g["n_carreaux"][k]),
            "population": round(float(g["population"][k]), 1),
            "median_income": None if np.isnan(g["median_income"][k]) else round(float(g["median_income"][k]), 2),
            "threshold": _number(g["threshold"][k]),
            "income_statistic": self.carreaux.income_label,
            "imputed_population_share": None if np.isnan(g["imputed_share"][k]) else round(float(g["imputed_share"][k]), 4),
        }

    def group_trace(self, k: int) -> list[dict[str, Any]]:
        """Every criterion of group k with its inputs, parameter, result and legal reference."""
        g = self.groups
        uu = self.unites_urbaines[g["uu"][k]]
        return [
            {"step": "regroupement", "label": "Carreaux contigus sous le seuil, dans une même unité urbaine",
             "adjacency": CONNECTIVITY_NOTE[self.connectivity],
             "legal_reference": {"text": "Décret n° 2014-767 du 3 juillet 2014", "confirmed": True,
                                 "article": "art. 1 (« espace urbain continu ») et art. 2 II (carreaux de 200 m)"},
             "result": int(g["n_carreaux"][k])},
            {**self._conditions["unite_urbaine_eligible"], "inputs": {"unite_urbaine": uu["code"], "population": uu["population"],
             "population_rounded": uu["population_rounded"], "population_source": uu["population_source"]["label"]},
             "result": bool(g["uu_eligible"][k])},
            {**self._conditions["population_quartier"], "inputs": {"population": round(float(g["population"][k]), 1),
             "population_source": "somme de la colonne ind (individus) des carreaux du groupe"},
             "parameters": [trace_entry(self.min_population)], "result": bool(g["population_ok"][k])},
            {**self._conditions["revenu_median"], "inputs": {
                "median_income": None if np.isnan(g["median_income"][k]) else round(float(g["median_income"][k]), 2), "income_statistic": self.carreaux.income_label,
                "median_method": "médiane pondérée par la population des carreaux (médiane inférieure)",
                "threshold": _number(g["threshold"][k]), "threshold_of": uu["code"],
                "threshold_unconfirmed_parameters": next(
                    (s.get("unconfirmed_parameters", []) for s in uu["threshold_trace"] if s["step"] == "seuil"), [])},
             "result": bool(g["income_ok"][k])},
        ]

    def summary(self) -> dict[str, Any]:
        status = self.groups["status"]
        known = ~np.isnan(self.carreaux.income)
        return {
            "carreaux": len(self.carreaux),
            "population": round(float(self.carreaux.population.sum()), 1),
            "carreaux_income_unknown": int((~known).sum()),
            "carreaux_outside_unite_urbaine": int((self.uu_index < 0).sum()),
            "carreaux_threshold_unknown": int(((self.uu_index >= 0) & np.isnan(self.threshold)).sum()),
            "low_income_carreaux": int(self.low_income.sum()),
            "groups": self.n_groups,
            "candidates": int((status == CANDIDATE).sum()),
            "below_population": int((status == BELOW_POPULATION).sum()),
            "unite_urbaine_ineligible": int((status == UU_INELIGIBLE).sum()),
        }

    def to_json(self) -> dict[str, Any]:
        """Everything: the metadata and every group with its trace."""
        return self.metadata() | {
            "candidates": [self.group_row(k) | {"trace": self.group_trace(k)} for k in range(self.n_groups)]}

    def metadata(self) -> dict[str, Any]:
        """Source, income statistic, medians, unités urbaines with their threshold traces, summary."""
        c = self.carreaux
        return {
            "carreaux_source": c.source,
            "income_statistic": {"column": c.income_column, "label": c.income_label},
            "date": self.date.isoformat(),
            "connectivity": self.connectivity,
            "national_median": self.national_median,
            "unites_urbaines": self.unites_urbaines,
            "summary": self.summary(),
        }


def _number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def _first_commune(communes: np.ndarray) -> np.ndarray:
    """lcog_geo lists the communes a carreau touches, run together; the first one places it."""
    return np.char.ljust(np.asarray(communes, dtype=str), 5).astype("U5")


def _communes_by_centre(c: Carreaux) -> np.ndarray:
    """Commune code of each carreau centre, from geography's commune contours ('' where none)."""
    from pyproj import Transformer

    from ..geography import locate_points
    from ..geography.carreaux import centres

    x, y = centres(c.easting, c.northing, c.size)
    lon, lat = Transformer.from_crs(f"EPSG:{c.epsg}", "EPSG:4326", always_xy=True).transform(x, y)
    res = locate_points(lon, lat, T.DEFAULT_DATE, crs="EPSG:4326", tolerance_m=0.0)
    codes = np.asarray(res.commune_code, dtype=object)
    return np.where(codes == None, "", codes).astype(str)  # noqa: E711 - elementwise


def _assign_unites_urbaines(c: Carreaux, code: str | None) -> tuple[np.ndarray, list[str], str]:
    if code is not None:
        return np.zeros(len(c), dtype=np.int64), [code.strip()], "fournie par l'appelant (--unite-urbaine), pour tous les carreaux"
    if c.communes is not None:
        uu_codes = UU.uu_of_communes(_first_commune(c.communes))
        how = "commune du carreau (première commune de lcog_geo) dans la base des unités urbaines 2020"
    else:
        uu_codes = UU.uu_of_communes(_communes_by_centre(c))
        how = ("commune où tombe le centre du carreau (contours communaux de la géographie, jeu communes_geo, "
               "simplifiés) dans la base des unités urbaines 2020 ; --unite-urbaine impose une unité urbaine")
    urban = uu_codes.astype(str) != ""  # '' = commune unknown or « hors unité urbaine »
    codes, inverse = np.unique(uu_codes[urban].astype(str), return_inverse=True)
    index = np.full(len(c), -1, dtype=np.int64)
    index[urban] = inverse
    return index, codes.tolist(), how


def _thresholds(codes: list[str], how: str, nat: dict[str, Any], uu_median: float | None,
                uu_population: float | None, threshold: float | None, date: dt.date):
    """Facts, S (NaN when unknown) and eligibility of each unité urbaine, with their traces."""
    uus = []
    for code in codes:  # one entry per unité urbaine (a handful), not per carreau
        f = UU.facts(code)
        f["assignment"] = how
        if uu_median is not None:
            f["median"], f["median_source"] = float(uu_median), {"label": "fourni par l'appelant (--uu-median)"}
        if uu_population is not None:
            f["population"] = float(uu_population)
            f["population_source"] = {"label": "fourni par l'appelant (--uu-population)"}
        uus.append(f)
    if not uus:
        return uus, np.zeros(0), np.zeros(0, dtype=bool)
    has_median = np.array([u["median"] is not None for u in uus], dtype=bool)
    res = T.compute(nat["value"], [u["median"] or 1.0 for u in uus], [u["population"] for u in uus], date)
    thr_uu = np.where(has_median, res["threshold"], np.nan) if threshold is None else np.full(len(uus), threshold)
    prov = {"national_median": nat["label"]}
    for i, u in enumerate(uus):
        u["population_rounded"] = int(res["population_rounded"][i])
        u["unite_urbaine_eligible"] = bool(res["unite_urbaine_eligible"][i])
        if threshold is not None:
            u["threshold"] = float(threshold)
            u["threshold_trace"] = [{
                "step": "seuil_impose", "label": "Seuil imposé par l'appelant (--threshold) au lieu du calcul de l'art. 4",
                "computed_threshold": int(res["threshold"][i]) if has_median[i] else None, "result": float(threshold)}]
        elif has_median[i]:
            u["threshold"] = int(res["threshold"][i])
            u["threshold_trace"] = T.trace(res, i, prov | {"uu_median": u["median_source"]["label"],
                                                           "uu_population": u["population_source"]["label"]})
        else:
            u["threshold"] = None
            u["threshold_trace"] = [{"step": "seuil", "result": None, "missing_inputs": ["uu_median"],
                                     "message": "médiane de l'unité urbaine inconnue (secret statistique) : "
                                                "seuil indéterminé, aucun carreau de cette unité urbaine n'est retenu"}]
    return uus, thr_uu, res["unite_urbaine_eligible"]


def _groups(c: Carreaux, low: np.ndarray, uu_index: np.ndarray, thr: np.ndarray, eligible_uu: np.ndarray,
            connectivity: int, min_population: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Group id per carreau (-1 when not low-income) and the per-group arrays: figures, criteria, status."""
    sel = np.flatnonzero(low)
    keys = grouping.grid_keys(c.easting[sel], c.northing[sel], c.size)
    labels, n = grouping.label(keys, connectivity, zone=uu_index[sel])
    group = np.full(len(c), -1, dtype=np.int64)
    group[sel] = labels
    milli = grouping.to_milli(c.population[sel])
    pop_milli = grouping.group_population_milli(milli, labels, n)
    median = grouping.weighted_median(c.income[sel], milli, labels, n)
    if c.imputed is not None:  # INSEE's « txPopImp »: share of the population living in imputed carreaux
        with np.errstate(invalid="ignore", divide="ignore"):
            imputed = np.bincount(labels, weights=(milli * c.imputed[sel]).astype(float), minlength=n) / pop_milli
    else:
        imputed = np.full(n, np.nan)
    _, first_pos = np.unique(labels, return_index=True)  # members are in grid order: first = anchor
    first = sel[first_pos]
    g_uu, g_thr = uu_index[first], thr[first]
    pop_ok = pop_milli >= min_population * grouping.MILLI
    income_ok = median < g_thr  # NaN median (a group without population) is not « inférieur »
    uu_ok = eligible_uu[g_uu] if n else np.zeros(0, dtype=bool)
    status = np.select([~uu_ok, pop_ok & income_ok, income_ok], [UU_INELIGIBLE, CANDIDATE, BELOW_POPULATION],
                       MEDIAN_UNKNOWN)  # only a group whose carreaux all have 0 inhabitants has no median
    return group, {
        "anchor": c.ids[first], "uu": g_uu, "n_carreaux": np.bincount(labels, minlength=n),
        "population": pop_milli / grouping.MILLI, "median_income": median, "threshold": g_thr,
        "uu_eligible": uu_ok, "population_ok": pop_ok, "income_ok": income_ok, "status": status.astype(object),
        "imputed_share": imputed,
    }


def derive(c: Carreaux, *, unite_urbaine: str | None = None, national_median: float | None = None,
           uu_median: float | None = None, uu_population: float | None = None, threshold: float | None = None,
           date: dt.date = T.DEFAULT_DATE, connectivity: int = 4) -> Derivation:
    """Apply the criteria to carreaux `c`. Medians and population default to the bundled data, labelled.

    `threshold` imposes S (e.g. the value a contrat de ville quotes) for every unité urbaine instead of
    computing it; the trace keeps the computed value next to it.
    """
    check_connectivity(connectivity)
    if c.epsg != METRO_EPSG:
        raise BadInput(f"grille EPSG:{c.epsg} : les critères du décret n° 2014-767 ne valent qu'en métropole (art. 7) ; "
                       "l'outre-mer relève du décret n° 2014-1575 (et n° 2024-1211), non codé ici", field="carreaux")
    if threshold is not None and not (np.isfinite(threshold) and threshold > 0):
        raise BadInput(f"seuil strictement positif attendu, reçu « {threshold} »", field="threshold")
    c = c.take(np.argsort(grouping.grid_keys(c.easting, c.northing, c.size), kind="stable"))  # canonical order
    uu_index, codes, how = _assign_unites_urbaines(c, unite_urbaine)
    if (uu_median is not None or uu_population is not None) and len(codes) != 1:
        raise BadInput(f"--uu-median et --uu-population ne valent que pour une seule unité urbaine ({len(codes)} ici ; "
                       "--unite-urbaine en impose une)", field="uu_median" if uu_median is not None else "uu_population")
    nat = UU.national_median() if national_median is None else {
        "value": float(national_median), "label": "fourni par l'appelant (--national-median)"}
    uus, thr_uu, eligible_uu = _thresholds(codes, how, nat, uu_median, uu_population, threshold, date)

    inside = uu_index >= 0
    thr = np.where(inside, thr_uu[np.maximum(uu_index, 0)], np.nan) if uus else np.full(len(c), np.nan)
    with np.errstate(invalid="ignore"):
        low = inside & ~np.isnan(c.income) & (c.income < thr)  # NaN income or S: never low-income
    min_pop = parameter("population_minimale_quartier", date)
    group, groups = _groups(c, low, uu_index, thr, eligible_uu, connectivity, int(min_pop["value"]))
    return Derivation(c, uu_index, thr, low, group, groups, uus, nat, connectivity, date, min_pop)
