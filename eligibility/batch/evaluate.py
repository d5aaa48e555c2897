"""`qpv batch evaluate DISPOSITIF`: one decision per row through the rules engine's `evaluate_frame`.

Columns are the dotted fact paths of the rule file (places as `employee.residence.lon`/`.lat`/
`.quartier_code`). Before the engine validates them, French spreadsheet habits are normalised per the
fact's declared type: decimal comma in numbers, JJ/MM/AAAA dates, stray spaces around codes. A value
that still does not fit is reported by the engine against its row (outcome `error`), never defaulted.

Reasons, missing inputs and ambiguities are columns, not per-row calls: the engine's `blame` finds the
missing facts, ambiguous places and unknown parameters of every undetermined row at once (boolean masks), and
each text is built once per distinct combination of what it prints, then broadcast to its rows.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import BadInput
from .arrow_only import scalar, to_numpy
from .columns import first_error, holds_byte, to_date, to_float
from .messages import has_message, is_none, no_messages
from . import jobs
from .jobs import (
    Answers,
    ChunkResult,
    check_keep,
    counts_of_coded,
    empty_output,
    fill_kept,
    row_numbers,
    trace_lines,
    with_kept,
    with_lines,
)

if TYPE_CHECKING:  # a CSV chunk is answered without pandas (Arrow and numpy); other inputs go through it
    import pandas as pd

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
        """`warm`, and the quartier indexes of every vintage, before worker processes are forked; with their
        boundary cells, which answer the exact tests near quartier boundaries (as for `qpv batch locate`):
        without them each worker built an STRtree of the boundary segments, ~0.07 CPU s per worker."""
        from ..geography import index

        self.warm()
        index.load_all(distances=True)

    def _typed_dates(self, accepted: dict[str, str]) -> tuple[str, ...]:
        """The file's date columns that a CSV chunk may read as dates (`Chunk.arrow`): none when traces or the register
        copy each row's values as written, nor a kept column (written as the file has it)."""
        if self.traces:
            return ()
        return tuple(c for c, name in self.renamed.items() if accepted.get(name) == "date" and c not in self.keep)

    def run(self, chunk) -> ChunkResult:
        jobs.require_layers(self.layers)
        rule = _rule(self.dispositif)
        accepted = _accepted_columns(rule)
        from ..rules.evaluator import OUTCOMES, evaluate_columns

        table = chunk.arrow(dates=self._typed_dates(accepted))
        read = _read_text_columns(rule, table, self.renamed, accepted)
        if read is not None:  # a CSV chunk: Arrow text columns straight to the engine's columns
            (cols, places, bad), value_errors, notes = read
            frame = evaluate_columns(rule, cols, places, bad, table.num_rows, date=self.date, errors="collect")
        else:  # other column types (Parquet): through pandas
            df = chunk.frame().rename(columns=self.renamed)
            facts, value_errors, notes = _normalise(df[[c for c in df.columns if c in accepted]], accepted)
            frame = jobs.rules_module().evaluate_frame(rule, facts, date=self.date, errors="collect")

        good = np.flatnonzero(is_none(chunk.errors))
        out = empty_output(self.columns, chunk.n_rows)
        out["row"] = row_numbers(chunk)
        if self.keep:
            fill_kept(out, chunk.frame(), good, self.keep)
        amounts = frame.amount_values()
        for a in rule.model.amounts:
            out[f"amount.{a.id}"][good] = amounts[a.id]
        # the text columns travel as (labels, index per row): Arrow takes the few labels, no object per row
        details, detail_errors = coded_details(frame)
        bad_value = has_message(value_errors)  # a value the batch could not read: that row is an error
        detail_errors = np.where(bad_value, value_errors, detail_errors)
        coded = {}
        for name, (labels, index) in details.items():
            coded[name] = (labels, np.zeros(chunk.n_rows, dtype=np.intp))
            coded[name][1][good] = np.where(bad_value, 0, index)  # label 0 is None
        error_code = list(OUTCOMES).index("error")
        outcome = np.full(chunk.n_rows, error_code, dtype=np.intp)  # rows the reader refused stay errors
        outcome[good] = np.where(bad_value, error_code, frame._code)
        coded["outcome"] = (OUTCOMES, outcome)
        out["error"][good] = detail_errors
        for a in rule.model.amounts:
            out[f"amount.{a.id}"][good[bad_value]] = np.nan
        broken = has_message(chunk.errors)
        out["error"][broken] = chunk.errors[broken]
        out["error"] = with_lines(chunk, out["error"])
        traces = None
        if self.traces:
            errors = out["error"].copy()
            answered = good[is_none(detail_errors)]
            back = {int(p): j for j, p in enumerate(good)}
            frame.blame_each([back[int(p)] for p in answered])  # what each trace's missing inputs need, at once
            # the decisions' plain JSON objects, encoded only for the traces file: the register's entries read them
            # as they are, not their text parsed back
            traces = trace_lines(chunk, errors, answered, lambda k: frame.decision_json(back[int(answered[k])]),
                                 encode=False)
        return ChunkResult(Answers(out, self.columns, coded), traces, counts_of_coded(OUTCOMES, outcome), notes)


def _normalise(df: pd.DataFrame, accepted: dict[str, str]) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """French spreadsheet values to typed columns (numbers float64, dates datetime64), with per row
    None or the message of the first value that does not parse. Codes and enums go to the engine as
    text (it checks them against the rule's values); a blank cell is an unknown fact, never a default."""
    import pandas as pd

    from ..rules.facts import per_distinct  # the rules engine loads with the job, not with `qpv batch locate`

    out, notes, errors = {}, [], [no_messages(len(df))]
    for name in df.columns:
        s, kind = df[name], accepted[name]
        if kind in ("number", "integer"):
            v, _, err, comma = per_distinct(to_float, s, name)
            out[name] = v
            errors.append(err)
            if comma:
                notes.append(f"virgule décimale dans « {name} »")
        elif kind == "date":
            v, missing, err, slash = per_distinct(_date, s, name)
            out[name] = pd.Series(v.astype("datetime64[s]"))
            errors.append(err)
            if (slash & ~missing & is_none(err)).any():
                notes.append(f"dates JJ/MM/AAAA dans « {name} »")
        else:  # booleans, codes, enums: the engine reads them; a blank cell (any text dtype) is a missing fact
            out[name] = s
    return pd.DataFrame(out, index=pd.RangeIndex(len(df))), first_error(*errors), notes


def _read_text_columns(rule, table, renamed: dict[str, str], accepted: dict[str, str]):
    """`_normalise` then `rules.facts.frame_columns` of a chunk whose accepted columns are all Arrow text (a CSV
    chunk; its dates may come as date32, `EvaluateJob._typed_dates`), without pandas Series: ((columns, places, bad
    values), value errors per row, notes), the same as that pandas path gives (tests/batch/test_evaluate_arrow.py).
    None for other column types."""
    import pyarrow as pa

    from ..rules.facts import per_distinct, typed_columns
    from . import arrow_compute as ac

    names = [(c, renamed.get(c, c)) for c in table.column_names if renamed.get(c, c) in accepted]
    columns = {}
    for column, name in names:
        arr = table.column(column).combine_chunks()
        if not (pa.types.is_string(arr.type) or (accepted[name] == "date" and arr.type == pa.date32())):
            return None
        columns[name] = arr
    given, notes, errors = {}, [], [no_messages(table.num_rows)]
    for name, arr in columns.items():
        kind = accepted[name]
        # a cell has a message exactly where it is neither blank nor read (`to_float`, `to_date`): a NaN / NaT
        # test on the values says whether a column has any, instead of a None test per object (~0.6 ms per array)
        if kind in ("number", "integer"):
            given[name], missing, err, comma = per_distinct(to_float, arr, name)
            if (np.isnan(given[name]) & ~missing).any():
                errors.append(err)
            if comma:
                notes.append(f"virgule décimale dans « {name} »")
        elif kind == "date":
            given[name], missing, err = to_date(arr, name)
            ok = ~missing & ~np.isnat(given[name])
            if not (ok | missing).all():
                errors.append(err)
            if ok.any() and pa.types.is_string(arr.type) and holds_byte(arr, b"/") and \
                    to_numpy(ac.fill_null(ac.match_substring(arr, "/"), scalar(False, pa.bool_())))[ok].any():
                notes.append(f"dates JJ/MM/AAAA dans « {name} »")
        else:  # yes/no, codes, enums: read by the engine's side
            given[name] = arr
    return typed_columns(rule, table.num_rows, given), first_error(*errors), notes


def _date(s: pd.Series, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`to_date`, and which cells are written JJ/MM/AAAA (for the note)."""
    import pandas as pd

    v, missing, err = to_date(s, name)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return v, missing, err, np.zeros(len(s), dtype=bool)
    return v, missing, err, s.astype("str").str.contains("/", regex=False).fillna(False).to_numpy(dtype=bool)


def _factorize(values: np.ndarray) -> tuple[np.ndarray, int]:
    """(code of each value, in order of first appearance; number of distinct values): `pd.factorize` with None
    a value too. Integers are hashed by Arrow's dictionary encoding (same codes, no pandas); objects (a zone's
    statuses, rare) by pandas."""
    if values.dtype == object:
        import pandas as pd

        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        return codes, len(uniques)
    import pyarrow as pa

    from . import arrow_compute as ac

    encoded = ac.dictionary_encode(pa.array(values, type=pa.int64()))
    return to_numpy(encoded.indices).astype(np.int64, copy=False), len(encoded.dictionary)


def _group(columns: list[np.ndarray], rows: np.ndarray, factorize=None) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each distinct combination, group number of each row), restricted to `rows`.
    Boolean columns are packed 62 to an integer, the others factorised (hashing): no sort of a wide matrix.
    `factorize(values)` -> (codes in order of first appearance, how many distinct): `_factorize` by default."""
    factorize = factorize or _factorize
    flags = [np.asarray(c)[rows] for c in columns if np.asarray(c).dtype == bool]
    others = [np.asarray(c)[rows] for c in columns if np.asarray(c).dtype != bool]
    for k in range(0, len(flags), 62):
        packed = np.zeros(len(rows), dtype=np.int64)
        for bit, f in enumerate(flags[k:k + 62]):
            packed |= f.astype(np.int64) << bit
        others.append(packed)
    code = np.zeros(len(rows), dtype=np.int64)
    for col in others:
        k, distinct = factorize(col)  # None is a value too
        code, _ = factorize(code * max(distinct, 1) + k)
    groups = code
    first = np.full(groups.max() + 1 if len(groups) else 0, -1, dtype=np.int64)
    first[groups[::-1]] = rows[::-1]  # the earliest row of each group wins
    return first, groups


def _texts(masks: list[np.ndarray], rows: np.ndarray, text) -> tuple[np.ndarray, np.ndarray]:
    """One text per row of `rows`, from which of `masks` (boolean arrays over `rows`) hold on it, as (texts,
    index of each row's text): `text(j)` runs once per distinct combination, on its first position j."""
    first, groups = _group(masks, np.arange(len(rows)))
    return np.asarray([text(int(j)) for j in first], dtype=object), groups


def row_details(frame) -> dict[str, np.ndarray]:
    """reasons, missing_inputs, ambiguities and error, one value per row (`coded_details` spread out)."""
    coded, error = coded_details(frame)
    out = {name: labels[index] for name, (labels, index) in coded.items()}
    out["error"] = error
    return out


def coded_details(frame) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """reasons, missing_inputs and ambiguities as (texts, index per row; text 0 is None), each text computed
    once per distinct combination of what it prints (see the module docstring), and the error per row."""
    n = frame.n
    error = np.full(n, None, dtype=object)
    texts = {k: [None] for k in ("reasons", "missing_inputs", "ambiguities")}
    index = {k: np.zeros(n, dtype=np.intp) for k in texts}

    def put(name: str, rows: np.ndarray, found: tuple[np.ndarray, np.ndarray]) -> None:
        index[name][rows] = len(texts[name]) + found[1]
        texts[name].extend(found[0])

    def result():
        return {k: (np.array(texts[k], dtype=object), index[k]) for k in texts}, error

    if n == 0:
        return result()
    ctx = frame.ctx
    code = np.asarray(frame._code)
    if frame.errors:
        rows = np.fromiter(sorted(frame.errors), dtype=np.int64)
        error[rows] = [frame.error(int(i)) for i in rows]  # error path only
    # reasons of a not-eligible row: the conditions known false, in the rule's order
    failed = np.flatnonzero(code == 1)
    if len(failed):
        conditions = [cond.id for cond, _, _, _, _ in frame.results]
        falses = [(final.known & ~final.value)[failed] for _, _, final, _, _ in frame.results]
        put("reasons", failed, _texts(falses, failed, lambda j: LIST_SEPARATOR.join(
            c for c, f in zip(conditions, falses) if f[j]) or None))
    # missing inputs and ambiguities: only undetermined rows have open items
    rows = np.flatnonzero(code == 2)
    if len(rows):
        facts, geo, params = frame.blame(rows)
        names = sorted(facts)
        masks = [facts[k] for k in names]
        put("missing_inputs", rows, _texts(masks, rows, lambda j: LIST_SEPARATOR.join(
            k for k, m in zip(names, masks) if m[j]) or None))
        # what an ambiguity prints: the geography status or parameter period behind each blamed key
        geo_keys, param_keys = sorted(geo), sorted(params)
        keys = [geo[k] for k in geo_keys] + [params[k] for k in param_keys] + [ctx.decision_date.known[rows]]
        for which, key in geo_keys:
            g = ctx.geo[key]
            keys.append(g.col(which).known[rows])
            if which.startswith("in_zone:"):
                keys.append(np.asarray(g.zone_status(which.split(":", 1)[1]), dtype=object)[rows])
            elif which == "in_qpv":  # the status's label number: rows alike in it print alike (no object per row)
                keys.append(g.coded("status")[1][rows])

        def ambiguities(j: int) -> str | None:
            blamed = ({k for k in geo_keys if geo[k][j]}, {k for k in param_keys if params[k][j]})
            return LIST_SEPARATOR.join(f"{a.get('fact') or a.get('parameter')}:{a['status']}"
                                       for a in frame.ambiguities(int(rows[j]), blamed)) or None
        put("ambiguities", rows, _texts(keys, rows, ambiguities))
    return result()
