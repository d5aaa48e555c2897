"""The projections built from a stored PROJ pipeline (`territories.PIPELINES`, a quicker start) give the
coordinates PROJ's own choice of operation gives, to the bit, over France and beyond."""
import numpy as np
import pytest
from pyproj import Transformer

from eligibility.geography import territories


@pytest.mark.parametrize("src, dst", sorted(territories.PIPELINES))
def test_stored_pipelines_are_the_operations_proj_chooses(src, dst):
    rng = np.random.default_rng(dst)
    lon = np.concatenate([rng.uniform(-6.5, 10.5, 200_000), rng.uniform(-180, 180, 20_000), [3.0, 10.0, -5.9]])
    lat = np.concatenate([rng.uniform(40.5, 51.8, 200_000), rng.uniform(-90, 90, 20_000), [46.5, 52.0, 41.2]])
    chosen = Transformer.from_crs(src, dst, always_xy=True).transform(lon, lat)
    stored = territories.transformer(src, dst).transform(lon, lat)
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(chosen, stored))
    assert np.isfinite(stored[0][:200_000]).all()
