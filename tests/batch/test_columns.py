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
