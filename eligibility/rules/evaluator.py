"""The one evaluator: a rule over a frame of facts, column by column.

`evaluate_frame` computes every condition, exception and amount as (value, known) arrays and derives the
outcome with array operations. Reasons, missing inputs and traces are read off those same arrays, only
for the rows asked. `evaluate` is a frame of one row: batch and single agree by construction.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np

from ..decisions.french import date_fr
from ..errors import BadInput
from . import values as V
from .facts import PlaceCols, frame_columns, row_columns, validate_one
from .loader import Rule, get_rule
from .money import cents
from .places import AMBIGUOUS, TERRITORY_UNKNOWN, ZONE_MESSAGES, answer

if TYPE_CHECKING:  # `evaluate_frame` takes a DataFrame; the batch's CSV path runs without pandas
    import pandas as pd

    from ..decisions.models import Decision

OUTCOMES = np.array(["eligible", "not_eligible", "undetermined", "error", "out_of_scope"], dtype=object)


class Context:
    """What expressions read while running over one frame; caches parameters, definitions, geography."""

    def __init__(self, rule: Rule, cols: dict, places: dict[str, PlaceCols], bad, n: int):
        self.rule, self.cols, self.places, self.bad, self.n = rule, cols, places, bad, n
        self.param_idx: dict[str, np.ndarray] = {}  # parameter name -> period index per row (the trace lists them)
        self._calendars: dict[tuple, np.ndarray] = {}  # (starts, ends) -> period index: shared by same-period parameters
        self.defs: dict[str, V.Col] = {}
        self.geo: dict[tuple, Any] = {}
        self.decision_date: V.Col = V.unknown("date", n)
        self.record: dict | None = None
        self.parent: tuple[Context, np.ndarray] | None = None

    def rows_view(self, rows: np.ndarray) -> "Context":
        """The same facts restricted to `rows`, recording every node's result; geography is reused.
        Every operation is elementwise, so a row's results do not depend on which other rows are in the view."""
        view = Context(self.rule, _TakenWhenRead(self.cols, rows), _TakenWhenRead(self.places, rows), self.bad,
                       len(rows))
        dd = self.decision_date
        view.decision_date = V.Col("date", dd.value[rows], dd.known[rows])
        view.record, view.parent = {}, (self, rows)
        return view

    def fact(self, path: str) -> V.Col:
        return self.cols[path]

    def _period(self, name: str) -> np.ndarray:
        if name not in self.param_idx:
            # parameters with the same periods share one lookup (emplois-francs: 12 parameters, 4 calendars)
            p = self.rule.params[name]
            key = (p.starts.tobytes(), p.ends.tobytes())
            if key not in self._calendars:
                dd = self.decision_date
                self._calendars[key] = p.period_index(dd.value, dd.known)
            self.param_idx[name] = self._calendars[key]
        return self.param_idx[name]

    def parameter(self, name: str) -> V.Col:
        return self.rule.params[name].column(self._period(name))

    def parameter_periods(self, name: str):
        return self._period(name), self.rule.params[name].lists

    def definition(self, name: str) -> V.Col:
        if name not in self.defs:
            self.defs[name] = self.rule.definition(name).run(self)
        return self.defs[name]

    def geography(self, which: str, key: tuple, dates: V.Col) -> V.Col:
        """`in_qpv` / `in_overseas` of the place key[0] at the dates of expression key[1]: one oracle call
        per key, shared by both functions."""
        if self.parent is not None:
            parent, rows = self.parent
            col = parent.geo[key].col(which)
            return V.Col("bool", col.value[rows], col.known[rows])
        if key not in self.geo:
            place_path = key[0]
            self.geo[key] = answer(place_path, key[1], self.places[place_path], dates, self.bad)
        return self.geo[key].col(which)


class _TakenWhenRead(dict):
    """`{k: v.take(rows) for k, v in columns.items()}`, each column taken when first read: a re-run of the open
    conditions reads a few of the rule's facts."""

    def __init__(self, columns: dict, rows: np.ndarray):
        super().__init__()
        self.columns, self.rows = columns, rows

    def __missing__(self, key):
        self[key] = self.columns[key].take(self.rows)
        return self[key]


class DecisionFrame:
    """Decisions for every row of a frame. Per-row detail is built lazily from the column results."""

    def __init__(self, rule: Rule, ctx: Context, date_override: np.ndarray | None):
        self.rule, self.ctx, self.n = rule, ctx, ctx.n
        self.date_overridden = date_override
        self.errors: dict[int, list[str]] = {}
        self._blamed: dict[int, tuple] = {}
        self._cols: dict[int, V.Col] = {}
        self._shared: dict[tuple, Any] = {}  # `_ref`, `_param_json`: one object per reference (period), per value
        # (condition model, expr, final Col, base Col, [(exception model, Col)]): field of application, conditions
        self.scope_results = [self._run_condition(ctx, *c) for c in rule.scope]
        self.results = [self._run_condition(ctx, *c) for c in rule.conditions]
        self.amount_cols = {}
        for a, expr, ceiling in rule.amounts:
            col = expr.run(ctx)
            value = cents(col.value)
            known = col.known
            if ceiling is not None:
                cap = ceiling.run(ctx)
                value = np.minimum(value, cents(cap.value))
                known = known & cap.known
            self.amount_cols[a.id] = (a, expr, ceiling, V.Col("num", value, known))

        any_false, all_true = _tally(self.results, self.n)
        outside, inside = _tally(self.scope_results, self.n)
        amounts_known = np.ones(self.n, dtype=bool)
        for a, _, _, col in self.amount_cols.values():
            if a.required:
                amounts_known &= col.known
        # Outside the field of application is not failing the conditions; an open scope question keeps
        # the row undetermined whatever its conditions say.
        self._code = np.where(outside, 4, np.where(~inside, 2, np.where(
            any_false, 1, np.where(all_true & amounts_known, 0, 2))))
        self.outcome = OUTCOMES[self._code]

    @staticmethod
    def _run_condition(ctx: Context, cond, expr, excs) -> tuple:
        base = expr.run(ctx)
        final = base
        exc_cols = []
        for e, eexpr in excs:
            ecol = eexpr.run(ctx)
            exc_cols.append((e, eexpr, ecol))
            final = V.k_or(final, ecol)
        return cond, expr, final, base, exc_cols

    def mark_errors(self, errors: dict[int, list[str]]) -> None:
        """Rows with bad values get the outcome 'error' (their message: `error(i)`)."""
        self.errors = errors
        if errors:
            self._code[np.fromiter(errors, dtype=np.int64)] = 3
            self.outcome = OUTCOMES[self._code]

    # --- columns --------------------------------------------------------------------------------

    def amount_values(self) -> dict[str, np.ndarray]:
        """Each amount per row as floats: its value where the row is eligible and the amount known, NaN elsewhere."""
        eligible = self._code == 0
        return {aid: np.where(eligible & col.known, col.value, np.nan) for aid, (_, _, _, col) in self.amount_cols.items()}

    @property
    def amounts(self) -> pd.DataFrame:
        """`amount_values` as a DataFrame (the batch reads the arrays: pandas is imported here only)."""
        import pandas as pd

        return pd.DataFrame(self.amount_values(), index=pd.RangeIndex(self.n))

    # --- one row ---------------------------------------------------------------------------------

    def error(self, i: int) -> str | None:
        msgs = self.errors.get(i)
        return " ; ".join(msgs) if msgs else None

    def _date(self, i: int) -> dt.date | None:
        """Row i's decision date: it picks the legal reference in force (dated references)."""
        dd = self.ctx.decision_date
        return V.to_date(dd.value[i]) if dd.known[i] else None

    def _ref(self, ref, day: dt.date | None) -> dict:
        """`rule.ref_json(ref, day)`, built once per reference and period in force for the whole frame: every
        decision of the frame shares the object (read only: the register recognises such a shared part by its
        identity instead of serialising it again for every decision)."""
        chosen = None
        if isinstance(ref, list) and day is not None:
            chosen = next((k for k, r in enumerate(ref) if r.start <= day and (r.end is None or day <= r.end)), None)
        key = ("ref", id(ref), chosen)
        if key not in self._shared:
            self._shared[key] = self.rule.ref_json(ref, day)
        return self._shared[key]

    def _param_json(self, item) -> dict:
        """`item.to_json()` (a parameter's value in force), built once per value for the frame, like `_ref`."""
        key = ("param", id(item))
        if key not in self._shared:
            self._shared[key] = item.to_json()
        return self._shared[key]

    def column(self, expr) -> V.Col:
        """An expression of a computed message over the whole frame, run once."""
        if id(expr) not in self._cols:
            self._cols[id(expr)] = expr.run(self.ctx)
        return self._cols[id(expr)]

    def reasons(self, i: int) -> list[dict]:
        """Failed conditions; for a row out of scope, the field-of-application conditions it falls outside.
        None for a row in error (bad or contradictory facts): it has no decision."""
        if self._code[i] in (2, 3):
            return []
        out = []
        day = self._date(i)
        for cond, _, final, _, _ in (self.scope_results if self._code[i] == 4 else self.results):
            if final.known[i] and not final.value[i]:
                out.append({"rule": self.rule.id, "condition": cond.id, "label": cond.label,
                            "message": self.rule.messages[cond.id].render(self.column, i),
                            "legal_reference": self._ref(cond.legal_reference, day)})
        return out

    def remarks(self, i: int) -> list[dict]:
        """The rule's remarks whose `when` holds on row i (a majoration applied, a special period…)."""
        out = []
        for r, when, tpl in self.rule.remarks:
            col = self.column(when)
            stated = self._code[i] != 3 and (r.outcomes is None or self.outcome[i] in r.outcomes)
            if stated and col.known[i] and col.value[i]:
                out.append({"id": r.id, "message": tpl.render(self.column, i),
                            "legal_reference": self._ref(r.legal_reference, self._date(i))})
        return out

    def _open_items(self, rows: np.ndarray) -> list[tuple[Any, np.ndarray]]:
        """(expression, for which of `rows`) whose unknown result keeps a row from a full answer:
        conditions, then amounts once every condition is known. Nothing for a row that is settled (a known
        failure settles it, whatever the missing facts say), in error (facts to correct first) or out of scope."""
        answerable = ~np.isin(self._code[rows], (1, 3, 4))
        items = []
        conditions_known = np.ones(len(rows), dtype=bool)
        for cond, expr, final, base, excs in self.scope_results + self.results:
            open_ = answerable & ~final.known[rows]
            conditions_known &= final.known[rows]
            if open_.any():
                items += [(expr, open_)] + [(eexpr, open_) for _, eexpr, _ in excs]
        for a, expr, ceiling, col in self.amount_cols.values():
            open_ = answerable & conditions_known & ~col.known[rows]
            if open_.any():
                items += [(expr, open_)] + ([(ceiling, open_)] if ceiling else [])
        return items

    def blame(self, rows: np.ndarray) -> tuple[dict, dict, dict]:
        """({missing fact path: mask}, {(function, geography key): mask}, {unknown parameter: mask}) behind
        the open items of `rows` (each mask a boolean array over `rows`).

        The open expressions are re-run on those rows alone (same compiled code) keeping every node's
        result; the walk then follows only the unknown branches, row by row through the masks: a fact that
        cannot change the answer (the CDD duration of a CDI) is not reported.
        """
        rows = np.asarray(rows, dtype=np.int64)
        facts: dict[str, np.ndarray] = {}
        geo: dict[tuple, np.ndarray] = {}
        params: dict[str, np.ndarray] = {}
        items = self._open_items(rows)
        if not items:
            return facts, geo, params
        view = self.ctx.rows_view(rows)
        if self.date_overridden is None:
            self.rule.decision_date.run(view)
        for expr, _ in items:
            expr.run(view)
        rec = view.record

        def add(out: dict, key, mask: np.ndarray) -> None:
            out[key] = out[key] | mask if key in out else mask

        def walk(e, mask: np.ndarray) -> None:
            col = rec.get(id(e))
            if col is not None:
                mask = mask & ~col.known
            if not mask.any():
                return
            if e.op == "fact":
                add(facts, e.name, mask)
            elif e.op == "param":  # list parameters are read inside `in`, so ask the period directly
                idx = view._period(e.name)
                periods = self.rule.params[e.name].items
                unknown = np.array([it.value is None for it in periods] + [True], dtype=bool)
                add(params, e.name, mask & unknown[np.where(idx >= 0, idx, len(periods))])
            elif e.op == "decision_date":
                if self.date_overridden is None:
                    walk(self.rule.decision_date, mask)
            elif e.op == "if":
                c = e.children[0]
                cc = rec.get(id(c))
                if cc is not None:
                    settled = mask & cc.known
                    walk(e.children[1], settled & cc.value)
                    walk(e.children[2], settled & ~cc.value)
                    mask = mask & ~cc.known
                if mask.any():
                    for child in e.children:
                        walk(child, mask)
            elif e.op == "geo":  # e.name: in_qpv | in_overseas; e.geo[-1]: (place path, date expression)
                place, date_expr = e.children
                key = e.geo[-1]
                located = view.places[key[0]].known
                add(facts, key[0], mask & ~located)
                dated = rec.get(id(date_expr))
                dated = dated.known if dated is not None else np.zeros(len(rows), dtype=bool)
                walk(date_expr, mask & located & ~dated)
                add(geo, (e.name, key), mask & located & dated)
            else:
                for child in e.children:
                    walk(child, mask)

        for expr, open_ in items:
            walk(expr, open_)
        return facts, geo, params

    def _blame(self, i: int) -> tuple[set, set, set]:
        """`blame` of row i as sets."""
        if i not in self._blamed:
            self._blamed[i] = tuple({k for k, mask in found.items() if mask[0]}
                                    for found in self.blame(np.array([i])))
        return self._blamed[i]

    def blame_each(self, rows) -> None:
        """`_blame` of every row of `rows` at once (one vectorised `blame`, each row reading its own mask), for a
        caller about to take many rows' decisions (a batch with traces): not one re-run of the open expressions
        per row. Each row's sets are those `_blame(i)` gives it alone (checked through the entries compared in
        tests/register/test_fast_entries.py)."""
        rows = np.asarray([i for i in rows if int(i) not in self._blamed], dtype=np.int64)
        if not len(rows):
            return
        found = self.blame(rows)
        for j, i in enumerate(rows):
            self._blamed[int(i)] = tuple({k for k, mask in f.items() if mask[j]} for f in found)

    def missing(self, i: int) -> list[str]:
        return sorted(self._blame(i)[0])

    def ambiguities(self, i: int, blamed: tuple[set, set] | None = None) -> list[dict]:
        """Row i's ambiguities; `blamed`: its (geography keys, parameters) from `blame` when already known."""
        geo, params = blamed if blamed is not None else self._blame(i)[1:]
        out = []
        for which, key in sorted(geo):
            g = self.ctx.geo[key]
            status = g.at("status", i)
            if which == "in_qpv" and status in AMBIGUOUS:
                out.append({"fact": g.place, "status": status, "message": g.message(i)})
            elif which.startswith("in_zone:") and not g.col(which).known[i]:
                st = g.zone_status(which.split(":", 1)[1])[i]
                out.append({"fact": g.place, "layer": which.split(":", 1)[1], "status": st, "message": ZONE_MESSAGES[st]})
            elif which in ("in_overseas", "departement") and not g.col(which).known[i]:
                item = {"fact": g.place, "status": TERRITORY_UNKNOWN[0], "message": TERRITORY_UNKNOWN[1]}
                if item not in out:  # both functions on one place: one ambiguity
                    out.append(item)
        for name in sorted(params):
            if not self.ctx.decision_date.known[i]:
                continue  # the decision date itself is missing: reported as a missing fact
            p = self.rule.params[name]
            item = p.at(V.to_date(self.ctx.decision_date.value[i]))
            why = ("aucun texte officiel lu ne donne la valeur en vigueur à cette date" if item is not None
                   else "le texte ne prévoit aucune valeur à cette date")
            amb = {"parameter": name, "status": "unknown_value",
                   "message": f"{p.model.label} : valeur non connue au {date_fr(self._date(i))} ({why})"}
            if item is not None and item.note:
                amb["provenance"] = {"note": item.note}
            out.append(amb)
        return out

    def _fact_value(self, path: str, i: int):
        if path in self.ctx.places:
            p = self.ctx.places[path]
            form = p.form[i]
            if form is None:
                return None
            if form == "lon_lat":
                return {"lon": float(p.lon[i]), "lat": float(p.lat[i])}
            return {form: (p.quartier_code if form == "quartier_code" else p.address)[i]}
        col = self.ctx.cols[path]
        if not col.known[i]:
            return None
        v = col.value[i]
        if col.kind == "date":
            return V.to_date(v).isoformat()
        if col.kind == "num":
            f = float(v)
            return int(f) if self.rule.model.facts[path].type == "integer" else f
        return bool(v) if col.kind == "bool" else str(v)

    def _param_item(self, name: str, i: int):
        idx = int(self.ctx._period(name)[i])
        return self.rule.params[name].items[idx] if idx >= 0 else None

    def _tri(self, col: V.Col, i: int) -> str:
        return "unknown" if not col.known[i] else ("true" if col.value[i] else "false")

    def _condition_trace(self, result: tuple, i: int, day: dt.date | None) -> dict:
        cond, expr, final, base, excs = result
        facts = sorted(expr.facts | {p for _, e, _ in excs for p in e.facts})
        return {
            "id": cond.id, "label": cond.label, "expression": cond.expression,
            "result": self._tri(final, i),
            "inputs": {p: self._fact_value(p, i) for p in facts},
            "parameters": sorted(expr.params | {p for _, e, _ in excs for p in e.params}),
            "legal_reference": self._ref(cond.legal_reference, day),
            "exceptions": [{"id": e.id, "label": e.label, "result": self._tri(ec, i),
                            "applied": bool(ec.known[i] and ec.value[i] and not (base.known[i] and base.value[i])),
                            "legal_reference": self._ref(e.legal_reference, day)} for e, _, ec in excs],
        }

    def trace(self, i: int) -> dict:
        rule, ctx = self.rule, self.ctx
        dd = ctx.decision_date
        day = self._date(i)
        conditions = [self._condition_trace(r, i, day) for r in self.results]
        amounts = []
        for aid, (a, expr, ceiling, col) in self.amount_cols.items():
            used = sorted(expr.params | (ceiling.params if ceiling is not None else frozenset()))
            figures = [self._param_item(n, i) for n in used]
            amounts.append({"id": aid, "label": a.label, "year": a.year, "expression": a.expression, "ceiling": a.ceiling,
                            "value": float(col.value[i]) if col.known[i] else None,
                            "parameters": used,
                            "confirmed": all(f is not None and f.confirmed for f in figures),
                            "legal_reference": self._ref(a.legal_reference, day)})
        parameters = []
        for name in sorted(ctx.param_idx):
            idx = ctx.param_idx[name][i]
            if idx >= 0:
                parameters.append(self._param_json(rule.params[name].items[idx]))
            else:
                parameters.append({"parameter": name, "value": None, "from": None, "to": None,
                                   "legal_reference": None, "confirmed": False,
                                   "note": "aucune valeur en vigueur à la date de décision"})
        geography = [ctx.geo[k].row_trace(i) for k in sorted(ctx.geo)]
        data = {}
        for g in geography:
            info = g.get("geography") or {}
            for d in [info.get("dataset")] + list((info.get("trace") or {}).get("datasets") or []):
                if d:  # two places may read two files of one dataset (two départements): cite both
                    cited = data.setdefault(d["dataset"], {**d, "files": []})
                    cited["files"] = sorted({f["path"]: f for f in cited["files"] + list(d.get("files") or [])}.values(),
                                            key=lambda f: f["path"])
        scope = {"scope": [self._condition_trace(r, i, day) for r in self.scope_results]} if self.scope_results else {}
        return {
            "rule": {"id": rule.id, "title": rule.model.title, "version": rule.model.version,
                     "file": rule.path.name, "sha256": rule.sha256},
            "decision_date": {"value": V.to_date(dd.value[i]).isoformat() if dd.known[i] else None,
                              "source": "option --date" if self.date_overridden is not None else "règle",
                              "expression": rule.model.decision_date.expression,
                              "label": rule.model.decision_date.label,
                              "legal_reference": self._ref(rule.model.decision_date.legal_reference, day)},
            **scope,
            "conditions": conditions,
            "amounts": amounts,
            "parameters": parameters,
            "geography": geography,
            "data_versions": [data[k] for k in sorted(data)],
        }

    def amounts_row(self, i: int) -> dict:
        if self._code[i] != 0:
            return {}
        out: dict[str, Any] = {}
        schedule = []
        currency = None
        for aid, (a, _, _, col) in self.amount_cols.items():
            value = float(col.value[i]) if col.known[i] else None
            out[aid] = value
            currency = currency or a.unit
            if a.year is not None:
                schedule.append({"year": a.year, "label": a.label, "amount": value})
        if schedule:
            out["schedule"] = schedule
        if currency:
            out["currency"] = currency
        return out

    def _fields(self, i: int) -> dict[str, Any]:
        """Row i's decision, field by field in the order of `Decision`'s fields."""
        return {
            "dispositif": self.rule.id,
            "outcome": str(self.outcome[i]),
            "amounts": self.amounts_row(i),
            "reasons": self.reasons(i),
            "missing_inputs": self.missing(i),
            "ambiguities": self.ambiguities(i),
            "obligations": [{"id": o.id, "label": o.label, "legal_reference": self._ref(o.legal_reference, self._date(i))}
                            for o in self.rule.model.obligations],
            "remarks": self.remarks(i),
            "error": self.error(i),
            "trace": self.trace(i),
        }

    def decision(self, i: int) -> Decision:
        from ..decisions.models import Decision  # here: a batch builds no Decision (pydantic models: ~45 ms to import)

        return Decision(**self._fields(i)).with_rule(self.rule)

    def decision_json(self, i: int) -> dict[str, Any]:
        """`decision(i).to_json()` without the pydantic model's validation and dump (a batch with traces takes one
        per row): the fields are plain JSON already, so the object is the same, its shared parts (`_ref`,
        `_param_json`) not copied (tests/register/test_fast_entries.py compares the bytes on every YAML case)."""
        out = self._fields(i)
        if out["error"] is None:
            del out["error"]
        return out


def _tally(results: list, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(some condition known false, every condition known true) per row."""
    any_false = np.zeros(n, dtype=bool)
    all_true = np.ones(n, dtype=bool)
    for _, _, final, _, _ in results:
        any_false |= final.known & ~final.value
        all_true &= final.known & final.value
    return any_false, all_true


def evaluate_frame(dispositif: str | Rule, df: pd.DataFrame, date: dt.date | None = None,
                   errors: str = "raise") -> DecisionFrame:
    """Decisions for every row of `df` (columns = dotted fact paths). Vectorised.

    `date` overrides the decision date of every row. errors="raise" raises BadInput listing the bad values
    (row, field); errors="collect" gives those rows the outcome 'error' and keeps going.
    """
    if errors not in ("raise", "collect"):
        raise ValueError(f"errors must be 'raise' or 'collect', not {errors!r}")
    rule = dispositif if isinstance(dispositif, Rule) else get_rule(dispositif)
    cols, places, bad = frame_columns(rule, df)
    return evaluate_columns(rule, cols, places, bad, len(df), date, errors)


def evaluate_columns(rule: Rule, cols, places, bad, n: int, date: dt.date | None = None,
                     errors: str = "raise") -> DecisionFrame:
    """`evaluate_frame` of facts already converted to the engine's columns (`facts.frame_columns`,
    `facts.typed_columns`)."""
    ctx = Context(rule, cols, places, bad, n)
    override = None
    if date is not None:
        override = np.full(n, V.days(date), dtype=np.int64)
        ctx.decision_date = V.Col("date", override, np.ones(n, dtype=bool))
    else:
        ctx.decision_date = rule.decision_date.run(ctx)
    _check_consistency(rule, ctx, bad, single=(errors == "raise" and n == 1))
    frame = DecisionFrame(rule, ctx, override)  # geography may add bad values (unknown quartier codes)
    if errors == "raise":
        bad.raise_if_any()
    else:
        frame.mark_errors(bad.rows)
    return frame


def _check_consistency(rule: Rule, ctx: Context, bad, single: bool) -> None:
    """Facts that contradict each other (the rule's `consistency` section) are bad values of both fields:
    a BadInput for one decision, an error row in a batch."""
    cache: dict[int, V.Col] = {}

    def column(expr):
        if id(expr) not in cache:
            cache[id(expr)] = expr.run(ctx)
        return cache[id(expr)]

    for check, expr, template in rule.consistency:
        col = column(expr)
        wrong = np.flatnonzero(col.known & ~col.value)
        fields = ", ".join(check.fields)
        if single and len(wrong):
            raise BadInput(template.render(column, 0), field=fields)
        for i in wrong[:10_000]:
            bad.rows.setdefault(int(i), []).append(f"champs « {fields} » : {template.render(column, int(i))}")


def evaluate(dispositif: str | Rule, facts: dict, date: dt.date | None = None) -> Decision:
    """One decision: facts validated through pydantic, then a frame of one row through the same evaluator."""
    return _one(dispositif, facts, date).decision(0)


def evaluate_json(dispositif: str | Rule, facts: dict, date: dt.date | None = None) -> dict[str, Any]:
    """`evaluate(...).to_json()`, the same object, without the model's validation and dump (the web service's
    answer, which it serialises and records)."""
    return _one(dispositif, facts, date).decision_json(0)


def _one(dispositif: str | Rule, facts: dict, date: dt.date | None) -> DecisionFrame:
    rule = dispositif if isinstance(dispositif, Rule) else get_rule(dispositif)
    cols, places, bad = row_columns(rule, validate_one(rule, facts))
    return evaluate_columns(rule, cols, places, bad, 1, date, "raise")
