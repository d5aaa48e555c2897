"""Read INSEE Filosofi 200 m carreaux files as INSEE publishes them, and the bundled extracts.

INSEE's files (2015-2021) name the id `idcar_200m` (2015: `Idcar_200m`, capitalised columns), use `;`
or `,`, and give per carreau `ind` (individuals) and `ind_snv` (sum of winsorised niveaux de vie).
Only inhabited carreaux are listed. The income statistic of the decree is the *median declared income
per UC* (art. 2 I 3°), which INSEE does not publish per carreau: a caller who has it names its column;
otherwise the labelled proxy `ind_snv / ind` (mean niveau de vie) is used, and says so everywhere.
"""
from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..datasets import dataset, sha256_file, verified_path
from ..errors import BadInput
from ..geography.carreaux import _ID, parse_ids

PROXY = "ind_snv/ind"
PROXY_LABEL = (
    "proxy open data : niveau de vie moyen du carreau (ind_snv / ind, Filosofi), pas le revenu déclaré "
    "médian par unité de consommation du décret (art. 2 I 3°)"
)
DATASET_PREFIX = "filosofi2019_carreaux_"


@dataclasses.dataclass(frozen=True)
class Carreaux:
    """Inhabited carreaux of one grid, as parallel arrays (row order of the file)."""

    ids: np.ndarray          # INSPIRE ids (object)
    easting: np.ndarray      # lower-left corners, int64, grid CRS
    northing: np.ndarray
    epsg: int
    size: int
    population: np.ndarray   # `ind`, float (INSEE's values can be fractional)
    income: np.ndarray       # the income statistic per carreau, NaN when unknown
    income_column: str       # PROXY or the caller's column
    income_label: str
    imputed: np.ndarray | None   # `i_est_200` == 1 (INSEE's imputed carreaux), when given
    communes: np.ndarray | None  # `lcog_geo` (commune codes run together), when given
    source: dict[str, Any]

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, index: np.ndarray) -> "Carreaux":
        """A subset (or reordering) of the carreaux, same metadata."""
        pick = lambda a: None if a is None else a[index]  # noqa: E731
        return dataclasses.replace(
            self, ids=self.ids[index], easting=self.easting[index], northing=self.northing[index],
            population=self.population[index], income=self.income[index], imputed=pick(self.imputed),
            communes=pick(self.communes),
        )


def _open(source: str | Path) -> tuple[Path, dict[str, Any]]:
    text = str(source)
    if text.startswith(DATASET_PREFIX) and not Path(text).exists():
        path = verified_path(text)
        return path, dataset(text).provenance([path.name])
    path = Path(text)
    if not path.is_file():
        raise BadInput(f"fichier de carreaux introuvable : {path}", field="carreaux")
    return path, {"path": str(path), "sha256": sha256_file(path)}


def _header(path: Path) -> tuple[str, list[str]]:
    """Separator (`;` or `,`) and column names of the file's first line."""
    with path.open("r", encoding="utf-8-sig", errors="replace") as f:
        head = f.readline()
    try:
        sep = csv.Sniffer().sniff(head, delimiters=";,").delimiter
    except csv.Error:
        raise BadInput(f"{path.name} : séparateur introuvable (attendu « ; » ou « , »)", field="carreaux") from None
    return sep, [c.strip().strip('"') for c in head.rstrip("\r\n").split(sep)]


def _read_table(path: Path, wanted: set[str]) -> pd.DataFrame:
    """The wanted columns (matched case-insensitively), ids and communes as text, lower-case names.

    Arrow's multi-threaded CSV reader: INSEE's national file (2.3 million rows) reads in seconds.
    """
    sep, names = _header(path)
    use = [n for n in names if n.lower() in wanted]
    text = {n: str for n in use if n.lower() in ("idcar_200m", "lcog_geo")}
    try:
        df = pd.read_csv(path, sep=sep, engine="pyarrow", usecols=use, dtype=text, encoding="utf-8-sig")
    except Exception as exc:  # noqa: BLE001 - pyarrow raises its own error types on malformed CSV
        raise BadInput(f"{path.name} : fichier CSV illisible ({exc})", field="carreaux") from None
    df.columns = [c.lower() for c in df.columns]
    return df


def _numeric(df: pd.DataFrame, col: str, name: str) -> np.ndarray:
    """A column as floats (NaN where empty); a decimal comma is accepted; anything else names its row."""
    if pd.api.types.is_numeric_dtype(df[col]):
        return df[col].to_numpy(dtype=float, copy=True)
    raw = df[col].astype("string").fillna("").str.strip()
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, copy=True)
    bad = np.isnan(values) & (raw != "").to_numpy()
    if bad.any():  # decimal commas (« 12,5 ») or garbage
        values[bad] = pd.to_numeric(raw[bad].str.replace(",", ".", regex=False), errors="coerce").to_numpy(dtype=float)
        bad &= np.isnan(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise BadInput(f"{name} : valeur non numérique « {raw.iloc[i]} »", field=col, row=i + 1)
    return values


def read_carreaux(source: str | Path, income_column: str | None = None) -> Carreaux:
    """Read a Filosofi carreaux file (a path, or a bundled dataset id `filosofi2019_carreaux_<town>`).

    `income_column`: the column holding the median declared income per UC of each carreau; None (or
    "ind_snv/ind") selects the labelled proxy mean niveau de vie.
    """
    path, provenance = _open(source)
    wanted = {"idcar_200m", "ind", "ind_snv", "i_est_200", "lcog_geo"}  # INSEE's national file has ~30 columns
    if income_column is not None:
        wanted.add(income_column.strip().lower())
    df = _read_table(path, wanted)
    for col in ("idcar_200m", "ind"):
        if col not in df.columns:
            raise BadInput(f"{path.name} : colonne « {col} » absente", field="carreaux")
    if df.empty:
        raise BadInput(f"{path.name} : aucun carreau", field="carreaux")

    ids = df["idcar_200m"].fillna("").str.strip().to_numpy(dtype=object)
    try:
        epsg, size, easting, northing = parse_ids(ids)
    except BadInput:  # error path only: find the row to name it
        ok = pd.Series(ids).str.fullmatch(_ID.pattern, flags=re.IGNORECASE).to_numpy(dtype=bool)
        i = int(np.flatnonzero(~ok)[0])
        raise BadInput(f"identifiant de carreau invalide « {ids[i]} » : attendu CRS3035RES200mN…E…",
                       field="idcar_200m", row=i + 1) from None
    misaligned = (easting % size != 0) | (northing % size != 0)
    if misaligned.any():
        i = int(np.flatnonzero(misaligned)[0])
        raise BadInput(f"carreau « {ids[i]} » : coin non aligné sur la grille de {size[i]} m", field="idcar_200m", row=i + 1)
    if len(np.unique(epsg)) != 1 or len(np.unique(size)) != 1:
        raise BadInput(f"{path.name} : plusieurs grilles mêlées (EPSG {sorted(set(epsg.tolist()))}, "
                       f"tailles {sorted(set(size.tolist()))})", field="idcar_200m")
    dup = pd.Series(ids).duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise BadInput(f"carreau « {ids[i]} » présent deux fois", field="idcar_200m", row=i + 1)

    population = _numeric(df, "ind", "population")
    if (np.isnan(population) | (population < 0)).any():
        i = int(np.flatnonzero(np.isnan(population) | (population < 0))[0])
        raise BadInput("population absente ou négative", field="ind", row=i + 1)

    if income_column is None or income_column.strip().lower() == PROXY:
        if "ind_snv" not in df.columns:
            raise BadInput(f"{path.name} : colonne « ind_snv » absente ; le proxy ind_snv / ind est impossible, "
                           "indiquez la colonne du revenu médian avec --income-column", field="income_column")
        snv = _numeric(df, "ind_snv", "somme des niveaux de vie")
        with np.errstate(divide="ignore", invalid="ignore"):
            income = np.where(population > 0, snv / population, np.nan)
        column, label = PROXY, PROXY_LABEL
    else:
        column = income_column.strip().lower()
        if column not in df.columns:
            raise BadInput(f"{path.name} : colonne « {income_column} » absente", field="income_column")
        income = _numeric(df, column, "revenu médian")
        label = f"revenu déclaré médian par unité de consommation, colonne « {column} » fournie par l'appelant"

    imputed = _numeric(df, "i_est_200", "i_est_200") == 1 if "i_est_200" in df.columns else None
    communes = df["lcog_geo"].fillna("").str.strip().to_numpy(dtype=object) if "lcog_geo" in df.columns else None
    return Carreaux(
        ids=np.asarray(ids, dtype=object), easting=easting, northing=northing, epsg=int(epsg[0]), size=int(size[0]),
        population=population, income=income, income_column=column, income_label=label,
        imputed=imputed, communes=communes, source=provenance,
    )


def bundled_extracts() -> list[str]:
    """Dataset ids of the bundled Filosofi carreaux extracts (from the manifest, in its order)."""
    from ..datasets import manifest

    return [d.id for d in manifest().datasets if d.id.startswith(DATASET_PREFIX)]


__all__ = ["Carreaux", "PROXY", "PROXY_LABEL", "read_carreaux", "bundled_extracts"]
