"""Grouping of contiguous carreaux (sparse connected components) and weighted medians."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.criteria import grouping as G
from eligibility.geography.carreaux import neighbours


def keys(cells):
    cells = np.array(cells, dtype=np.int64).reshape(-1, 2)
    return G.grid_keys(cells[:, 0] * 200, cells[:, 1] * 200, 200)


def partition(labels):
    """Groups as a set of frozensets of positions (independent of numbering)."""
    return {frozenset(np.flatnonzero(labels == g).tolist()) for g in np.unique(labels)}


def test_side_contact_joins_in_both_connectivities():
    labels, n = G.label(keys([(0, 0), (1, 0), (1, 1)]), 4)
    assert n == 1 and labels.tolist() == [0, 0, 0]


def test_corner_contact_joins_only_with_8_connectivity():
    cells = [(0, 0), (1, 1)]
    assert G.label(keys(cells), 4)[1] == 2
    assert G.label(keys(cells), 8)[1] == 1


def test_gap_of_one_carreau_separates():
    assert G.label(keys([(0, 0), (2, 0)]), 8)[1] == 2


def test_zones_are_never_joined():
    labels, n = G.label(keys([(0, 0), (1, 0), (2, 0)]), 4, zone=np.array([0, 0, 1]))
    assert n == 2 and labels.tolist() == [0, 0, 1]


def test_groups_are_numbered_by_their_lowest_carreau():
    # (5, 0) is listed first but (0, 0) has the smallest easting: group 0
    labels, _ = G.label(keys([(5, 0), (0, 0), (0, 1)]), 4)
    assert labels.tolist() == [1, 0, 0]


def test_neighbours_offsets_are_the_grid_steps():
    e, n = neighbours(np.array([1000]), np.array([2000]), 4)
    assert sorted(zip(e[0].tolist(), n[0].tolist())) == [(800, 2000), (1000, 1800), (1000, 2200), (1200, 2000)]
    assert neighbours(np.array([0]), np.array([0]), 8)[0].shape == (1, 8)


def flood_fill(cells, connectivity):
    """Reference implementation for the test only: a plain breadth-first flood fill."""
    index = {c: i for i, c in enumerate(cells)}
    steps = [(1, 0), (-1, 0), (0, 1), (0, -1)] + ([(1, 1), (-1, -1), (1, -1), (-1, 1)] if connectivity == 8 else [])
    seen, groups = set(), set()
    for start in cells:
        if start in seen:
            continue
        todo, members = [start], set()
        seen.add(start)
        while todo:
            c = todo.pop()
            members.add(index[c])
            for dx, dy in steps:
                nb = (c[0] + dx, c[1] + dy)
                if nb in index and nb not in seen:
                    seen.add(nb)
                    todo.append(nb)
        groups.add(frozenset(members))
    return groups


cell_sets = st.sets(st.tuples(st.integers(-6, 6), st.integers(-6, 6)), min_size=1, max_size=60).map(sorted)


@settings(max_examples=150, deadline=None)
@given(cell_sets, st.sampled_from([4, 8]))
def test_labelling_matches_a_flood_fill(cells, connectivity):
    labels, n = G.label(keys(cells), connectivity)
    assert n == len(set(labels.tolist()))
    assert partition(labels) == flood_fill(cells, connectivity)


def brute_lower_weighted_median(values, weights):
    order = np.argsort(values, kind="stable")
    total = weights.sum()
    cum = 0
    for i in order:
        cum += weights[i]
        if 2 * cum >= total:
            return values[i]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(5000, 30000), st.integers(0, 5000)), min_size=1, max_size=40))
def test_weighted_median_matches_brute_force(rows):
    groups_raw = np.array([r[0] for r in rows])
    _, groups = np.unique(groups_raw, return_inverse=True)
    n = groups.max() + 1
    values = np.array([float(r[1]) for r in rows])
    weights = np.array([r[2] for r in rows], dtype=np.int64)
    got = G.weighted_median(values, weights, groups, n)
    for g in range(n):
        m = groups == g
        if weights[m].sum() == 0:
            assert np.isnan(got[g])
        else:
            assert got[g] == brute_lower_weighted_median(values[m], weights[m])


def test_population_in_milli_inhabitants_is_exact():
    w = G.to_milli(np.array([0.1, 0.2, 999.7]))
    assert G.group_population_milli(w, np.array([0, 0, 0]), 1).tolist() == [1_000_000]
