"""format_ids gives exactly the INSPIRE strings, whatever the digit widths; id_text the same texts as one buffer."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from eligibility.geography.carreaux import format_ids, id_text, ids_for_points, parse_ids

ints = st.integers(0, 10**12)


@given(st.lists(st.tuples(ints, ints), min_size=1, max_size=50), st.sampled_from([3035, 2975, 5490]))
def test_format_ids_matches_plain_formatting(pairs, epsg):
    e = np.array([p[0] for p in pairs], dtype=np.int64)
    n = np.array([p[1] for p in pairs], dtype=np.int64)
    got = format_ids(e, n, epsg)
    assert got.dtype == object and all(isinstance(v, str) for v in got)
    assert list(got) == [f"CRS{epsg}RES200mN{b}E{a}" for a, b in zip(e.tolist(), n.tolist())]


def test_round_trip_and_known_id():
    ids = ids_for_points(np.array([3478012.5, 0.0]), np.array([2369250.0, 199.9]))
    assert list(ids) == ["CRS3035RES200mN2369200E3478000", "CRS3035RES200mN0E0"]
    epsg, size, e, n = parse_ids(ids)
    assert e.tolist() == [3478000, 0] and n.tolist() == [2369200, 0] and set(epsg) == {3035}


def test_negative_and_empty():
    assert format_ids(np.array([-200]), np.array([400])).tolist() == ["CRS3035RES200mN400E-200"]
    assert len(format_ids(np.array([], dtype=np.int64), np.array([], dtype=np.int64))) == 0


def _split(offsets, data):
    text = data.tobytes().decode("ascii")
    return [text[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]


@given(st.lists(st.tuples(st.integers(-10**9, 10**12), ints), max_size=60), st.sampled_from([3035, 2975, 5490]),
       st.booleans())
def test_id_text_is_format_ids_as_one_buffer(pairs, epsg, same_width):
    """Every width mix (one width: the matrix is the buffer; several: placed row by row), zero, negatives."""
    e = np.array([p[0] for p in pairs], dtype=np.int64)
    n = np.array([p[1] for p in pairs], dtype=np.int64)
    if same_width:
        e, n = np.abs(e) % 10**6 + 3 * 10**6, n % 10**6 + 2 * 10**6
    offsets, data = id_text(e, n, epsg)
    assert offsets.dtype == np.int64 and data.dtype == np.uint8 and len(offsets) == len(e) + 1 and offsets[0] == 0
    assert _split(offsets, data) == list(format_ids(e, n, epsg))


@given(st.integers(0, 10**9), st.integers(1, 400), st.integers(65, 3000), st.sampled_from([200, 1000, 7]),
       st.integers(0, 2**32 - 1))
def test_ids_of_a_chunk_of_corners_match_plain_formatting(low, span, count, size, seed):
    """A batch chunk's corners: many multiples of the size over a short span (the digits taken from a table of
    the span's corners), across a change of digit width (e.g. 9,999,800 → 10,000,000), and off the grid by one
    metre (written digit by digit): every id as the plain formatting writes it."""
    rng = np.random.default_rng(seed)
    e = (low // size + rng.integers(0, span, count)) * size
    n = (low // size + rng.integers(0, span, count)) * size + (1 if seed % 5 == 0 else 0)
    expected = [f"CRS3035RES{size}mN{b}E{a}" for a, b in zip(e.tolist(), n.tolist())]
    assert list(format_ids(e, n, 3035, size)) == expected
    offsets, data = id_text(e, n, 3035, size)
    assert _split(offsets, data) == expected


def test_ids_across_a_digit_width_change():
    e = np.arange(9_999_000, 10_001_000, 200, dtype=np.int64).repeat(20)
    n = e[::-1].copy()
    expected = [f"CRS3035RES200mN{b}E{a}" for a, b in zip(e.tolist(), n.tolist())]
    assert list(format_ids(e, n)) == expected and _split(*id_text(e, n)) == expected
