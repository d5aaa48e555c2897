"""Unités urbaines 2020: membership, population and median, from the bundled reference data.

- membership: INSEE Base des unités urbaines 2020, geography 2023 (dataset `uu2020`);
- population: sum of the member communes' `population` (population municipale, COG 2026, dataset
  `cog2026`). The decree counts the population *totale* (art. R. 2151-1 CGCT) of the 2019 census: the
  trace says which figure was used and how many member communes had no population in the COG;
- median: MED18, median *niveau de vie* 2018 (Filosofi 2018 key figures, dataset
  `filosofi2018_chiffres_cles`). The decree's RMUC is the median *declared income*; MED18 is a labelled
  stand-in, never presented as the decree's figure.
"""
from __future__ import annotations

import functools
import json
from typing import Any

import numpy as np
import pandas as pd

from ..datasets import dataset, open_verified
from ..errors import BadInput

COMPOSITION_FILE = "uu2020_composition_communale_geo2023.csv"
COMMUNES_FILE = "communes.json.gz"
MEDIAN_FILES = ["cc_filosofi_2018_UU2020-geo2021.CSV", "cc_filosofi_2018_METRO-geo2021.CSV"]

MEDIAN_LABEL = (
    "médiane du niveau de vie 2018 (Filosofi 2018, chiffres clés, MED18) : revenu disponible par UC, "
    "pas le revenu déclaré médian du décret"
)
POPULATION_LABEL = (
    "somme des populations municipales (COG 2026) des communes membres de l'unité urbaine 2020 ; "
    "le décret retient la population totale du recensement de 2019"
)


@functools.lru_cache(maxsize=1)
def _composition() -> pd.DataFrame:
    comp = pd.read_csv(open_verified("uu2020", COMPOSITION_FILE, text=False), dtype=str)
    with open_verified("cog2026", COMMUNES_FILE) as f:
        communes = pd.DataFrame(json.load(f))
    pop = communes.loc[communes["type"] == "commune-actuelle", ["code", "population"]]
    return comp.merge(pop, left_on="CODGEO", right_on="code", how="left")


@functools.lru_cache(maxsize=1)
def _medians() -> tuple[pd.Series, float]:
    uu = pd.read_csv(open_verified("filosofi2018_chiffres_cles", MEDIAN_FILES[0], text=False), sep=";", dtype={"CODGEO": str})
    metro = pd.read_csv(open_verified("filosofi2018_chiffres_cles", MEDIAN_FILES[1], text=False), sep=";")
    return uu.set_index("CODGEO")["MED18"], float(metro["MED18"].iloc[0])


def national_median() -> dict[str, Any]:
    """Default RMUC-nat: metropolitan MED18, with its label and provenance."""
    _, med = _medians()
    return {"value": med, "label": MEDIAN_LABEL, **dataset("filosofi2018_chiffres_cles").provenance(MEDIAN_FILES)}


def uu_of_communes(codes) -> np.ndarray:
    """UU2020 code of each commune code (geography 2023); '' when the commune is unknown or outside any UU."""
    comp = _composition()
    urban = comp["TYPE_COM"] == "Unité urbaine"
    lookup = pd.Series(np.where(urban, comp["UU2020"], ""), index=comp["CODGEO"].to_numpy())
    return lookup.reindex(np.asarray(codes, dtype=str)).fillna("").to_numpy(dtype=object)


def facts(code: str) -> dict[str, Any]:
    """Name, population (with source), median (with label) of unité urbaine `code`."""
    comp = _composition()
    members = comp[comp["UU2020"] == code]
    if members.empty:
        raise BadInput(f"unité urbaine « {code} » inconnue dans la base des unités urbaines 2020", field="unite_urbaine")
    if (members["TYPE_COM"] != "Unité urbaine").all():
        raise BadInput(f"« {code} » désigne les communes hors unité urbaine d'un département, pas une unité urbaine",
                       field="unite_urbaine")
    medians, _ = _medians()
    med = medians.get(code)
    missing = int(members["population"].isna().sum())
    return {
        "code": code,
        "name": str(members["LIBUU2020"].iloc[0]),
        "population": int(members["population"].fillna(0).sum()),
        "population_source": {
            "label": POPULATION_LABEL,
            "communes": int(len(members)),
            "communes_without_population": missing,
            "datasets": [dataset("uu2020").provenance([COMPOSITION_FILE]), dataset("cog2026").provenance([COMMUNES_FILE])],
        },
        "median": None if med is None or pd.isna(med) else float(med),
        "median_source": {"label": MEDIAN_LABEL, **dataset("filosofi2018_chiffres_cles").provenance(MEDIAN_FILES)},
    }
