"""Output: chunk parts encoded as bytes, assembled into the final file atomically.

CSV output mirrors the input's flavour (separator; decimal comma when the separator is « ; »; a BOM
when the input had one) and neutralises spreadsheet formulas: every *text* cell that starts with
=, +, -, @, a tab or a carriage return gets a leading apostrophe (OWASP « CSV injection »). Numbers the
engine produced (row numbers, amounts, distances) are written as numbers and left alone, so a
negative distance stays a number a spreadsheet can sum; they cannot carry a formula.
Parquet output is typed and not neutralised (it is not opened by spreadsheets as text).
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import BadInput

FORMULA_START = r"^[=+\-@\t\r]"
_ARROW_TYPES = {"int": "int64", "float": "float64", "str": "string"}


@dataclass(frozen=True)
class OutputFormat:
    kind: str                 # "csv" | "parquet"
    separator: str = ","
    bom: bool = False

    @property
    def decimal(self) -> str:
        return "," if self.separator == ";" else "."

    def to_json(self) -> dict:
        return {"format": self.kind, "separator": self.separator if self.kind == "csv" else None}


def output_format(path: Path, source) -> OutputFormat:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return OutputFormat("parquet")
    if suffix in (".csv", ".txt", ".tsv"):
        dialect = getattr(source, "dialect", None)
        if dialect is None:
            return OutputFormat("csv", ",", False)
        return OutputFormat("csv", dialect.separator, dialect.encoding_label.endswith("(avec BOM)"))
    raise BadInput(f"extension de sortie « {suffix or '(aucune)'} » non reconnue : .csv ou .parquet attendu",
                   field="-o")


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix with « ' » every text cell a spreadsheet would read as a formula."""
    out = df.copy()
    for name in out.columns:
        s = out[name]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            text = s.astype("string")
            risky = text.str.contains(FORMULA_START, regex=True).fillna(False).to_numpy(dtype=bool)
            if risky.any():
                out[name] = s.where(~risky, "'" + text)
    return out


def arrow_schema(columns):
    import pyarrow as pa

    return pa.schema([(name, _ARROW_TYPES[kind]) for name, kind in columns])


def encode_part(df: pd.DataFrame, columns, fmt: OutputFormat) -> bytes:
    """A chunk's rows as bytes of the output format (CSV without header, or one Parquet file)."""
    if fmt.kind == "csv":
        return neutralise(df).to_csv(sep=fmt.separator, index=False, header=False, lineterminator="\n",
                                     float_format="%.2f", decimal=fmt.decimal).encode("utf-8")
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, schema=arrow_schema(columns), preserve_index=False)
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def csv_header(columns, fmt: OutputFormat) -> bytes:
    head = pd.DataFrame(columns=[name for name, _ in columns]).to_csv(sep=fmt.separator, index=False,
                                                                       lineterminator="\n")
    return ("\ufeff" if fmt.bom else "").encode("utf-8") + head.encode("utf-8")


def _fsync_replace(tmp: Path, final: Path) -> None:
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    _fsync_replace(tmp, path)


def assemble(out: Path, parts: list[Path], columns, fmt: OutputFormat) -> None:
    """Concatenate the parts into `out` through a temporary file and an atomic rename."""
    tmp = out.with_name(f".{out.name}.qpv-tmp")
    if fmt.kind == "csv":
        with open(tmp, "wb") as f:
            f.write(csv_header(columns, fmt))
            for p in parts:
                with open(p, "rb") as src:
                    while block := src.read(8 << 20):
                        f.write(block)
    else:
        import pyarrow.parquet as pq

        with pq.ParquetWriter(tmp, arrow_schema(columns)) as writer:
            for p in parts:  # one part in memory at a time
                writer.write_table(pq.read_table(p))
    _fsync_replace(tmp, out)


def concatenate(out: Path, parts: list[Path]) -> None:
    """Plain byte concatenation (JSON Lines traces), atomic."""
    tmp = out.with_name(f".{out.name}.qpv-tmp")
    with open(tmp, "wb") as f:
        for p in parts:
            with open(p, "rb") as src:
                while block := src.read(8 << 20):
                    f.write(block)
    _fsync_replace(tmp, out)


def empty_errors(n: int) -> np.ndarray:
    return np.full(n, None, dtype=object)
