"""Shared fixtures of the address tests: the bundled BANO index, and a small test double of geography.

`PolygonGeography` is a test double of `eligibility.geography.locate_points` (not shipped): it answers
from the real QP2024 polygons of the Manosque quartiers with shapely, with the same statuses and a 15 m
boundary tolerance. The address rules are tested against it until the geography domain lands; tests
that need the real thing use `real_geography` and skip while it is absent.
"""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass

import numpy as np
import pytest

from eligibility.addresses import default_index


@pytest.fixture(scope="session")
def index():
    return default_index()


@dataclass
class FakeLocateResult:
    status: np.ndarray
    quartier_code: np.ndarray
    quartier_name: np.ndarray
    distance_to_boundary_m: np.ndarray
    reason: np.ndarray

    def row(self, i: int) -> dict:
        return {"status": self.status[i], "quartier": None if self.quartier_code[i] is None else
                {"code": self.quartier_code[i], "name": self.quartier_name[i]},
                "distance_to_boundary_m": float(self.distance_to_boundary_m[i]), "reason": self.reason[i], "reason_code": self.reason[i],
                "trace": {"steps": ["fake"]}}


class PolygonGeography:
    """Test double: point-in-polygon on the real QP2024 shapes of département 04 (Lambert-93 metres)."""

    def __init__(self, tolerance_default: float = 15.0):
        import shapely
        from pyproj import Transformer

        from eligibility.datasets import verified_path

        with gzip.open(verified_path("qp2024"), "rt", encoding="utf-8") as f:
            features = [ft for ft in json.load(f)["features"] if ft["properties"]["insee_dep"] == "04"]
        self.to_l93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
        self.codes = np.array([ft["properties"]["code_qp"] for ft in features], dtype=object)
        self.names = np.array([ft["properties"]["lib_qp"] for ft in features], dtype=object)
        shapes = [shapely.make_valid(shapely.geometry.shape(ft["geometry"])) for ft in features]
        self.polys = np.array([shapely.transform(s, lambda xy: np.column_stack(
            self.to_l93.transform(xy[:, 0], xy[:, 1]))) for s in shapes])
        self.calls = []
        self.tolerance_default = tolerance_default

    def locate_points(self, lon, lat, dates, crs="EPSG:4326", tolerance_m=None, undetermined=None):
        import shapely

        tol = self.tolerance_default if tolerance_m is None else tolerance_m
        self.calls.append(len(np.atleast_1d(lon)))
        x, y = self.to_l93.transform(np.asarray(lon, float), np.asarray(lat, float))
        pts = shapely.points(np.atleast_1d(x), np.atleast_1d(y))
        n = len(pts)
        status = np.full(n, "outside", dtype=object)
        code = np.full(n, None, dtype=object)
        name = np.full(n, None, dtype=object)
        dist = np.full(n, np.inf)
        for poly, c, nm in zip(self.polys, self.codes, self.names):
            inside = shapely.contains(poly, pts)
            d = shapely.distance(poly.boundary, pts)
            status[inside], code[inside], name[inside] = "inside", c, nm
            dist = np.minimum(dist, d)
        status[dist < tol] = "near_boundary"
        reason = np.full(n, None, dtype=object)
        if undetermined is not None:  # the contract: such rows are undetermined, without a quartier
            skip = np.array([bool(r) for r in undetermined])
            status[skip], code[skip], name[skip], reason[skip] = "undetermined", None, None, np.asarray(
                undetermined, dtype=object)[skip]
        return FakeLocateResult(status, code, name, dist, reason)


@pytest.fixture(scope="session")
def polygon_geography():
    return PolygonGeography()


@pytest.fixture
def fake_geography(monkeypatch, polygon_geography):
    """Plug the test double in where `locate_addresses` imports geography from."""
    import eligibility.geography as geography

    monkeypatch.setattr(geography, "locate_points", polygon_geography.locate_points, raising=False)
    monkeypatch.setattr(geography, "LocateResult", FakeLocateResult, raising=False)
    return polygon_geography


@pytest.fixture
def real_geography():
    import eligibility.geography as geography

    if not hasattr(geography, "locate_points"):
        pytest.skip("eligibility.geography.locate_points n'existe pas encore (domaine géographie en cours)")
    return geography
