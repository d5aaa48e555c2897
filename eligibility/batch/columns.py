"""From the user's columns to typed arrays: renaming (`--map`), numbers with a decimal comma, dates.

Every conversion returns the values and, per row, None or a French message naming the column and the
bad value, so one bad cell makes one error row and never stops the batch.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import BadInput


def load_map(path: Path | None) -> dict[str, str]:
    """A renaming {user column: our column} from JSON/YAML ({"Longitude": "lon"}) or a 2-column CSV."""
    if path is None:
        return {}
    path = Path(path)
    if not path.exists():
        raise BadInput("fichier de correspondance des colonnes introuvable", field="--map")
    text = path.read_text(encoding="utf-8-sig")
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            mapping = json.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml

            mapping = yaml.safe_load(text)
        else:
            import csv
            import io

            sep = ";" if text.count(";") >= text.count(",") else ","
            rows = [r for r in csv.reader(io.StringIO(text), delimiter=sep) if r and any(c.strip() for c in r)]
            if rows and [c.strip().lower() for c in rows[0][:2]] in (["source", "cible"], ["from", "to"]):
                rows = rows[1:]
            if any(len(r) != 2 for r in rows):
                raise ValueError("chaque ligne doit avoir deux colonnes : colonne du fichier, colonne attendue")
            mapping = {r[0].strip(): r[1].strip() for r in rows}
    except Exception as exc:  # json, yaml or our own ValueError: all mean the map cannot be used
        raise BadInput(f"correspondance des colonnes illisible : {exc}", field="--map") from None
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise BadInput("la correspondance doit associer des noms de colonnes à des noms de colonnes", field="--map")
    targets = list(mapping.values())
    dup = sorted({t for t in targets if targets.count(t) > 1})
    if dup:
        raise BadInput(f"plusieurs colonnes renommées en « {dup[0]} »", field="--map")
    return mapping


def apply_map(columns: tuple[str, ...], mapping: dict[str, str]) -> dict[str, str]:
    """{input column: name used by the job}; refuses a map that names a column the file lacks."""
    unknown = [k for k in mapping if k not in columns]
    if unknown:
        raise BadInput(f"la colonne « {unknown[0]} » du fichier de correspondance est absente du fichier "
                       f"(colonnes : {', '.join(columns)})", field="--map")
    renamed = {c: mapping.get(c, c) for c in columns}
    names = list(renamed.values())
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise BadInput(f"après renommage, deux colonnes s'appellent « {dup[0]} »", field="--map")
    return renamed


def _messages(mask: np.ndarray, template: str, values) -> np.ndarray:
    """Per row: None, or the message built for the rows in `mask` (error path only)."""
    out = np.full(len(mask), None, dtype=object)
    idx = np.flatnonzero(mask)
    vals = np.asarray(values, dtype=object)
    out[idx] = [template.format(value=str(vals[i])[:80]) for i in idx]
    return out


def _blank(s: pd.Series) -> np.ndarray:
    return (s.isna() | s.astype(str).str.strip().eq("")).to_numpy()


def to_float(s: pd.Series, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """(values, missing, errors, saw_decimal_comma). Accepts 2.35, 2,35, « 1 234,5 » and numeric dtypes."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        v = s.to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(v)
        bad = ~missing & ~np.isfinite(v)
        return v, missing, _messages(bad, f"colonne « {column} » : nombre fini attendu, reçu « {{value}} »", v), False
    # fast path: what pandas parses as it is (C parser); only the rest is cleaned (commas, spaces)
    v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan, copy=True)
    missing = np.zeros(len(s), dtype=bool)
    errors = np.full(len(s), None, dtype=object)
    comma_seen = False
    retry = np.flatnonzero(np.isnan(v))
    if len(retry):
        sub = s.iloc[retry]
        text = sub.astype(object).where(sub.notna(), "").astype(str).str.strip()
        blank = (text == "").to_numpy()
        missing[retry[blank]] = True
        cleaned = text.str.replace(r"[\s\u00a0\u202f]", "", regex=True)
        comma = cleaned.str.contains(",", regex=False).to_numpy()
        cleaned = cleaned.where(~(comma & ~cleaned.str.contains(".", regex=False).to_numpy()),
                                cleaned.str.replace(",", ".", regex=False))
        w = pd.to_numeric(cleaned.where(~blank, None), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        v[retry] = w
        comma_seen = bool((comma & np.isfinite(w)).any())
        bad = ~blank & ~np.isfinite(w)
        errors[retry] = _messages(bad, f"colonne « {column} » : nombre attendu, reçu « {{value}} »", text.to_numpy())
    bad = ~missing & ~np.isfinite(v)  # also "inf" typed as such
    errors = first_error(errors, _messages(bad, f"colonne « {column} » : nombre fini attendu, reçu « {{value}} »",
                                           s.to_numpy(dtype=object)))
    v[bad] = np.nan
    return v, missing, errors, comma_seen


def to_date(s: pd.Series, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(datetime64[D] values, missing, errors). Accepts AAAA-MM-JJ, JJ/MM/AAAA and date dtypes."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        v = s.to_numpy(dtype="datetime64[D]")
        missing = np.isnat(v)
        return v, missing, np.full(len(s), None, dtype=object)
    missing = _blank(s)
    text = s.astype(str).str.strip()
    iso = pd.to_datetime(text.where(~missing, None), format="%Y-%m-%d", errors="coerce")
    fr = pd.to_datetime(text.where(~missing & iso.isna().to_numpy(), None), format="%d/%m/%Y", errors="coerce")
    v = iso.fillna(fr).to_numpy(dtype="datetime64[D]")
    bad = ~missing & np.isnat(v)
    errors = _messages(bad, f"colonne « {column} » : date invalide « {{value}} » (attendu AAAA-MM-JJ ou JJ/MM/AAAA)",
                       text.to_numpy())
    return v, missing, errors


def first_error(*per_row: np.ndarray) -> np.ndarray:
    """Per row, the first non-None message among several error arrays (None where all are None)."""
    out = np.full(len(per_row[0]), None, dtype=object)
    for errs in per_row:
        take = np.equal(out, None) & ~np.equal(errs, None)
        out[take] = errs[take]
    return out
