"""Reading French cells: dates in both forms, impossible dates refused, decimal commas."""
import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st

from eligibility.batch.columns import to_date, to_float


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_dates_read_in_both_forms(d):
    v, missing, errors = to_date(pd.Series([d.isoformat(), d.strftime("%d/%m/%Y")]), "date")
    assert list(v) == [np.datetime64(d, "D")] * 2 and not missing.any() and list(errors) == [None, None]


@settings(max_examples=200, deadline=None)
@given(st.integers(1900, 2100), st.integers(0, 13), st.integers(0, 32))
def test_a_date_that_does_not_exist_is_refused_not_rolled_over(y, m, d):
    try:
        real = dt.date(y, m, d)
    except ValueError:
        real = None
    v, _, errors = to_date(pd.Series([f"{y:04d}-{m:02d}-{d:02d}", f"{d:02d}/{m:02d}/{y:04d}"]), "date")
    if real is None:
        assert np.isnat(v).all() and all(e and "date invalide" in e for e in errors)
    else:
        assert list(v) == [np.datetime64(real, "D")] * 2


@settings(max_examples=200, deadline=None)
@given(st.floats(-1e9, 1e9, allow_nan=False).map(lambda x: round(x, 6)), st.booleans(), st.booleans())
def test_numbers_with_a_point_or_a_decimal_comma(x, comma, spaced):
    text = f"{x:.6f}"
    if comma:
        text = text.replace(".", ",")
    if spaced:
        text = f" {text} "
    v, missing, errors, seen = to_float(pd.Series([text, "", "abc"]), "n")
    assert v[0] == float(f"{x:.6f}") and missing.tolist() == [False, True, False]
    assert errors[0] is None and errors[1] is None and "nombre attendu" in errors[2]
    assert seen == comma


def test_thousands_with_spaces_and_ambiguous_separators():
    v, _, errors, _ = to_float(pd.Series(["1 234,5", "1\u202f234,5", "1.234,5", "inf"]), "n")
    assert v[:2].tolist() == [1234.5, 1234.5]
    assert errors[2] and errors[3]  # « 1.234,5 » is refused rather than guessed; infinities are not numbers



DATE_CELLS = st.one_of(st.none(), st.sampled_from(["", " ", "2024-02-29", "2023-02-29", "31/12/2024", " 2024-06-01 ",
                                                   "2024-6-1", "01/13/2024", "x", "2024-06-01T00:00"]),
                       st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 12, 31)).map(dt.date.isoformat))


def _same_rows(got, want, rows):
    """Every row in `rows` of the per-row arrays `got` holds the values `want` (NaT equal to NaT)."""
    for arr, value in zip(got, want):
        part = arr[rows]
        if isinstance(value, np.datetime64) and np.isnat(value):
            assert np.isnat(part).all()
        else:
            assert all(x == value for x in part.tolist())


@settings(max_examples=25, deadline=None)
@given(st.lists(DATE_CELLS, min_size=1, max_size=12, unique=True), st.booleans(), st.integers(0, 2**32 - 1))
def test_a_long_date_column_reads_each_row_as_its_cell_alone(cells, distinct_head, seed):
    """Long text columns are read once per distinct text, or directly when their first cells are almost all
    distinct: either way every row gets what its text gets in a column of its own."""
    import pyarrow as pa

    from eligibility.batch.columns import DISTINCT_SAMPLE

    column = [cells[i] for i in np.random.default_rng(seed).integers(0, len(cells), 3 * DISTINCT_SAMPLE)]
    if distinct_head:
        column[:DISTINCT_SAMPLE] = [(dt.date(1970, 1, 1) + dt.timedelta(days=k)).isoformat() for k in range(DISTINCT_SAMPLE)]
    got = to_date(pa.array(column, type=pa.string()), "date")
    for c in set(column[DISTINCT_SAMPLE:]) | ({column[0]} if distinct_head else set()):
        rows = np.flatnonzero([x == c for x in column])
        alone = to_date(pa.array([c], type=pa.string()), "date")
        _same_rows(got, [a[0] for a in alone], rows)


NUMBER_CELLS = st.one_of(st.sampled_from(["", " 1,5", "2,25", "1.234,5", "abc", "nan", "inf", "1 234,5", "-0.5"]),
                         st.floats(-180, 180, allow_nan=False).map(lambda x: f"{x:.6f}"))


@settings(max_examples=25, deadline=None)
@given(st.lists(NUMBER_CELLS, min_size=1, max_size=5), st.integers(0, 19_999))
def test_a_comma_or_bad_cell_after_the_first_cells_reads_as_alone(cells, at):
    """Only the first cells are looked at for a decimal comma before the one-cast path: a comma, blank or bad
    cell further down still reads exactly as it would alone, and so does every plain number."""
    import pyarrow as pa

    column = [f"{k / 1000:.3f}" for k in range(20_000)]
    placed = [(at + 37 * j) % len(column) for j in range(len(cells))]
    for k, c in zip(placed, cells):
        column[k] = c
    v, missing, errors, seen = to_float(pa.array(column, type=pa.string()), "n")
    comma_seen = False
    for k in set(placed):
        alone = to_float(pa.array([column[k]], type=pa.string()), "n")
        assert (np.isnan(v[k]) and np.isnan(alone[0][0])) or v[k] == alone[0][0]
        assert missing[k] == alone[1][0] and errors[k] == alone[2][0]
        comma_seen |= alone[3]
    plain = np.setdiff1d(np.arange(20_000), placed)
    assert np.array_equal(v[plain], plain / 1000) and not missing[plain].any()
    assert seen == comma_seen


def _number_alone(cell):
    """What a number cell reads as, by the rule written out in Python: (value, missing, bad, lone comma)."""
    import re

    from eligibility.batch.columns import NUMBER

    text = "" if cell is None else cell.strip()
    if text == "":
        return np.nan, True, False, False
    cleaned = re.sub("[ \t\u00a0\u202f]", "", text)
    lone = "," in cleaned and "." not in cleaned
    if lone:
        cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(NUMBER, cleaned) or not np.isfinite(float(cleaned)):
        return np.nan, False, True, False
    return float(cleaned), False, False, lone


NUMBER_TEXT = st.one_of(st.none(), st.text(st.sampled_from("0123456789,.-+e \t\u00a0a"), max_size=8),
                        st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: f"{x:.4f}"),
                        st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: f"{x:.4f}".replace(".", ",")))


@settings(max_examples=300, deadline=None)
@given(st.lists(NUMBER_TEXT, min_size=1, max_size=40), st.integers(0, 5), st.integers(0, 3))
def test_a_number_column_reads_every_cell_by_the_rule(cells, start, cut):
    """Whichever path a column takes (the one cast, the byte scans for commas and points, the careful path),
    with nulls, blanks, commas, points and bad cells anywhere, and on a slice of a longer array: each cell
    reads as the rule says, and the decimal-comma flag says whether a read cell had a lone comma."""
    import pyarrow as pa

    column = pa.array(["9,5"] * start + cells + ["1.5"] * cut, type=pa.string()).slice(start, len(cells))
    v, missing, errors, seen = to_float(column, "n")
    want = [_number_alone(c) for c in cells]
    assert np.array_equal(v, [w[0] for w in want], equal_nan=True)
    assert missing.tolist() == [w[1] for w in want]
    assert [e is not None for e in errors] == [w[2] for w in want]
    assert seen == any(w[3] for w in want)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(st.sampled_from("ab,./"), max_size=4)), max_size=12),
       st.integers(0, 4), st.integers(0, 4), st.sampled_from([",", ".", "/"]), st.booleans())
def test_holds_byte_finds_a_cell_holding_the_byte(cells, start, cut, byte, large):
    """On a slice (bytes of cells outside it do not count), for small and large offsets; without nulls the answer
    is exact, with nulls it may only say "yes" when a cell does."""
    import pyarrow as pa

    from eligibility.batch.columns import holds_byte

    column = pa.array([byte * 3] * start + cells + [byte] * cut, type=pa.large_string() if large else pa.string())
    column = column.slice(start, len(cells))
    held = any(c is not None and byte in c for c in cells)
    assert holds_byte(column, byte.encode()) == held or (column.null_count and not held)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["2024-02-29", " 2024-02-29", "29/02/2024 ", "2023-02-29",
                                                      "", "  ", "x"])), min_size=1, max_size=30))
def test_a_date_column_with_nulls_and_spaces_reads_each_cell_alone(cells):
    """Dates are hashed as written and only the distinct texts are trimmed: each cell, null included, reads as
    it does alone."""
    import pyarrow as pa

    got = to_date(pa.array(cells, type=pa.string()), "date")
    for k, c in enumerate(cells):
        alone = to_date(pa.array([c], type=pa.string()), "date")
        _same_rows(got, [a[0] for a in alone], np.array([k]))
