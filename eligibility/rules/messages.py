"""Computed messages: French text of rule files with `{expression}` placeholders filled per decision.

`{contract.request_date}` shows a fact, `{dernier_jour_demande}` a definition, `{delai_demande_mois:mois}` a
parameter, any expression of the rule language works. Values are written the French way: dates
01/02/2024, numbers 0,8, enum values by their `labels`, booleans oui/non. Formats after a colon: `mois`
(« un mois », « trois mois »), `euros` (11 405,31 €), `nombre`. An unknown value reads « inconnu ».
Placeholders compile with the rule (a typo is a rule-file error at load) and run over the whole frame
once, only when a decision's text is asked for.
"""
from __future__ import annotations

import string
from dataclasses import dataclass



from ..decisions.french import date_fr, euros, months_fr, number_fr
from . import values as V
from .expressions import Expr, ExpressionError

FORMATS = ("mois", "euros", "nombre")


@dataclass(frozen=True)
class Placeholder:
    expr: Expr
    spec: str
    labels: dict | None  # enum labels when the placeholder is an enum fact


class Template:
    """A message split into literal text and compiled placeholders."""

    def __init__(self, text: str, compile_expr, fact_labels):
        self.text = text
        self.parts: list[str | Placeholder] = []
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError as exc:
            raise ExpressionError(f"message mal formé (accolades) : {exc}") from None
        for literal, field, spec, conversion in parsed:
            if literal:
                self.parts.append(literal)
            if field is None:
                continue
            if conversion or (spec and spec not in FORMATS):
                raise ExpressionError(f"format inconnu « {spec or conversion} » dans « {{{field}}} » "
                                      f"(connus : {', '.join(FORMATS)})")
            if not field.strip():
                raise ExpressionError("espace réservé vide « {} » dans un message")
            expr = compile_expr(field)
            if expr.kind not in ("num", "date", "str", "bool"):
                raise ExpressionError(f"« {{{field}}} » ne donne pas une valeur affichable ({expr.kind})")
            if spec in ("mois", "euros", "nombre") and expr.kind != "num":
                raise ExpressionError(f"le format « {spec} » attend un nombre : « {{{field}}} »")
            labels = fact_labels(expr.name) if expr.op == "fact" else None
            self.parts.append(Placeholder(expr, spec or "", labels))

    @property
    def exprs(self) -> list[Expr]:
        return [p.expr for p in self.parts if isinstance(p, Placeholder)]

    def render(self, column, i: int) -> str:
        """`column(expr)` gives the expression's Col over the frame; row i is written out."""
        out = []
        for p in self.parts:
            if isinstance(p, str):
                out.append(p)
                continue
            col = column(p.expr)
            word = words(col.kind, col.value[i] if col.known[i] else None, p.spec, p.labels)
            if out and elides(out[-1], word):  # « délai de {x:mois} » → « délai d'un mois »
                out[-1] = out[-1][:-3] + "d'"
            out.append(word)
        return "".join(out)


def elides(before: str, word: str) -> bool:
    """French elision of « de » before a vowel (« d'un mois », « d'inconnu »), not before « onze » nor « huit »."""
    return (before.endswith(" de ") or before == "de ") and word[:1].lower() in "aeiouyéèêàâîïôû" \
        and not word.lower().startswith("onze")


def words(kind: str, value, spec: str = "", labels: dict | None = None) -> str:
    if value is None:
        return "inconnu"
    if kind == "date":
        return date_fr(V.to_date(value))
    if kind == "bool":
        return "oui" if bool(value) else "non"
    if kind == "num":
        f = float(value)
        return months_fr(f) if spec == "mois" else euros(f) if spec == "euros" else number_fr(f)
    return (labels or {}).get(str(value), str(value))






__all__ = ["Template", "words", "elides", "FORMATS"]
