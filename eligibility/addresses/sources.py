"""Readers for the address files users can download, into one table of address points.

- BAN CSV (`adresses-XX.csv`, `;`): id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;…;lon;lat;…
- Base Adresse Locale, BAL 1.3/1.4 (`;`): cle_interop;…;voie_nom;lieudit_complement_nom;numero;suffixe;
  [commune_insee;commune_nom;…];long;lat;…  (numero 99999 is a lieu-dit without number; 1.2 has no
  commune_insee, the code is then the first 5 characters of cle_interop).
- BANO (`bano-XX.csv`, `,`, no header): id,numero,voie,code_post,nom_comm,source,lat,lon, the INSEE code is
  id[:5]. Some files carry their header as the LAST line, with a BOM (bano-82 of 2014): it is dropped.

Every reader returns POINT_COLUMNS; `read_address_file` sniffs the format from the first line.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import BadInput
from .normalize import normalize_series
from .parse import INDICES

POINT_COLUMNS = ["insee", "numero", "indice", "voie", "postcode", "lon", "lat", "source", "record_id"]
NO_NUMBER = 99999  # BAL: a named place (toponyme) without a house number
BANO_COLUMNS = ["id", "numero", "voie", "code_post", "nom_comm", "source", "lat", "lon"]


def _open_text(path: Path):
    opener = gzip.open if path.suffix == ".gz" else open
    return opener(path, "rt", encoding="utf-8-sig", newline="")


def split_house_number(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """« 9BIS », « 24 A », « 12 » -> (numero, indice) with the indice normalised (B -> B, bis -> BIS)."""
    norm = normalize_series(values.astype(str))
    m = norm.str.extract(r"^(?P<n>\d{1,6})\s*(?P<i>" + "|".join(INDICES) + r"|[A-Z])?\b")
    numero = pd.to_numeric(m["n"], errors="coerce").fillna(-1).astype(np.int64).to_numpy()
    return numero, m["i"].fillna("")


def _finish(df: pd.DataFrame, fmt: str, path: Path) -> pd.DataFrame:
    df = df.copy()
    df["lon"] = pd.to_numeric(df["lon"], errors="coerce")
    df["lat"] = pd.to_numeric(df["lat"], errors="coerce")
    ok = df["lon"].between(-180, 180) & df["lat"].between(-90, 90) & df["voie"].fillna("").str.strip().ne("")
    ok &= df["insee"].fillna("").str.fullmatch(r"[0-9][0-9AB][0-9]{3}")
    df = df[ok]
    if df.empty:
        raise BadInput(f"aucun point adresse lisible dans {path} (format {fmt})", field="FILE")
    df["postcode"] = df["postcode"].fillna("").astype(str).str.strip().str.zfill(5).replace("00000", "")
    return df[POINT_COLUMNS].reset_index(drop=True)


def read_bano(path: Path) -> pd.DataFrame:
    with _open_text(path) as f:
        df = pd.read_csv(f, header=None, names=BANO_COLUMNS, dtype=str, keep_default_na=False)
    df = df[~df["id"].str.lstrip("\ufeff").eq("id")]  # a header row, wherever it is (bano-82: last line)
    numero, indice = split_house_number(df["numero"])
    return _finish(pd.DataFrame({
        "insee": df["id"].str[:5], "numero": numero, "indice": indice.to_numpy(), "voie": df["voie"],
        "postcode": df["code_post"], "lon": df["lon"], "lat": df["lat"],
        "source": "BANO:" + df["source"], "record_id": df["id"],
    }), "BANO", path)


def read_ban(path: Path) -> pd.DataFrame:
    with _open_text(path) as f:
        df = pd.read_csv(f, sep=";", dtype=str, keep_default_na=False)
    numero, _ = split_house_number(df["numero"])
    indice = normalize_series(df.get("rep", pd.Series("", index=df.index)))
    return _finish(pd.DataFrame({
        "insee": df["code_insee"], "numero": numero, "indice": indice.to_numpy(), "voie": df["nom_voie"],
        "postcode": df["code_postal"], "lon": df["lon"], "lat": df["lat"],
        "source": "BAN:" + df.get("source_position", pd.Series("", index=df.index)), "record_id": df["id"],
    }), "BAN", path)


def read_bal(path: Path) -> pd.DataFrame:
    with _open_text(path) as f:
        df = pd.read_csv(f, sep=";", dtype=str, keep_default_na=False)
    numero, _ = split_house_number(df["numero"])
    numero = np.where(numero == NO_NUMBER, -1, numero)
    insee = df["commune_insee"] if "commune_insee" in df else df["cle_interop"].str[:5]
    lon = df["long"] if "long" in df else df["lon"]
    return _finish(pd.DataFrame({
        "insee": insee.str.upper(), "numero": numero,
        "indice": normalize_series(df.get("suffixe", pd.Series("", index=df.index))).to_numpy(),
        "voie": df["voie_nom"], "postcode": "", "lon": lon, "lat": df["lat"],
        "source": "BAL:" + df.get("source", pd.Series("", index=df.index)), "record_id": df["cle_interop"],
    }), "BAL", path)


def sniff_format(path: Path) -> str:
    """'ban', 'bal' or 'bano' from the first line of the file."""
    try:
        with _open_text(path) as f:
            first = f.readline().strip().lower()
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as exc:
        raise BadInput(f"fichier d'adresses illisible : {path} ({exc})", field="FILE") from None
    if "cle_interop" in first:
        return "bal"
    if first.startswith("id;") and "nom_voie" in first:
        return "ban"
    if first.count(",") >= 7 and (first.startswith("id,") or first[:5].isalnum()):
        return "bano"
    raise BadInput(
        f"format non reconnu pour {path} : attendu un CSV BAN (adresses-XX.csv), une BAL 1.3/1.4 "
        f"ou un fichier BANO ; première ligne « {first[:80]} »", field="FILE")


READERS = {"ban": read_ban, "bal": read_bal, "bano": read_bano}


def read_address_file(path: str | Path) -> tuple[str, pd.DataFrame]:
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"fichier introuvable : {path}", field="FILE")
    fmt = sniff_format(path)
    try:
        return fmt, READERS[fmt](path)
    except (KeyError, ValueError, pd.errors.ParserError) as exc:
        if isinstance(exc, BadInput):
            raise
        raise BadInput(f"fichier {fmt.upper()} mal formé : {path} ({exc})", field="FILE") from None
