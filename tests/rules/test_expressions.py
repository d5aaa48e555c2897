"""The expression language: Kleene logic, date arithmetic, kinds, vectorised evaluation."""
import calendar
import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.rules import values as V
from eligibility.rules.expressions import Compiler, ExpressionError


class Scope:
    """Names for these tests: facts only, no parameters or definitions."""
    kinds = {"a": "bool", "b": "bool", "x": "num", "y": "num", "d": "date", "e": "date", "s": "str"}

    def fact_kind(self, path):
        return self.kinds.get(path)

    def parameter_kind(self, name):
        return None

    def definition(self, name):
        return None


class Ctx:
    record = None

    def __init__(self, cols, n):
        self.cols, self.n = cols, n
        self.decision_date = V.unknown("date", n)

    def fact(self, path):
        return self.cols[path]


def run(text, **cols):
    n = len(next(iter(cols.values())))
    return Compiler(Scope()).compile(text).run(Ctx(cols, n))


TRI = [True, False, None]


def tri_col(vals):
    return V.Col("bool", np.array([bool(v) for v in vals]), np.array([v is not None for v in vals]))


def as_tri(col):
    return [None if not k else bool(v) for v, k in zip(col.value, col.known)]


def k_and(p, q):
    if p is False or q is False:
        return False
    return None if p is None or q is None else True


def k_or(p, q):
    if p is True or q is True:
        return True
    return None if p is None or q is None else False


def test_kleene_truth_tables():
    pairs = [(p, q) for p in TRI for q in TRI]
    a, b = tri_col([p for p, _ in pairs]), tri_col([q for _, q in pairs])
    assert as_tri(run("a and b", a=a, b=b)) == [k_and(p, q) for p, q in pairs]
    assert as_tri(run("a or b", a=a, b=b)) == [k_or(p, q) for p, q in pairs]
    assert as_tri(run("not a", a=a, b=b)) == [None if p is None else not p for p, _ in pairs]


def py_add_months(d: dt.date, n: int) -> dt.date:
    total = d.year * 12 + d.month - 1 + n
    y, m = divmod(total, 12)
    return dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(dates, st.integers(-400, 400)), min_size=1, max_size=20))
def test_add_months_matches_the_calendar(items):
    d = np.array([V.days(x) for x, _ in items])
    n = np.array([k for _, k in items])
    got = [V.to_date(x) for x in V.add_months(d, n)]
    assert got == [py_add_months(x, k) for x, k in items]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(dates, dates), min_size=1, max_size=20))
def test_full_months_and_age(items):
    s = np.array([V.days(a) for a, _ in items])
    e = np.array([V.days(b) for _, b in items])
    months = V.full_months(s, e)
    for (a, b), k in zip(items, months):
        lo, hi = min(a, b), max(a, b)
        m = abs(int(k))
        assert py_add_months(lo, m) <= hi < py_add_months(lo, m + 1)
        assert (k >= 0) == (b >= a) or k == 0
    ages = V.age(s, e)
    for (a, b), years in zip(items, ages):
        if b >= a:
            assert py_add_months(a, 12 * int(years)) <= b < py_add_months(a, 12 * (int(years) + 1))


def test_comparisons_arithmetic_and_unknowns():
    x = V.Col("num", np.array([1.0, 5.0, 0.0]), np.array([True, True, False]))
    assert as_tri(run("2 <= x <= 4", x=x)) == [False, False, None]
    out = run("x / (x - 1)", x=x)
    assert list(out.known) == [False, True, False]  # 1/0 is unknown, not inf
    assert out.value[1] == pytest.approx(1.25)
    assert as_tri(run("(x if x > 2 else 0) == 5", x=x)) == [False, True, None]
    assert as_tri(run("min(x, 3) == 3", x=x)) == [False, True, None]


def test_membership_and_strings():
    s = V.Col("str", np.array(["CDI", "CDD", ""], dtype=object), np.array([True, True, False]))
    assert as_tri(run("s in ['CDI']", s=s)) == [True, False, None]
    assert as_tri(run("s not in ['CDI']", s=s)) == [False, True, None]


WORDS = ["CDI", "CDD", "CDI_INTERIMAIRE", "", "cdi", "987"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(WORDS), st.booleans()), min_size=1, max_size=30),
       st.lists(st.sampled_from(WORDS), min_size=1, max_size=3), st.sampled_from(WORDS))
def test_a_coded_text_column_answers_as_its_plain_values(cells, allowed, word):
    """`in` and `==`/`!=` against constants on a column carrying its distinct labels (how the batch reads enum
    columns) give exactly what the plain object column gives, row by row, known or not."""
    labels = np.array(sorted({w for w, _ in cells}) + [""], dtype=object)
    codes = np.array([labels.tolist().index(w) if k else -1 for w, k in cells])
    plain = V.Col("str", labels[codes], np.array([k for _, k in cells]))
    coded = V.Coded("str", plain.value, plain.known, codes, labels)
    for text in (f"s in {allowed!r}", f"s not in {allowed!r}", f"s == {word!r}", f"s != {word!r}"):
        assert as_tri(run(text, s=coded)) == as_tri(run(text, s=plain)), text


def test_dates():
    d = V.Col("date", np.array([V.days(dt.date(2024, 1, 31))]), np.array([True]))
    assert as_tri(run("add_months(d, 1) == date('2024-02-29')", d=d)) == [True]
    assert as_tri(run("jan1(year(d)) == date('2024-01-01')", d=d)) == [True]
    assert as_tri(run("days_between(date('2024-01-01'), d) == 30", d=d)) == [True]


@pytest.mark.parametrize("text", ["d < 3", "s > 'a'", "a + 1", "min(d, x)", "s in [1, 2]", "date(2020)",
                                  "x in ['a', 1]", "unknown_fn(x)", "a.b.c", "x.real"])
def test_kind_and_name_errors(text):
    with pytest.raises(ExpressionError):
        Compiler(Scope()).compile(text)


NUMBERS = st.one_of(st.none(), st.sampled_from([0.0, -0.0, 1.0, -2.5, 3.0, 1e300]), st.floats(-1e6, 1e6))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(NUMBERS, NUMBERS), min_size=1, max_size=30), st.sampled_from(["+", "-", "*", "/", "//", "%"]))
def test_arithmetic_gives_each_row_the_value_of_the_operation_or_an_unknown_zero(pairs, op):
    """An arithmetic node writes its unknown rows' zero into the operation's own array: each known row holds
    the operation's value (a division by zero is unknown), each unknown row 0.0, exactly as `np.where` gave them."""
    def col(vals):
        return V.Col("num", np.array([0.0 if v is None else v for v in vals]), np.array([v is not None for v in vals]))

    x, y = col([p for p, _ in pairs]), col([q for _, q in pairs])
    out = run(f"x {op} y", x=x, y=y)
    fn = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "//": np.floor_divide, "%": np.mod}[op]
    known = x.known & y.known & ((y.value != 0) if op in ("/", "//", "%") else True)
    with np.errstate(all="ignore"):
        expected = np.where(known, fn(x.value, np.where(known, y.value, 1.0)), 0.0)
    assert out.value.dtype == np.float64
    np.testing.assert_array_equal(out.known, known)
    np.testing.assert_array_equal(out.value, expected)  # NaN == NaN here, and -0.0 == 0.0
    assert list(np.signbit(out.value)) == list(np.signbit(expected))  # the same zeros, sign included


CONSTANTS = st.sampled_from([0.0, -0.0, 1.0, -2.5, 3.0, 6.0, 1e300, 0.1])


@settings(max_examples=120, deadline=None)
@given(st.lists(NUMBERS, min_size=1, max_size=30), CONSTANTS,
       st.sampled_from(["+", "-", "*", "/", "//", "%", "==", "!=", "<", "<=", ">", ">="]))
def test_a_constant_operand_gives_what_a_column_of_it_gives(values, c, op):
    """`x OP 2.5` runs on the number 2.5, not on a column of n copies (the fast path): each row's value and
    known flag, signed zeros included, are those of `x OP y` with y a known column holding 2.5 on every row."""
    x = V.Col("num", np.array([0.0 if v is None else v for v in values]), np.array([v is not None for v in values]))
    y = V.Col("num", np.full(len(values), c), np.ones(len(values), dtype=bool))
    with np.errstate(all="ignore"):
        fast, generic = run(f"x {op} {c!r}", x=x), run(f"x {op} y", x=x, y=y)
    assert fast.value.dtype == generic.value.dtype
    np.testing.assert_array_equal(fast.known, generic.known)
    np.testing.assert_array_equal(fast.value, generic.value)
    assert list(np.signbit(fast.value)) == list(np.signbit(generic.value))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-40_000, 60_000)), min_size=1, max_size=30),
       st.integers(-40_000, 60_000), st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
def test_a_date_against_a_constant_date_gives_what_a_column_of_it_gives(days, c, op):
    d = V.Col("date", np.array([0 if v is None else v for v in days], dtype=np.int64), np.array([v is not None for v in days]))
    e = V.Col("date", np.full(len(days), c, dtype=np.int64), np.ones(len(days), dtype=bool))
    fast = run(f"d {op} date('{V.to_date(c).isoformat()}')", d=d)
    assert as_tri(fast) == as_tri(run(f"d {op} e", d=d, e=e))
