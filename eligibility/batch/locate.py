"""`qpv batch locate`: each row's place (lon/lat, Lambert-93 x/y, or an address) → quartier at a date."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from ..errors import BadInput
from . import jobs
from .columns import first_error, to_date, to_float
from .jobs import (
    ChunkResult,
    answer_table,
    check_keep,
    counts_of_coded,
    kept_text,
    row_numbers,
    trace_lines,
    with_kept,
    with_lines,
)
from .messages import has_message, is_none, messages_where, no_messages

# output column kinds: "int" (row), "float" (distances), "str"
LOCATE_COLUMNS = [
    ("row", "int"), ("status", "str"), ("reason", "str"), ("quartier_code", "str"), ("quartier_name", "str"),
    ("vintage", "str"), ("commune_code", "str"), ("commune_name", "str"), ("departement", "str"), ("region", "str"),
    ("distance_to_boundary_m", "float"), ("carreau", "str"), ("error", "str"),
]
ADDRESS_PARTS = ("numero", "voie", "code_postal", "commune")


@dataclass(frozen=True)
class LocateJob:
    """`qpv batch locate`: columns lon, lat (WGS84) or x, y (Lambert-93), optional date."""

    renamed: dict[str, str]              # input column -> our name
    date: dt.date | None = None          # for rows without a date column / value
    tolerance_m: float | None = None     # None: each perimeter file's own (twice its declared precision)
    traces: bool = False
    keep: tuple[str, ...] = ()
    fields: tuple[str, ...] | None = None  # answer columns to compute (None: all); the rest is never computed
    kind: str = "locate"
    layers: tuple = field(default_factory=jobs.imported_layers)  # travels to Dask workers with the job
    zonings: tuple[str, ...] = field(default_factory=jobs.zoning_layers)  # a `zones` column when any

    def __post_init__(self):
        names = set(self.renamed.values())
        if not ({"lon", "lat"} <= names or {"x", "y"} <= names or "address" in names
                or set(ADDRESS_PARTS) <= names):
            raise BadInput("colonnes de position absentes : il faut lon et lat (WGS84), ou x et y (Lambert-93) "
                           f"(colonnes lues : {', '.join(self.renamed)}) ; --map permet de renommer les vôtres",
                           field="colonnes")
        check_keep(self.keep, self.renamed, LOCATE_COLUMNS)
        known = [name for name, _ in self._answer_columns()]
        for f in self.fields or ():
            if f not in known:
                raise BadInput(f"champ « {f} » inconnu (champs : {', '.join(known)})", field="--fields")
        if "date" not in names and self.date is None:
            raise BadInput("date manquante : ajoutez une colonne « date » ou l'option --date AAAA-MM-JJ "
                           "(la date décide du millésime des périmètres)", field="--date")

    def _answer_columns(self):
        return LOCATE_COLUMNS[1:-1] + ([("zones", "str")] if self.zonings else [])

    @property
    def columns(self):
        answers = [c for c in self._answer_columns() if self.fields is None or c[0] in self.fields or c[0] == "status"]
        return with_kept(LOCATE_COLUMNS[:1] + answers + LOCATE_COLUMNS[-1:], self.keep)

    def describe(self) -> dict:
        return {"kind": self.kind, "date": self.date.isoformat() if self.date else None,
                "tolerance_m": self.tolerance_m, "map": self.renamed, "keep": list(self.keep),
                "fields": list(self.fields) if self.fields is not None else None,
                "layers": list(self.layers[1])}

    def warm(self) -> None:
        """Load the verified perimeters and indexes in this process (once per Dask worker)."""
        jobs.require_layers(self.layers)
        jobs.geography()([2.35], [48.85], self.date or dt.date(2025, 1, 1))

    def warm_all(self) -> None:
        """`warm`, and every index this job's columns can need, before worker processes are forked."""
        from ..geography import index

        self.warm()
        names = {name for name, _ in self.columns}
        # the boundary cells for every field set: besides distances, they answer the exact tests near quartier
        # boundaries without an STRtree of the boundary segments built in each worker
        index.load_all(communes=bool(names & {"commune_code", "commune_name"}), distances=True, overseas=False)

    def run(self, chunk) -> ChunkResult:
        jobs.require_layers(self.layers)
        raw = chunk.arrow(*self._reading())  # the chunk's columns as Arrow (no pandas on this path: see `_table`)
        df = _Columns(raw, self.renamed)
        good = np.flatnonzero(is_none(chunk.errors))
        errors = chunk.errors
        place_errors, locate, notes = self._places(df)
        dates, d_err = self._dates(df)
        row_err = first_error(*place_errors, d_err)
        ok = is_none(row_err)
        if not ok.all():  # the usual chunk's rows are all good: its messages are the reader's, left as they are
            errors = errors.copy()
            errors[good] = row_err
        ok = np.flatnonzero(ok)  # positions in df
        n = chunk.n_rows
        out = {}  # column -> numpy array (floats, objects) of every row
        # text columns as (labels, index): built as Arrow columns in `_table`, no object per row
        coded = {"status": (np.array([None], dtype=object), np.zeros(n, np.int32))}
        res, answered = None, np.zeros(0, dtype=np.int64)
        if len(ok):
            res = locate(ok, dates[ok])
            at = good[ok]
            # outside France is bad input for `qpv locate` (exit 2): here the same message, on its row
            from ..geography.trace import OUTSIDE_FRANCE
            from ..geography.vintages import REASON_CODES

            abroad = np.asarray(res.why) == REASON_CODES.index("hors_france")  # integer codes: one comparison
            if abroad.any():  # as `locate_answer` reads it: an address that could not be placed is undetermined
                abroad &= np.asarray(res.coverage, dtype=object) == "hors_france"
            answered = np.flatnonzero(~abroad)  # positions in res
            if abroad.any():
                errors = errors.copy()
                errors[at[abroad]] = f"le point {OUTSIDE_FRANCE}"
            sel = answered if len(answered) < len(ok) else slice(None)  # the usual chunk: no copy
            every = len(answered) == n  # every row answered: at (increasing, distinct, < n) is then 0 … n - 1
            for name, kind in self.columns:
                if name in ("row", "error") or name in self.keep:
                    continue
                pair = res.coded(name) if kind == "str" else None
                if pair is not None:
                    labels, index = pair
                    coded[name] = (labels, _row_labels(labels, index, None if every else at[sel], sel, n))
                    continue
                text = res.text(name) if kind == "str" else None
                if text is not None:  # many distinct texts (the carreau): one Arrow column from the buffer
                    out[name] = _text_column(text, at[sel], np.arange(len(res))[sel], n)
                    continue
                values = np.asarray(getattr(res, name))[sel]  # extra columns are computed on first access
                out[name] = np.full(n, np.nan) if kind == "float" else np.full(n, None, dtype=object)
                out[name][at[sel]] = values.astype(float) if kind == "float" else values
        errors = with_lines(chunk, errors)
        labels, status = coded["status"]
        labels = np.append(labels, np.array([None, "error"], dtype=object))  # unanswered rows, then errors
        has_error = has_message(errors)
        status[has_error] = len(labels) - 1
        coded["status"] = labels, status
        if has_error.any():  # else the column of nulls `_table` makes (no Arrow conversion of n None objects)
            out["error"] = errors
        traces = None
        if self.traces:  # each row's object is the one `qpv locate --json --date D` gives for it alone
            from ..geography.trace import compute_trace_columns, locate_answer

            if res is not None:  # no row located: nothing to compute
                compute_trace_columns(res)  # once for the chunk (vectorised): each row's trace then slices the columns
            traces = trace_lines(chunk, errors, good[ok][answered],
                                 lambda j: locate_answer(res, "le point", date_given=True, i=int(answered[j])),
                                 encode=False)  # objects: encoded for the traces file, read as they are by the register
        table = answer_table(self.columns, row_numbers(chunk), out, coded, {k: (kept_text(raw, k), good) for k in self.keep})
        return ChunkResult(table, traces, counts_of_coded(labels, status), notes)

    def _reading(self) -> tuple[tuple[str, ...], tuple[str, ...] | None, tuple[str, ...]]:
        """(number columns, columns read, date columns) of the input, for `Chunk.arrow`: the coordinates as numbers,
        the date as a date and only the columns this job reads, when it reads coordinates and keeps no trace (a
        trace's or the register's copy of a row reads every column as written). A kept column stays text: it is
        written as the file has it."""
        names = set(self.renamed.values())
        if self.traces or not ({"lon", "lat"} <= names or {"x", "y"} <= names):
            return (), None, ()
        place = ("lon", "lat") if {"lon", "lat"} <= names else ("x", "y")
        typed = [(c, n) for c, n in self.renamed.items() if c not in self.keep and n not in self.keep]
        return (tuple(c for c, n in typed if n in place),
                tuple(c for c, n in self.renamed.items() if n in place or n == "date" or n in self.keep or c in self.keep),
                tuple(c for c, n in typed if n == "date"))

    def _places(self, df):
        """(per-row error arrays, locate(rows, dates) -> LocateResult, notes) for the place columns:
        lon/lat or x/y points, else addresses through the address domain's geocoder."""
        names = set(df.columns)
        if {"lon", "lat"} <= names or {"x", "y"} <= names:
            xc, yc, crs = ("lon", "lat", "EPSG:4326") if {"lon", "lat"} <= names else ("x", "y", "EPSG:2154")
            x, x_missing, x_err, x_comma = to_float(df[xc], xc)
            y, y_missing, y_err, y_comma = to_float(df[yc], yc)
            notes = [f"virgule décimale dans « {c} »" for c, seen in ((xc, x_comma), (yc, y_comma)) if seen]
            # a mask without any row adds no message: not turned into an array that `first_error` would scan
            errors = [x_err, y_err] + [messages_where(mask, message) for mask, message in
                                       ((x_missing | y_missing, "coordonnée manquante"), _out_of_range(x, y, crs))
                                       if mask.any()]
            return errors, lambda rows, d: jobs.geography()(x[rows], y[rows], d, crs=crs,
                                                        tolerance_m=self.tolerance_m), notes
        from ..addresses import compose_address, locate_addresses

        texts = compose_address(df.frame()).str.strip().to_numpy(dtype=object)
        blank = messages_where(texts == "", "adresse manquante")
        return [blank], lambda rows, d: locate_addresses(texts[rows], d, tolerance_m=self.tolerance_m), \
            ["adresses géocodées par l'index local (BAN/BAL/BANO)"]

    def _dates(self, df):
        n = len(df)
        if "date" in df.columns:
            v, missing, err = to_date(df["date"], "date")
            if self.date is not None:
                v[missing] = np.datetime64(self.date, "D")
            elif missing.any():
                err = first_error(err, messages_where(missing, "colonne « date » vide et pas d'option --date"))
            v = np.where(np.isnat(v), np.datetime64("1970-01-01", "D"), v)  # only error rows are NaT
            return v, err
        return np.full(n, np.datetime64(self.date, "D")), no_messages(n)


def _row_labels(labels: np.ndarray, index: np.ndarray, at: np.ndarray | None, sel, n: int) -> np.ndarray:
    """Per row of the chunk, the position of its text in `labels` (int32; len(labels), past the labels: null)
    from a result's coded column `index` (numpy indexing: -1 is the last label): result row j is chunk row
    at[j] (`at` None: every row, in order; `sel` the result rows kept). One int32 array, no modulo pass."""
    if at is None:
        out = np.asarray(index).astype(np.int32)  # a copy: the result's column is left as it is
    else:
        out = np.full(n, len(labels), np.int32)  # unanswered rows: past the labels, null
        out[at] = np.asarray(index)[sel]
    if out.min(initial=0) < 0:
        out[out < 0] += len(labels)
    return out


def _text_column(text: tuple[np.ndarray, np.ndarray], at: np.ndarray, positions: np.ndarray, n: int):
    """An Arrow text column of the chunk's n rows from a result's text buffer (`LocateResult.text`): row at[j]
    holds the result's text positions[j]; the other rows, and empty texts, are null (an empty cell)."""
    import pyarrow as pa

    from . import arrow_compute as ac

    offsets, body = text
    lengths = np.diff(offsets)
    values = pa.StringArray.from_buffers(len(lengths), pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(body),
                                         pa.py_buffer(np.packbits(lengths > 0, bitorder="little")))
    if len(at) == n == len(lengths) and (at == positions).all():  # every row answered, in order: no copy
        return values
    index = np.full(n, -1, np.int64)
    index[at] = positions
    return ac.take(values, pa.array(index, mask=index < 0))


class _Columns:
    """The renamed columns of a chunk's Arrow table, read like a DataFrame's (`df[name]`, `df.columns`, `len`)."""

    def __init__(self, table, renamed: dict[str, str]):
        self.table = table
        self.by_name = {renamed.get(c, c): c for c in table.column_names}
        self.columns = list(self.by_name)

    def __len__(self) -> int:
        return self.table.num_rows

    def __getitem__(self, name: str):
        return self.table.column(self.by_name[name]).combine_chunks()

    def frame(self):
        """As a pandas DataFrame (the address path composes its texts with pandas)."""
        return self.table.to_pandas().rename(columns={c: n for n, c in self.by_name.items()})


def _out_of_range(x, y, crs) -> tuple[np.ndarray, str]:
    """(rows whose finite coordinates are out of range, the message for them)."""
    with np.errstate(invalid="ignore"):
        if crs == "EPSG:4326":
            bad = (np.abs(x) > 180) | (np.abs(y) > 90)
            msg = "coordonnées hors limites : longitude dans [-180, 180] et latitude dans [-90, 90] attendues"
        else:
            bad = (x < -400_000) | (x > 1_700_000) | (y < 5_900_000) | (y > 7_300_000)  # as geography.locate
            msg = "coordonnées Lambert-93 hors de la France métropolitaine (x, y en mètres, EPSG:2154)"
    return bad & np.isfinite(x) & np.isfinite(y), msg
