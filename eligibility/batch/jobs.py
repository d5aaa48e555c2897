"""What a batch does to one chunk of rows: `LocateJob` (points → quartier) and `EvaluateJob` (facts →
decision). A job is a small picklable value, so the same `run(chunk)` runs here or on a Dask worker.

`run` returns one output row per input row, in order: rows that are broken or hold a bad value carry
an `error` message and no answer; the others carry the answer of the vectorised engine for the whole
chunk at once.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import BadInput
from .columns import first_error, to_date, to_float

# output column kinds: "int" (row), "float" (amounts, distances), "str"
LOCATE_COLUMNS = [
    ("row", "int"), ("status", "str"), ("reason", "str"), ("quartier_code", "str"), ("quartier_name", "str"), ("vintage", "str"),
    ("commune_code", "str"), ("commune_name", "str"), ("departement", "str"), ("region", "str"),
    ("distance_to_boundary_m", "float"), ("carreau", "str"), ("error", "str"),
]
ADDRESS_PARTS = ("numero", "voie", "code_postal", "commune")


@dataclass
class ChunkResult:
    frame: pd.DataFrame          # output columns of the job, one row per input row
    traces: list[str] | None     # JSON lines (without newline), one per input row, when asked
    counts: dict[str, int]       # rows per status / outcome (and "error"), for the summary
    notes: list[str] = field(default_factory=list)  # what was detected, e.g. a decimal comma


def _geography():
    from ..geography import locate_points

    return locate_points


def _rules():
    from .. import rules

    return rules


def _row_numbers(chunk) -> np.ndarray:
    return np.arange(chunk.first_row, chunk.first_row + chunk.n_rows, dtype=np.int64)


def _counts(labels: np.ndarray) -> dict[str, int]:
    counts = pd.Series(labels, dtype=object).value_counts(sort=False)  # hashing, no sort of strings
    return {str(k): int(v) for k, v in sorted(counts.items(), key=lambda kv: str(kv[0]))}


def _error_trace(row: int, message: str) -> dict:
    return {"row": int(row), "error": message}


def check_keep(keep: tuple[str, ...], renamed: dict[str, str], columns) -> None:
    """`--keep` names input columns to copy to the output (an identifier, a name…)."""
    taken = {name for name, _ in columns}
    for k in keep:
        if k not in renamed:
            raise BadInput(f"colonne « {k} » absente du fichier (colonnes : {', '.join(renamed)})", field="--keep")
        if k in taken:
            raise BadInput(f"la colonne « {k} » porte le nom d'une colonne de résultat", field="--keep")


def with_kept(columns, keep: tuple[str, ...]):
    """Output columns: row, the kept input columns, then the job's answer columns."""
    return columns[:1] + [(k, "str") for k in keep] + columns[1:]


def fill_kept(out: dict, raw: pd.DataFrame, good: np.ndarray, keep: tuple[str, ...]) -> None:
    for k in keep:
        s = raw[k]
        out[k][good] = s.astype(object).where(s.notna(), None).astype(str).where(s.notna(), None).to_numpy(dtype=object)


@dataclass(frozen=True)
class LocateJob:
    """`qpv batch locate`: columns lon, lat (WGS84) or x, y (Lambert-93), optional date."""

    renamed: dict[str, str]              # input column -> our name
    date: dt.date | None = None          # for rows without a date column / value
    tolerance_m: float = 15.0
    traces: bool = False
    keep: tuple[str, ...] = ()
    fields: tuple[str, ...] | None = None  # answer columns to compute (None: all); the rest is never computed
    kind: str = "locate"

    def __post_init__(self):
        names = set(self.renamed.values())
        if not ({"lon", "lat"} <= names or {"x", "y"} <= names or "address" in names
                or set(ADDRESS_PARTS) <= names):
            raise BadInput("colonnes de position absentes : il faut lon et lat (WGS84), ou x et y (Lambert-93) "
                           f"(colonnes lues : {', '.join(self.renamed)}) ; --map permet de renommer les vôtres",
                           field="colonnes")
        check_keep(self.keep, self.renamed, LOCATE_COLUMNS)
        known = [name for name, _ in LOCATE_COLUMNS[1:-1]]
        for f in self.fields or ():
            if f not in known:
                raise BadInput(f"champ « {f} » inconnu (champs : {', '.join(known)})", field="--fields")
        if "date" not in names and self.date is None:
            raise BadInput("date manquante : ajoutez une colonne « date » ou l'option --date AAAA-MM-JJ "
                           "(la date décide du millésime des périmètres)", field="--date")

    @property
    def columns(self):
        answers = [c for c in LOCATE_COLUMNS[1:-1] if self.fields is None or c[0] in self.fields or c[0] == "status"]
        return with_kept(LOCATE_COLUMNS[:1] + answers + LOCATE_COLUMNS[-1:], self.keep)

    def describe(self) -> dict:
        return {"kind": self.kind, "date": self.date.isoformat() if self.date else None,
                "tolerance_m": self.tolerance_m, "map": self.renamed, "keep": list(self.keep),
                "fields": list(self.fields) if self.fields is not None else None}

    def warm(self) -> None:
        """Load the verified perimeters and indexes in this process (once per Dask worker)."""
        _geography()([2.35], [48.85], self.date or dt.date(2025, 1, 1))

    def run(self, chunk) -> ChunkResult:
        raw = chunk.frame()
        df = raw.rename(columns=self.renamed)
        good = np.flatnonzero(np.equal(chunk.errors, None))
        errors = chunk.errors.copy()
        place_errors, locate, notes = self._places(df)
        dates, d_err = self._dates(df)
        row_err = first_error(*place_errors, d_err)
        errors[good] = row_err
        ok = np.flatnonzero(np.equal(row_err, None))  # positions in df
        out = _empty_output(self.columns, chunk.n_rows)  # column -> numpy array, filled in place
        out["row"] = _row_numbers(chunk)
        fill_kept(out, raw, good, self.keep)
        res = None
        if len(ok):
            res = locate(ok, dates[ok])
            at = good[ok]
            for name, kind in self.columns:
                if name in ("row", "error") or name in self.keep:
                    continue
                values = np.asarray(getattr(res, name))  # extra columns are computed on first access
                out[name][at] = values.astype(float) if kind == "float" else values
        out["error"] = errors
        out["status"][~np.equal(errors, None)] = "error"
        traces = None
        if self.traces:
            traces = _trace_lines(chunk, errors, good[ok], lambda j: res.row(j))
        return ChunkResult(pd.DataFrame(out), traces, _counts(out["status"]), notes)

    def _places(self, df):
        """(per-row error arrays, locate(rows, dates) -> LocateResult, notes) for the place columns:
        lon/lat or x/y points, else addresses through the address domain's geocoder."""
        names = set(df.columns)
        if {"lon", "lat"} <= names or {"x", "y"} <= names:
            xc, yc, crs = ("lon", "lat", "EPSG:4326") if {"lon", "lat"} <= names else ("x", "y", "EPSG:2154")
            x, x_missing, x_err, x_comma = to_float(df[xc], xc)
            y, y_missing, y_err, y_comma = to_float(df[yc], yc)
            notes = [f"virgule décimale dans « {c} »" for c, seen in ((xc, x_comma), (yc, y_comma)) if seen]
            errors = [x_err, y_err, _missing_coordinate(x_missing | y_missing), _out_of_range(x, y, crs)]
            return errors, lambda rows, d: _geography()(x[rows], y[rows], d, crs=crs,
                                                        tolerance_m=self.tolerance_m), notes
        from ..addresses import compose_address, locate_addresses

        texts = compose_address(df).str.strip().to_numpy(dtype=object)
        blank = _messages_where(texts == "", "adresse manquante")
        return [blank], lambda rows, d: locate_addresses(texts[rows], d, tolerance_m=self.tolerance_m), \
            ["adresses géocodées par l'index local (BAN/BAL/BANO)"]

    def _dates(self, df):
        n = len(df)
        if "date" in df.columns:
            v, missing, err = to_date(df["date"], "date")
            if self.date is not None:
                v[missing] = np.datetime64(self.date, "D")
            else:
                err = first_error(err, _messages_where(missing, "colonne « date » vide et pas d'option --date"))
            v = np.where(np.isnat(v), np.datetime64("1970-01-01", "D"), v)  # only error rows are NaT
            return v, err
        return np.full(n, np.datetime64(self.date, "D")), np.full(n, None, dtype=object)


def _messages_where(mask: np.ndarray, message: str) -> np.ndarray:
    out = np.full(len(mask), None, dtype=object)
    out[mask] = message
    return out


def _missing_coordinate(mask):
    return _messages_where(mask, "coordonnée manquante")


def _out_of_range(x, y, crs):
    with np.errstate(invalid="ignore"):
        if crs == "EPSG:4326":
            bad = (np.abs(x) > 180) | (np.abs(y) > 90)
            msg = "coordonnées hors limites : longitude dans [-180, 180] et latitude dans [-90, 90] attendues"
        else:
            bad = (x < -400_000) | (x > 1_700_000) | (y < 5_900_000) | (y > 7_300_000)  # as geography.locate
            msg = "coordonnées Lambert-93 hors de la France métropolitaine (x, y en mètres, EPSG:2154)"
    return _messages_where(bad & np.isfinite(x) & np.isfinite(y), msg)


def _empty_output(columns, n) -> dict[str, np.ndarray]:
    data = {}
    for name, kind in columns:
        if kind == "int":
            data[name] = np.zeros(n, dtype=np.int64)
        elif kind == "float":
            data[name] = np.full(n, np.nan)
        else:
            data[name] = np.full(n, None, dtype=object)
    return data


def _trace_lines(chunk, errors, answered, row_json) -> list[str]:
    """One JSON line per input row: the engine's own single-row JSON (answered rows) or the error."""
    from qpv_cli.common import to_json  # the one deterministic JSON encoder of the project

    rows = _row_numbers(chunk)
    lines = [None] * chunk.n_rows
    for j, pos in enumerate(answered):  # only when --traces is asked: a trace is per-row by nature
        lines[pos] = to_json({"row": int(rows[pos]), **row_json(j)})
    for pos in np.flatnonzero(~np.equal(errors, None)):
        lines[pos] = to_json(_error_trace(rows[pos], errors[pos]))
    return lines
