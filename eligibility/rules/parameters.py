"""Dated parameters: each value has a period (from/to, inclusive), a legal reference and a confirmed flag.

Lookup is vectorised: `searchsorted` over the period starts gives, for an array of dates, the index of
the period in force (or -1). A period whose value is null means "the law has a value here that we could
not confirm": it is looked up like any other and gives an unknown, never a default.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from . import values as V
from .model import Parameter

FAR_FUTURE = dt.date(9999, 12, 31)


@dataclass(frozen=True)
class ParameterValue:
    name: str
    value: object
    start: dt.date
    end: dt.date | None
    reference: dict
    confirmed: bool
    note: str | None
    label: str = ""
    unit: str | None = None
    value_label: str | None = None  # French for a text value (the parameter's `labels`)

    def to_json(self) -> dict:
        out = {"parameter": self.name, "label": self.label, "unit": self.unit, "value": self.value,
               "value_label": self.value_label,
               "from": self.start.isoformat(), "to": self.end.isoformat() if self.end else None,
               "legal_reference": self.reference, "confirmed": self.confirmed}
        if self.note:  # provenance (law.md tags, sources): JSON only, never in the French text
            out["provenance"] = {"note": self.note}
        return out


def kind_of(p: Parameter) -> str:
    """'num' | 'str' | 'bool' | 'list_num' | 'list_str' from the non-null values (the loader checks they agree)."""
    kinds = {_kind(v.value) for v in p.values if v.value is not None}
    if len(kinds) != 1:
        raise ValueError("les valeurs d'un paramètre doivent toutes avoir le même type (et au moins une être connue)")
    return kinds.pop()


def _kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "num"
    if isinstance(value, str):
        return "str"
    inner = {_kind(x) for x in value}
    if len(inner) != 1 or inner == {"bool"}:
        raise ValueError("une liste de paramètre doit contenir des nombres ou des textes, pas un mélange")
    return f"list_{inner.pop()}"


def period_problems(vals: list, life_from: dt.date, life_to: dt.date | None) -> list[str]:
    """Gaps, overlaps, disorder and uncovered parts of the rule's life, in French (empty list: fine).

    `vals`: items with `start` and `end` (parameter values, dated legal references)."""
    problems = []
    for i, v in enumerate(vals):
        if v.end is not None and v.end < v.start:
            problems.append(f"période {i + 1} : fin {v.end} avant début {v.start}")
        if v.end is None and i != len(vals) - 1:
            problems.append(f"période {i + 1} : seule la dernière période peut être ouverte (to: null)")
    for i in range(len(vals) - 1):
        end, nxt = vals[i].end, vals[i + 1].start
        if end is None:
            continue
        if nxt <= end:
            problems.append(f"chevauchement : la période {i + 2} commence le {nxt}, la période {i + 1} finit le {end}")
        elif nxt > end + dt.timedelta(days=1):
            problems.append(f"trou entre le {end} et le {nxt}")
    if vals[0].start > life_from:
        problems.append(f"aucune valeur du {life_from} au {vals[0].start - dt.timedelta(days=1)} (début de validité de la règle)")
    last_end = vals[-1].end
    if last_end is not None and (life_to is None or last_end < life_to):
        problems.append(f"aucune valeur après le {last_end} alors que la règle vaut jusqu'au {life_to or 'sans fin'}")
    return problems


def _label(p: Parameter, value) -> str | None:
    if p.labels is None or value is None:
        return None
    items = value if isinstance(value, list) else [value]
    return ", ".join(p.labels.get(str(x), str(x)) for x in items)


class DatedParameter:
    """A parameter ready for vectorised lookup."""

    def __init__(self, name: str, p: Parameter, ref_json):
        self.name = name
        self.model = p
        self.kind = kind_of(p)
        self.starts = np.array([V.days(v.start) for v in p.values], dtype=np.int64)
        self.ends = np.array([V.days(v.end or FAR_FUTURE) for v in p.values], dtype=np.int64)
        # The reference of a figure is as confirmed as the figure (not the text as a whole).
        self.items = [ParameterValue(name, v.value, v.start, v.end, ref_json(v.reference, None, v.confirmed),
                                     v.confirmed, v.note, p.label, p.unit, _label(p, v.value)) for v in p.values]
        self.lists = [v.value for v in p.values]

    def period_index(self, dates: np.ndarray, known: np.ndarray) -> np.ndarray:
        """Index of the period in force at each date, -1 where none is (or the date is unknown)."""
        idx = np.searchsorted(self.starts, dates, side="right") - 1
        inside = known & (idx >= 0)
        inside &= dates <= self.ends[np.clip(idx, 0, None)]
        return np.where(inside, idx, -1)

    def column(self, idx: np.ndarray) -> V.Col:
        """Values at the periods `idx` (from period_index); a null value or no period gives unknown."""
        kind = self.kind
        if kind.startswith("list"):
            raise ValueError("un paramètre liste ne s'utilise qu'avec « in »")
        table_known = np.array([v.value is not None for v in self.model.values] + [False])
        filler = {"num": 0.0, "str": "", "bool": False}[kind]
        table = np.array([filler if v.value is None else v.value for v in self.model.values] + [filler],
                         dtype={"num": float, "str": object, "bool": bool}[kind])
        return V.Col(kind, table[idx], table_known[idx])  # idx -1 hits the trailing unknown slot

    def at(self, date: dt.date) -> ParameterValue | None:
        idx = self.period_index(np.array([V.days(date)]), np.array([True]))[0]
        return self.items[idx] if idx >= 0 else None
