"""French forms of values for text people read: dates 01/02/2024, numbers 0,8, amounts 11 405,31 €."""
from __future__ import annotations

import datetime as dt
from typing import Any

NOT_CONFIRMED_FIGURE = "chiffre non confirmé par un texte officiel lu"
NOT_CONFIRMED_REFERENCE = "référence non confirmée par un texte officiel lu"
SMALL = {1: "un", 2: "deux", 3: "trois", 4: "quatre", 5: "cinq", 6: "six", 7: "sept", 8: "huit", 9: "neuf",
         10: "dix", 11: "onze", 12: "douze"}


def date_fr(value: dt.date | str | None) -> str:
    if value is None:
        return "inconnue"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return value.strftime("%d/%m/%Y")


def number_fr(x: float | int | None) -> str:
    """0,8 ; 2014 ; 12 500 (four-digit numbers are written without a space, as years are)."""
    if x is None:
        return "inconnu"
    f = float(x)
    if f.is_integer():
        return str(int(f)) if abs(f) < 10_000 else f"{int(f):,}".replace(",", " ")
    whole, _, frac = f"{f:,.6f}".rstrip("0").partition(".")
    return f"{whole.replace(',', ' ')},{frac}"


def euros(x: float | None) -> str:
    if x is None:
        return "inconnu"
    whole, cents = f"{x:,.2f}".split(".")
    return f"{whole.replace(',', ' ')},{cents} €"


def months_fr(x: float | None) -> str:
    """« un mois », « trois mois », « 18 mois »."""
    if x is None:
        return "durée inconnue"
    f = float(x)
    words = SMALL.get(int(f)) if f.is_integer() else None
    return f"{words or number_fr(f)} mois"


def with_unit(value: Any, unit: str | None) -> str:
    """A parameter's value with its unit: EUR as euros, other units after the number."""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, (int, float)):
        if unit == "EUR":
            return euros(float(value))
        return number_fr(value) + (f" {unit}" if unit else "")
    return str(value)


# The parts of a place fact, as the explanations name them.
FORM_WORDS = {"lon": "longitude", "lat": "latitude", "quartier_code": "quartier", "address": "adresse"}
