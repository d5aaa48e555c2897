"""CSV cells as bytes (issue 13): the encoder that scans bytes and lets Arrow's writer join plain lines writes,
byte for byte, what the rules say cell by cell: a text cell starting like a formula gets « ' », a cell holding
the separator, a quote or a line break is quoted (its quotes doubled), an empty or missing cell is empty."""
import math

import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st

from eligibility.batch.sinks import OutputFormat, encode_part

# hundredths: rounding to the cent is then exact in both Arrow and Python (the float path is Arrow's cast)
NUMBER = st.one_of(st.just(float("nan")), st.just(-0.0), st.integers(-10**9, 10**9).map(lambda i: i / 100))
CHARS = list("=+-@\t\r\n\x00 ab1;,|\"'é€")
TEXT = st.one_of(st.none(), st.text(alphabet=st.sampled_from(CHARS), max_size=6), st.sampled_from(["QN01234M", "inside"]))


def _cell(value, sep: str) -> str:
    """One text cell by the rules, in plain Python: the reference."""
    if value is None:
        return ""
    if value[:1] in ("=", "+", "-", "@", "\t", "\r", "\x00") and value:
        value = "'" + value
    if any(c in value for c in (sep, '"', "\n", "\r")):
        value = '"' + value.replace('"', '""') + '"'
    return value


def _number(x: float, decimal: str) -> str:
    if math.isnan(x):
        return ""
    text = repr(round(x, 2))  # Arrow writes the shortest text that reads back as the rounded double (« -0 » too)
    text = text[:-2] if text.endswith(".0") else text
    return text.replace(".", decimal)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT, NUMBER), min_size=1,
                max_size=12),
       st.sampled_from([",", ";", "\t", "|"]))
def test_encoded_cells_are_the_rules_byte_for_byte(rows, sep):
    df = pd.DataFrame({"row": np.arange(1, len(rows) + 1), "a": pd.Series([r[0] for r in rows], dtype=object),
                       "b": pd.Series([r[1] for r in rows], dtype="str"), "x": [r[2] for r in rows]})
    fmt = OutputFormat("csv", sep)
    got = encode_part(df, [("row", "int"), ("a", "str"), ("b", "str"), ("x", "float")], fmt)
    want = "".join(sep.join([str(i + 1), _cell(a, sep), _cell(b, sep), _number(x, fmt.decimal)]) + "\n"
                   for i, (a, b, x) in enumerate(rows))
    assert got == want.encode("utf-8")


def test_a_plain_chunk_and_a_quoted_chunk_join_the_same_way():
    df = pd.DataFrame({"row": [1, 2], "t": ["a", "b,c"]})
    columns = [("row", "int"), ("t", "str")]
    assert encode_part(df, columns, OutputFormat("csv", ";")) == b"1;a\n2;b,c\n"  # plain: Arrow's writer
    assert encode_part(df, columns, OutputFormat("csv", ",")) == b'1,a\n2,"b,c"\n'  # quoted: joined here


@settings(max_examples=150, deadline=None)
@given(labels=st.lists(TEXT, min_size=1, max_size=6), picks=st.lists(st.integers(0, 7), min_size=1, max_size=12),
       sep=st.sampled_from([",", ";", "\t"]), parquet=st.booleans())
def test_coded_columns_encode_as_their_values(labels, picks, sep, parquet):
    """A text column given as labels and positions (the locate job's status, quartier, commune…) is written from
    each label's cell, made once: the bytes of the column of values it stands for (CSV and Parquet). A position
    past the labels is an empty cell."""
    from eligibility.batch.jobs import answer_table

    columns = [("row", "int"), ("code", "str"), ("x", "float")]
    table = np.array(labels + [None], dtype=object)[:len(labels)]
    index = np.array(picks, dtype=np.int64) % (len(labels) + 2)  # some past the labels: null
    rows = np.arange(1, len(picks) + 1, dtype=np.int64)
    x = np.arange(len(picks)) * 0.25 - 1  # quarters: rounding to the cent is exact (see NUMBER)
    coded = answer_table(columns, rows, {"x": x}, {"code": (table, index)}, {})
    values = np.array([table[i] if i < len(table) else None for i in index] + [None], dtype=object)[:-1]
    plain = answer_table(columns, rows, {"x": x, "code": values}, {}, {})
    fmt = OutputFormat("parquet") if parquet else OutputFormat("csv", sep)
    assert encode_part(coded, columns, fmt) == encode_part(plain, columns, fmt) == encode_part(plain.table(), columns, fmt)
    if not parquet:
        want = "".join(sep.join([str(r), _cell(v, sep), _number(float(v2), fmt.decimal)]) + "\n"
                       for r, v, v2 in zip(rows, values, x))
        assert encode_part(coded, columns, fmt) == want.encode("utf-8")


def test_a_label_no_row_uses_does_not_make_the_chunk_quoted():
    """Only the cells written count: a chunk whose rows all read plain labels keeps Arrow's writer."""
    from eligibility.batch.jobs import answer_table
    from eligibility.batch.sinks import _coded_cells

    table = np.array(["inside", "a,b"], dtype=object)
    columns = [("row", "int"), ("status", "str")]
    fmt = OutputFormat("csv", ",")
    plain = answer_table(columns, np.arange(1, 3), {}, {"status": (table, np.array([0, 0]))}, {})
    mixed = answer_table(columns, np.arange(1, 3), {}, {"status": (table, np.array([0, 1]))}, {})
    assert _coded_cells(plain.arrays[1], fmt)[1] is False and _coded_cells(mixed.arrays[1], fmt)[1] is True
    assert encode_part(mixed, columns, fmt) == b'1,inside\n2,"a,b"\n'
