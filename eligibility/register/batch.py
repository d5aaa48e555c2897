"""`qpv batch … --record`: one register entry per input row, appended in bulk (`store.BULK_ROWS` rows per
transaction, executemany), never a transaction per row.

The batch runs with traces on; each row's trace line is the answer a single question would have had.
The row's facts are read again from the input, chunk by chunk, normalised as the job normalised them
(decimal commas, JJ/MM/AAAA dates), so `qpv register recheck` can recompute any row. A row the batch
could not answer (its `error`) is recorded too, with the outcome `error`.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Iterator

import numpy as np

from ..batch.messages import is_none
from . import entries as E
from .recording import evaluate_question, locate_question


def _evaluate_facts(job, df) -> list[dict[str, Any]]:
    from ..batch.evaluate import _accepted_columns, _normalise, _rule

    accepted = _accepted_columns(_rule(job.dispositif))
    facts, _, _ = _normalise(df[[c for c in df.columns if c in accepted]], accepted)
    declared = _rule(job.dispositif).model.facts
    places = {path for path, f in declared.items() if f.type == "place"}
    rows: list[dict[str, Any]] = [{} for _ in range(len(facts))]
    for name in facts.columns:
        kind = accepted[name]
        values = facts[name].to_numpy(dtype=object) if facts[name].dtype.kind != "M" else \
            [None if v is None or v != v else v for v in facts[name].dt.date.to_numpy(dtype=object)]
        parent, _, part = name.rpartition(".")
        for i, v in enumerate(values):
            if v is None or (isinstance(v, float) and np.isnan(v)) or v is getattr(np, "nan", None):
                continue
            v = v.isoformat() if isinstance(v, dt.date) else (v.item() if hasattr(v, "item") else v)
            if isinstance(v, str) and not v.strip():
                continue
            v = _typed(v, kind)
            if parent in places:
                rows[i].setdefault(parent, {})[part] = v
            else:
                rows[i][name] = v
    return rows


def _typed(value: Any, kind: str) -> Any:
    """A cell as a single question's JSON would carry it: the engine reads both the same way."""
    if kind == "bool" and isinstance(value, str):
        from ..rules.facts import _FALSE, _TRUE

        text = value.strip().lower()
        return True if text in _TRUE else False if text in _FALSE else value
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip()
    return value


def _locate_facts(job, df) -> tuple[list[dict[str, Any]], list[dt.date | None]]:
    from ..batch.columns import to_float

    n = len(df)
    dates_raw, _ = job._dates(df)
    dates = [None if np.isnat(d) else d.astype("datetime64[D]").astype(object) for d in dates_raw]
    names = set(df.columns)
    if {"lon", "lat"} <= names or {"x", "y"} <= names:
        a, b = ("lon", "lat") if {"lon", "lat"} <= names else ("x", "y")
        xs, ys = to_float(df[a], a)[0], to_float(df[b], b)[0]
        return [{a: float(xs[i]), b: float(ys[i])} for i in range(n)], dates
    from ..addresses import compose_address

    texts = compose_address(df).str.strip().to_numpy(dtype=object)
    return [{"address": t} for t in texts], dates


def chunk_entries(job, chunk, trace_lines: list[str | dict], builder: E.Builder) -> Iterator[dict]:
    """One built entry per row of `chunk` (a source chunk the job answered), from its trace lines (the JSON text,
    or the plain object it encodes: read as it is, never changed), in order."""
    df = chunk.frame().rename(columns=job.renamed)
    good = np.flatnonzero(is_none(chunk.errors))
    if job.kind == "evaluate":
        facts, dates = _evaluate_facts(job, df), [job.date] * len(df)
    else:
        facts, dates = _locate_facts(job, df)
    by_pos = {int(p): j for j, p in enumerate(good)}
    if len(trace_lines) != chunk.n_rows:  # one trace line per row, or the rows and their answers would be crossed
        raise ValueError(f"{len(trace_lines)} lignes de trace pour {chunk.n_rows} lignes d'entrée")
    for pos, text in enumerate(trace_lines):
        # the trace line is the row's answer as plain JSON (text parsed here, or the object the job built)
        line = json.loads(text) if isinstance(text, str) else E.as_plain(text)
        line = {k: v for k, v in line.items() if k != "row"}
        j = by_pos.get(pos)
        row_facts = facts[j] if j is not None else {}
        if "error" in line and job.kind == "locate":  # an unreadable place has nothing to keep
            row_facts = {}
        when = dates[j] if j is not None else None
        if job.kind == "evaluate":
            question = evaluate_question(job.dispositif, row_facts, job.date)
        else:
            question = locate_question(when, tolerance_m=job.tolerance_m, **row_facts) if row_facts else \
                {"kind": "locate", "date": None, "date_given": False}
            if "trace" in line:  # a single answer says where its date came from: here, the row or --date
                line["trace"] = {**line["trace"], "date_source": "option"}
        answer = line if "error" not in line else {"outcome" if job.kind == "evaluate" else "status": "error", **line}
        yield builder.build(E.as_plain(question), answer)


class ChunkEntries:
    """`prepare(job, chunk, traces)` for `batch.runner.run`: the register entries of an answered chunk, built
    (and their content hashed) in the process that answered it, so that with `--workers 2` both cores build
    entries while this process only links them to the chain and writes them. Picklable (forked pool, Dask)."""

    def __init__(self, versions: dict[str, Any], data_sha256: str, keep_facts: bool):
        self.versions, self.data_sha256, self.keep_facts = E.plain(versions), data_sha256, keep_facts

    def __call__(self, job, chunk, trace_lines: list[str] | None) -> list[dict]:
        builder = E.Builder(self.versions, served="answer", channel="batch", data_sha256=self.data_sha256,
                            keep_facts=self.keep_facts)
        built = list(chunk_entries(job, chunk, trace_lines or [], builder))
        for item in built:
            item["digest"] = E.body_digest(item["row"])
        return built


def chunk_recorder(register, versions: dict[str, Any]):
    """`on_chunk(job, chunk, traces)` for `batch.stream_job`: a file sent to the service, one entry per input row,
    each chunk's entries appended (one transaction) before its lines are given."""
    prepare = ChunkEntries(versions, E.data_fingerprint(), register.keep_facts)

    def on_chunk(job, chunk, traces: bytes | None) -> None:
        register.append(prepare(job, chunk, traces.decode("utf-8").splitlines() if traces else []))

    return on_chunk


class BatchRecording:
    """`qpv batch … --record`: `prepare` builds each chunk's entries where the chunk is answered (`ChunkEntries`),
    `on_chunk` appends them, chunk by chunk as the batch goes (`store.BULK_ROWS` per transaction), before the
    chunk is written to the resume journal. A batch killed midway has recorded the chunks it finished, each
    one whole or absent; `--resume` answers and records the others (the chunk that was being journaled when
    the process died may then be recorded twice: docs/register.md, « Entrée écrite deux fois »)."""

    def __init__(self, register):
        from ..rules.loader import cited_versions  # what DomainEngine().versions() gives, without the web modules

        self.register, self.recorded = register, 0
        self.prepare = ChunkEntries(cited_versions(), E.data_fingerprint(), register.keep_facts)

    def on_chunk(self, job, built: list[dict]) -> None:
        self.recorded += len(self.register.append(built))
