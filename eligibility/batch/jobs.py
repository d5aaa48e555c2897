"""What every job shares. A job (`locate.LocateJob`, `evaluate.EvaluateJob`) is a small picklable value
whose `run(chunk)` gives one output row per input row, in order, here or on a Dask worker: rows that are
broken or hold a bad value carry an `error` message and no answer; the others carry the answer of the
vectorised engine for the whole chunk at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import BadInput
from .messages import has_message


@dataclass
class ChunkResult:
    frame: object                # output columns of the job, one row per input row: a DataFrame or an Arrow Table
    # One per input row, when asked: its JSON line (without newline), or the object that line encodes
    # (`jsonio.to_json` gives the line): the register's entries then read the object, not the text back
    traces: list[str | dict] | None
    counts: dict[str, int]       # rows per status / outcome (and "error"), for the summary
    notes: list[str] = field(default_factory=list)  # what was detected, e.g. a decimal comma


def imported_layers() -> tuple:
    """The imported layers as this process sees them (folder, dataset ids): a job carries them to workers."""
    from ..geography import layers

    return layers.expected()


def require_layers(expected) -> None:
    """On a worker: read the client's layers or refuse (never a silent fallback to the bundled data)."""
    from ..geography import layers

    layers.require(expected)


def zoning_layers() -> tuple[str, ...]:
    from ..geography import layers

    return tuple(e.name for e in layers.of_kind("zonage"))


def geography():
    from ..geography import locate_points

    return locate_points


def rules_module():
    from .. import rules

    return rules


def row_numbers(chunk) -> np.ndarray:
    return np.arange(chunk.first_row, chunk.first_row + chunk.n_rows, dtype=np.int64)


def counts_of(labels: np.ndarray) -> dict[str, int]:
    import pandas as pd

    counts = pd.Series(labels, dtype=object).value_counts(sort=False)  # hashing, no sort of strings
    return {str(k): int(v) for k, v in sorted(counts.items(), key=lambda kv: str(kv[0]))}


def counts_of_coded(labels: np.ndarray, index: np.ndarray) -> dict[str, int]:
    """`counts_of(labels[index])` for a column held as (labels, index), None labels left out."""
    n = np.bincount(index, minlength=len(labels))
    return {str(labels[k]): int(n[k]) for k in sorted(np.flatnonzero(n), key=lambda k: str(labels[k]))
            if labels[k] is not None}


def error_trace(row: int, message: str) -> dict:
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


def fill_kept(out: dict, raw, good: np.ndarray, keep: tuple[str, ...]) -> None:
    for k in keep:
        s = raw[k]
        out[k][good] = np.where(s.notna().to_numpy(), s.astype("str").to_numpy(dtype=object), None)


def kept_text(raw, name: str):
    """A kept column of an Arrow table as Arrow text, as `fill_kept` writes it (a CSV column already is)."""
    import pyarrow as pa

    col = raw.column(name).combine_chunks()
    if pa.types.is_string(col.type):
        return col
    out = np.full(len(col), None, dtype=object)  # another type (Parquet): pandas' text of each value
    fill_kept({name: out}, {name: col.to_pandas()}, np.arange(len(col)), (name,))
    return pa.array(out, type=pa.string())


def with_lines(chunk, errors: np.ndarray) -> np.ndarray:
    """Every error message of a CSV chunk names the file's own line: the row number is not the line
    number once a quoted field spans lines (Parquet has no lines: its row number is the place)."""
    bad = np.flatnonzero(has_message(errors))
    if chunk.lines is None or not len(bad):
        return errors
    out = errors.copy()
    out[bad] = [f"{e} (ligne {line} du fichier)" for e, line in zip(errors[bad], chunk.lines[bad].tolist())]
    return out


def empty_output(columns, n) -> dict[str, np.ndarray]:
    data = {}
    for name, kind in columns:
        if kind == "int":
            data[name] = np.zeros(n, dtype=np.int64)
        elif kind == "float":
            data[name] = np.full(n, np.nan)
        else:
            data[name] = np.full(n, None, dtype=object)
    return data


def output_frame(out: dict, columns, coded: dict | None = None):
    """A chunk's answers (`empty_output` columns) as a DataFrame. Text columns go object -> Arrow strings
    directly (about half the CPU of letting pandas infer them); the dtype is the one pandas would give. A column Arrow will
    not take as text (a value that is not a string), or with no string at all, is left to pandas.
    `coded`: text columns given as (labels, index): Arrow takes the labels, without an object per row.
    (The locate job builds its Arrow table directly, without pandas: `answer_table`.)"""
    import pandas as pd
    import pyarrow as pa

    data = dict(out)
    text = pd.StringDtype(na_value=np.nan)  # pandas' default `str` dtype
    for name, (labels, index) in (coded or {}).items():
        if (~np.equal(labels, None))[index].any():
            data[name] = pd.array(pa.array(labels, type=pa.string()).take(pa.array(index)), dtype=text)
        else:  # no string at all: pandas infers object, so keep its way
            data[name] = np.full(len(index), None, dtype=object)
    for name, kind in columns:
        if name in (coded or {}):
            continue
        if kind == "str" and data[name].dtype == object:
            try:
                arr = pa.array(data[name], type=pa.string())
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                continue
            if arr.null_count < len(arr):  # no string at all: pandas infers object, so keep its way
                data[name] = pd.array(arr, dtype=text)
    return pd.DataFrame(data)


@dataclass
class Answers:
    """A chunk's answers as `empty_output` columns, text columns given as (labels, index) in `coded` (see
    `output_frame`). `sinks.encode_part` writes CSV from `table()` (Arrow, no pandas) and Parquet from `frame()`
    (the pandas schema metadata its files have always carried); both hold the same values."""
    out: dict
    columns: list
    coded: dict

    def frame(self):
        return output_frame(self.out, self.columns, self.coded)

    def arrow(self):
        """The answers as `answer_table` columns, whose table holds the values of `frame()` once Arrow takes it
        (`pa.Table.from_pandas`: a float NaN is null, a None text is null; coded label 0 is None, so null); None
        when a text column holds a value that is not a string (then `frame()` is written)."""
        import pyarrow as pa

        try:
            return answer_table(self.columns, self.out["row"], self.out, self.coded, {})
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None


@dataclass(frozen=True)
class Labels:
    """A table of labels as Arrow text (`array`), and its CSV cells once made, per separator (`sinks.encode_part`)."""
    array: object
    cells: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Coded:
    """A text column as its labels and each row's position among them (`index`, Arrow int64, null where the row
    has no text; `used`: the positions that are not null, as numpy)."""
    labels: Labels
    index: object
    used: np.ndarray

    def __len__(self) -> int:
        return len(self.index)


@dataclass(frozen=True)
class AnswerColumns:
    """A chunk's answers, one Arrow array or `Coded` column per output column, in the output's order. `table()`
    takes the coded columns' labels into the table of the output schema; CSV is written from the columns
    themselves, a coded column's cells made once per label (`sinks.encode_part`)."""
    columns: list
    arrays: list

    def table(self):
        import pyarrow as pa

        from . import arrow_compute as ac
        from .sinks import arrow_schema

        data = [ac.take(a.labels.array, a.index) if isinstance(a, Coded) else a for a in self.arrays]
        return pa.Table.from_arrays(data, schema=arrow_schema(self.columns))


def answer_table(columns, rows: np.ndarray, out: dict, coded: dict, kept: dict) -> AnswerColumns:
    """A chunk's answers as Arrow columns of the output schema (`AnswerColumns`), without pandas: `rows` the row
    numbers, `out` numpy columns (floats: NaN is null, as pandas writes it; objects: strings or None), `coded`
    text columns as (labels, index) (no object per row), `kept` input columns as (Arrow text of the well-formed
    rows, their positions)."""
    import pyarrow as pa

    from . import arrow_compute as ac

    data = []
    for name, kind in columns:
        if name == "row":
            data.append(pa.array(rows, type=pa.int64()))
        elif name in kept:
            values, at = kept[name]
            index = np.full(len(rows), -1, np.int64)
            index[at] = np.arange(len(at))
            data.append(ac.take(values, pa.array(index, mask=index < 0)))
        elif name in coded:  # an index past the labels: null
            labels, index = coded[name]
            past = index >= len(labels)
            data.append(Coded(_labels(labels), pa.array(index, mask=past) if past.any() else pa.array(index),
                              index[~past] if past.any() else index))
        elif name not in out:  # no row answered (or, for `error`, no error): the column is empty
            data.append(pa.nulls(len(rows), type=pa.float64() if kind == "float" else pa.string()))
        elif isinstance(out[name], pa.Array):  # built from a text buffer (`_text_column`)
            data.append(out[name])
        elif kind == "int":
            data.append(pa.array(out[name], type=pa.int64()))
        elif kind == "float":
            data.append(pa.array(out[name], type=pa.float64(), from_pandas=True))
        else:
            data.append(pa.array(out[name], type=pa.string()))
    return AnswerColumns(columns, data)


_LABELS: dict[int, tuple] = {}  # id(labels) -> (labels, their `Labels`): the few tables met again


def _labels(labels: np.ndarray) -> Labels:
    """`labels` (Python strings or None) as `Labels`, converted once (and their CSV cells made once) for a table
    that comes back chunk after chunk as the same object (the communes' 35,000 codes and names: ~5 ms a
    conversion)."""
    import pyarrow as pa

    hit = _LABELS.pop(id(labels), None)
    if hit is None or hit[0] is not labels:  # the entry keeps its labels alive: an id is never reused under it
        hit = (labels, Labels(pa.array(labels, type=pa.string())))
        if len(_LABELS) >= 32:  # the least recently used goes (per-chunk tables: the chunk's quartiers)
            _LABELS.pop(next(iter(_LABELS)))
    _LABELS[id(labels)] = hit  # last: most recently used
    return hit[1]


def trace_lines(chunk, errors, answered, row_json, encode: bool = True) -> list[str] | list[dict]:
    """One JSON line per input row: the engine's own single-row JSON (answered rows) or the error.
    `encode=False`: the objects, not their text (`encode_traces` encodes them later to the same bytes; the
    register's entries read the objects instead of parsing the text back)."""
    from ..jsonio import to_json  # the one deterministic JSON encoder of the project

    encoded = to_json if encode else (lambda obj: obj)
    rows = row_numbers(chunk)
    lines = [None] * chunk.n_rows
    for j, pos in enumerate(answered):  # only when --traces is asked: a trace is per-row by nature
        lines[pos] = encoded({"row": int(rows[pos]), **row_json(j)})
    for pos in np.flatnonzero(has_message(errors)):
        lines[pos] = encoded(error_trace(rows[pos], errors[pos]))
    return lines


def encode_traces(traces: list) -> bytes:
    """A chunk's trace lines as the bytes of the traces file: each object encoded by `jsonio.to_json`."""
    from ..jsonio import to_json

    if not traces:
        return b""
    return ("\n".join(t if isinstance(t, str) else to_json(t) for t in traces) + "\n").encode("utf-8")

