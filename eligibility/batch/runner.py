"""Run a job over a file, chunk by chunk: parts + journal, resume, progress, final atomic output.

Engines only differ in *where* `process_chunk` runs (here, forked workers, or Dask workers); results are
journaled and appended in chunk order by this process, so every engine gives the same bytes. On this
machine each part is written into the journal's folder where it was answered; from Dask it comes back as bytes.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Callable, Iterable, Iterator

import logging

import numpy as np

from .. import __version__
from ..errors import BadInput, DataIntegrityError, RegisterUnavailable, field_words
from ..paths import data_dir
from .jobs import empty_output, encode_traces
from .journal import Journal, part_name, write_part
from .lock import output_lock
from .messages import is_none
from .progress import Progress
from .sinks import (
    OutputFormat,
    PartAppender,
    assemble,
    csv_format,
    csv_header,
    encode_part,
    output_format,
)
from .sources import Position, open_source

DEFAULT_CHUNK_SIZE = 100_000
log = logging.getLogger("qpv.batch")


_SET_ASIDE = "ligne mise de côté"  # never written: only while isolating a refused row


def _row_message(exc: BadInput) -> str:
    return exc.detail if exc.field is None else f"{field_words(exc.field, exc.label)} : {exc.detail}"


def answer_chunk(job, chunk):
    """`job.run(chunk)`, and a batch never stops on a row: when a vectorised step refuses the whole chunk
    because of one value (a BadInput from geography or the rules engine that the job's own checks did not
    foresee), the refused rows are found by halving the chunk, and the chunk is answered again with each
    of them as an error row carrying the engine's message. Error path only; answers are per row, so the
    other rows get exactly the answers they would have had."""
    try:
        return job.run(chunk)
    except BadInput as exc:
        first = exc
    good = np.flatnonzero(is_none(chunk.errors))
    refused: dict[int, str] = {}

    def isolate(rows: np.ndarray) -> None:
        try:
            job.run(chunk.set_aside(np.setdiff1d(good, rows), _SET_ASIDE))
        except BadInput as exc:
            if len(rows) == 1:
                refused[int(rows[0])] = _row_message(exc)
                return
            isolate(rows[: len(rows) // 2])
            isolate(rows[len(rows) // 2:])

    if len(good) > 1:
        isolate(good[: len(good) // 2])
        isolate(good[len(good) // 2:])
    elif len(good) == 1:
        refused[int(good[0])] = _row_message(first)
    if not refused:  # not one row's value after all: the chunk as a whole is refused, as before
        raise first
    rows = np.fromiter(refused, dtype=np.int64)
    return job.run(chunk.set_aside(rows, np.array(list(refused.values()), dtype=object)))


def process_chunk(job, fmt: OutputFormat, chunk, prepare: Callable | None = None, keep_traces: bool = True,
                  parts_dir: Path | None = None):
    """The unit of work, run wherever the engine says: parse, answer, encode. Returns the part's bytes, or, with
    `parts_dir` (the journal's folder, on this machine's disk), the part written there by `journal.write_part`
    and its `WrittenPart` (name and checksum: the bytes do not travel back). Traces likewise.
    `prepare(job, chunk, trace_lines)`, when given, runs here too and its value comes sixth (the register's
    entries of the chunk, built by the worker that answered it); `keep_traces=False`: the trace lines served
    `prepare` only and are not encoded."""
    chunk.read()  # a chunk cut in place: its lines from the input file, here (a changed file is refused first)
    res = answer_chunk(job, chunk)
    part = encode_part(res.frame, job.columns, fmt)
    traces = None
    if res.traces is not None and keep_traces:
        traces = encode_traces(res.traces)
    if parts_dir is not None:
        part = write_part(parts_dir, part_name("part", chunk.index), part)
        if traces is not None:
            traces = write_part(parts_dir, part_name("traces", chunk.index), traces)
    meta = (chunk.index, chunk.first_row, chunk.n_rows, chunk.next.to_json())  # not the rows: they stay there
    if prepare is not None:
        return meta, part, traces, res.counts, res.notes, prepare(job, chunk, res.traces)
    return meta, part, traces, res.counts, res.notes


def local_map(fn: Callable, items: Iterable) -> Iterator:
    for item in items:
        yield fn(item)


def chunk_results(job, source, fmt: OutputFormat, chunk_size: int, start: Position | None = None, index: int = 0,
                  mapper: Callable = local_map, in_place: bool = False, **prepared) -> Iterator:
    """`process_chunk` over the source's chunks, in order: what both the file runner and `stream_job` consume.
    `in_place`: `mapper` answers on this machine, where a CSV chunk's lines are read from the file."""
    return mapper(functools.partial(process_chunk, job, fmt, **prepared),
                  source.chunks(chunk_size, start, index, in_place=in_place))


def stream_job(job, source, *, chunk_size: int = DEFAULT_CHUNK_SIZE, end_row: bool = False,
               on_chunk: Callable | None = None) -> Iterator[bytes]:
    """The CSV output of `qpv batch` for `job` over `source`, as it is produced: the header, then one block of
    lines per chunk. Same job, same parsing, same encoding as the file runner, so the joined blocks are the
    bytes `qpv batch … -o out.csv` writes (the chunk size only changes where blocks are cut).

    With `end_row` (the web service), one more row closes the stream so that a reader can tell a whole
    result from a cut one: `row` = the number of result rows before it, status (or outcome) `complete`;
    a failure after the first bytes became `incomplete`, with the French reason in `error`.

    `on_chunk(job, chunk, traces)` runs once a chunk is answered and before its lines are given: the service's
    register records the rows there, so no line leaves unrecorded."""
    fmt = csv_format(source)
    yield csv_header(job.columns, fmt)
    rows = 0
    mapper = local_map if on_chunk is None else functools.partial(_then, lambda chunk, result: on_chunk(job, chunk, result[2]))
    try:
        for meta, part, _, _, _ in chunk_results(job, source, fmt, chunk_size, mapper=mapper):
            rows += meta[2]
            yield part
    except Exception as exc:  # noqa: BLE001 - the stream has begun: the failure becomes its last row
        if not end_row:
            raise
        log.error("lot interrompu après %d lignes : %s: %s", rows, type(exc).__name__, exc)
        yield end_of_stream(job, fmt, rows, problem=f"traitement interrompu après la ligne {rows} : {_why(exc)}")
        return
    if end_row:
        yield end_of_stream(job, fmt, rows)


def _then(after: Callable, fn: Callable, items: Iterable) -> Iterator:
    """`local_map`, calling `after(item, result)` before each result is handed on."""
    for item in items:
        result = fn(item)
        after(item, result)
        yield result


def _why(exc: Exception) -> str:
    if isinstance(exc, BadInput):
        return exc.detail
    if isinstance(exc, RegisterUnavailable):
        return f"les lignes suivantes n'ont pas pu être enregistrées au registre des décisions ({getattr(exc, 'reason', exc)})"
    if isinstance(exc, DataIntegrityError):
        return f"données de référence refusées : {exc}"
    return "erreur interne du serveur, le fichier n'est pas en cause ; voir le journal du serveur"  # the class name goes to the log


def end_of_stream(job, fmt: OutputFormat, rows: int, problem: str | None = None) -> bytes:
    """The row that closes a streamed result (`stream_job(end_row=True)`), in the job's own columns."""
    import pandas as pd

    out = empty_output(job.columns, 1)
    out["row"][0] = rows
    out["outcome" if "outcome" in out else "status"][0] = "incomplete" if problem else "complete"
    out["error"][0] = problem
    return encode_part(pd.DataFrame(out), job.columns, fmt)


def _appenders(out: Path, fmt: OutputFormat, columns, traces: Path | None, journal: Journal) -> dict:
    appenders = {}
    try:
        if fmt.kind == "csv":
            appenders["output"] = PartAppender(out, csv_header(columns, fmt))
        if traces is not None:
            appenders["traces"] = PartAppender(Path(traces))
        for entry in journal.entries:  # --resume: the parts already journaled, re-checked
            _append(appenders, journal, entry)
    except BaseException:
        for appender in appenders.values():
            appender.abort()
        raise
    return appenders


def _append(appenders: dict, journal: Journal, entry: dict) -> None:
    if "output" in appenders:
        appenders["output"].ready(entry["chunk"], *journal.part(entry))
    if "traces" in appenders:
        appenders["traces"].ready(entry["chunk"], *journal.trace_part(entry))


def _reference_version() -> str:
    """Checksum of the data manifest: a resumed job must use the data the interrupted one used."""
    path = data_dir() / "manifest.yaml"
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"


def run(job, source, out: Path, *, chunk_size: int = DEFAULT_CHUNK_SIZE, resume: bool = False,
        traces: Path | None = None, mapper: Callable = local_map, show_progress: bool = True,
        progress_label: str = "qpv batch", record=None, same_disk: bool = True) -> dict:
    """Run `job` over `source` (from `open_source`) into `out`; returns the summary (JSON-ready). The output's
    lock is held throughout: a second job on the same output is refused (`lock.output_lock`).
    `record` (`register.batch.BatchRecording`): each chunk's `record.prepare` value, computed where the chunk
    is answered, goes to `record.on_chunk` here, in chunk order, before the chunk is journaled.
    `same_disk`: `mapper` answers on this machine (here or forked workers), which reads each CSV chunk's lines from
    the input file and writes its part into the journal's folder itself; else (Dask) chunks and parts travel as
    bytes, and the parts are written here."""
    out = Path(out)
    fmt = output_format(out, source)
    with output_lock(out, progress_label, source.path):
        return _run_locked(job, source, out, fmt, chunk_size, resume, traces, mapper, show_progress, progress_label,
                           record, same_disk)


def _run_locked(job, source, out: Path, fmt: OutputFormat, chunk_size: int, resume: bool, traces: Path | None,
                mapper: Callable, show_progress: bool, progress_label: str, record=None, same_disk: bool = True) -> dict:
    stat = source.path.stat()
    signature = {"qpv": __version__, "input": str(source.path.resolve()), "size": stat.st_size,
                 "mtime_ns": stat.st_mtime_ns, "job": job.describe(), "chunk_size": chunk_size,
                 "output": fmt.to_json(), "traces": traces is not None, "reference_data": _reference_version()}
    if record is not None:  # a journal of a run that did not record cannot be resumed by one that does
        signature["recorded"] = True
    prepared = {} if record is None else {"prepare": record.prepare, "keep_traces": traces is not None}
    journal = Journal(out, signature, resume)
    if same_disk:
        prepared["parts_dir"] = journal.dir
    start, index = None, len(journal.entries)
    if journal.entries:
        start = Position(**journal.entries[-1]["next"])
    total_rows_before = sum(e["rows"] for e in journal.entries)
    done, total = source.progress_of(start or source.start)
    progress = Progress(progress_label, total, unit_is_bytes=hasattr(source, "dialect"), enabled=show_progress)
    # CSV and traces are built while the job runs (a resumed job first rebuilds them from the journaled parts);
    # Parquet is assembled at the end. Every part is re-read and checked against its journaled checksum either way.
    appenders = _appenders(out, fmt, job.columns, traces, journal)
    try:
        for meta, part, traces_part, counts, notes, *built in chunk_results(job, source, fmt, chunk_size, start, index,
                                                                             mapper, same_disk, **prepared):
            index, first_row, n_rows, next_pos = meta
            if record is not None:
                record.on_chunk(job, built[0])
            journal.record(index, first_row, n_rows, next_pos, counts, notes, part, traces_part)
            _append(appenders, journal, journal.entries[-1])
            progress.update(n_rows, source.progress_of(Position(**next_pos))[0])
    except BaseException:
        for appender in appenders.values():
            appender.abort()
        raise
    finally:
        progress.close()
    if "output" in appenders:
        appenders["output"].publish()
    else:
        assemble(out, journal.parts(), job.columns, fmt)
    if "traces" in appenders:
        appenders["traces"].publish()
    counts: dict[str, int] = {}
    for e in journal.entries:
        for k, v in e["counts"].items():
            counts[k] = counts.get(k, 0) + v
    summary = {"input": str(source.path), "output": str(out), "traces": str(traces) if traces else None,
               "read": source.to_json(), "rows": sum(e["rows"] for e in journal.entries),
               "counts": dict(sorted(counts.items())), "errors": counts.get("error", 0),
               "detected": sorted({n for e in journal.entries for n in e["notes"]}),
               "chunks": len(journal.entries), "resumed_rows": total_rows_before if journal.resumed else 0}
    journal.discard()
    return summary


__all__ = ["run", "stream_job", "open_source", "process_chunk", "DEFAULT_CHUNK_SIZE"]
