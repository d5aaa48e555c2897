"""The cells of `boundary_distance` give the exact distance to the nearest boundary (GEOS as the oracle)."""
import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.geography import boundary_distance


def _boundaries(seed: int) -> np.ndarray:
    """A few irregular polygon boundaries (star-shaped, some concave) and one degenerate point."""
    rng = np.random.default_rng(seed)
    rings = []
    for cx, cy in rng.uniform(0, 3_000, (4, 2)):
        angles = np.sort(rng.uniform(0, 2 * np.pi, rng.integers(3, 40)))
        radius = rng.uniform(50, 600, len(angles))
        ring = np.column_stack([cx + radius * np.cos(angles), cy + radius * np.sin(angles)])
        rings.append(shapely.linestrings(np.vstack([ring, ring[:1]])))
    rings.append(shapely.points(1_500.0, 1_500.0))
    return np.array(rings, dtype=object)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), cell=st.sampled_from([60.0, 250.0]), reach=st.sampled_from([200.0, 1000.0]))
def test_cells_give_the_exact_distance_and_leave_far_points(seed, cell, reach):
    bounds = _boundaries(seed)
    cells = boundary_distance.CellSegments.from_arrays(boundary_distance.build(bounds, cell=cell, reach=reach))
    rng = np.random.default_rng(seed + 1)
    # random points, and points on the boundaries: every vertex, points along segments, and points a few
    # millimetres to centimetres off them (where the nearest segment changes, and rounding could matter)
    verts = shapely.get_coordinates(bounds)
    t = rng.uniform(0, 1, (len(verts) - 1, 1))
    along = verts[:-1] + t * (verts[1:] - verts[:-1])
    near = np.concatenate([verts, along]) + rng.normal(0, 0.01, (len(verts) + len(along), 2))
    x, y = np.concatenate([rng.uniform(-1_500, 4_500, (4_000, 2)), verts, along, near]).T
    answered, owner, dist = cells.nearest(x, y)
    pts = shapely.points(x, y)
    geos = shapely.distance(pts[:, None], bounds[None, :])  # (points, boundaries)
    truth = geos.min(axis=1)
    assert answered[truth <= reach - cell * np.sqrt(0.5)].all()  # every cell within reach is stored
    assert not answered[truth > reach + cell * np.sqrt(0.5)].any()
    np.testing.assert_allclose(dist[answered], truth[answered], rtol=0, atol=1e-6)
    np.testing.assert_allclose(geos[np.flatnonzero(answered), owner[answered]], truth[answered], rtol=0, atol=1e-6)
    assert np.isnan(dist[~answered]).all() and (owner[~answered] == -1).all()


def test_no_boundaries_answers_nothing():
    cells = boundary_distance.CellSegments.from_arrays(boundary_distance.build(np.array([], dtype=object)))
    answered, owner, dist = cells.nearest(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert not answered.any() and (owner == -1).all() and np.isnan(dist).all()


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), cell=st.sampled_from([60.0, 250.0]))
def test_pruned_candidates_give_the_bits_of_every_segment(seed, cell):
    """Each point tests only a prefix of its cell's candidates: the answer is the one all segments give,
    to the bit (same arithmetic on every segment, minimum, lowest index on ties)."""
    bounds = _boundaries(seed)
    cells = boundary_distance.CellSegments.from_arrays(boundary_distance.build(bounds, cell=cell, reach=600.0))
    rng = np.random.default_rng(seed + 2)
    verts = shapely.get_coordinates(bounds)
    x, y = np.concatenate([rng.uniform(-700, 3_700, (3_000, 2)), verts, verts + rng.normal(0, 0.005, verts.shape)]).T
    answered, owner, dist = cells.nearest(x, y)
    rows = np.flatnonzero(answered)
    segs = np.arange(len(cells.a))
    d2 = np.stack([cells._d2(x[rows], y[rows], np.full(len(rows), s)) for s in segs], axis=1)
    np.testing.assert_array_equal(dist[rows], np.sqrt(d2.min(axis=1)))
    np.testing.assert_array_equal(owner[rows], cells.owner[np.argmin(d2, axis=1)])  # argmin: the first minimum


@given(cells=st.lists(st.tuples(st.integers(-5, 5), st.integers(-3, 3)), max_size=60),
       far=st.booleans())
def test_cell_order_sorts_points_by_cell_and_keeps_ties_in_order(cells, far):
    ix = np.array([c[0] for c in cells], dtype=float) * (1e6 if far else 1.0)  # far: the 64-bit fallback
    iy = np.array([c[1] for c in cells], dtype=float) * (1e6 if far else 1.0)
    order = boundary_distance.cell_order(ix, iy)
    assert sorted(order.tolist()) == list(range(len(cells)))
    expected = sorted(range(len(cells)), key=lambda i: (ix[i], iy[i], i))
    assert order.tolist() == expected


def test_cell_order_accepts_missing_coordinates():
    order = boundary_distance.cell_order(np.array([3.0, np.nan, 1.0]), np.array([0.0, 2.0, np.nan]))
    assert sorted(order.tolist()) == [0, 1, 2]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), cell=st.sampled_from([60.0, 250.0]), exact=st.floats(0, 1))
def test_prefix_search_is_the_search_over_every_cell_laid_end_to_end(seed, cell, exact):
    """`_prefix` (a search within each point's cell) gives the position that `searchsorted` gives over every
    cell's distances shifted by k * span and laid end to end (the array it replaced), limits equal to a
    candidate's shifted distance (ties), just above or below it, or anywhere in the cell's half span."""
    cells = boundary_distance.CellSegments.from_arrays(boundary_distance.build(_boundaries(seed), cell=cell, reach=600.0))
    span = cells._span
    shifted = np.repeat(np.arange(len(cells.keys)), np.diff(cells.offsets)) * span + cells.cand_d
    rng = np.random.default_rng(seed)
    k = rng.integers(0, len(cells.keys), 5_000)
    start, end = cells.offsets[k], cells.offsets[k + 1]
    base = k * span
    at = start + (rng.uniform(0, 1, len(k)) * (end - start)).astype(np.int64)  # a candidate of the cell
    tie = base + cells.cand_d[at].astype(float)
    limit = np.where(rng.uniform(0, 1, len(k)) < exact, tie, base + rng.uniform(0, span / 2, len(k)))
    limit = np.concatenate([limit, np.nextafter(tie, np.inf), np.nextafter(tie, -np.inf), base])
    k, start, end, base = (np.tile(v, 4) for v in (k, start, end, base))
    got = cells._prefix(start, end, base, limit)
    np.testing.assert_array_equal(got, np.searchsorted(shifted, limit, side="right"))


def _former_point_segment_distance(p, a, b):
    """`point_segment_distance` as written before its in-place path: the general path (one fresh array per term)."""
    px, py, ax, ay = p[..., 0], p[..., 1], a[..., 0], a[..., 1]
    return boundary_distance._point_segment_distance_fresh(px, py, ax, ay, b[..., 0] - ax, b[..., 1] - ay)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**16), m=st.integers(0, 40), k=st.integers(1, 9), degenerate=st.floats(0, 1),
       scale=st.sampled_from([1e-3, 1.0, 1e3, 1e6]))
def test_in_place_terms_give_the_bits_of_the_former_arithmetic(seed, m, k, degenerate, scale):
    """The far points' distances (points (m, 1, 2) against segments (m, k, 2)) and the boundary cells' squared
    distances (`_d2`) computed in place equal, bit for bit, the expressions they replaced: zero-length
    segments, points on a segment's ends and along it, coordinates from millimetres to Lambert-93 sizes."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, (m, k, 2)) * scale + 700_000
    b = a + rng.uniform(-1, 1, (m, k, 2)) * scale
    zero = rng.uniform(0, 1, (m, k)) < degenerate
    b[zero] = a[zero]  # some of length 0
    p = rng.uniform(-2, 2, (m, 1, 2)) * scale + 700_000
    if m:
        p[0, 0] = a[0, 0]  # on a segment's end, and along one
        p[-1, 0] = a[-1, -1] + 0.5 * (b[-1, -1] - a[-1, -1])
    got = boundary_distance.point_segment_distance(p, a, b)
    np.testing.assert_array_equal(got, _former_point_segment_distance(p, a, b))
    # another broadcast (points of a larger shape than the segments): the general path, same function
    np.testing.assert_array_equal(boundary_distance.point_segment_distance(a, a[:, :1, :], b[:, :1, :]),
                                  _former_point_segment_distance(a, a[:, :1, :], b[:, :1, :]))
    # `_d2` of the boundary cells: the same arithmetic as `ex, ey = p - a; t = clip((ex*sx + ey*sy) * inv)…`
    segs = a.reshape(-1, 2), b.reshape(-1, 2)
    cells = boundary_distance.CellSegments(np.array([0.0, 0.0, 1.0, 1.0]), np.zeros(0, np.int64), np.zeros(1, np.int64),
                                           np.zeros(0, np.int32), np.zeros(0, np.float32), segs[0], segs[1],
                                           np.zeros(len(segs[0]), np.int64))
    if not len(segs[0]):
        return
    seg = rng.integers(0, len(segs[0]), 3 * m + 1).astype(np.int32)
    px, py = rng.uniform(-2, 2, (2, len(seg))) * scale + 700_000
    ax, ay, dx, dy, inv = cells._segment_terms
    ex, ey = px - ax[seg], py - ay[seg]
    sx, sy = dx[seg], dy[seg]
    t = np.clip((ex * sx + ey * sy) * inv[seg], 0.0, 1.0)
    ex -= t * sx
    ey -= t * sy
    np.testing.assert_array_equal(cells._d2(px, py, seg), ex * ex + ey * ey)
