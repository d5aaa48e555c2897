"""From the user's columns to typed arrays: renaming (`--map`), numbers with a decimal comma, dates.

Every conversion returns the values and, per row, None or a French message naming the column and the
bad value, so one bad cell makes one error row and never stops the batch.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import BadInput, shown
from ..jsonio import load_user_json
from .arrow_only import scalar, to_numpy
from .messages import has_message, no_messages


def load_map(path: Path | None) -> dict[str, str]:
    """A renaming {user column: our column} from JSON/YAML ({"Longitude": "lon"}) or a 2-column CSV."""
    if path is None:
        return {}
    path = Path(path)
    if not path.exists():
        raise BadInput("fichier de correspondance des colonnes introuvable", field="--map")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput("fichier de correspondance des colonnes illisible : ce n'est pas du texte UTF-8 "
                       "(enregistrez-le en UTF-8)", field="--map") from None
    except OSError:
        raise BadInput("fichier de correspondance des colonnes illisible", field="--map") from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        mapping = load_user_json(text, "--map", what="correspondance des colonnes (JSON)")
    elif suffix in (".yaml", ".yml"):
        mapping = _yaml_map(text)
    else:
        mapping = _csv_map(text)
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise BadInput("la correspondance doit associer des noms de colonnes à des noms de colonnes", field="--map")
    targets = list(mapping.values())
    dup = sorted({t for t in targets if targets.count(t) > 1})
    if dup:
        raise BadInput(f"plusieurs colonnes renommées en « {dup[0]} »", field="--map")
    return mapping


def _yaml_map(text: str):
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:  # PyYAML's text is English: say where, in French
        mark = getattr(exc, "problem_mark", None)
        where = f" (ligne {mark.line + 1}, colonne {mark.column + 1})" if mark else ""
        raise BadInput(f"correspondance des colonnes illisible : YAML mal formé{where}", field="--map") from None
    except RecursionError:
        raise BadInput("correspondance des colonnes illisible : YAML trop imbriqué", field="--map") from None


def _csv_map(text: str) -> dict[str, str]:
    import csv
    import io

    sep = ";" if text.count(";") >= text.count(",") else ","
    try:
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=sep) if r and any(c.strip() for c in r)]
    except csv.Error:
        raise BadInput("correspondance des colonnes illisible : CSV mal formé", field="--map") from None
    if rows and [c.strip().lower() for c in rows[0][:2]] in (["source", "cible"], ["from", "to"]):
        rows = rows[1:]
    if any(len(r) != 2 for r in rows):
        raise BadInput("correspondance des colonnes illisible : chaque ligne doit avoir deux colonnes : colonne du "
                       "fichier, colonne attendue", field="--map")
    return {r[0].strip(): r[1].strip() for r in rows}


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
    idx = np.flatnonzero(mask)
    if not len(idx):
        return no_messages(len(mask))
    out = np.full(len(mask), None, dtype=object)
    text = _text_array(values)  # an Arrow column: only the bad cells become Python strings
    from . import arrow_compute as ac

    vals = ac.take(text, idx).to_pylist() if text is not None else np.asarray(values, dtype=object)[idx]
    out[idx] = [template.format(value=shown(v)) for v in vals]
    return out


NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
COMMA_SAMPLE = 1000  # cells looked at for a decimal comma before trying the one-cast path


def _arrow_column(s, accepts):
    """`s` as one Arrow array when it is an Arrow column whose type `accepts(type)`, else None."""
    import pyarrow as pa

    if isinstance(s, pa.ChunkedArray):
        s = s.combine_chunks()
    return s if isinstance(s, pa.Array) and accepts(s.type) else None


def _text_array(s):
    """`s` itself when it is an Arrow text column (a CSV chunk read without pandas), else None."""
    import pyarrow as pa

    return _arrow_column(s, lambda t: pa.types.is_string(t) or pa.types.is_large_string(t))


def _as_series(s):
    """A pandas Series of `s` (an Arrow column of another type, e.g. Parquet numbers, is read by pandas)."""
    import pyarrow as pa

    return s.to_pandas() if isinstance(s, (pa.Array, pa.ChunkedArray)) else s


def _arrow_text(s):
    text = _text_array(s)
    if text is not None:
        return text
    import pandas as pd
    import pyarrow as pa

    s = _as_series(s)
    if not pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
        s = s.astype(object).where(s.notna(), None).astype("str")
    arr = pa.array(s)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _commas_to_points(text):
    """`pc.replace_substring(text, ",", ".")` as one byte translation (~3.8 -> ~1.3 ms per 100,000 coordinates):
    one byte for one, so the offsets stay, and a comma byte never occurs inside a multi-byte UTF-8 character."""
    import pyarrow as pa

    validity, offsets, data = text.buffers()
    if data is None:
        return text
    points = pa.py_buffer(data.to_pybytes().translate(_COMMA_TO_POINT))
    return pa.Array.from_buffers(text.type, len(text), [validity, offsets, points],
                                 null_count=text.null_count, offset=text.offset)


_COMMA_TO_POINT = bytes.maketrans(b",", b".")


def to_float(s, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """(values, missing, errors, saw_decimal_comma). Accepts 2.35, 2,35, « 1 234,5 » and numeric dtypes.

    Text is cleaned and checked with Arrow compute (C++), no per-row Python; « 1.234,5 » is refused
    rather than guessed. `s`: a pandas Series or an Arrow column."""
    finite = finite_floats(s)
    if finite is not None:  # Arrow read the column as numbers (`sources.Chunk.arrow`), every one finite
        return finite, np.zeros(len(finite), dtype=bool), no_messages(len(finite)), False
    if _text_array(s) is None and _numeric(s := _as_series(s)):
        v = s.to_numpy(dtype=float, na_value=np.nan, copy=True)
        missing = np.isnan(v)
        bad = ~missing & ~np.isfinite(v)
        v[bad] = np.nan
        return v, missing, _messages(bad, f"colonne « {column} » : nombre fini attendu, reçu « {{value}} »", s), False
    import pyarrow as pa

    from . import arrow_compute as ac

    raw = _arrow_text(s)
    # a refused cast costs ~30 ms per 100,000 cells (measured): a decimal comma in the first cells, which would
    # make it refuse, skips it (a comma further down makes it refuse: Arrow reads no number with a comma)
    if raw.null_count == 0 and not holds_byte(raw.slice(0, COMMA_SAMPLE), b","):
        try:  # the usual column, plain numbers with a point: one C++ cast (a blank or a comma makes it refuse)
            v = to_numpy(ac.cast(raw, pa.float64())).astype(float, copy=True)
            if np.isfinite(v).all():
                return v, np.zeros(len(v), dtype=bool), no_messages(len(v)), False
        except pa.ArrowInvalid:
            pass
    # a cell's comma or point is looked for in the column's bytes first: one byte scan instead of a match per
    # cell (~0.9 ms per 100,000 coordinates each); the per-cell match runs only when the bytes hold one
    commas, points = holds_byte(raw, b","), holds_byte(raw, b".")

    def comma_cells():  # which cells hold a comma: asked only when the bytes alone cannot tell (nulls, or points too)
        return ac.fill_null(ac.match_substring(raw, ","), scalar(False, pa.bool_()))
    blank = ac.fill_null(ac.equal(raw, scalar("", pa.string())), scalar(True, pa.bool_()))
    try:  # fast path, one C++ cast: plain numbers with a point or a lone decimal comma, and blanks
        blank_np = to_numpy(blank)
        cells = _commas_to_points(raw) if commas else raw
        if blank_np.any():
            cells = ac.if_else(blank, scalar(None, pa.string()), cells)
        v = to_numpy(ac.cast(cells, pa.float64())).astype(float, copy=True)
        # Arrow reads « nan », « inf », « -Infinity » as floats: any non-finite value of a non-blank cell
        # takes the careful path, which refuses it (else a NaN would reach the engine as if it were a number)
        if np.isfinite(v[~blank_np]).all() and not (points and commas and ac.any(ac.and_(comma_cells(), ac.fill_null(
                ac.match_substring(raw, "."), scalar(False, pa.bool_())))).as_py()):
            # without a null, every byte belongs to a cell: a comma byte is a cell's comma
            seen = commas and (raw.null_count == 0 or bool(ac.any(comma_cells()).as_py()))
            return v, blank_np, no_messages(len(v)), seen
    except pa.ArrowInvalid:
        pass  # some cell needs the careful path below (spaces, « 1.234,5 », text…)
    text = ac.utf8_trim_whitespace(raw)
    missing = to_numpy(ac.fill_null(ac.equal(text, scalar("", pa.string())), scalar(True, pa.bool_())))
    cleaned = ac.replace_substring_regex(text, r"[\s\x{00a0}\x{202f}]", "")
    comma = ac.fill_null(ac.match_substring(cleaned, ","), scalar(False, pa.bool_()))
    lone_comma = ac.and_(comma, ac.invert(ac.fill_null(ac.match_substring(cleaned, "."), scalar(False, pa.bool_()))))
    cleaned = ac.if_else(lone_comma, ac.replace_substring(cleaned, ",", "."), cleaned)
    valid = ac.fill_null(ac.match_substring_regex(cleaned, NUMBER), scalar(False, pa.bool_()))
    v = ac.cast(ac.if_else(valid, cleaned, scalar(None, pa.string())), pa.float64())
    v = to_numpy(v).astype(float, copy=True)
    valid = to_numpy(valid)
    bad = ~missing & (~valid | ~np.isfinite(v))
    v[bad | missing] = np.nan
    errors = _messages(bad, f"colonne « {column} » : nombre attendu, reçu « {{value}} »", s)
    seen_comma = bool((to_numpy(lone_comma) & ~bad).any())
    return v, missing, errors, seen_comma


def finite_floats(s) -> np.ndarray | None:
    """The values of an Arrow float64 column without a null, all finite (a copy); None for any other column. The
    narrow reading keeps a number column only when it is one (`sources.Chunk.arrow`); `to_float` then takes it as is."""
    import pyarrow as pa

    s = _arrow_column(s, lambda t: t == pa.float64())
    if s is None or s.null_count:
        return None
    v = to_numpy(s)
    return v if np.isfinite(v).all() else None


def _day_numbers(s) -> tuple[np.ndarray, np.ndarray] | None:
    """(datetime64[D] values, missing) of an Arrow date32 column, a null (a blank cell) missing and NaT; None for any
    other column."""
    import pyarrow as pa

    from . import arrow_compute as ac

    s = _arrow_column(s, lambda t: t == pa.date32())
    if s is None:
        return None
    days = np.frombuffer(s.buffers()[1], dtype=np.int32)[s.offset:s.offset + len(s)].astype("datetime64[D]")
    missing = to_numpy(ac.is_null(s)) if s.null_count else np.zeros(len(s), dtype=bool)
    days[missing] = np.datetime64("NaT")
    return days, missing


def holds_byte(text, byte: bytes) -> bool:
    """Does some byte of the cells of the Arrow text array equal `byte`? One scan of the bytes its offsets span
    (a null cell's bytes, if it has any, count too: then it only says "might"), no array per cell."""
    import pyarrow as pa

    offsets, data = text.buffers()[1:3]
    if data is None or len(text) == 0:
        return False
    width = np.int64 if pa.types.is_large_string(text.type) else np.int32
    ends = np.frombuffer(offsets, dtype=width)[[text.offset, text.offset + len(text)]]
    return bool((np.frombuffer(data, dtype=np.uint8)[ends[0]:ends[1]] == byte[0]).any())


def _ten_chars(text) -> np.ndarray:
    """The bytes of every 10-character cell of an Arrow string array as an (n, 10) array (zeros for other
    cells): dates are then read with integer arithmetic, no string parsing per cell."""
    import pyarrow as pa

    from . import arrow_compute as ac

    text = ac.cast(ac.fill_null(text, scalar("", pa.string())), pa.large_string())
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[text.offset:text.offset + len(text) + 1]
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8) if text.buffers()[2] is not None else np.zeros(0, np.uint8)
    ten = np.flatnonzero(np.diff(offsets) == 10)
    out = np.zeros((len(text), 10), dtype=np.uint8)
    if len(ten):
        out[ten] = data[offsets[ten][:, None] + np.arange(10)]
    return out


def to_date(s, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(datetime64[D] values, missing, errors). Accepts AAAA-MM-JJ, JJ/MM/AAAA and date dtypes.
    `s`: a pandas Series or an Arrow column. A text column is read once per distinct text (dates repeat:
    a few thousand in 100,000 rows) unless its first cells are almost all distinct."""
    read = _day_numbers(s)
    if read is not None:  # Arrow read every cell as an AAAA-MM-JJ date or a blank (`sources.Chunk.arrow`)
        return read[0], read[1], no_messages(len(s))
    if _text_array(s) is None and _dated(s := _as_series(s)):
        v = s.to_numpy(dtype="datetime64[D]")
        missing = np.isnat(v)
        return v, missing, no_messages(len(s))
    import pyarrow as pa

    from . import arrow_compute as ac

    def cells(text):  # trimmed, a null read as a blank
        return ac.fill_null(ac.utf8_trim_whitespace(text), scalar("", pa.string()))

    raw = _arrow_text(s)
    distinct = distinct_texts(raw)  # hashed as written: only the distinct texts are trimmed
    if distinct is None:
        v, missing = _read_dates(cells(raw))
    else:
        values, index = distinct
        v, missing = (per_value[index] for per_value in _read_dates(cells(values)))
    bad = ~missing & np.isnat(v)
    errors = _messages(bad, f"colonne « {column} » : date invalide « {{value}} » (attendu AAAA-MM-JJ ou JJ/MM/AAAA)", s)
    return v, missing, errors


DISTINCT_SAMPLE = 8192  # cells looked at before hashing a whole column (dates here, `rules.facts.per_distinct`)


def distinct_texts(text):
    """(distinct texts, each row's position among them) of an Arrow text column (a null is one more distinct
    value, a null text); None when its first DISTINCT_SAMPLE cells are almost all distinct (hashing the column
    would then cost more than it saves)."""
    from . import arrow_compute as ac

    n = len(text)
    if n > 2 * DISTINCT_SAMPLE and len(ac.dictionary_encode(text.slice(0, DISTINCT_SAMPLE)).dictionary) > 0.95 * DISTINCT_SAMPLE:
        return None
    encoded = ac.dictionary_encode_nulls(text)
    return encoded.dictionary, to_numpy(encoded.indices)


def _read_dates(text) -> tuple[np.ndarray, np.ndarray]:
    """(datetime64[D] values, blank) of each cell of an Arrow text column without nulls (NaT: not a date)."""
    import pyarrow as pa

    from . import arrow_compute as ac

    blank = to_numpy(ac.equal(text, scalar("", pa.string())))
    chars = _ten_chars(text)  # (n, 10) bytes of 10-character cells, 0 elsewhere
    digit = (chars >= 48) & (chars <= 57)
    num = chars.astype(np.int64) - 48
    iso = digit[:, [0, 1, 2, 3, 5, 6, 8, 9]].all(axis=1) & (chars[:, 4] == 45) & (chars[:, 7] == 45)    # AAAA-MM-JJ
    fr = digit[:, [0, 1, 3, 4, 6, 7, 8, 9]].all(axis=1) & (chars[:, 2] == 47) & (chars[:, 5] == 47)     # JJ/MM/AAAA

    def field(iso_at: int, fr_at: int, width: int) -> np.ndarray:
        weights = 10 ** np.arange(width - 1, -1, -1)
        return np.where(iso, num[:, iso_at:iso_at + width] @ weights, num[:, fr_at:fr_at + width] @ weights)

    y, m, d = field(0, 6, 4), field(5, 3, 2), field(8, 0, 2)
    ok = (iso | fr) & (m >= 1) & (m <= 12) & (d >= 1)
    month = ((y - 1970) * 12 + np.clip(m, 1, 12) - 1).astype("datetime64[M]")
    days = month.astype("datetime64[D]") + (d - 1)
    ok &= days < (month + 1).astype("datetime64[D]")  # 2024-02-30 does not exist: refused, not rolled over
    return np.where(ok, days, np.datetime64("NaT", "D")), blank


def _numeric(s) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def _dated(s) -> bool:
    import pandas as pd

    return pd.api.types.is_datetime64_any_dtype(s.dtype)


def first_error(*per_row: np.ndarray) -> np.ndarray:
    """Per row, the first non-None message among several error arrays (None where all are None)."""
    n = len(per_row[0])
    out = None  # the usual chunk has no message at all: the shared array without any
    free = np.ones(n, dtype=bool)  # rows without a message yet
    for errs in per_row:
        take = free & has_message(errs)
        if take.any():
            if out is None:
                out = np.full(n, None, dtype=object)
            out[take] = errs[take]
            free &= ~take
    return no_messages(n) if out is None else out
