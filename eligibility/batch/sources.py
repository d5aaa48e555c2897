"""Input files read in chunks of rows: CSV (any French flavour, see `dialect`) and Parquet.

A chunk is the unit of work, of resumption and of distribution: chunk k always holds input rows
k*size+1 … (k+1)*size, whatever the engine and whether the job was resumed, so outputs are identical.
Reading keeps one chunk (plus a little lookahead) in memory, whatever the file size.
"""
from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import BadInput
from .columns import finite_floats
from .dialect import CsvDialect, sniff
from .messages import is_none, no_messages
from .records import NEWLINE_BYTE, MAX_RECORD_LINES, split_records

READ_BYTES = 8 << 20  # the tolerant splitter's reads
SCAN_BYTES = 1 << 20  # plain chunks: read and scanned this much at a time (a buffer that stays in the CPU's cache)


@dataclass(frozen=True)
class Position:
    """Where the next chunk starts: byte offset (CSV), row number (1-based), physical line (CSV)."""

    offset: int
    row: int
    line: int

    def to_json(self) -> dict:
        return {"offset": self.offset, "row": self.row, "line": self.line}


@dataclass(frozen=True)
class FileSpan:
    """Bytes `offset` … `offset + length - 1` of the input file as it was when the job opened it (size and
    modification time): the lines of a chunk cut in place."""

    path: str
    offset: int
    length: int
    size: int
    mtime_ns: int

    def read(self) -> bytes:
        with open(self.path, "rb") as f:
            stat = os.fstat(f.fileno())
            text = os.pread(f.fileno(), self.length, self.offset)
        if (stat.st_size, stat.st_mtime_ns) != (self.size, self.mtime_ns) or len(text) != self.length:
            raise BadInput("le fichier d'entrée a été modifié pendant le traitement : relancez la commande sur un "
                           "fichier qui ne change plus", field=self.path)
        return _lines(text)


@dataclass
class Chunk:
    """Rows `first_row` … `first_row + n_rows - 1`, not yet parsed (parsing runs where the job runs).

    A chunk cut by the fast path (`CsvSource.chunks`: lines without quotes, CR or blank line) is checked
    where it is parsed: `errors` and `lines` are known once Arrow has read its text, or, for a chunk with a
    broken line, once the tolerant splitter (`records.split_records`) has, giving the rows it would have given.
    Cut in place (`in_place`), such a chunk carries where its lines are in the file (`span`) instead of their
    bytes, and is read there by the process that answers it (`read`)."""

    index: int
    first_row: int
    n_rows: int
    row_errors: np.ndarray | None         # per row: None or the French message of a broken record; None: unchecked
    columns: tuple[str, ...]
    text: bytes | None = None             # CSV: the good records (UTF-8), parsed by `frame()`
    separator: str = ","
    table: object = None                  # Parquet: a pyarrow Table of the rows
    next: Position | None = None
    row_lines: np.ndarray | None = field(default=None, repr=False)  # CSV physical line of each row (1-based)
    first_line: int = 0                   # CSV, unchecked chunk: physical line of its first row
    encoding_label: str = "UTF-8"         # unchecked chunk: named by the message of a row with invalid bytes
    parsed: object = field(default=None, repr=False, compare=False)  # `frame()`, once computed
    parsed_table: object = field(default=None, repr=False, compare=False)  # `arrow()`, once computed
    span: FileSpan | None = None          # CSV cut in place: where `text` is in the input file, until `read()`

    def read(self) -> None:
        """A chunk cut in place gets its text from the file (where it is answered: its bytes never travel
        between processes). The same bytes the reader cut it from, or BadInput if the file changed since."""
        if self.span is not None:
            self.text, self.span = self.span.read(), None

    @property
    def errors(self) -> np.ndarray:
        if self.row_errors is None:
            self.arrow()
        return self.row_errors

    @property
    def lines(self) -> np.ndarray | None:
        if self.row_errors is None:
            self.arrow()
        return self.row_lines

    def arrow(self, numbers: tuple[str, ...] = (), only: tuple[str, ...] | None = None, dates: tuple[str, ...] = ()):
        """The well-formed rows as a pyarrow Table (CSV: strings as written; Parquet: native types).

        The first reading of a fast-path CSV chunk may be narrower, for a job that says what it reads: `only` those
        columns (the others are not built), the `numbers` among them as float64 when Arrow reads every cell
        as a finite number, and the `dates` as date32 when it reads every cell as an AAAA-MM-JJ date that exists
        or a blank (null). Arrow trims spaces and tabs around them, as the text path does; anything else (a blank
        number, a comma, `nan`, 2024-02-30, a JJ/MM/AAAA date…) makes the columns text, and each column's own
        reading decides, as before."""
        if self.parsed_table is None:
            self.parsed_table = self._parse(numbers, only, dates)
        return self.parsed_table

    def frame(self):
        """`arrow()` as a pandas DataFrame (what the jobs that work on pandas read)."""
        if self.parsed is None:
            self.parsed = self.arrow().to_pandas()
        return self.parsed

    def set_aside(self, rows: np.ndarray, messages) -> "Chunk":
        """This chunk with the well-formed rows `rows` (positions) turned into error rows with `messages`
        (one, or one per row): how `runner.answer_chunk` isolates a row that a vectorised step refused."""
        import pyarrow as pa

        table = self.arrow()
        good = np.flatnonzero(is_none(self.errors))
        keep = ~np.isin(good, rows)
        errors = self.errors.copy()
        errors[rows] = messages
        return replace(self, row_errors=errors, parsed_table=table.filter(pa.array(keep)), parsed=None)

    def _parse(self, numbers: tuple[str, ...] = (), only: tuple[str, ...] | None = None, dates: tuple[str, ...] = ()):
        if self.table is not None:
            return self.table
        self.read()
        if self.row_errors is None:  # fast-path chunk: every line a record, if Arrow reads them all
            # dates are tried as such when the first row's is written AAAA-MM-JJ (a file of JJ/MM/AAAA dates would
            # otherwise pay a refused reading in every chunk); refused, the numbers alone, then every column as text
            dates = tuple(c for c in dates if _dashed_date(self._first_cell(c)))
            typed = [(numbers, dates), (numbers, ())] if dates else [(numbers, ())]
            table = None
            for typed_numbers, typed_dates in [t for t in typed if any(t)] + [((), ())]:
                table = self._arrow(self.n_rows, quoted=False, numbers=typed_numbers, only=only, dates=typed_dates)
                if table is not None:
                    break
            if table is not None:
                self.row_errors = no_messages(self.n_rows)
                self.row_lines = np.arange(self.first_line, self.first_line + self.n_rows)
                return table
            self._split_tolerantly()
        n_good = int(is_none(self.row_errors).sum())
        if n_good == 0:
            return _text_table(self.columns, [[] for _ in self.columns])
        table = self._arrow(n_good)
        return table if table is not None else self._table_record_by_record()

    def _first_cell(self, column: str) -> bytes:
        """The bytes of `column` in the chunk's first line (a fast-path chunk: no quote, one line per record)."""
        end = self.text.find(b"\n")
        cells = self.text[:end if end >= 0 else len(self.text)].split(self.separator.encode())
        at = self.columns.index(column)
        return cells[at] if at < len(cells) else b""

    def _arrow(self, n_rows: int, quoted: bool = True, numbers: tuple[str, ...] = (), only: tuple[str, ...] | None = None,
               dates: tuple[str, ...] = ()):
        """The text read by Arrow's C++ reader, every cell as text exactly as written; None unless it gives
        `n_rows` rows (a record with the wrong number of fields or bytes that are not UTF-8 make it refuse).
        `only`, `numbers`, `dates`: see `arrow` (None as well when a number column holds anything but finite numbers,
        or a date column anything but dates).
        `quoted=False`: the text holds no quote (a fast-path chunk), read by Arrow's quicker parser without
        quoting (~15 % of the parse of a 100,000-row evaluate chunk). The whole text is one block: read in
        Arrow's default 1 MB blocks, a 10 MB evaluate chunk took 39 ms instead of 20 and every column came
        in 10 pieces, joined again by each `combine_chunks` that reads it."""
        import pyarrow as pa
        import pyarrow.csv as pa_csv

        kept = [c for c in self.columns if only is None or c in only or c in numbers or c in dates]
        types = {c: pa.float64() if c in numbers else pa.date32() if c in dates else pa.string() for c in self.columns}
        try:
            table = pa_csv.read_csv(
                io.BytesIO(self.text),
                read_options=pa_csv.ReadOptions(column_names=list(self.columns), use_threads=False,
                                                block_size=max(len(self.text), 1 << 20)),
                parse_options=pa_csv.ParseOptions(delimiter=self.separator, newlines_in_values=quoted,
                                                  quote_char='"' if quoted else False),
                convert_options=pa_csv.ConvertOptions(
                    column_types=types,
                    null_values=[""],  # a blank: a null date (missing); in a number column, the column comes as text
                    strings_can_be_null=False, quoted_strings_can_be_null=False,
                    include_columns=kept if len(kept) < len(self.columns) else None))
        except (pa.ArrowInvalid, ValueError):
            return None
        if table.num_rows != n_rows:
            return None
        if any(finite_floats(table.column(c)) is None for c in numbers):  # `nan`, `inf`: the text path refuses them
            return None
        return table

    def _split_tolerantly(self) -> None:
        """A fast-path chunk Arrow refused: its lines through the tolerant splitter, which finds the broken ones
        (its lines hold no quote, so each is one record, as the splitter would have cut them in the file)."""
        recs = split_records(self.text, sep=self.separator, ncols=len(self.columns), encoding="utf-8",
                             encoding_label=self.encoding_label, limit=self.n_rows, at_eof=True)
        assert recs.n_rows == self.n_rows, (recs.n_rows, self.n_rows)
        self.row_errors, self.text = recs.errors, recs.good_text
        self.row_lines = recs.lines + self.first_line

    def _table_record_by_record(self):
        """Rare path: quotes that pandas reads differently (e.g. a quote inside an unquoted field)."""
        try:
            rows = list(csv.reader(io.StringIO(self.text.decode("utf-8"), newline=""), delimiter=self.separator))
        except csv.Error:
            rows = None
        good = np.flatnonzero(is_none(self.row_errors))
        if rows is None or len(rows) != len(good):
            # cannot align safely: report every record of the chunk rather than guess
            for i in good:
                self.row_errors[i] = "ligne illisible (guillemets incohérents dans ce bloc de lignes)"
            return _text_table(self.columns, [[] for _ in self.columns])
        keep = []
        for i, r in zip(good, rows):
            if len(r) != len(self.columns):
                self.row_errors[i] = f"{len(r)} champs au lieu de {len(self.columns)} (séparateur « {self.separator} »)"
            else:
                keep.append(r)
        return _text_table(self.columns, [list(c) for c in zip(*keep)] if keep else [[] for _ in self.columns])


def _dashed_date(cell: bytes) -> bool:
    """Is the cell written like AAAA-MM-JJ (ten characters, dashes in place, spaces and tabs around aside)?"""
    cell = cell.strip(b" \t")
    return len(cell) == 10 and cell[4:5] == cell[7:8] == b"-"


def _text_table(columns, values):
    """A table of text columns (`values`: one list of strings per column)."""
    import pyarrow as pa

    return pa.table({c: pa.array(v, type=pa.string()) for c, v in zip(columns, values)})


class CsvSource:
    def __init__(self, path: Path):
        self.path = path
        self.dialect: CsvDialect = sniff(path)
        self.columns = self.dialect.header
        self.start = Position(self.dialect.data_offset, 1, 2)
        stat = path.stat()
        self.total_bytes, self._mtime_ns = stat.st_size, stat.st_mtime_ns

    def describe(self) -> str:
        return self.dialect.describe()

    def to_json(self) -> dict:
        return self.dialect.to_json()

    def progress_of(self, pos: Position) -> tuple[int, int]:
        return pos.offset, self.total_bytes

    def chunks(self, size: int, start: Position | None = None, index: int = 0, in_place: bool = False) -> Iterator[Chunk]:
        """Chunks of `size` rows from `start`. `in_place`: a chunk of plain lines carries where they are in the file
        (`Chunk.span`) rather than their bytes, for a process of this machine to read them (`Chunk.read`).

        Runs of plain chunks are cut by `_plain_chunks`; a chunk that is not plain is cut by the tolerant splitter
        (`_careful_chunk`), then plain cutting goes on after it. Either way a chunk ends where the tolerant splitter
        would end it, so chunk k holds the same rows whatever the file's lines."""
        pos = start or self.start
        while True:
            pos, index, done = yield from self._plain_chunks(size, pos, index, in_place)
            chunk = None if done else self._careful_chunk(size, pos, index)
            if chunk is None:
                return
            yield chunk
            pos, index = chunk.next, index + 1

    def _plain_chunks(self, size: int, pos: Position, index: int, in_place: bool):
        """Chunks whose every line is surely one record (`_plain_cut`), from `pos` for as long as they come; then
        returns (where the next chunk starts, its index, whether the file is done). One window of the file is
        reused from chunk to chunk: each chunk's bytes are read once, and nothing else is copied or kept."""
        d = self.dialect
        if d.encoding != "utf-8":
            return pos, index, False
        window = bytearray(SCAN_BYTES)
        with open(self.path, "rb", buffering=0) as f:
            while True:
                window, cut = _plain_cut(f, window, size, pos.offset)
                if cut is None:
                    return pos, index, False
                end, n_rows = cut
                if n_rows == 0:
                    return pos, index, True
                chunk = Chunk(index, pos.row, n_rows, None, d.header, separator=d.separator, first_line=pos.line,
                              encoding_label=d.encoding_label)
                if in_place:  # the bytes stay in the file (and out of this process's hands)
                    chunk.span = FileSpan(str(self.path), pos.offset, end, self.total_bytes, self._mtime_ns)
                else:
                    chunk.text = _lines(bytes(memoryview(window)[:end]))
                chunk.next = Position(pos.offset + end, pos.row + n_rows, pos.line + n_rows)
                yield chunk
                pos, index = chunk.next, index + 1

    def _careful_chunk(self, size: int, pos: Position, index: int) -> Chunk | None:
        """The next chunk cut by the tolerant splitter (`records.split_records`: quoted fields, multi-line records,
        broken lines, any encoding), or None when no row is left."""
        d = self.dialect
        need = size + MAX_RECORD_LINES + 1  # lines the splitter may look at
        pieces: list[bytes] = []
        lines, eof = 0, False
        with open(self.path, "rb") as f:
            f.seek(pos.offset)
            while True:
                while not eof and lines < need:
                    block = f.read(READ_BYTES)
                    if not block:
                        eof = True
                        break
                    pieces.append(block)
                    lines += block.count(b"\n")
                buf = b"".join(pieces)
                pieces = [buf]
                recs = split_records(buf, sep=d.separator, ncols=len(d.header), encoding=d.encoding,
                                     encoding_label=d.encoding_label, limit=size, at_eof=eof)
                if recs.n_rows == size or eof:
                    break
                need = lines + size  # multi-line records used lines up: read further
        if not recs.n_rows:
            return None
        chunk = Chunk(index, pos.row, recs.n_rows, recs.errors, d.header, text=recs.good_text,
                      separator=d.separator, row_lines=recs.lines + pos.line)
        chunk.next = Position(pos.offset + recs.consumed, pos.row + recs.n_rows, pos.line + recs.lines_consumed)
        return chunk


def _plain_cut(f, window: bytearray, size: int, offset: int) -> tuple[bytearray, tuple[int, int] | None]:
    """(window, (end, n_rows)): the next `size` lines from `offset` of file `f` (fewer at its end) are plain, and
    are window[:end]; (window, (0, 0)): nothing is left; (window, None): they are not plain, or not UTF-8 text
    the tolerant splitter would cut the same way. Plain: no quote (no multi-line field, no quoting to read), no CR,
    no blank line (nor blank lines ending the file). The file is read and scanned SCAN_BYTES at a time, so only
    the chunk's bytes (and at most SCAN_BYTES more) are read, and no further than the first quote, CR or blank line
    (a file quoted throughout costs its tolerant splitting only); `window` grows when a chunk needs more room."""
    filled = scanned = counted = 0
    end = None
    after_break = False  # the last byte scanned was a line break
    f.seek(offset)  # then read on in order
    while end is None:
        if scanned == filled:  # every byte read is scanned: read on
            if filled + SCAN_BYTES > len(window):
                grown = bytearray(max(2 * len(window), filled + SCAN_BYTES))
                grown[:filled] = memoryview(window)[:filled]
                window = grown
            got = f.readinto(memoryview(window)[filled:filled + SCAN_BYTES])
            if not got:
                break
            filled += got
        start, stop = scanned, min(scanned + SCAN_BYTES, filled)
        breaks = np.frombuffer(window, dtype=np.uint8, count=stop - start, offset=start) == NEWLINE_BYTE
        found = int(np.count_nonzero(breaks))
        if counted + found >= size:
            cut = int(np.flatnonzero(breaks)[size - counted - 1]) + 1
            end, counted, breaks, stop = start + cut, size, breaks[:cut], start + cut
        else:
            counted += found
            scanned = stop
        # not plain: a quote or a CR (memchr), or a blank line, two line breaks in a row (numpy on the breaks found:
        # bytes.find of "\n\n" costs ~8 ms per 10 MB, its first byte being that frequent); seen, the scan stops
        if window.find(b'"', start, stop) >= 0 or window.find(b"\r", start, stop) >= 0 \
                or (after_break and breaks[0]) or np.any(breaks[1:] & breaks[:-1]):
            return window, None
        after_break = bool(breaks[-1])
    if end is None:  # the file's last lines (the very last one may lack its line break)
        if not filled:
            return window, (0, 0)
        end = filled
        counted += window[end - 1] != NEWLINE_BYTE
    if window[0] == NEWLINE_BYTE:  # a blank first line
        return window, None
    return window, (end, counted)


def _lines(text: bytes) -> bytes:
    """A fast chunk's text: every line ends with its line break (the file's last one may lack it)."""
    return text if text.endswith(b"\n") else text + b"\n"


class ParquetSource:
    def __init__(self, path: Path):
        import pyarrow.parquet as pq

        self.path = path
        try:
            self._file = pq.ParquetFile(path)
        except Exception:  # noqa: BLE001 - pyarrow raises several types for a file that is not Parquet
            raise BadInput("fichier Parquet illisible : pas un fichier Parquet, ou fichier tronqué ou corrompu",  # pyarrow speaks English
                           field=str(path)) from None
        self.columns = tuple(self._file.schema_arrow.names)
        self.total_rows = self._file.metadata.num_rows
        self.start = Position(0, 1, 0)

    def describe(self) -> str:
        return f"Parquet, {self.total_rows} lignes, {len(self.columns)} colonnes"

    def to_json(self) -> dict:
        return {"format": "parquet", "columns": list(self.columns)}

    def progress_of(self, pos: Position) -> tuple[int, int]:
        return pos.row - 1, self.total_rows

    def chunks(self, size: int, start: Position | None = None, index: int = 0, in_place: bool = False) -> Iterator[Chunk]:
        """Chunks of `size` rows from `start`, each carrying its rows (`in_place` is for CSV lines: Parquet's rows
        are decoded here)."""
        import pyarrow as pa

        pos = start or self.start
        skip = pos.row - 1
        pending: list = []
        n_pending = 0

        def emit(table):
            nonlocal pos, index
            n = table.num_rows
            nxt = Position(0, pos.row + n, 0)
            chunk = Chunk(index, pos.row, n, no_messages(n), self.columns, table=table, next=nxt)
            pos, index = nxt, index + 1
            return chunk

        for batch in self._file.iter_batches(batch_size=size):
            if skip >= batch.num_rows:
                skip -= batch.num_rows
                continue
            if skip:
                batch, skip = batch.slice(skip), 0
            pending.append(batch)
            n_pending += batch.num_rows
            while n_pending >= size:
                table = pa.Table.from_batches(pending).combine_chunks()
                yield emit(table.slice(0, size))
                rest = table.slice(size)
                pending, n_pending = ([rest] if rest.num_rows else []), rest.num_rows
                pending = [b for t in pending for b in t.to_batches()]
        if n_pending:
            yield emit(pa.Table.from_batches(pending).combine_chunks())


def open_source(path: Path):
    """A CsvSource or ParquetSource chosen by the file's extension."""
    path = Path(path)
    if not path.exists():
        raise BadInput("fichier d'entrée introuvable", field=str(path))
    suffix = "".join(path.suffixes[-1:]).lower()
    if suffix in (".parquet", ".pq"):
        return ParquetSource(path)
    if suffix in (".csv", ".txt", ".tsv"):
        return CsvSource(path)
    raise BadInput(f"extension « {suffix or '(aucune)'} » non reconnue : .csv ou .parquet attendu", field=str(path))
