"""Communes as addresses name them: postal codes, official names, old and delegated communes (COG 2026).

A postal code may cover several communes (04250 serves a dozen villages) and a commune may have several
postal codes (Château-Arnoux-Saint-Auban: 04160 and 04600). People and old files also use the names and
codes of communes that have merged (communes déléguées or associées, `anciensCodes`): those resolve to
the current commune (`chefLieu`). Source: dataset `cog2026` (communes.json.gz).
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import pandas as pd

from ..datasets import dataset, open_verified
from .normalize import match_key_series, normalize_series

COG_DATASET = "cog2026"
COG_FILE = "communes.json.gz"


@dataclass(frozen=True)
class Communes:
    """Lookup tables, all keyed by strings, values are current INSEE codes (tuples, sorted)."""

    names: dict[str, str]  # current INSEE code -> official name
    keys: dict[str, str]  # current INSEE code -> match key of its name
    by_postcode: dict[str, tuple[str, ...]]
    by_name: dict[str, tuple[str, ...]]  # match key of any current, delegated, associated or old name
    current_of: dict[str, str]  # any INSEE code (old, delegated, associated) -> current commune code
    postcodes: dict[str, tuple[str, ...]]  # current INSEE code -> its postal codes
    provenance: dict

    def departement(self, code: str) -> str:
        return code[:3] if code.startswith("97") else code[:2]


def _group(pairs: pd.DataFrame, key: str, value: str) -> dict[str, tuple[str, ...]]:
    pairs = pairs.drop_duplicates([key, value]).sort_values([key, value])
    return {k: tuple(v) for k, v in pairs.groupby(key, sort=True)[value]}


@functools.lru_cache(maxsize=1)
def load_communes() -> Communes:
    with open_verified(COG_DATASET, COG_FILE) as f:
        raw = pd.DataFrame(json.load(f))
    current = raw[raw["type"].isin(["commune-actuelle", "arrondissement-municipal"])]
    others = raw[raw["type"].isin(["commune-deleguee", "commune-associee"])]

    current_of = dict(zip(current["code"], current["code"]))
    old = current[["code", "anciensCodes"]].dropna().explode("anciensCodes")
    current_of.update({o: c for o, c in zip(old["anciensCodes"], old["code"]) if o not in current_of})
    current_of.update({o: c for o, c in zip(others["code"], others["chefLieu"]) if o not in current_of})

    named = pd.concat([
        pd.DataFrame({"name": current["nom"], "code": current["code"]}),
        pd.DataFrame({"name": others["nom"], "code": others["chefLieu"]}),
    ])
    named["key"] = match_key_series(normalize_series(named["name"]))
    # Arrondissements municipaux are answered by their own code; their parent is found by name.
    pc = current[["code", "codesPostaux"]].dropna().explode("codesPostaux")
    return Communes(
        names=dict(zip(current["code"], current["nom"])),
        keys=dict(zip(current["code"], match_key_series(normalize_series(current["nom"])))),
        by_postcode=_group(pc, "codesPostaux", "code"),
        by_name=_group(named, "key", "code"),
        current_of=current_of,
        postcodes=_group(pc, "code", "codesPostaux"),
        provenance=dataset(COG_DATASET).provenance([COG_FILE]),
    )


def _fuzzy_name(town: str, codes: tuple[str, ...], communes: Communes) -> tuple[str, ...]:
    """Best commune among `codes` whose name resembles `town` (typos, « DIGNE » for Digne-les-Bains)."""
    from rapidfuzz import fuzz, process

    if not codes:
        return ()
    keys = {c: communes.keys.get(c, "") for c in codes}
    best = process.extractOne(town, keys, scorer=fuzz.WRatio, score_cutoff=85)
    return (best[2],) if best else ()


def _resolve_one(postcode: str, town: str, cedex: bool, communes: Communes) -> tuple[tuple[str, ...], str]:
    """Candidate current communes for one (postal code, town) pair, and how they were found."""
    by_pc = () if (cedex or not postcode) else communes.by_postcode.get(postcode, ())
    by_name = communes.by_name.get(town, ()) if town else ()
    dep = postcode[:3] if postcode.startswith("97") else postcode[:2]
    if by_name and by_pc:
        both = tuple(c for c in by_name if c in by_pc)
        if both:
            return both, "code postal et commune"
    same_dep = tuple(c for c in by_name if not postcode or communes.departement(c) == dep)
    if same_dep:
        return same_dep, "commune"
    if town and postcode:  # a typo or a short form (« CORBIERES » for Corbières-en-Provence), or a CEDEX town
        pool = by_pc or tuple(sorted(c for c in communes.names if communes.departement(c) == dep))
        fuzzy = _fuzzy_name(town, pool, communes)
        if fuzzy:
            return fuzzy, "commune (orthographe approchée)"
    if by_pc:
        return by_pc, "code postal"
    if by_name:
        return by_name, "commune"
    return (), "aucune commune reconnue"


def resolve_communes(postcode: pd.Series, town: pd.Series, cedex: pd.Series) -> pd.DataFrame:
    """Per address: `codes` (tuple of current INSEE codes) and `how` (French), from its postal line.

    Resolved once per distinct (postal code, town, cedex) triple, then mapped back to the rows.
    """
    communes = load_communes()
    keys = pd.DataFrame({"postcode": postcode.to_numpy(), "town": match_key_series(town).to_numpy(),
                         "cedex": cedex.to_numpy()})
    uniq = keys.drop_duplicates().reset_index(drop=True)
    solved = [_resolve_one(p, t, bool(c), communes) for p, t, c in uniq.itertuples(index=False)]
    uniq["codes"] = [s[0] for s in solved]
    uniq["how"] = [s[1] for s in solved]
    return keys.merge(uniq, on=["postcode", "town", "cedex"], how="left")[["codes", "how"]]
