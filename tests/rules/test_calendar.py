"""Calendar arithmetic on day numbers (`rules.values`) is integer arithmetic: it must give exactly the dates numpy's
datetime64 conversions give, over the whole range of dates a file can hold (years 0000-9999) and beyond."""
import datetime as dt

import numpy as np
from hypothesis import given, settings, strategies as st

from eligibility.rules import values as V

DAYS = st.integers(min_value=-800_000, max_value=3_000_000)  # about year -220 to 10183


def _numpy_ymd(d: np.ndarray):
    m = d.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    first = m.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return m // 12 + 1970, m % 12 + 1, d - first + 1


def test_every_day_of_ten_thousand_years_reads_as_numpy_reads_it():
    d = np.arange(V.days(dt.date(1, 1, 1)) - 800, V.days(dt.date(9999, 12, 31)) + 800, dtype=np.int64)
    for ours, theirs in zip(V.ymd(d), _numpy_ymd(d)):
        np.testing.assert_array_equal(ours, theirs)


@settings(max_examples=200, deadline=None)
@given(st.lists(DAYS, min_size=1, max_size=50), st.lists(DAYS, min_size=1, max_size=50),
       st.lists(st.integers(-30_000, 30_000), min_size=1, max_size=50))
def test_month_arithmetic_matches_the_datetime64_definition(starts, ends, shifts):
    n = min(len(starts), len(ends), len(shifts))
    start, end, k = (np.array(x[:n], dtype=np.int64) for x in (starts, ends, shifts))
    # add_months: the same day of the month k months later, clamped to that month's length
    m = start.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + k
    first = m.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    length = (m + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - first
    want = first + np.minimum(_numpy_ymd(start)[2], length) - 1
    np.testing.assert_array_equal(V.add_months(start, k), want)
    # full_months: the largest k with add_months(start, k) <= end (its mirror when end < start)
    got = V.full_months(start, end)
    lo, hi = np.minimum(start, end), np.maximum(start, end)
    kk = np.abs(got)
    assert (V.add_months(lo, kk) <= hi).all() and (V.add_months(lo, kk + 1) > hi).all()
    np.testing.assert_array_equal(got, np.where(end >= start, kk, -kk))


def _numpy_add_months(start: np.ndarray, k: np.ndarray) -> np.ndarray:
    m = start.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + k
    first = m.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    length = (m + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - first
    return first + np.minimum(_numpy_ymd(start)[2], length) - 1


TABLE_DAYS = st.integers(min_value=V._TABLE_DAYS[0], max_value=V._TABLE_DAYS[1] - 1)


@settings(max_examples=100, deadline=None)
@given(st.lists(TABLE_DAYS, min_size=1, max_size=40), st.lists(TABLE_DAYS, min_size=1, max_size=40),
       st.lists(st.integers(-400, 400), min_size=1, max_size=40), st.sampled_from([0, 1, -1]))
def test_a_batch_column_read_through_the_calendar_tables_gives_the_datetime64_answers(starts, ends, shifts, edge):
    """Columns of a batch's size (>= _TABLE_MIN_ROWS) within 1900-2199 read the tables; one date just outside
    (edge) sends the whole column to the formula. Both give numpy's dates, row by row."""
    n = min(len(starts), len(ends), len(shifts))
    size = V._TABLE_MIN_ROWS + 7
    start, end, k = (np.resize(np.array(x[:n], dtype=np.int64), size) for x in (starts, ends, shifts))
    if edge:  # the day before the tables' first, or after their last
        start[0] = V._TABLE_DAYS[0] - 1 if edge < 0 else V._TABLE_DAYS[1]
    assert V._in_table(start, V._TABLE_DAYS) == (not edge)
    np.testing.assert_array_equal(V.add_months(start, k), _numpy_add_months(start, k))
    got = V.full_months(start, end)
    lo, hi = np.minimum(start, end), np.maximum(start, end)
    kk = np.abs(got)
    assert (_numpy_add_months(lo, kk) <= hi).all() and (_numpy_add_months(lo, kk + 1) > hi).all()
    np.testing.assert_array_equal(got, np.where(end >= start, kk, -kk))
    np.testing.assert_array_equal(V.age(start, end), got // 12)


def test_the_calendar_tables_hold_the_formula_for_every_day_and_month_they_cover():
    days = np.arange(*V._TABLE_DAYS, dtype=np.int64)
    for table, formula in zip(V._months(days), V._months_by_formula(days)):
        np.testing.assert_array_equal(table, formula)
    months = np.arange(*V._TABLE_MONTHS, dtype=np.int64)
    np.testing.assert_array_equal(V._first_of(months), V._first_of_by_formula(months))
    assert V._in_table(days, V._TABLE_DAYS) and V._in_table(months, V._TABLE_MONTHS)
