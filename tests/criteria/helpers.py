"""Synthetic carreaux for the criteria tests (built in memory, labelled synthetic)."""
from __future__ import annotations

import numpy as np

from eligibility.criteria.filosofi import PROXY, PROXY_LABEL, Carreaux
from eligibility.geography.carreaux import format_ids

ORIGIN_E, ORIGIN_N = 3_476_000, 2_364_000  # somewhere in the Landes, EPSG:3035


def make(cells, epsg: int = 3035) -> Carreaux:
    """cells: iterable of (col, row, population, income) in grid units from ORIGIN."""
    cells = list(cells)
    col = np.array([c[0] for c in cells], dtype=np.int64)
    row = np.array([c[1] for c in cells], dtype=np.int64)
    e = ORIGIN_E + 200 * col
    n = ORIGIN_N + 200 * row
    return Carreaux(
        ids=format_ids(e, n, epsg), easting=e, northing=n, epsg=epsg, size=200,
        population=np.array([c[2] for c in cells], dtype=float),
        income=np.array([c[3] for c in cells], dtype=float),
        income_column=PROXY, income_label=PROXY_LABEL, imputed=None, communes=None,
        source={"synthetic": True},
    )


# medians giving S = 0.6 * (0.7 * 20000 + 0.3 * 20000) = 12 000 € exactly, UU of 50 000 inhabitants
FIXED = dict(unite_urbaine="40401", national_median=20000.0, uu_median=20000.0, uu_population=50000.0)
