"""The safe expression language of rule files (docs/rules.md, "Expression language").

Text is parsed with `ast` and only a whitelist of nodes is accepted; nothing reaches eval/exec. Each
expression compiles once into a tree of `Expr` whose `run(ctx)` returns a `Col` (values + known) for the
whole frame, so one code path serves one decision and a million.

Names resolve, in this order of declaration checks, to: a fact (dotted path of the schema), a parameter
(read at each row's decision date), a definition, or `decision_date`. Kinds are checked at compile time,
so a rule comparing a date with a number is refused on load, not at evaluation.
"""
from __future__ import annotations

import ast
import datetime as dt
import operator
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np

from . import values as V
from .values import Col

FACT_KINDS = {"date": "date", "enum": "str", "bool": "bool", "number": "num", "integer": "num",
              "string": "str", "place": "place"}


class ExpressionError(ValueError):
    """A rule expression is not valid (the loader turns it into a RuleFileError naming file and field)."""


class Scope(Protocol):
    """What the compiler needs to know about names (implemented by the loaded rule)."""

    def fact_kind(self, path: str) -> str | None: ...
    def parameter_kind(self, name: str) -> str | None: ...
    def definition(self, name: str) -> "Expr | None": ...


@dataclass(eq=False)
class Expr:
    kind: str  # 'bool' | 'num' | 'date' | 'str' | 'place' | 'list_str' | 'list_num'
    fn: Callable[[Any], Col]
    facts: frozenset = frozenset()  # dotted fact paths read (directly or through definitions)
    params: frozenset = frozenset()
    defs: frozenset = frozenset()
    geo: tuple = ()  # keys of the geography calls made (for the trace)
    const: Any = None  # for literal lists and constants
    op: str = "generic"  # how `missing inputs` walk this node: fact, param, def, if, geo, decision_date, generic
    children: tuple = ()
    name: str | None = None

    def run(self, ctx) -> Col:
        col = self.fn(ctx)
        if ctx.record is not None:  # a one-row re-run that keeps every node's result (for missing inputs)
            ctx.record[id(self)] = col
        return col


def _merge(kind, fn, *parts, op: str = "generic", **kw) -> Expr:
    return Expr(kind, fn,
                frozenset().union(*(p.facts for p in parts)),
                frozenset().union(*(p.params for p in parts)),
                frozenset().union(*(p.defs for p in parts)),
                tuple(g for p in parts for g in p.geo), op=op, children=tuple(parts), **kw)


def dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
        ast.Gt: operator.gt, ast.GtE: operator.ge}
_ARITH = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide,
          ast.FloorDiv: np.floor_divide, ast.Mod: np.mod}


class Compiler:
    def __init__(self, scope: Scope):
        self.scope = scope

    def compile(self, text: str) -> Expr:
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(f"expression illisible « {text} » : {exc.msg}") from None
        return self.node(tree.body)

    # --- leaves ---------------------------------------------------------------------------------

    def node(self, n: ast.AST) -> Expr:
        method = getattr(self, f"n_{type(n).__name__}", None)
        if method is None:
            raise ExpressionError(f"syntaxe non autorisée : {type(n).__name__} (« {ast.unparse(n)} »)")
        return method(n)

    def n_Constant(self, n: ast.Constant) -> Expr:
        v = n.value
        if isinstance(v, bool):
            kind = "bool"
        elif isinstance(v, (int, float)):
            kind, v = "num", float(v)
        elif isinstance(v, str):
            kind = "str"
        else:
            raise ExpressionError(f"constante non autorisée : {v!r}")
        return Expr(kind, lambda ctx, v=v, kind=kind: V.const(kind, v, ctx.n), const=v)

    def n_List(self, n: ast.List) -> Expr:
        items = [self.node(e) for e in n.elts]
        if not items or any(i.const is None for i in items):
            raise ExpressionError(f"une liste doit contenir des constantes : « {ast.unparse(n)} »")
        kinds = {i.kind for i in items}
        if len(kinds) != 1 or kinds <= {"bool"}:
            raise ExpressionError(f"liste de constantes de types mélangés : « {ast.unparse(n)} »")
        return Expr(f"list_{kinds.pop()}", lambda ctx: None, const=[i.const for i in items])

    def n_Name(self, n: ast.Name) -> Expr:
        return self._name(n.id, n)

    def n_Attribute(self, n: ast.Attribute) -> Expr:
        path = dotted(n)
        if path is None:
            raise ExpressionError(f"accès non autorisé : « {ast.unparse(n)} »")
        return self._name(path, n)

    def _name(self, name: str, n: ast.AST) -> Expr:
        s = self.scope
        if name == "decision_date":
            return Expr("date", lambda ctx: ctx.decision_date, op="decision_date")
        kind = s.fact_kind(name)
        if kind is not None:
            return Expr(kind, lambda ctx: ctx.fact(name), facts=frozenset([name]), op="fact", name=name)
        kind = s.parameter_kind(name)
        if kind is not None:
            return Expr(kind, lambda ctx: ctx.parameter(name), params=frozenset([name]), op="param", name=name)
        d = s.definition(name)
        if d is not None:
            return Expr(d.kind, lambda ctx: ctx.definition(name), d.facts, d.params, d.defs | {name}, d.geo,
                        op="def", children=(d,), name=name)
        raise ExpressionError(f"nom inconnu « {name} » : ni fait déclaré, ni paramètre, ni définition")

    # --- operators -----------------------------------------------------------------------------

    def n_BoolOp(self, n: ast.BoolOp) -> Expr:
        parts = [self._want(self.node(v), "bool", n) for v in n.values]
        combine = V.k_and if isinstance(n.op, ast.And) else V.k_or

        def run(ctx):
            out = parts[0].run(ctx)
            for p in parts[1:]:
                out = combine(out, p.run(ctx))
            return out
        return _merge("bool", run, *parts)

    def n_UnaryOp(self, n: ast.UnaryOp) -> Expr:
        a = self.node(n.operand)
        if isinstance(n.op, ast.Not):
            self._want(a, "bool", n)
            return _merge("bool", lambda ctx: V.k_not(a.run(ctx)), a)
        if isinstance(n.op, ast.USub):
            self._want(a, "num", n)
            const = -a.const if a.const is not None else None
            return _merge("num", lambda ctx: (lambda c: Col("num", -c.value, c.known))(a.run(ctx)), a, const=const)
        raise ExpressionError(f"opérateur non autorisé dans « {ast.unparse(n)} »")

    def n_BinOp(self, n: ast.BinOp) -> Expr:
        fn = _ARITH.get(type(n.op))
        if fn is None:
            raise ExpressionError(f"opérateur non autorisé dans « {ast.unparse(n)} »")
        a, b = self._want(self.node(n.left), "num", n), self._want(self.node(n.right), "num", n)
        divides = isinstance(n.op, (ast.Div, ast.FloorDiv, ast.Mod))

        def run(ctx):
            x = a.run(ctx)
            if b.const is not None:  # a constant operand is a number, not a column of n copies of it
                known, y = x.known, b.const
                if divides:
                    known = known & (y != 0)
                    y = y if y != 0 else 1.0
            else:
                rhs = b.run(ctx)
                known, y = x.known & rhs.known, rhs.value
                if divides:  # division by zero gives an unknown, not an inf
                    known = known & (y != 0)
                    y = np.where(known, y, 1.0)
            if divides:
                with np.errstate(divide="ignore", invalid="ignore"):
                    out = fn(x.value, y)
            else:
                out = fn(x.value, y)
            if out.dtype != np.float64:  # numbers are float64; anything else as np.where would make it
                return Col("num", np.where(known, out, 0.0), known)
            np.copyto(out, 0.0, where=~known)  # `out` is the ufunc's own new array: no third one per node
            return Col("num", out, known)
        return _merge("num", run, a, b)

    def n_Compare(self, n: ast.Compare) -> Expr:
        left = self.node(n.left)
        tests = []
        for op, right_node in zip(n.ops, n.comparators):
            right = self.node(right_node)
            tests.append(self._compare(left, op, right, n))
            left = right
        if len(tests) == 1:
            return tests[0]
        return _merge("bool", lambda ctx: _fold_and([t.run(ctx) for t in tests]), *tests)

    def _compare(self, a: Expr, op: ast.cmpop, b: Expr, n: ast.AST) -> Expr:
        if isinstance(op, (ast.In, ast.NotIn)):
            return self._membership(a, b, isinstance(op, ast.NotIn), n)
        fn = _CMP.get(type(op))
        if fn is None:
            raise ExpressionError(f"comparaison non autorisée dans « {ast.unparse(n)} »")
        if a.kind != b.kind or a.kind in ("place",) or a.kind.startswith("list"):
            raise ExpressionError(f"comparaison de types incompatibles ({a.kind}, {b.kind}) dans « {ast.unparse(n)} »")
        if a.kind in ("str", "bool") and fn not in (operator.eq, operator.ne):
            raise ExpressionError(f"seuls == et != comparent des textes ou booléens : « {ast.unparse(n)} »")

        def run(ctx):
            x = a.run(ctx)
            if b.const is not None:  # against a constant: no column of n copies of it (always known)
                if isinstance(x, V.Coded):  # text: once per label
                    return Col("bool", x.per_label(np.asarray(fn(x.labels, b.const), dtype=bool)) & x.known, x.known)
                return Col("bool", np.asarray(fn(x.value, b.const), dtype=bool) & x.known, x.known)
            y = b.run(ctx)
            known = x.known & y.known
            return Col("bool", np.asarray(fn(x.value, y.value), dtype=bool) & known, known)
        return _merge("bool", run, a, b)

    def _membership(self, a: Expr, b: Expr, negate: bool, n: ast.AST) -> Expr:
        if b.kind != f"list_{a.kind}":
            raise ExpressionError(f"« in » attend une liste de même type que la valeur testée : « {ast.unparse(n)} »")
        if b.const is not None:
            allowed = np.array(b.const, dtype=object if a.kind == "str" else float)

            def run(ctx):
                x = a.run(ctx)
                hit = x.per_label(np.isin(x.labels, allowed)) if isinstance(x, V.Coded) else np.isin(x.value, allowed)
                return Col("bool", (hit ^ negate) & x.known, x.known.copy())
            return _merge("bool", run, a)
        name = next(iter(b.params))  # a list-valued parameter: membership per period of the parameter

        def run_param(ctx):
            x = a.run(ctx)
            period, lists = ctx.parameter_periods(name)
            hit = np.zeros(ctx.n, dtype=bool)
            known = x.known & (period >= 0)
            for p, allowed_list in enumerate(lists):
                if allowed_list is None:
                    known &= period != p
                    continue
                rows = period == p
                allowed = np.array(allowed_list, dtype=object if a.kind == "str" else float)
                hit[rows] = (np.isin(x.labels, allowed)[x.codes[rows]] if isinstance(x, V.Coded)
                             else np.isin(x.value[rows], allowed))
            return Col("bool", (hit ^ negate) & known, known)
        return _merge("bool", run_param, a, b)

    def n_IfExp(self, n: ast.IfExp) -> Expr:
        c = self._want(self.node(n.test), "bool", n)
        a, b = self.node(n.body), self.node(n.orelse)
        if a.kind != b.kind or a.kind in ("place",) or a.kind.startswith("list"):
            raise ExpressionError(f"les deux branches doivent être de même type : « {ast.unparse(n)} »")

        def run(ctx):
            cc, x, y = c.run(ctx), a.run(ctx), b.run(ctx)
            known = cc.known & np.where(cc.value, x.known, y.known)
            return Col(a.kind, np.where(cc.value, x.value, y.value), known)
        return _merge(a.kind, run, c, a, b, op="if")

    # --- functions -----------------------------------------------------------------------------

    def n_Call(self, n: ast.Call) -> Expr:
        if not isinstance(n.func, ast.Name) or n.keywords:
            raise ExpressionError(f"appel non autorisé : « {ast.unparse(n)} »")
        name = n.func.id
        handler = getattr(self, f"f_{name}", None)
        if handler is None:
            raise ExpressionError(f"fonction inconnue « {name} » dans « {ast.unparse(n)} »")
        if name == "date":
            return handler(n)
        return handler([self.node(a) for a in n.args], n)

    def f_date(self, n: ast.Call) -> Expr:
        if len(n.args) != 1 or not isinstance(n.args[0], ast.Constant) or not isinstance(n.args[0].value, str):
            raise ExpressionError(f"date('AAAA-MM-JJ') attend un texte constant : « {ast.unparse(n)} »")
        try:
            d = V.days(dt.date.fromisoformat(n.args[0].value))
        except ValueError:
            raise ExpressionError(f"date invalide dans « {ast.unparse(n)} »") from None
        return Expr("date", lambda ctx: V.const("date", d, ctx.n), const=d)

    def _args(self, args, kinds, n):
        if len(args) != len(kinds):
            raise ExpressionError(f"nombre d'arguments incorrect dans « {ast.unparse(n)} »")
        for a, k in zip(args, kinds):
            self._want(a, k, n)

    def _fn(self, kind, args, compute):
        def run(ctx):
            cols = [a.run(ctx) for a in args]
            known = _all_known(cols)
            return Col(kind, np.where(known, compute(*[c.value for c in cols]), _ZERO[kind]), known)
        return _merge(kind, run, *args)

    def f_age(self, args, n):
        self._args(args, ["date", "date"], n)
        return self._fn("num", args, lambda b, at: V.age(b, at).astype(float))

    def f_months_between(self, args, n):
        self._args(args, ["date", "date"], n)
        return self._fn("num", args, lambda s, e: V.full_months(s, e).astype(float))

    def f_days_between(self, args, n):
        self._args(args, ["date", "date"], n)
        return self._fn("num", args, lambda s, e: (e - s).astype(float))

    def f_add_months(self, args, n):
        self._args(args, ["date", "num"], n)
        return self._fn("date", args, lambda d, k: V.add_months(d, np.round(k).astype(np.int64)))

    def f_add_days(self, args, n):
        self._args(args, ["date", "num"], n)
        return self._fn("date", args, lambda d, k: d + np.round(k).astype(np.int64))

    def f_jan1(self, args, n):
        self._args(args, ["num"], n)
        return self._fn("date", args, lambda y: V.from_ymd(y.astype(np.int64), np.ones(len(y), np.int64),
                                                           np.ones(len(y), np.int64)))

    def f_year(self, args, n):
        self._args(args, ["date"], n)
        return self._fn("num", args, lambda d: V.ymd(d)[0].astype(float))

    def f_given(self, args, n):
        """given(x): is x known? Always known itself (for `consistency` checks such as a duration on a CDI)."""
        if len(args) != 1 or args[0].kind not in ("num", "date", "str", "bool"):
            raise ExpressionError(f"given(x) attend un fait, un paramètre ou une expression : « {ast.unparse(n)} »")
        a = args[0]
        return _merge("bool", lambda ctx: (lambda c: Col("bool", c.known.copy(), np.ones(ctx.n, dtype=bool)))(a.run(ctx)), a)

    def f_abs(self, args, n):
        self._args(args, ["num"], n)
        return self._fn("num", args, np.abs)

    def f_round(self, args, n):
        self._args(args, ["num", "num"], n)
        if args[1].const is None:
            raise ExpressionError(f"round(x, n) attend un n constant : « {ast.unparse(n)} »")
        digits = int(args[1].const)
        if not 0 <= digits <= 6:
            raise ExpressionError(f"round(x, n) attend 0 ≤ n ≤ 6 : « {ast.unparse(n)} »")
        from .money import half_up  # half-up in decimal arithmetic, like every amount

        return self._fn("num", args[:1], lambda x: half_up(x, digits))

    def f_min(self, args, n):
        return self._extremum(args, n, np.minimum)

    def f_max(self, args, n):
        return self._extremum(args, n, np.maximum)

    def _extremum(self, args, n, fn):
        if len(args) < 2 or len({a.kind for a in args}) != 1 or args[0].kind not in ("num", "date"):
            raise ExpressionError(f"min/max attend au moins deux nombres ou dates de même type : « {ast.unparse(n)} »")
        kind = args[0].kind

        def compute(*vals):
            out = vals[0]
            for v in vals[1:]:
                out = fn(out, v)
            return out
        return self._fn(kind, args, compute)

    def f_in_qpv(self, args, n):
        return self._geography("in_qpv", args, n)

    def f_in_overseas(self, args, n):
        return self._geography("in_overseas", args, n)

    def f_departement(self, args, n):
        return self._geography("departement", args, n, kind="str")

    def f_in_zone(self, args, n):
        """`in_zone("LAYER", place, date)`: is the place in a zone of the imported zoning layer LAYER?"""
        if len(args) != 3 or args[0].kind != "str" or not isinstance(args[0].const, str) or not args[0].const.strip():
            raise ExpressionError("in_zone(\"COUCHE\", lieu, date) attend le nom d'une couche de zonage entre guillemets, "
                                  f"un fait de type place et une date : « {ast.unparse(n)} »")
        return self._geography(f"in_zone:{args[0].const.strip()}", args[1:], n, date_node=n.args[2])

    def _geography(self, which: str, args, n, kind: str = "bool", date_node=None):
        """`which(place, date)`: a question to the geography oracle. The functions share one answer per
        (place, date expression), so asking several costs one lookup. `name` says which; `geo` holds the key."""
        if len(args) != 2 or args[0].kind != "place" or args[1].kind != "date" or len(args[0].facts) != 1:
            raise ExpressionError(f"{which}(lieu, date) attend un fait de type place et une date : « {ast.unparse(n)} »")
        place_path = next(iter(args[0].facts))
        key = (place_path, ast.unparse(date_node if date_node is not None else n.args[1]))
        date_expr = args[1]

        def run(ctx):
            return ctx.geography(which, key, date_expr.run(ctx))
        out = _merge(kind, run, args[0], date_expr, op="geo", name=which)
        out.geo = out.geo + (key,)
        out.const = None
        return out

    # --- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _want(e: Expr, kind: str, n: ast.AST) -> Expr:
        if e.kind != kind:
            names = {"bool": "booléen", "num": "nombre", "date": "date", "str": "texte", "place": "lieu"}
            raise ExpressionError(
                f"« {ast.unparse(n)} » : {names.get(kind, kind)} attendu, reçu {names.get(e.kind, e.kind)}")
        return e


_ZERO = {"num": 0.0, "date": 0, "bool": False, "str": ""}


def _all_known(cols: list[Col]) -> np.ndarray:
    known = cols[0].known.copy()
    for c in cols[1:]:
        known &= c.known
    return known


def _fold_and(cols: list[Col]) -> Col:
    out = cols[0]
    for c in cols[1:]:
        out = V.k_and(out, c)
    return out
