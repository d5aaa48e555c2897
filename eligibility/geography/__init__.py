"""Geography: perimeter vintages, point -> quartier at a date, carreaux.

Public surface (docs/ARCHITECTURE.md): `locate_points`, `LocateResult`, `quartier_in_force`,
`list_quartiers`, `locate_answer` (the `qpv locate --json` object; plus `perimeter_geojson`, `perimeters_near` for maps). Heavy work (projection, indexes) happens on first use and is cached on disk.
"""
from .locate import STATUSES, LocateResult, locate_points
from .quartiers import (
           commune_geojson,
           list_quartiers,
           perimeter_geojson,
           perimeters_near,
           quartier_in_force,
)
from .trace import locate_answer

__all__ = [
           "STATUSES",
           "LocateResult",
           "commune_geojson",
           "list_quartiers",
           "locate_answer",
           "locate_points",
           "perimeter_geojson",
           "perimeters_near",
           "quartier_in_force",
]
