"""The income threshold S of décret n° 2014-767 art. 4, and the unité urbaine criterion of art. 2 I 1°.

    S = 0,6 × (0,7 × RMUC-nat + 0,3 × RMUC-UU)   unités urbaines of less than 5 million inhabitants
    S = 0,6 × (0,3 × RMUC-nat + 0,7 × RMUC-UU)   unités urbaines of 5 million or more
    « le résultat du calcul étant arrondi aux 100 € supérieurs »

Arithmetic is exact: medians are taken to the cent and the formula is computed in integers, so that a
result that lands on a multiple of 100 € is not pushed to the next hundred by a binary rounding error.
All functions take arrays (one threshold per unité urbaine) and return arrays.
"""
from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import BadInput
from . import parameters as P

# The contrats de ville often write « plus de 10 000 » / « plus de 1 000 »; the decree says « au moins ».
AT_LEAST_NOTE = (
    "Le décret dit « au moins » 10 000 habitants (unité urbaine) et un minimum de 1 000 habitants (quartier) : "
    "10 000 et 1 000 satisfont le critère. Certains contrats de ville écrivent « plus de » ; le moteur suit le décret."
)
POPULATION_NOTE = (
    "La population de l'unité urbaine est la population totale (art. R. 2151-1 CGCT) arrondie aux 100 habitants "
    "supérieurs (art. 2 I 1°) : 9 901 à 10 000 habitants donnent 10 000."
)
DEFAULT_DATE = dt.date(2024, 1, 1)  # first day of the QP2024 geography (décret n° 2023-1314)


def _as_array(value, field: str, *, positive: bool) -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(value, dtype=float))
    except (TypeError, ValueError):
        raise BadInput(f"nombres attendus, reçu « {value} »", field=field) from None
    bad = ~np.isfinite(arr) | ((arr <= 0) if positive else (arr < 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        what = "strictement positif" if positive else "positif ou nul"
        raise BadInput(f"nombre fini {what} attendu, reçu « {float(arr[i]):g} »", field=field, row=i + 1 if arr.size > 1 else None)
    return arr


def _params(date: dt.date) -> dict[str, dict[str, Any]]:
    names = [
        "population_minimale_uu", "arrondi_population_uu", "seuil_facteur",
        "seuil_poids_national", "seuil_poids_unite_urbaine", "seuil_population_grandes_uu",
        "seuil_poids_national_grandes_uu", "seuil_poids_unite_urbaine_grandes_uu", "seuil_arrondi",
    ]
    return {n: P.parameter(n, date) for n in names}


def _exact_threshold(nat_cents: np.ndarray, uu_cents: np.ndarray, factor: Fraction, w_nat: Fraction,
                     w_uu: Fraction, step_eur: int) -> tuple[np.ndarray, np.ndarray]:
    """(S before rounding in €, S rounded up to `step_eur`) with integer arithmetic on cents."""
    c_nat, c_uu = factor * w_nat, factor * w_uu
    den = math.lcm(c_nat.denominator, c_uu.denominator)
    num = int(c_nat * den) * nat_cents + int(c_uu * den) * uu_cents  # S in units of 1/(100·den) €
    unit = den * 100 * step_eur
    rounded = -(-num // unit) * step_eur
    return num / (den * 100), rounded


def compute(national_median, uu_median, uu_population, date: dt.date = DEFAULT_DATE) -> dict[str, Any]:
    """Thresholds and unité urbaine eligibility for arrays of (RMUC-nat, RMUC-UU, population).

    Returns arrays `threshold` (int €), `threshold_exact` (€), `large_uu` (bool, the ≥ 5 million regime),
    `population_rounded`, `unite_urbaine_eligible` (bool), and `parameters` (the values used, with references).
    """
    nat = _as_array(national_median, "national_median", positive=True)
    uu = _as_array(uu_median, "uu_median", positive=True)
    pop = _as_array(uu_population, "uu_population", positive=False)
    nat, uu, pop = np.broadcast_arrays(nat, uu, pop)
    prm = _params(date)
    frac = {k: Fraction(v["value"]) for k, v in prm.items()}

    nat_c = np.rint(nat * 100).astype(np.int64)
    uu_c = np.rint(uu * 100).astype(np.int64)
    step = int(frac["seuil_arrondi"])
    small_exact, small = _exact_threshold(nat_c, uu_c, frac["seuil_facteur"], frac["seuil_poids_national"],
                                          frac["seuil_poids_unite_urbaine"], step)
    large_exact, large = _exact_threshold(nat_c, uu_c, frac["seuil_facteur"], frac["seuil_poids_national_grandes_uu"],
                                          frac["seuil_poids_unite_urbaine_grandes_uu"], step)
    pop_step = int(frac["arrondi_population_uu"])
    pop_rounded = np.ceil(pop / pop_step) * pop_step
    large_uu = pop_rounded >= float(frac["seuil_population_grandes_uu"])
    return {
        "threshold": np.where(large_uu, large, small).astype(np.int64),
        "threshold_exact": np.where(large_uu, large_exact, small_exact),
        "large_uu": large_uu,
        "population_rounded": pop_rounded.astype(np.int64),
        "unite_urbaine_eligible": pop_rounded >= float(frac["population_minimale_uu"]),
        "national_median": nat,
        "uu_median": uu,
        "uu_population": pop,
        "parameters": prm,
        "date": date,
    }


def trace(res: dict[str, Any], i: int = 0, provenance: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The steps behind row i of `compute`: each with inputs, parameters (dated, referenced) and result."""
    prm = res["parameters"]
    large = bool(res["large_uu"][i])
    suffix = "_grandes_uu" if large else ""
    used = [prm["seuil_facteur"], prm["seuil_poids_national" + suffix], prm["seuil_poids_unite_urbaine" + suffix],
            prm["seuil_arrondi"]]
    f, wn, wu = (float(p["value"]) for p in used[:3])
    provenance = provenance or {}
    pop_params = [prm["arrondi_population_uu"], prm["population_minimale_uu"]]
    return [
        {
            "step": "unite_urbaine_eligible",
            **P.condition("unite_urbaine_eligible", res["date"]),
            "inputs": {"uu_population": float(res["uu_population"][i]),
                       "uu_population_source": provenance.get("uu_population", "fourni par l'appelant")},
            "parameters": [P.trace_entry(p) for p in pop_params],
            "population_rounded": int(res["population_rounded"][i]),
            "result": bool(res["unite_urbaine_eligible"][i]),
            "notes": [POPULATION_NOTE, AT_LEAST_NOTE] + [n for n in [P.derogation_note(res["date"])] if n],
        },
        {
            "step": "regime",
            "label": "Régime du seuil selon la population de l'unité urbaine (art. 4, 1° ou 2°)",
            "parameters": [P.trace_entry(prm["seuil_population_grandes_uu"])],
            "legal_reference": prm["seuil_population_grandes_uu"]["reference"],
            "result": "5 millions ou plus (art. 4, 2°)" if large else "moins de 5 millions (art. 4, 1°)",
        },
        {
            "step": "seuil",
            "label": "Seuil de revenu médian par unité de consommation (art. 4)",
            "formula": (f"S = {f:g} × ({wn:g} × RMUC-nat + {wu:g} × RMUC-UU), arrondi aux 100 € supérieurs"
                        .replace(".", ",")),
            "inputs": {
                "national_median": float(res["national_median"][i]),
                "national_median_source": provenance.get("national_median", "fourni par l'appelant"),
                "uu_median": float(res["uu_median"][i]),
                "uu_median_source": provenance.get("uu_median", "fourni par l'appelant"),
            },
            "parameters": [P.trace_entry(p) for p in used],
            "legal_reference": prm["seuil_facteur"]["reference"],
            "before_rounding": round(float(res["threshold_exact"][i]), 2),
            "result": int(res["threshold"][i]),
            "unconfirmed_parameters": [p["name"] for p in used if not p["confirmed"]],
        },
    ]
