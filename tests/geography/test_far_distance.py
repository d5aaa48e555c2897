"""Distance to the nearest boundary for points far from every quartier (the vertex KD-tree path of
`QuartierIndex.nearest_boundary`): the same bits as the minimum over EVERY densified boundary segment, with
the same arithmetic, whatever KD-tree library finds the candidate vertices."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility.geography import boundary_distance, index


def _every_segment_minimum(qi: index.QuartierIndex, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Brute force: each point against every densified segment v -> next(v), `point_segment_distance`."""
    _, xy, nxt, _ = qi.vertices
    a, b = xy, xy[nxt]
    return np.array([boundary_distance.point_segment_distance(np.array([px, py]), a, b).min() for px, py in zip(x, y)])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(zone=st.sampled_from(["metropole", "guadeloupe", "martinique", "guyane", "reunion", "mayotte"]),
       seed=st.integers(0, 2**16))
def test_far_points_get_the_minimum_over_every_segment_to_the_bit(zone, seed):
    """Points on densified vertices, along segments, millimetres off them, and metres to 200 km away (far at
    sea for the overseas zones): the KD-tree path equals the brute force exactly (`array_equal`, not a
    tolerance), so the printed distances cannot change with the tree."""
    qi = index.quartier_index("qp2024", zone)
    _, xy, nxt, _ = qi.vertices
    rng = np.random.default_rng(seed)
    k = rng.integers(0, len(xy), 8)
    along = xy[k] + rng.uniform(0, 1, (len(k), 1)) * (xy[nxt[k]] - xy[k])
    pts = np.concatenate([xy[k], along, along + rng.normal(0, 0.001, along.shape),
                          xy[k] + rng.normal(0, 40, along.shape), xy[k] + rng.normal(0, 3_000, along.shape),
                          xy[k] + rng.normal(0, 30_000, along.shape), xy[k] + rng.uniform(-200_000, 200_000, along.shape)])
    _, dist = qi._nearest_by_vertices(pts[:, 0], pts[:, 1])
    np.testing.assert_array_equal(dist, _every_segment_minimum(qi, pts[:, 0], pts[:, 1]))


def test_large_batch_far_points_match_the_brute_force():
    """Through `nearest_boundary` as a large batch uses it: the points the boundary cells leave (farther than
    `boundary_distance.REACH_M`) get the brute-force minimum."""
    qi = index.quartier_index("qp2024", "metropole")
    rng = np.random.default_rng(7)
    b = qi.boundaries
    lo, hi = np.array([100_000, 6_100_000]), np.array([1_200_000, 7_100_000])
    pts = rng.uniform(lo, hi, (3_000, 2))
    _, dist = qi.nearest_boundary(pts[:, 0], pts[:, 1], small_batch=0)
    answered, _, _ = qi.boundary_cells.nearest(pts[:, 0], pts[:, 1])
    far = np.flatnonzero(~answered)[:60]
    assert len(far) == 60 and len(b)
    np.testing.assert_array_equal(dist[far], _every_segment_minimum(qi, pts[far, 0], pts[far, 1]))


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="threads counted through Linux's /proc")
def test_kd_tree_queries_start_no_thread_and_leave_the_environment_alone():
    """One thread per process (an OpenMP pool in a process that forks would hang its children), whatever
    OMP_NUM_THREADS says, and the variable is given back as it was."""
    code = (
        "import os, numpy as np\n"
        "from eligibility.geography import index\n"
        "before = len(os.listdir('/proc/self/task'))\n"
        "tree = index._kdtree_class()(np.random.default_rng(0).uniform(0, 1, (50_000, 2)))\n"
        "tree.query(np.random.default_rng(1).uniform(0, 1, (200_000, 2)), k=8)\n"
        "print(before, len(os.listdir('/proc/self/task')), os.environ.get('OMP_NUM_THREADS'))\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "4"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == out[1]
    assert out[2] == "4"


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), lines=st.integers(1, 6), spread=st.sampled_from([5.0, 60.0, 500.0, 20_000.0]))
def test_random_boundaries_dense_beside_sparse(seed, lines, spread):
    """Random polylines whose vertices are 0.5 m to 300 m apart (before densifying), some lying beside each
    other: the nearest segment is often not next to the nearest vertices, so a search that stopped at too few
    vertices would answer a longer distance. Points on vertices, along segments, and `spread` metres off."""
    rng = np.random.default_rng(seed)
    parts = []
    for _ in range(lines):
        n = int(rng.integers(2, 60))
        steps = rng.uniform(0.5, 300.0, n)[:, None] * np.stack([np.cos(a := rng.uniform(0, 2 * np.pi, n)), np.sin(a)], axis=1)
        parts.append(shapely.linestrings(rng.uniform(0, 2_000, 2) + np.cumsum(steps, axis=0)))
    boundaries = np.array(parts, dtype=object)
    qi = index.QuartierIndex("random", index.ZONE_BY_NAME["metropole"], np.arange(len(boundaries)), boundaries,
                             boundaries, None)
    _, xy, nxt, _ = qi.vertices
    k = rng.integers(0, len(xy), 20)
    along = xy[k] + rng.uniform(0, 1, (len(k), 1)) * (xy[nxt[k]] - xy[k])
    pts = np.concatenate([xy[k], along, along + rng.normal(0, spread, along.shape)])
    _, dist = qi._nearest_by_vertices(pts[:, 0], pts[:, 1])
    np.testing.assert_array_equal(dist, _every_segment_minimum(qi, pts[:, 0], pts[:, 1]))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(block=st.integers(1, 700), cells_block=st.integers(1, 700), seed=st.integers(0, 2**16))
def test_blocks_of_points_give_the_answers_of_one_pass(block, cells_block, seed):
    """Far points (`index.FAR_BLOCK`) and points in boundary cells (`boundary_distance._BLOCK`) are answered a
    block at a time: any block size gives the quartier and distance bits of a single pass over every point."""
    qi = index.quartier_index("qp2024", "metropole")
    rng = np.random.default_rng(seed)
    _, xy, _, _ = qi.vertices
    near = xy[rng.integers(0, len(xy), 700)] + rng.normal(0, 400, (700, 2))  # in boundary cells, mostly
    pts = np.concatenate([near, rng.uniform([100_000, 6_100_000], [1_200_000, 7_100_000], (700, 2))])
    saved = index.FAR_BLOCK, boundary_distance._BLOCK
    try:
        index.FAR_BLOCK, boundary_distance._BLOCK = 10**9, 10**9
        whole = qi.nearest_boundary(pts[:, 0], pts[:, 1], small_batch=0)
        index.FAR_BLOCK, boundary_distance._BLOCK = block, cells_block
        blocks = qi.nearest_boundary(pts[:, 0], pts[:, 1], small_batch=0)
    finally:
        index.FAR_BLOCK, boundary_distance._BLOCK = saved
    np.testing.assert_array_equal(blocks[0], whole[0])
    np.testing.assert_array_equal(blocks[1], whole[1])


def test_cached_vertices_are_the_densified_boundaries():
    """A dataset's index reads its densified vertices from the cache: the arrays computed from its boundaries."""
    qi = index.quartier_index("qp2024", "metropole")
    assert qi.in_cache
    fresh = index._densified_vertices(qi.boundaries)
    _, xy, nxt, owner = qi.vertices
    np.testing.assert_array_equal(xy, fresh["xy"])
    np.testing.assert_array_equal(nxt, fresh["next"])
    np.testing.assert_array_equal(owner, fresh["owner"])
    np.testing.assert_array_equal(qi._previous_vertex, fresh["previous"])
    assert len(xy) > 100_000 and (nxt != np.arange(len(xy))).any()
