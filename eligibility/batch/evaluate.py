"""`qpv batch evaluate DISPOSITIF`: one decision per row through the rules engine's `evaluate_frame`.

Columns are the dotted fact paths of the rule file (places as `employee.residence.lon`/`.lat`/
`.quartier_code`). Before the engine validates them, French spreadsheet habits are normalised per the
fact's declared type: decimal comma in numbers, JJ/MM/AAAA dates, stray spaces around codes. A value
that still does not fit is reported by the engine against its row (outcome `error`), never defaulted.

Reasons, missing inputs and ambiguities are columns, not per-row calls: rows that share the same
column results (each condition's true/false/unknown, which facts are known, geography statuses,
parameter periods) share the same lists, so the engine's own per-row functions run once per distinct
pattern (a handful per chunk) and the answer is broadcast to its rows.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import BadInput
from .columns import first_error, to_date, to_float
from . import jobs
from .jobs import (
    ChunkResult,
    check_keep,
    counts_of,
    empty_output,
    fill_kept,
    row_numbers,
    trace_lines,
    with_kept,
    with_lines,
)

LIST_SEPARATOR = " | "


def _rule(dispositif: str):
    return jobs.rules_module().get_rule(dispositif)


def evaluate_columns(rule) -> list[tuple[str, str]]:
    amounts = [(f"amount.{a.id}", "float") for a in rule.model.amounts]
    return ([("row", "int"), ("outcome", "str")] + amounts
            + [("reasons", "str"), ("missing_inputs", "str"), ("ambiguities", "str"), ("error", "str")])


def _accepted_columns(rule) -> dict[str, str]:
    """{column name: fact type} for every column the rule reads (places as flat sub-columns)."""
    out = {}
    for path, fact in rule.model.facts.items():
        if fact.type == "place":
            out.update({f"{path}.lon": "number", f"{path}.lat": "number", f"{path}.quartier_code": "string",
                        f"{path}.address": "string"})
        else:
            out[path] = fact.type
    return out


@dataclass(frozen=True)
class EvaluateJob:
    dispositif: str
    renamed: dict[str, str]
    date: dt.date | None = None
    traces: bool = False
    keep: tuple[str, ...] = ()
    kind: str = "evaluate"
    layers: tuple = field(default_factory=jobs.imported_layers)  # travels to Dask workers with the job

    def __post_init__(self):
        accepted = _accepted_columns(_rule(self.dispositif))
        check_keep(self.keep, self.renamed, evaluate_columns(_rule(self.dispositif)))
        if not any(name in accepted for name in self.renamed.values()):
            raise BadInput(f"aucune colonne du fichier n'est un fait de « {self.dispositif} » (colonnes lues : "
                           f"{', '.join(self.renamed)} ; attendues par exemple : {', '.join(list(accepted)[:6])}) ; "
                           "--map permet de renommer les vôtres", field="colonnes")

    @property
    def columns(self):
        return with_kept(evaluate_columns(_rule(self.dispositif)), self.keep)

    def ignored_columns(self) -> list[str]:
        accepted = _accepted_columns(_rule(self.dispositif))
        return [c for c, name in self.renamed.items() if name not in accepted and c not in self.keep]

    def describe(self) -> dict:
        rule = _rule(self.dispositif)
        return {"kind": self.kind, "dispositif": self.dispositif, "rule_sha256": rule.sha256,
                "date": self.date.isoformat() if self.date else None, "map": self.renamed,
                "keep": list(self.keep), "layers": list(self.layers[1])}

    def warm(self) -> None:
        """Load the rule file and the geography in this process (once per Dask worker)."""
        jobs.require_layers(self.layers)
        _rule(self.dispositif)
        jobs.geography()([2.35], [48.85], dt.date(2025, 1, 1))

    def warm_all(self) -> None:
        """`warm`, and the quartier indexes of every vintage, before worker processes are forked."""
        from ..geography import index

        self.warm()
        index.load_all()

    def run(self, chunk) -> ChunkResult:
        jobs.require_layers(self.layers)
        rule = _rule(self.dispositif)
        accepted = _accepted_columns(rule)
        raw = chunk.frame()
        df = raw.rename(columns=self.renamed)
        facts, value_errors, notes = _normalise(df[[c for c in df.columns if c in accepted]], accepted)
        frame = jobs.rules_module().evaluate_frame(rule, facts, date=self.date, errors="collect")
        good = np.flatnonzero(np.equal(chunk.errors, None))
        out = empty_output(self.columns, chunk.n_rows)
        out["row"] = row_numbers(chunk)
        fill_kept(out, raw, good, self.keep)
        out["outcome"][good] = frame.outcome
        amounts = frame.amounts
        for a in rule.model.amounts:
            out[f"amount.{a.id}"][good] = amounts[a.id].to_numpy(dtype=float)
        details = row_details(frame)
        bad_value = ~np.equal(value_errors, None)  # a value the batch could not read: that row is an error
        details["error"] = np.where(bad_value, value_errors, details["error"])
        for name in ("reasons", "missing_inputs", "ambiguities"):
            details[name][bad_value] = None
        for name in ("reasons", "missing_inputs", "ambiguities", "error"):
            out[name][good] = details[name]
        out["outcome"][good[bad_value]] = "error"
        for a in rule.model.amounts:
            out[f"amount.{a.id}"][good[bad_value]] = np.nan
        broken = ~np.equal(chunk.errors, None)
        out["error"][broken] = chunk.errors[broken]
        out["outcome"][broken] = "error"
        out["error"] = with_lines(chunk, out["error"])
        traces = None
        if self.traces:
            errors = out["error"].copy()
            answered = good[np.equal(details["error"], None)]
            back = {int(p): j for j, p in enumerate(good)}
            traces = trace_lines(chunk, errors, answered, lambda k: frame.decision(back[int(answered[k])]).to_json())
        return ChunkResult(pd.DataFrame(out), traces, counts_of(out["outcome"]), notes)


def _normalise(df: pd.DataFrame, accepted: dict[str, str]) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """French spreadsheet values to typed columns (numbers float64, dates datetime64), with per row
    None or the message of the first value that does not parse. Codes and enums go to the engine as
    text (it checks them against the rule's values); a blank cell is an unknown fact, never a default."""
    out, notes, errors = {}, [], [np.full(len(df), None, dtype=object)]
    for name in df.columns:
        s, kind = df[name], accepted[name]
        if kind in ("number", "integer"):
            v, _, err, comma = to_float(s, name)
            out[name] = v
            errors.append(err)
            if comma:
                notes.append(f"virgule décimale dans « {name} »")
        elif kind == "date":
            v, missing, err = to_date(s, name)
            out[name] = pd.Series(v.astype("datetime64[s]"))
            errors.append(err)
            if not pd.api.types.is_datetime64_any_dtype(s.dtype):
                slash = s.astype("str").str.contains("/", regex=False).fillna(False).to_numpy(dtype=bool)
                if (slash & ~missing & np.equal(err, None)).any():
                    notes.append(f"dates JJ/MM/AAAA dans « {name} »")
        else:  # booleans, codes, enums: the engine reads them; a blank cell (any text dtype) is a missing fact
            out[name] = s
    return pd.DataFrame(out, index=pd.RangeIndex(len(df))), first_error(*errors), notes


def _group(columns: list[np.ndarray], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each distinct combination, group number of each row), restricted to `rows`.
    Boolean columns are packed 62 to an integer, the others factorised (hashing): no sort of a wide matrix."""
    flags = [np.asarray(c)[rows] for c in columns if np.asarray(c).dtype == bool]
    others = [np.asarray(c)[rows] for c in columns if np.asarray(c).dtype != bool]
    for k in range(0, len(flags), 62):
        packed = np.zeros(len(rows), dtype=np.int64)
        for bit, f in enumerate(flags[k:k + 62]):
            packed |= f.astype(np.int64) << bit
        others.append(packed)
    code = np.zeros(len(rows), dtype=np.int64)
    for col in others:
        k, uniques = pd.factorize(col, use_na_sentinel=False)  # None is a value too
        code, _ = pd.factorize(code * max(len(uniques), 1) + k)
    groups = code
    first = np.full(groups.max() + 1 if len(groups) else 0, -1, dtype=np.int64)
    first[groups[::-1]] = rows[::-1]  # the earliest row of each group wins
    return first, groups


def _param_keys(frame) -> list[np.ndarray]:
    """Per parameter: the period index where its value is unknown (what an ambiguity would cite), else -1."""
    keys = []
    for name in sorted(frame.ctx.param_idx):
        idx = np.asarray(frame.ctx.param_idx[name])
        items = frame.rule.params[name].items
        unknown = np.array([it.value is None for it in items] + [True], dtype=bool)  # one per period, not per row
        keys.append(np.where(unknown[np.where(idx >= 0, idx, len(items))], idx, -1))
    return keys


def row_details(frame) -> dict[str, np.ndarray]:
    """reasons, missing_inputs, ambiguities and error as columns (see the module docstring)."""
    n = frame.n
    out = {k: np.full(n, None, dtype=object) for k in ("reasons", "missing_inputs", "ambiguities", "error")}
    if n == 0:
        return out
    ctx = frame.ctx
    code = np.asarray(frame._code)
    if frame.errors:
        rows = np.fromiter(sorted(frame.errors), dtype=np.int64)
        out["error"][rows] = [frame.error(int(i)) for i in rows]  # error path only
    # reasons: a function of each condition's (known, value) only
    cond_keys = [final.known * 2 + final.value for _, _, final, _, _ in frame.results]
    failed = np.flatnonzero(code == 1)
    if len(failed):
        first, groups = _group(cond_keys, failed)
        texts = [LIST_SEPARATOR.join(r["condition"] for r in frame.reasons(int(i))) or None for i in first]
        out["reasons"][failed] = np.asarray(texts, dtype=object)[groups]
    # missing inputs and ambiguities: only rows kept open by an unknown condition or required amount
    open_ = np.zeros(n, dtype=bool)
    for _, _, final, _, _ in frame.results:
        open_ |= ~final.known
    open_ |= code == 2
    rows = np.flatnonzero(open_ & ((code == 1) | (code == 2)))
    if len(rows):
        keys = [code] + cond_keys + [col.known for _, _, _, col in frame.amount_cols.values()]
        keys += [ctx.cols[p].known for p in sorted(ctx.cols)] + [ctx.places[p].known for p in sorted(ctx.places)]
        keys.append(ctx.decision_date.known)
        for k in sorted(ctx.geo):
            g = ctx.geo[k]
            keys += [g.asked, np.asarray(g.status, dtype=object), g.col("in_overseas").known]
        keys += _param_keys(frame)
        first, groups = _group(keys, rows)
        missing, ambig = [], []
        for i in first:  # one call per distinct pattern of column results
            missing.append(LIST_SEPARATOR.join(frame.missing(int(i))) or None)
            ambig.append(LIST_SEPARATOR.join(f"{a.get('fact') or a.get('parameter')}:{a['status']}"
                                             for a in frame.ambiguities(int(i))) or None)
        out["missing_inputs"][rows] = np.asarray(missing, dtype=object)[groups]
        out["ambiguities"][rows] = np.asarray(ambig, dtype=object)[groups]
    return out
