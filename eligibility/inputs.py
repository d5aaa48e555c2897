"""Parsing of user-typed scalars (dates, numbers) with the French BadInput messages of the contract.

Shared by the command line (options such as --date, --lon) and the web service (query parameters), which
must refuse the same input with the same words; `field` names where the bad value came from.
"""
from __future__ import annotations

import datetime as dt
import math

from .errors import BadInput


def parse_date(value: str | None, field: str = "--date", default: dt.date | None = None) -> dt.date:
    """ISO date (YYYY-MM-DD) or a BadInput naming the field."""
    if value is None:
        if default is None:
            raise BadInput("date manquante", field=field)
        return default
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise BadInput(f"date invalide « {value} » : format attendu AAAA-MM-JJ (ISO 8601)", field=field) from None


def parse_float(value: str | float, field: str) -> float:
    """A finite number or a BadInput naming the field."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise BadInput(f"nombre attendu, reçu « {value} »", field=field) from None
    if math.isnan(out) or math.isinf(out):
        raise BadInput(f"nombre fini attendu, reçu « {value} »", field=field)
    return out
