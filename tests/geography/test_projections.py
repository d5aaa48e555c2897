"""The projections built from a stored PROJ pipeline (`territories.PIPELINES`, a quicker start) give the
coordinates PROJ's own choice of operation gives, to the bit, over France and beyond."""
import numpy as np
import pytest
from pyproj import Transformer

from eligibility.geography import territories


@pytest.mark.parametrize("src, dst", sorted(territories.PIPELINES))
def test_stored_pipelines_are_the_operations_proj_chooses(src, dst):
    rng = np.random.default_rng(dst)
    # the territories projected with it (their boxes, widened by half a degree), then anywhere on Earth
    boxes = [z.bbox for z in territories.ZONES if dst in (z.epsg, z.carreau_epsg)]
    assert boxes
    lon = [rng.uniform(x0 - 0.5, x1 + 0.5, 200_000 // len(boxes)) for x0, _, x1, _ in boxes]
    lat = [rng.uniform(y0 - 0.5, y1 + 0.5, 200_000 // len(boxes)) for _, y0, _, y1 in boxes]
    lon = np.concatenate(lon + [rng.uniform(-180, 180, 20_000), [b[0] for b in boxes], [b[2] for b in boxes]])
    lat = np.concatenate(lat + [rng.uniform(-90, 90, 20_000), [b[1] for b in boxes], [b[3] for b in boxes]])
    chosen = Transformer.from_crs(src, dst, always_xy=True).transform(lon, lat)
    stored = territories.transformer(src, dst).transform(lon, lat)
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(chosen, stored))
    assert np.isfinite(stored[0][:len(lon) - 20_000 - 2 * len(boxes)]).all()
