"""The declarative rules engine (docs/rules.md): rule files, dated parameters, the evaluator.

Public surface (docs/ARCHITECTURE.md): `evaluate`, `evaluate_frame`, `load_rules`, plus `get_rule` and
the dated-parameter API `parameter_value` / `parameter_values` used by the criteria domain.
"""
from __future__ import annotations

import datetime as dt

import numpy as np

from .evaluator import DecisionFrame, evaluate, evaluate_frame
from .loader import Rule, get_rule, load_rules
from .parameters import ParameterValue

__all__ = ["evaluate", "evaluate_frame", "load_rules", "get_rule", "parameter_value", "parameter_values",
           "DecisionFrame", "ParameterValue", "Rule"]


def parameter_value(rule_id: str, name: str, date: dt.date) -> ParameterValue | None:
    """The value of parameter `name` of rule `rule_id` in force at `date` (None if no period covers it).

    `.value` is None when the period exists but its figure is unknown; `.confirmed` is False where
    law.md marks the figure [U] or [C2].
    """
    rule = get_rule(rule_id)
    if name not in rule.params:
        from ..errors import BadInput
        raise BadInput(f"paramètre inconnu « {name} » (connus : {', '.join(sorted(rule.params))})", field=name)
    return rule.params[name].at(date)


def parameter_values(rule_id: str, name: str, dates) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised lookup: values at each date (array of dates or datetime64) and a `known` mask."""
    rule = get_rule(rule_id)
    days = np.asarray(dates, dtype="datetime64[D]").astype(np.int64)
    p = rule.params[name]
    col = p.column(p.period_index(days, np.ones(len(days), dtype=bool)))
    return col.value, col.known
