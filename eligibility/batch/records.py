"""Cut CSV bytes into records, one output row per record, and say which records are broken.

A CSV line is one record unless a quoted field holds a line break. We find records with array
operations on the bytes (quote parity per physical line), so the usual file costs no Python loop per
line; only lines with an odd number of quotes (a multi-line field, or a broken quote) go through a
small loop. A broken record becomes an error row of its own and never swallows its neighbours:
- an empty line ("ligne vide");
- a quote that is not closed within MAX_RECORD_LINES physical lines, or whose closing would give a
  record with the wrong number of fields ("guillemet non refermé"): only that line is the error row,
  reading goes on at the next line;
- a record with more or fewer fields than the header;
- bytes that are not valid in the detected encoding.
Blank lines at the very end of the file are not records (spreadsheets often leave them).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from .messages import is_none

MAX_RECORD_LINES = 50  # a quoted field may span at most this many physical lines
# The csv module refuses fields over 128 kB by default; a long cell is the value's problem (reported on its
# row by the column that reads it), never a reason to misread the record or stop the file.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
NEWLINE_BYTE = 10  # also what sources.py counts lines by
_CR, _QUOTE = 13, 34


@dataclass
class Records:
    """The first `n_rows` records of a byte block."""

    n_rows: int
    errors: np.ndarray       # object array, one per row: None or a French message
    good_text: bytes         # the well-formed records, each ending with "\n", in UTF-8
    n_good: int
    consumed: int            # bytes of the block used by these records
    lines: np.ndarray        # physical line (0-based, relative to the block) where each row starts
    lines_consumed: int


def _line_bounds(buf: np.ndarray, nl: np.ndarray, at_eof: bool):
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [len(buf)]))
    if not at_eof or starts[-1] == len(buf):  # an incomplete last line waits for more bytes
        starts, ends = starts[:-1], ends[:-1]
    has_cr = np.zeros(len(ends), dtype=bool)
    nonempty = ends > starts
    has_cr[nonempty] = buf[ends[nonempty] - 1] == _CR
    return starts, ends - has_cr, ends, has_cr


class _Quotes:
    """Number of quote characters before any byte offset, from the (few) quote positions."""

    def __init__(self, buf: np.ndarray):
        self.pos = np.flatnonzero(buf == _QUOTE)

    def before(self, offsets: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.pos, offsets)


def _is_one_record(raw: bytes, sep: str, ncols: int, encoding: str) -> bool:
    """Strict RFC 4180 reading of a multi-line candidate: one record of `ncols` fields, every quoted
    field closed by a quote followed by a separator or the end. Rules out pairing a stray quote with
    the opening quote of a later record."""
    try:
        rows = list(csv.reader(io.StringIO(raw.decode(encoding).replace("\r\n", "\n"), newline=""),
                               delimiter=sep, strict=True))
    except (csv.Error, UnicodeDecodeError):
        return False
    return len(rows) == 1 and len(rows[0]) == ncols


def _field_counts(quotes: _Quotes, sep_pos, rec_start, rec_end):
    """Fields per record: separators outside quotes + 1 (records sorted, non-overlapping)."""
    if len(rec_start) == 0:
        return np.zeros(0, dtype=np.int64)
    # every separator counts in records without quotes: two binary searches per record
    counts = np.searchsorted(sep_pos, rec_end) - np.searchsorted(sep_pos, rec_start) + 1
    if len(quotes.pos):
        quoted = np.flatnonzero(quotes.before(rec_end) - quotes.before(rec_start))
        if len(quoted):  # the few records with quotes: drop separators inside quoted fields
            starts, ends = rec_start[quoted], rec_end[quoted]
            lo, hi = np.searchsorted(sep_pos, starts), np.searchsorted(sep_pos, ends)
            lengths = hi - lo
            owner = np.repeat(np.arange(len(quoted)), lengths)
            # indices lo..hi-1 of every quoted record, concatenated, without a Python loop
            idx = np.arange(len(owner)) - np.repeat(np.cumsum(lengths) - lengths, lengths) + np.repeat(lo, lengths)
            pos = sep_pos[idx]
            outside = ((quotes.before(pos) - quotes.before(starts[owner])) & 1) == 0
            counts[quoted] = np.bincount(owner[outside], minlength=len(quoted)) + 1
    return counts


def split_records(data: bytes, *, sep: str, ncols: int, encoding: str, encoding_label: str, limit: int,
                  at_eof: bool, max_lines: int = MAX_RECORD_LINES) -> Records:
    """The first `limit` records of `data` (fewer at the end of the file, or when the block is short)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(buf == NEWLINE_BYTE)
    window = limit + max_lines + 1
    while True:  # look only at the lines this chunk can need; widen if multi-line records used them up
        if window < len(nl):
            recs = _split(data, buf[: nl[window - 1] + 1], nl[:window], sep, ncols, encoding, encoding_label,
                          limit, False, max_lines)
            if recs.n_rows == limit:
                return recs
            window *= 2
        else:
            return _split(data, buf, nl, sep, ncols, encoding, encoding_label, limit, at_eof, max_lines)


def _split(data, buf, nl, sep, ncols, encoding, encoding_label, limit, at_eof, max_lines) -> Records:
    starts, content_end, ends, has_cr = _line_bounds(buf, nl, at_eof)
    n_lines = len(starts)
    blank = content_end == starts
    if at_eof:
        while n_lines and blank[n_lines - 1]:
            n_lines -= 1
    # a record may start on line s only if its closing quote, if any, can be seen in this block
    horizon = n_lines if at_eof else max(n_lines - max_lines - 1, 0)
    quotes = _Quotes(buf)
    if len(quotes.pos):
        per_line = quotes.before(content_end[:n_lines]) - quotes.before(starts[:n_lines])
        odd = np.flatnonzero(per_line & 1).tolist()
    else:
        odd = []

    errors: dict[int, str] = {}     # line -> message, for lines that start a broken record
    merged: dict[int, int] = {}     # first line -> last line of a record spanning several lines
    k = 0
    while k < len(odd):  # only lines with an odd number of quotes: rare in real files
        s = odd[k]
        if s >= horizon:
            break
        e = odd[k + 1] if k + 1 < len(odd) else None
        if e is not None and e - s <= max_lines and _is_one_record(data[starts[s]:content_end[e]], sep, ncols,
                                                                    encoding):
            merged[s] = e
            k += 2
            continue
        errors[s] = (f"guillemet non refermé : le champ ouvert par un guillemet ne se termine pas "
                     f"(dans les {max_lines} lignes suivantes) par un guillemet suivi d'un séparateur")
        k += 1

    # rows: every line that is not inside a multi-line record, up to the limit
    is_start = np.ones(n_lines, dtype=bool)
    last = np.arange(n_lines)
    for s, e in merged.items():
        is_start[s + 1:e + 1] = False
        last[s] = e
    row_lines = np.flatnonzero(is_start[:horizon])[:limit]
    n_rows = len(row_lines)
    row_last = last[row_lines]
    lines_consumed = int(row_last[-1]) + 1 if n_rows else 0
    consumed = int(min(ends[row_last[-1]] + 1, len(buf))) if n_rows else 0

    rec_start, rec_end = starts[row_lines], content_end[row_last]
    counts = _field_counts(quotes, np.flatnonzero(buf[:consumed] == ord(sep)), rec_start, rec_end)
    err = np.full(n_rows, None, dtype=object)
    bad_count = (counts != ncols) & ~blank[row_lines]
    for i in np.flatnonzero(bad_count):  # error path only
        err[i] = (f"{counts[i]} champs au lieu de {ncols} (séparateur « {sep} ») : ligne trop "
                  f"{'longue' if counts[i] > ncols else 'courte'} ou séparateur en trop")
    err[blank[row_lines]] = "ligne vide"
    cr = np.flatnonzero(buf[:consumed] == _CR)  # a \r not followed by \n: other readers would end the line there
    if len(cr):
        lone = cr[~np.isin(cr, content_end[has_cr])]
        if len(lone):
            owner = np.searchsorted(rec_start, lone, side="right") - 1
            mine = rec_start[np.maximum(owner, 0)]
            # inside a quoted field a \r is data (RFC 4180): the row is read with all its columns
            outside = ((quotes.before(lone) - quotes.before(mine)) & 1) == 0
            for i in np.unique(owner[(owner >= 0) & (lone < rec_end[np.maximum(owner, 0)]) & outside]):  # error path
                err[i] = "retour chariot (\\r) isolé au milieu de la ligne : fin de ligne d'un autre système ?"
    for s, msg in errors.items():
        pos = np.searchsorted(row_lines, s)
        if pos < n_rows and row_lines[pos] == s:
            err[pos] = msg

    good_text, n_good = _good_text(buf, data, starts, content_end, ends, has_cr, row_lines, row_last,
                                   lines_consumed, consumed, err, encoding, encoding_label)
    return Records(n_rows, err, good_text, n_good, consumed, row_lines, lines_consumed)


def _good_text(buf, data, starts, content_end, ends, has_cr, row_lines, row_last, lines_consumed, consumed,
               err, encoding, label):
    while True:
        good_rows = np.flatnonzero(is_none(err))
        if len(good_rows) == len(err) and not has_cr[:lines_consumed].any():
            raw = data[:consumed]  # the usual case: the bytes are already the text
        else:
            line_keep = np.zeros(lines_consumed, dtype=bool)
            if len(good_rows):  # lines covered by good rows: +1 at their first line, -1 after their last
                d = np.zeros(lines_consumed + 1, dtype=np.int32)
                np.add.at(d, row_lines[good_rows], 1)
                np.add.at(d, row_last[good_rows] + 1, -1)
                line_keep = np.cumsum(d[:-1]) > 0
            lengths = np.minimum(ends[:lines_consumed] + 1, len(buf)) - starts[:lines_consumed]
            mask = np.repeat(line_keep, lengths)
            mask[content_end[:lines_consumed][has_cr[:lines_consumed] & line_keep]] = False  # the \r of \r\n
            raw = buf[: len(mask)][mask].tobytes()
        if len(good_rows) and not raw.endswith(b"\n"):
            raw += b"\n"  # last line of the file without a final line break
        try:
            text = raw.decode(encoding)  # validates every byte; UTF-8 input is passed on as it is
            return (raw if encoding == "utf-8" else text.encode("utf-8")), len(good_rows)
        except UnicodeDecodeError:
            pass
        for i in good_rows:  # error path: find the rows whose bytes are not valid in this encoding
            try:
                data[starts[row_lines[i]]:content_end[row_last[i]]].decode(encoding)
            except UnicodeDecodeError:
                err[i] = f"octets invalides pour l'encodage {label} détecté sur le début du fichier"
