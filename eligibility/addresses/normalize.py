"""Normalisation of French address text: one spelling per word, so that matching compares like with like.

Administrations and people write the same street many ways: « 2 AV DU LT COLONEL NOEL REYNAUD »,
« 2, avenue du Lieutenant-Colonel Noël Reynaud ». `normalize` maps both to the same upper-case ASCII
words with the abbreviations of street types and titles expanded (the La Poste / AFNOR NF Z 10-011
abbreviations). `match_key` also drops the articles, for comparing street names.

Both work on whole pandas Series (string methods, unique values transliterated once), and both are
idempotent: normalising a normalised text gives it back unchanged (a hypothesis property).
"""
from __future__ import annotations

import re

import pandas as pd
from unidecode import unidecode

# Street types (voies) and their usual abbreviations. Values are never keys, so expansion is idempotent.
STREET_TYPES: dict[str, str] = {
    "ALL": "ALLEE", "ALLE": "ALLEE", "AV": "AVENUE", "AVE": "AVENUE", "AVN": "AVENUE",
    "BD": "BOULEVARD", "BLD": "BOULEVARD", "BVD": "BOULEVARD", "BOUL": "BOULEVARD",
    "CHE": "CHEMIN", "CHEM": "CHEMIN", "CH": "CHEMIN", "CHS": "CHAUSSEE",
    "IMP": "IMPASSE", "PL": "PLACE", "PLA": "PLACE", "RTE": "ROUTE", "R": "RUE",
    "CRS": "COURS", "SQ": "SQUARE", "QUA": "QUARTIER", "QRT": "QUARTIER", "QUART": "QUARTIER",
    "PROM": "PROMENADE", "ESP": "ESPLANADE", "FG": "FAUBOURG", "FBG": "FAUBOURG",
    "LOT": "LOTISSEMENT", "RES": "RESIDENCE", "HAM": "HAMEAU", "LD": "LIEU DIT",
    "TRA": "TRAVERSE", "TRAV": "TRAVERSE", "MTE": "MONTEE", "PAS": "PASSAGE", "PASS": "PASSAGE",
    "VLA": "VILLA", "SEN": "SENTIER", "RPT": "ROND POINT", "CAR": "CARREFOUR", "DOM": "DOMAINE",
    "VC": "VOIE COMMUNALE", "RD": "ROUTE DEPARTEMENTALE", "RN": "ROUTE NATIONALE",
    "ZA": "ZONE ARTISANALE", "ZI": "ZONE INDUSTRIELLE", "CTRE": "CENTRE",
    "PARV": "PARVIS", "QUAIS": "QUAI", "ECA": "ECART", "CITES": "CITE", "ALLEES": "ALLEE",
}
# Titles and other words La Poste abbreviates in street and commune names.
TITLES: dict[str, str] = {
    "ST": "SAINT", "STE": "SAINTE", "STS": "SAINTS", "STES": "SAINTES",
    "LT": "LIEUTENANT", "LTN": "LIEUTENANT", "GAL": "GENERAL", "GEN": "GENERAL", "MAL": "MARECHAL",
    "DR": "DOCTEUR", "PR": "PROFESSEUR", "PROF": "PROFESSEUR", "PDT": "PRESIDENT", "PRES": "PRESIDENT",
    "CDT": "COMMANDANT", "CMDT": "COMMANDANT", "CNE": "CAPITAINE", "CPT": "CAPITAINE",
    "ADJ": "ADJUDANT", "SGT": "SERGENT", "MGR": "MONSEIGNEUR", "ND": "NOTRE DAME",
    "ANC": "ANCIEN", "GD": "GRAND", "GDE": "GRANDE", "PT": "PETIT", "MME": "MADAME", "MLLE": "MADEMOISELLE",
}
ABBREVIATIONS: dict[str, str] = {**STREET_TYPES, **TITLES}
# Words that carry no identity in a street name (« rue de la Paix » = « rue Paix » for matching).
ARTICLES = frozenset("DE DU DES LA LE LES L D A AU AUX ET EN SUR SOUS".split())

_NON_ALNUM = re.compile(r"[^A-Z0-9]+")
_DIGIT_LETTER = re.compile(r"(?<=\d)(?=[A-Z])|(?<=[A-Z])(?=\d)")
_ABBREV = re.compile(r"\b(" + "|".join(sorted(map(re.escape, ABBREVIATIONS), key=len, reverse=True)) + r")\b")
_ARTICLES = re.compile(r"\b(?:" + "|".join(sorted(ARTICLES, key=len, reverse=True)) + r")\b")
_SPACES = re.compile(r"\s+")
TYPE_WORDS = sorted(set(STREET_TYPES.values()) | {"RUE", "AVENUE", "QUAI", "CITE", "VOIE", "SENTIER", "MONTEE",
                                                   "CHEMIN", "PLACE", "ROUTE", "IMPASSE", "ALLEE", "COURS"},
                     key=len, reverse=True)
_LEADING_TYPE = re.compile(r"^(?P<type>" + "|".join(map(re.escape, TYPE_WORDS)) + r")\b\s*(?P<name>.*)$")


def _ascii_upper(values: pd.Series) -> pd.Series:
    """Transliterate (é -> E, œ -> OE, ß -> SS), then upper-case."""
    return values.map({u: unidecode(u).upper() for u in pd.unique(values)})


def normalize_series(values: pd.Series) -> pd.Series:
    """Upper-case ASCII words, punctuation (apostrophes, hyphens, dots) as spaces, abbreviations expanded.

    Computed once per distinct value (address files repeat their town lines and street names a lot)."""
    values = pd.Series(values).fillna("").astype(str)
    uniq = pd.Series(pd.unique(values), dtype=object)
    out = _ascii_upper(uniq)
    out = out.str.replace(_NON_ALNUM, " ", regex=True)
    out = out.str.replace(_DIGIT_LETTER, " ", regex=True)  # 9BIS -> 9 BIS, 1ER -> 1 ER (both sides alike)
    out = out.str.replace(_ABBREV, lambda m: ABBREVIATIONS[m.group(1)], regex=True)
    out = out.str.replace(_SPACES, " ", regex=True).str.strip()
    return values.map(dict(zip(uniq, out)))


def match_key_series(normalized: pd.Series) -> pd.Series:
    """A normalised text without its articles: the form street and commune names are compared in."""
    out = normalized.str.replace(_ARTICLES, " ", regex=True)
    return out.str.replace(_SPACES, " ", regex=True).str.strip()


def split_street_type(keys: pd.Series) -> pd.DataFrame:
    """Match keys -> `type` (leading street type word, '' if none) and `name` (the rest, or the whole key
    when nothing is left: « RUE » alone, « GRANDE RUE »)."""
    m = keys.str.extract(_LEADING_TYPE)
    has = m["type"].notna() & m["name"].fillna("").ne("")
    return pd.DataFrame({"type": m["type"].where(has, ""), "name": m["name"].where(has, keys)}, index=keys.index)


def normalize(text: str) -> str:
    return normalize_series(pd.Series([text])).iloc[0]


def match_key(text: str) -> str:
    return match_key_series(normalize_series(pd.Series([text]))).iloc[0]
