"""A tiny stand-in for `eligibility.geography.locate_points`, used only until the real one lands.

It honours the documented contract (arrays in, a result of equal-length arrays out, `row(i)`):
a point is `inside` the fake quartier QNFAKE01 when lon > 2, else `outside`. Tests of the batch
machinery (IO, chunking, resume, error rows, Dask) do not depend on where quartiers are.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class FakeLocateResult:
    status: np.ndarray
    quartier_code: np.ndarray
    quartier_name: np.ndarray
    vintage: np.ndarray
    commune_code: np.ndarray
    commune_name: np.ndarray
    departement: np.ndarray
    region: np.ndarray
    distance_to_boundary_m: np.ndarray
    carreau: np.ndarray
    dates: np.ndarray

    def row(self, i: int) -> dict:
        return {"status": str(self.status[i]), "quartier": {"code": self.quartier_code[i]} if self.quartier_code[i] else None,
                "trace": {"fake": True, "date": str(self.dates[i]), "distance": float(self.distance_to_boundary_m[i])}}


def fake_locate_points(lon, lat, dates, crs="EPSG:4326", tolerance_m=15.0):
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    n = len(lon)
    inside = lon > 2
    obj = lambda v: np.full(n, v, dtype=object)  # noqa: E731
    return FakeLocateResult(
        status=np.where(inside, "inside", "outside").astype(object),
        quartier_code=np.where(inside, "QNFAKE01", None).astype(object),
        quartier_name=np.where(inside, "=Quartier (faux)", None).astype(object),
        vintage=obj("QP2024"), commune_code=obj("99999"), commune_name=obj("Commune fictive"),
        departement=obj("99"), region=obj("99"),
        distance_to_boundary_m=np.round(np.abs(lon - 2) * 1000 - 50, 2),
        carreau=obj("CRS3035RES200mN0E0"),
        dates=np.asarray(dates, dtype=object) if np.ndim(dates) else obj(dates),
    )
