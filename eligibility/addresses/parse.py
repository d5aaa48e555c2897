"""Parsing French postal addresses into house number, street, lieu-dit, postal code and town.

Input is free text, one address per element, its lines separated by newlines, commas or semicolons
(« 5 place des Cordeliers, BP 122, 04004 Digne-les-Bains CEDEX »). Lines are classified the way
a postal address is written (NF Z 10-011): complément lines (bâtiment, escalier, appartement, chez…)
and boîte postale lines (BP, CS, TSA) are set aside; CEDEX marks the postal code as a mail code, not a
place; the line with the postal code carries the town; a line starting with a number is the street.

Everything runs on pandas Series: lines are exploded into one long Series, classified with regular
expressions, and gathered back per address.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .normalize import TYPE_WORDS, normalize_series

INDICES = ("BIS", "TER", "QUATER", "QUINQUIES", "SEXIES")
_LINE_SEP = re.compile(r"\r\n|[\n\r,;]")
_BOITE = re.compile(r"\b(?:BP|B P|BOITE POSTALE|CS|TSA|CASE POSTALE)\s*\d+\b")
_CEDEX = re.compile(r"\bCEDEX(?:\s+\d{1,2})?\b")
_COMPLEMENT = re.compile(
    r"^(?:BATIMENT|BAT|ESCALIER|ESC|APPARTEMENT|APPT|APT|ETAGE|ENTREE|IMMEUBLE|IMM|CHEZ|C O|PORTE|"
    r"LOGEMENT|LGT|BUREAU|SERVICE|MAIRIE|HOTEL|POSTE|COLLEGE|LYCEE|ECOLE)\b"
)
# The last 5-digit group that follows some text is the postal code; what follows it is the town.
_POSTCODE = re.compile(r"^(?P<before>.*\S)?\s*\b(?P<postcode>\d{5})\b\s*(?P<town>[A-Z][A-Z0-9 ]*)?$")
# House number, optional range (« 1 3 » from « 1-3 », « 1 ET 3 »), optional indice de répétition.
# L and D are elided articles (« 1 L ECLUSE ») unless a street type follows (« 147 D AVENUE … » is 147 D).
_NUMBER = re.compile(
    r"^(?P<numero>\d{1,5})(?:\s+(?:ET\s+|A\s+|AU\s+)?\d{1,5}(?=\s+[A-Z]))?"
    r"(?:\s+(?P<indice>" + "|".join(INDICES) + r"|[A-CE-KM-Z]|[DL](?=\s+(?:"
    + "|".join(map(re.escape, TYPE_WORDS)) + r")\b))(?=\s|$))?\s+(?P<rest>\D.*)$"
)

COLUMNS = ["numero", "indice", "street", "lieu_dit", "postcode", "town", "cedex", "boite_postale", "complement"]


def _first(lines: pd.DataFrame, mask: pd.Series, col: str, n: int) -> pd.Series:
    """The first line (in input order) matching `mask` for each address, as a Series indexed 0..n-1."""
    picked = lines.loc[mask, ["addr", col]].drop_duplicates("addr")
    return picked.set_index("addr")[col].reindex(range(n))


def split_number(street: pd.Series) -> pd.DataFrame:
    """Leading house number and indice of normalised street lines: numero (-1 if none), indice, rest."""
    m = street.str.extract(_NUMBER)
    has = m["numero"].notna()
    return pd.DataFrame({
        "numero": np.where(has, pd.to_numeric(m["numero"], errors="coerce").fillna(-1), -1).astype(np.int64),
        "indice": m["indice"].fillna("").where(has, ""),
        "rest": m["rest"].where(has, street).fillna(""),
    }, index=street.index)


def parse_addresses(texts) -> pd.DataFrame:
    """One row per input text, columns COLUMNS (normalised strings; numero -1 when absent)."""
    texts = pd.Series(list(texts), dtype=object).fillna("").astype(str)
    n = len(texts)
    lines = texts.str.split(_LINE_SEP, regex=True).explode()
    lines = pd.DataFrame({"addr": lines.index.to_numpy(), "raw": lines.to_numpy()})
    norm = normalize_series(lines["raw"])

    boite = norm.str.extract(f"({_BOITE.pattern})")[0]
    norm = norm.str.replace(_BOITE, " ", regex=True)
    cedex = norm.str.contains(_CEDEX, regex=True)
    norm = norm.str.replace(_CEDEX, " ", regex=True).str.replace(r"\s+", " ", regex=True).str.strip()

    pc = norm.str.extract(_POSTCODE)
    starts_numbered = norm.str.match(r"^\d{1,5}\s+\D")
    n_lines = lines.groupby("addr")["raw"].transform("size")
    # « 10250 ROUTE DE … » (metric numbering) is a house number, not a postal code: a postal code follows
    # some text on its line, or has a line of its own below the street. The last such line is the one.
    candidate = pc["postcode"].notna() & (pc["before"].notna() | ~starts_numbered | (n_lines > 1))
    cand_pos = pd.Series(np.where(candidate, np.arange(len(lines)), -1))
    is_pc = candidate & (cand_pos == cand_pos.groupby(lines["addr"]).transform("max"))
    lines["norm"] = norm
    lines["before"] = pc["before"].fillna("").where(is_pc, norm)
    lines["postcode"] = pc["postcode"].where(is_pc)
    lines["town"] = pc["town"].fillna("").str.strip().where(is_pc)
    lines["cedex"] = cedex
    lines["boite"] = boite
    lines["complement"] = norm.where(norm.str.match(_COMPLEMENT))
    content = lines["before"].str.strip()
    is_compl = lines["complement"].notna() & ~is_pc
    lines["content"] = content.where(~is_compl & (content != ""))
    lines["numbered"] = lines["content"].str.match(r"^\d{1,5}\s+\D").fillna(False).astype(bool)

    postcode = _first(lines, lines["postcode"].notna(), "postcode", n)
    town = _first(lines, lines["postcode"].notna(), "town", n)
    # The street is the first numbered line, else the first other content line; the next one is the lieu-dit.
    has_content = lines["content"].notna()
    street_numbered = _first(lines, has_content & lines["numbered"], "content", n)
    street_any = _first(lines, has_content, "content", n)
    street = street_numbered.fillna(street_any).fillna("")
    chosen = lines["addr"].map(street).eq(lines["content"])
    lieu_dit = _first(lines, has_content & ~chosen, "content", n).fillna("")
    num = split_number(street)
    out = pd.DataFrame({
        "numero": num["numero"],
        "indice": num["indice"],
        "street": num["rest"],
        "lieu_dit": lieu_dit,
        "postcode": postcode.fillna(""),
        "town": town.fillna(""),
        "cedex": lines.groupby("addr")["cedex"].any().reindex(range(n), fill_value=False),
        "boite_postale": _first(lines, lines["boite"].notna(), "boite", n).fillna(""),
        "complement": _first(lines, lines["complement"].notna(), "complement", n).fillna(""),
    })
    out.index = range(n)
    return out


def normalized_label(parsed: pd.DataFrame) -> pd.Series:
    """The normalised form recorded in traces: « 12 BIS RUE X, LIEU DIT, 04100 MANOSQUE »."""
    num = parsed["numero"].astype(str).where(parsed["numero"] >= 0, "")
    head = (num + " " + parsed["indice"] + " " + parsed["street"]).str.replace(r"\s+", " ", regex=True).str.strip()
    place = (parsed["postcode"] + " " + parsed["town"] + np.where(parsed["cedex"], " CEDEX", "")).str.strip()
    out = head
    for part in (parsed["lieu_dit"], place):
        sep = np.where((out != "") & (part != ""), ", ", "")
        out = out + sep + part
    return out
