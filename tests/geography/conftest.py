"""Real points from the bundled address files (SOURCES.md §6e spot checks), read through the manifest; a
reference `locate_points` by exact shapely tests only."""
from __future__ import annotations

import csv
import gzip
import io

import dataclasses

import numpy as np
import pytest

from eligibility import datasets
from eligibility.geography import grid, index, locate


def _rows(dataset_id: str, filename: str, delimiter: str) -> list[list[str]]:
    with gzip.open(datasets.verified_path(dataset_id, filename), "rt", encoding="utf-8-sig") as f:
        return list(csv.reader(io.StringIO(f.read()), delimiter=delimiter))


@pytest.fixture(scope="session")
def spot_points() -> dict[str, tuple[float, float]]:
    """name -> (lon, lat) of the §6e spot-check addresses, from the real files (no hand-typed coordinates)."""
    out = {}
    colleges = _rows("colleges", "fr-en-adresse-et-geolocalisation-etablissements-premier-et-second-degre_colleges_2024-11.csv.gz", ";")
    head = colleges[0]
    lon_i, lat_i = head.index("longitude"), head.index("latitude")
    for r in colleges[1:]:
        if r[0] in ("0400103V", "0820753Y", "0622425Z", "0390883Y"):
            out[f"college:{r[0]}"] = (float(r[lon_i]), float(r[lat_i]))
    for r in _rows("laposte_points_contact", "laposte_poincont2_2020-12.csv.gz", ";")[1:]:
        if r[0] in ("15577A", "07626A", "00622A", "11719A"):
            out[f"poste:{r[0]}"] = (float(r[12]), float(r[11]))
    for r in _rows("bano", "bano-04_2015-03-23.csv.gz", ","):
        if r[0] in ("041120030H-1", "041120023A-52", "041120010L-1"):
            out[f"bano:{r[0]}"] = (float(r[7]), float(r[6]))
    return out


class _NoGrid:
    """Test double for the metric quartier grid: every point to the exact shapely tests."""

    margin = index.GRID_MARGIN_M

    @staticmethod
    def lookup(x, y):
        return np.full(len(x), grid.CROSSING, np.int32)


@pytest.fixture
def exact_only(monkeypatch):
    """`locate_points` answering by exact shapely tests only (no degree path, no metric grids): a reference."""
    def run(*args, **kwargs):
        real_q, real_d = index.quartier_index, index.departement_index
        with monkeypatch.context() as m:
            m.setattr(locate, "FAST_MIN_POINTS", 10**12)
            m.setattr(index, "quartier_index",  # boundaries within tolerance by the STRtree and GEOS distances
                      lambda ds, z: dataclasses.replace(real_q(ds, z), grid=_NoGrid(), exact_by_cells=False))
            m.setattr(index, "departement_index", lambda z: dataclasses.replace(real_d(z), grid=None))
            res = locate.locate_points(*args, **kwargs)
            res.exact  # computed (and kept) while the grids are off
        return res
    return run
