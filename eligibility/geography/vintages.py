"""Which perimeter vintage is the law at a date, on a territory, and whether we bundle it.

Two layers, kept apart on purpose:
- GENERATIONS: what the law says (which list of quartiers is in force, where, from when), with the
  decree and law.md's confidence mark. It does not depend on what files we ship.
- the manifest's `validity` and `coverage` of each bundled perimeter file: what we can answer.
- the perimeter layers a user imported (`layers.py`): each answers for the territory, départements and
  dates it covers, and wins where it overlaps a bundled file of the same vintage (imported rules come
  first in `rules()`, and the first matching rule answers).
A (territory, région, département, date) resolves to exactly one file, or to `not_covered` with the
reason: before 2015, the vintage in force is not loaded (QP2015 overseas), or the loaded files do
not cover that place (QP2015 outside Occitanie, without an imported national file).
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np

from .. import datasets
from ..errors import DataIntegrityError
from . import layers, territories
from .perimeters import PERIMETER_DATASETS


@dataclass(frozen=True)
class Generation:
    vintage: str
    territory: str
    valid_from: dt.date
    valid_to: dt.date | None
    legal_basis: str
    confirmed: bool
    source: str


# law.md §1.3 and §1.4. Marked [C2] there (secondary sources): kept, flagged unconfirmed.
GENERATIONS: tuple[Generation, ...] = (
    Generation("QP2015", "metropole", dt.date(2015, 1, 1), dt.date(2023, 12, 31),
               "Décret n° 2014-1750 du 30 décembre 2014 (liste des quartiers prioritaires, métropole), "
               "rectifié par le décret n° 2015-1138 du 14 septembre 2015", False, "law.md §1.3 [C2]"),
    Generation("QP2024", "metropole", dt.date(2024, 1, 1), None,
               "Décret n° 2023-1314 du 28 décembre 2023 (liste des quartiers prioritaires, métropole)", False,
               "law.md §1.3 [C2]"),
    Generation("QP2015", "outre_mer", dt.date(2015, 1, 1), dt.date(2024, 12, 31),
               "Décret n° 2014-1751 du 30 décembre 2014 (liste des quartiers prioritaires, outre-mer)", False,
               "law.md §1.3 and §1.4 [C2]"),
    Generation("QP2024", "outre_mer", dt.date(2025, 1, 1), None,
               "Décret n° 2024-1212 de décembre 2024 (liste des quartiers prioritaires, outre-mer)", False,
               "law.md §1.4 [C2]"),
)
TERRITORIES = ("metropole", "outre_mer")

# Reasons for not_covered (codes are stable; French text for people).
NOT_COVERED_REASONS = {
    "hors_france": "le point n'est dans aucun département ni collectivité d'outre-mer couverts",
    "avant_qpv": "aucune géographie prioritaire QPV n'était en vigueur à cette date (les premières listes "
                 "s'appliquent au 1er janvier 2015, loi n° 2014-173 art. 5)",
    "millesime_non_fourni": "la liste en vigueur à cette date sur ce territoire n'est pas fournie dans les données de référence",
    "hors_couverture": "la liste en vigueur est fournie seulement pour une partie du territoire, qui ne comprend pas ce point",
}


WHERE_TO_CHECK = "sig.ville.gouv.fr (Système d'information géographique de la politique de la ville)"
TERRITORY_WORDS = {"metropole": "en métropole", "outre_mer": "outre-mer"}


def not_covered_guidance(date: dt.date, territory: str | None) -> str:
    """What to do when no bundled perimeter file answers for a place at a date: the list in force then (for
    the place's territory, or both when it is unknown) and where to check the address."""
    day = date.strftime("%d/%m/%Y")
    first = min(g.valid_from for g in GENERATIONS)
    if date < first:
        return (f"aucune liste de quartiers prioritaires n'était en vigueur au {day} (les premières s'appliquent au "
                f"{first.strftime('%d/%m/%Y')}) : la géographie prioritaire d'alors (zones urbaines sensibles, "
                f"quartiers des contrats urbains de cohésion sociale) n'est pas chargée ; vérifiez sur {WHERE_TO_CHECK}")
    lists = [g for t in ([territory] if territory in TERRITORIES else TERRITORIES) if (g := generation(t, date))]
    named = " ; ".join(f"{TERRITORY_WORDS[g.territory]}, {g.legal_basis}"
                       + ("" if g.confirmed else " (référence non confirmée par un texte officiel lu)") for g in lists)
    return (f"les périmètres chargés ne couvrent pas ce lieu au {day} ; liste des quartiers prioritaires en vigueur "
            f"à cette date : {named} ; vérifiez l'adresse sur {WHERE_TO_CHECK} ou dans ce texte")


@dataclass(frozen=True)
class Rule:
    """One row of a bundled dataset's validity: (dataset, territory, period, régions covered)."""

    dataset_id: str
    vintage: str
    territory: str
    valid_from: dt.date
    valid_to: dt.date | None
    regions: tuple[str, ...] | None  # None: every région of the territory
    legal_basis: str
    confirmed: bool
    note: str | None
    coverage: str
    departements: tuple[str, ...] | None = None  # imported layers: the départements they answer for (None: all)
    tolerance_m: float = 15.0  # default near-boundary tolerance: twice the file's declared precision, >= 1 m
    layer: str | None = None   # name of the imported layer (None: a bundled file)


def rules() -> tuple[Rule, ...]:
    """Imported perimeter layers first (they win where they overlap), then the bundled files."""
    return _rules(layers.state())


@functools.lru_cache(maxsize=4)
def _rules(_layers_state: tuple) -> tuple[Rule, ...]:
    out = [r for layer in layers.of_kind("perimetres") for r in layer_rules(layer)]
    for ds_id in PERIMETER_DATASETS:
        ds = datasets.dataset(ds_id)
        regions = (ds.coverage or {}).get("regions", "all")
        regions = None if regions == "all" else tuple(str(r) for r in regions)
        precision = getattr(ds, "precision_m", None)
        if precision is None:
            raise DataIntegrityError(f"précision des périmètres non déclarée dans le manifeste (dataset {ds_id}, champ precision_m)")
        _check_regions(ds_id, regions)
        for v in ds.validity:
            out.append(Rule(ds_id, ds.vintage, v.territory, v.valid_from, v.valid_to, regions, v.legal_basis,
                            v.confirmed, v.note, (ds.coverage or {}).get("description", ""), None,
                            layers.tolerance_from_precision(precision)))
    _check(out)
    return tuple(out)


rules.cache_clear = _rules.cache_clear  # `qpv data verify` rereads the calendar, like any cached loader


def layer_rules(layer: layers.Layer) -> list[Rule]:
    """The rows an imported perimeter layer answers for: its calendar rows, on the départements it covers
    (every département of the territory when declared complete with --territory)."""
    deps = None if layer.territory else tuple(layer.departements)
    regions = None if layer.territory else tuple(layer.regions)
    return [Rule(layer.dataset_id, layer.vintage, v.territory, v.valid_from, v.valid_to, regions, v.legal_basis,
                 v.confirmed, v.note, layer.coverage_text(), deps, layer.tolerance_m, layer.name)
            for v in layer.validity]


def places_overlap(a: Rule, b: Rule) -> bool:
    if a.departements is not None and b.departements is not None:
        return bool(set(a.departements) & set(b.departements))
    return a.regions is None or b.regions is None or bool(set(a.regions) & set(b.regions))


def _check_regions(dataset_id: str, regions: tuple[str, ...] | None) -> None:
    """A coverage naming a région the COG does not know would silently answer not_covered there."""
    from .territories import cog

    unknown = sorted(set(regions or ()) - set(cog()["reg"]))
    if unknown:
        raise DataIntegrityError(f"couverture du dataset {dataset_id} : région(s) inconnue(s) du COG ({', '.join(unknown)})")


def _check(rows: list[Rule]) -> None:
    """The files must never make two lists the law at once, nor contradict the law's calendar. An imported
    layer overlapping a bundled file is allowed: it comes first and wins."""
    for i, a in enumerate(rows):
        gen = generation(a.territory, a.valid_from)
        if gen is None or gen.vintage != a.vintage or (gen.valid_to and (a.valid_to is None or a.valid_to > gen.valid_to)):
            raise DataIntegrityError(f"validité du dataset {a.dataset_id} ({a.territory}) incompatible avec le calendrier légal des listes QPV")
        for b in rows[i + 1:]:
            if a.territory != b.territory or (a.layer is None) != (b.layer is None):
                continue
            overlap = a.valid_from <= (b.valid_to or dt.date.max) and b.valid_from <= (a.valid_to or dt.date.max)
            if overlap and places_overlap(a, b):
                raise DataIntegrityError(f"périodes de validité qui se chevauchent : {a.dataset_id} et {b.dataset_id} ({a.territory})")


def generation(territory: str, date: dt.date) -> Generation | None:
    for g in GENERATIONS:
        if g.territory == territory and g.valid_from <= date and (g.valid_to is None or date <= g.valid_to):
            return g
    return None


def _d64(d: dt.date | None) -> np.datetime64:
    return np.datetime64(d if d is not None else "9999-12-31", "D")


def period_starts() -> np.ndarray:
    """The sorted days (datetime64[D]) on which a generation or a file's validity starts, or the day after one
    ends: between two of them every date test of `resolve_codes` gives the same answer."""
    days = [_d64(x.valid_from) for x in (*GENERATIONS, *rules())]
    days += [_d64(x.valid_to) + np.timedelta64(1, "D") for x in (*GENERATIONS, *rules())]
    return np.unique(np.array(days, dtype="datetime64[D]"))


REASON_CODES = ("", "hors_couverture", "millesime_non_fourni", "avant_qpv", "hors_france")


def resolve(territory: np.ndarray, region: np.ndarray, dates: np.ndarray,
            departement: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised: index into `rules()` (-1: not covered) and the not_covered reason code ('' if covered).

    `territory` holds 'metropole', 'outre_mer' or '' (outside France); `region` the région codes;
    `dates` are datetime64[D]; `departement` the département codes (needed once a layer covers some only).
    """
    terr = np.asarray(territory, dtype=object)
    terr_code = np.where(terr == "metropole", 0, np.where(terr == "outre_mer", 1, -1))
    reg = np.asarray(region, dtype=object)
    reg_code = np.array([int(r) if str(r).isdigit() else -1 for r in reg], dtype=np.int64)
    dep_idx = None if departement is None else territories.dep_positions(tuple(str(d) for d in departement))
    rule, why = resolve_codes(terr_code, reg_code, dates, dep_idx)
    return rule, np.array(REASON_CODES, dtype=object)[why]


def resolve_codes(terr_code: np.ndarray, reg_code: np.ndarray, dates: np.ndarray,
                  dep_idx: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Integer form of `resolve`: territory 0 metropole / 1 outre_mer / -1 none, région as int (-1 none),
    département as its index in `territories.dep_table()` (needed once a layer covers only some départements).

    Returns (rule index or -1, index into REASON_CODES).
    """
    n = len(terr_code)
    rule_idx = np.full(n, -1, dtype=np.int64)
    in_force = np.zeros(n, dtype=bool)
    for g in GENERATIONS:
        in_force |= (terr_code == TERRITORIES.index(g.territory)) & (dates >= _d64(g.valid_from)) & (dates <= _d64(g.valid_to))
    bundled_here = np.zeros(n, dtype=bool)
    for k, r in enumerate(rules()):
        when = (terr_code == TERRITORIES.index(r.territory)) & (dates >= _d64(r.valid_from)) & (dates <= _d64(r.valid_to))
        bundled_here |= when
        where = when if r.regions is None else when & np.isin(reg_code, [int(x) for x in r.regions])
        if r.departements is not None:
            if dep_idx is None:
                raise ValueError("resolve_codes: the département is needed once a layer covers only some of them")
            where &= np.isin(dep_idx, territories.dep_positions(r.departements))
        rule_idx[where & (rule_idx < 0)] = k
    reason = np.zeros(n, dtype=np.int8)
    reason[rule_idx < 0] = 1
    reason[(rule_idx < 0) & ~bundled_here] = 2
    reason[(rule_idx < 0) & ~in_force] = 3
    reason[terr_code < 0] = 4
    rule_idx[terr_code < 0] = -1
    return rule_idx, reason
