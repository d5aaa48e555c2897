"""Output: chunk parts encoded as bytes, assembled into the final file atomically.

CSV output mirrors the input's flavour (separator; decimal comma when the separator is « ; »; a BOM
when the input had one) and neutralises spreadsheet formulas: every *text* cell that starts with
=, +, -, @, a tab, a carriage return or NUL gets a leading apostrophe (OWASP « CSV injection »). Numbers the
engine produced (row numbers, amounts, distances) are written as numbers and left alone (the header's kept
column names are the user's text: neutralised too), so a
negative distance stays a number a spreadsheet can sum; they cannot carry a formula.
Parquet output is typed and not neutralised (it is not opened by spreadsheets as text).
"""
from __future__ import annotations

import io
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xxhash

from ..errors import BadInput, OutputIntegrityError
from . import direct_io
from .arrow_only import scalar, to_numpy

FORMULA_START = r"^[=+\-@\t\r\x00]"  # OWASP's list, and NUL, which some spreadsheets drop before reading the rest
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
        return csv_format(source)
    raise BadInput(f"extension de sortie « {suffix or '(aucune)'} » non reconnue : .csv ou .parquet attendu",
                   field="-o")


def csv_format(source) -> OutputFormat:
    """CSV in the input's flavour: its separator and BOM (a Parquet input gives plain « , » CSV)."""
    dialect = getattr(source, "dialect", None)
    if dialect is None:
        return OutputFormat("csv", ",", False)
    return OutputFormat("csv", dialect.separator, dialect.encoding_label.endswith("(avec BOM)"))


def arrow_schema(columns):
    import pyarrow as pa

    return pa.schema([(name, _ARROW_TYPES[kind]) for name, kind in columns])


_FORMULA_FIRST_BYTE = np.zeros(256, dtype=bool)
_FORMULA_FIRST_BYTE[list(b"=+-@\t\r\x00")] = True  # FORMULA_START as bytes: a UTF-8 text starts with one of these


def _text_bytes(col):
    """(offsets relative to the first value, the values' bytes) of an Arrow string array, without copies."""
    _, offsets_buffer, data = col.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[col.offset:col.offset + len(col) + 1]
    if data is None:
        return offsets - offsets[0], np.zeros(0, dtype=np.uint8)
    return offsets - offsets[0], np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]]


def _formula_led(offsets: np.ndarray, body: np.ndarray) -> np.ndarray:
    """Per cell: starts with a character of FORMULA_START (empty cells never do)."""
    starts = offsets[:-1]
    led = offsets[1:] > starts
    led[led] = _FORMULA_FIRST_BYTE[body[starts[led]]]
    return led


def _holding(offsets: np.ndarray, body: np.ndarray, separator: str) -> np.ndarray:
    """Per cell: holds the separator, a quote or a line break (CSV must quote it)."""
    chars = (separator.encode(), b'"', b"\n", b"\r")
    out = np.zeros(len(offsets) - 1, dtype=bool)
    raw = body.tobytes()
    if not any(c in raw for c in chars):  # the usual column: four memchr scans, no array the size of the text
        return out
    special = np.zeros(256, dtype=bool)
    special[[c[0] for c in chars]] = True
    where = np.flatnonzero(special[body])
    out[np.searchsorted(offsets, where, side="right") - 1] = True
    return out


def _csv_cells(col, kind: str, fmt: OutputFormat):
    """One column as CSV cell texts: numbers as numbers, text neutralised, quoted where needed; a null is an
    empty cell (left null here: the line join writes it as one, without a copy of each column).
    Returns (cells, quoted): `quoted` when some cell was put between quotes."""
    if kind == "str":
        cells, needs = _text_cells(col, fmt)
        return cells, needs is not None
    return _number_cells(col, kind, fmt), False


def _coded_cells(coded, fmt: OutputFormat):
    """`_csv_cells` of a text column given as labels and each row's position among them (`jobs.Coded`): each label's
    cell made once (kept with the labels), then taken for the rows: the cells of the values, taken first."""
    from . import arrow_compute as ac

    made = coded.labels.cells
    if fmt.separator not in made:
        made[fmt.separator] = _text_cells(coded.labels.array, fmt)
    cells, needs = made[fmt.separator]
    quoted = needs is not None and bool(needs[coded.used].any())  # only the cells written count
    return ac.take(cells, coded.index), quoted


def _number_cells(col, kind: str, fmt: OutputFormat):
    import pyarrow as pa

    from . import arrow_compute as ac

    if kind == "float":  # digits, sign, point or comma: never a separator, a quote or a line break
        col = ac.if_else(ac.is_nan(col), scalar(None, pa.float64()), col)
        text = ac.cast(ac.round(col, 2), pa.string())
        if fmt.decimal == ",":
            text = ac.replace_substring(text, ".", ",")
        return text
    return ac.cast(col, pa.string())


def _text_cells(col, fmt: OutputFormat):
    """(cells, needs) of a text column: `needs` marks the cells put between quotes, None when there is none."""
    import pyarrow as pa

    from . import arrow_compute as ac

    empty = scalar("", pa.string())
    # Cells are found by their bytes (C speed, no regular expression): every byte of the values is looked at,
    # and a null cell's bytes (Arrow leaves none from pandas) could only make a cell look risky, never hide one.
    offsets, body = _text_bytes(col)
    valid = ~to_numpy(ac.is_null(col))
    risky = _formula_led(offsets, body) & valid
    needs = _holding(offsets, body, fmt.separator) & valid
    text = col
    if risky.any():  # the usual column has none: no copy
        text = ac.if_else(pa.array(risky), ac.binary_join_element_wise(scalar("'", pa.string()), col, empty), col)
    if not needs.any():
        return text, None
    mask = pa.array(needs)
    few = ac.filter(text, mask)  # only the cells to quote are rewritten
    quote = scalar('"', pa.string())
    quoted = ac.binary_join_element_wise(quote, ac.replace_substring(few, '"', '""'), quote, empty)
    return ac.replace_with_mask(text, mask, quoted), needs


def encode_part(df, columns, fmt: OutputFormat) -> bytes:
    """A chunk's rows as bytes of the output format (CSV without header, or one Parquet file). `df`: a pandas
    DataFrame, an Arrow table of the output schema (`arrow_schema(columns)`), a job's `jobs.Answers`, or its
    `jobs.AnswerColumns`.

    CSV cells are built column by column with Arrow compute (no per-row Python; a coded text column's once per
    label), then joined into lines: by Arrow's CSV writer when no cell is quoted (it then writes them as they
    are), else element-wise."""
    import pyarrow as pa

    from .jobs import AnswerColumns, Answers, Coded

    if isinstance(df, Answers):  # CSV from Arrow directly (no pandas); Parquet through pandas, as it always was
        answered = df.arrow() if fmt.kind == "csv" else None
        df = answered if answered is not None else df.frame()
    if isinstance(df, AnswerColumns):
        table = df.table() if fmt.kind != "csv" else None  # CSV reads the columns themselves
    else:
        table = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, schema=arrow_schema(columns), preserve_index=False)
    if fmt.kind == "csv":
        import pyarrow.csv as pa_csv

        from . import arrow_compute as ac

        arrays = df.arrays if table is None else [table.column(i).combine_chunks() for i in range(table.num_columns)]
        if not len(arrays[0]):
            return b""
        built = [_coded_cells(a, fmt) if isinstance(a, Coded) else _csv_cells(a, kind, fmt)
                 for a, (_, kind) in zip(arrays, columns)]
        cells = [c for c, _ in built]
        if not any(quoted for _, quoted in built):
            sink = io.BytesIO()
            # no cell holds a separator, quote or line break: nothing for the writer to quote; unquoted, it writes a
            # null as an empty cell (no column copied to fill them)
            try:
                pa_csv.write_csv(pa.table({str(i): c for i, c in enumerate(cells)}), sink,
                                 write_options=pa_csv.WriteOptions(include_header=False, delimiter=fmt.separator,
                                                                   quoting_style="none"))
                return sink.getvalue()
            except pa.ArrowInvalid:
                pass  # a character the writer counts as structural: join the lines ourselves
        string = pa.string()
        lines = ac.binary_join_element_wise(ac.join_cells(*cells, scalar(fmt.separator, string)),
                                            scalar("", string), scalar("\n", string))
        lines = ac.cast(lines, pa.large_string())  # 64-bit offsets: the concatenated values are the file body
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset:lines.offset + len(lines) + 1]
        return lines.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0])).to_pybytes()  # one copy
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def csv_header(columns, fmt: OutputFormat) -> bytes:
    """The header line; a kept column's name is the user's text and is neutralised like a cell."""
    import csv

    names = ["'" + name if re.match(FORMULA_START, name) else name for name, _ in columns]
    line = io.StringIO()
    csv.writer(line, delimiter=fmt.separator, lineterminator="\n").writerow(names)  # as pandas' to_csv writes it
    head = line.getvalue()
    return ("\ufeff" if fmt.bom else "").encode("utf-8") + head.encode("utf-8")


def fsync_replace(tmp: Path, final: Path) -> None:
    """`tmp` (written by any process) flushed to disk, then renamed to `final` (atomic)."""
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    fsync_replace(tmp, path)


def part_checksum(data) -> str:
    """The checksum a journal records for a part, and assembly checks: xxh3-128, against damage, as for the
    geography cache's entries (whoever can rewrite a part can rewrite its journal line too, whatever the hash).
    sha256 took ~0.1 CPU s of the 1M-row default locate (its 94 MB hashed by the workers, then again here).
    `PartAppender` computes the same checksum block by block."""
    return xxhash.xxh3_128_hexdigest(data)


def _checked(tmp: Path, k: int, digest: str, expected: str) -> None:
    if digest != expected:
        tmp.unlink(missing_ok=True)
        raise OutputIntegrityError(
            f"la partie n° {k + 1} du traitement ne correspond plus à l'empreinte notée dans son journal "
            "(modifiée depuis son écriture) : le fichier de sortie n'est pas écrit ; relancez la même commande "
            "avec --resume pour recalculer les blocs touchés")


def assemble(out: Path, parts: list[tuple[Path, str]], columns, fmt: OutputFormat) -> None:
    """Concatenate the parts into `out` through a temporary file and an atomic rename, each part checked
    against the checksum its journal recorded (a part changed since it was written is never assembled).
    The batch runner builds CSV outputs while the job runs (`PartAppender`); Parquet is assembled here, at the end."""
    if fmt.kind == "csv":
        concatenate(out, parts, head=csv_header(columns, fmt))
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = out.with_name(f".{out.name}.qpv-tmp")
    with pq.ParquetWriter(tmp, arrow_schema(columns)) as writer:
        for k, (p, expected) in enumerate(parts):  # one part in memory at a time
            data = p.read_bytes()
            _checked(tmp, k, part_checksum(data), expected)
            writer.write_table(pq.read_table(pa.BufferReader(data)))
    fsync_replace(tmp, out)


class PartAppender:
    """`head` then journaled parts, appended to a temporary file in chunk order as soon as a part and every
    part before it are journaled (`ready`, in any order), and renamed into `out` by `publish` only.

    Each part is read back from its file and hashed as it is copied: a part changed on disk since its journal
    recorded its checksum is refused (`OutputIntegrityError`), the temporary file removed and nothing published.
    The batch runner feeds it while the workers answer later chunks, so the copy is no longer a serial step at
    the end of the command."""

    def __init__(self, out: Path, head: bytes = b"", block_size: int = 8 << 20):
        self.out = Path(out)
        self.tmp = self.out.with_name(f".{self.out.name}.qpv-tmp")
        # a left-over of a killed run is rebuilt from the journaled parts; one buffer to read parts into and one
        # to write from, for every part: their pages touched once
        self._read_buffer = direct_io.aligned_buffer(block_size)
        self._file = direct_io.BlockWriter(self.tmp, direct_io.aligned_buffer(block_size))
        self._file.write(head)
        self._next = 0
        self._waiting: dict[int, tuple[Path, str]] = {}

    def ready(self, k: int, part: Path, expected: str) -> None:
        """Part `k` (0-based chunk order) is journaled with checksum `expected`."""
        self._waiting[k] = (part, expected)
        while self._next in self._waiting:
            self._append(self._next, *self._waiting.pop(self._next))
            self._next += 1

    def _append(self, k: int, part: Path, expected: str) -> None:
        digest = xxhash.xxh3_128()  # `part_checksum`, fed block by block
        for block in direct_io.read_blocks(part, self._read_buffer):
            digest.update(block)
            self._file.write(block)
        if digest.hexdigest() != expected:
            self._file.close()
            _checked(self.tmp, k, digest.hexdigest(), expected)

    def publish(self) -> None:
        """Every part appended: fsync, then the atomic rename into `out`."""
        if self._waiting:
            raise RuntimeError(f"parties en attente d'une partie précédente : {sorted(self._waiting)}")
        self._file.close(sync=True)
        os.replace(self.tmp, self.out)

    def abort(self) -> None:
        """The job failed: no output, no temporary file."""
        self._file.close()
        self.tmp.unlink(missing_ok=True)


def concatenate(out: Path, parts: list[tuple[Path, str]], head: bytes = b"", block_size: int = 8 << 20) -> None:
    """`head` then the parts' bytes, in order (a CSV body after its header; JSON Lines traces), atomic; each
    part is checksummed as it is copied and checked against the checksum its journal recorded."""
    appender = PartAppender(out, head, block_size)
    for k, (p, expected) in enumerate(parts):
        appender.ready(k, p, expected)
    appender.publish()
