"""The locate job's answer table, built with Arrow alone (no pandas on `qpv batch locate`), is the table the
former route gave: a pandas DataFrame of the same columns, converted by `pa.Table.from_pandas` to the output
schema. Same values, same nulls (NaN distances are null, as pandas converts them), same types."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.batch.jobs import answer_table as _table
from eligibility.batch.sinks import arrow_schema

COLUMNS = [("row", "int"), ("id", "str"), ("status", "str"), ("quartier_code", "str"),
           ("distance_to_boundary_m", "float"), ("error", "str")]
TEXT = st.one_of(st.none(), st.just(""), st.text(max_size=8))


def _via_pandas(columns, data: dict):
    return pa.Table.from_pandas(pd.DataFrame(data), schema=arrow_schema(columns), preserve_index=False)


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.tuples(TEXT, st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=False)),
                               st.booleans(), st.text(max_size=5)), max_size=30),
       labels=st.lists(TEXT, min_size=1, max_size=6), picks=st.lists(st.integers(0, 10**6), min_size=30, max_size=30))
def test_property_table_equals_the_pandas_route(rows, labels, picks):
    n = len(rows)
    table = np.array(labels + [None], dtype=object)[:len(labels)]  # geography's small label tables
    index = np.array([p % len(labels) for p in picks[:n]], dtype=np.int64)
    good = np.array([i for i, r in enumerate(rows) if r[2]], dtype=np.int64)  # rows with a kept input value
    kept_values = pa.array([rows[i][3] for i in good], type=pa.string())
    status = np.array(["inside", "outside", None, "error"], dtype=object)
    status_at = np.array([p % 4 for p in picks[:n]], dtype=np.int64)
    distance = np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=float)
    errors = np.array([r[0] for r in rows] + [None], dtype=object)[:n]
    got = _table(COLUMNS, np.arange(1, n + 1, dtype=np.int64), {"distance_to_boundary_m": distance, "error": errors},
                 {"status": (status, status_at), "quartier_code": (table, index)}, {"id": (kept_values, good)}).table()
    kept = np.full(n, None, dtype=object)
    kept[good] = [rows[i][3] for i in good]
    want = _via_pandas(COLUMNS, {"row": np.arange(1, n + 1, dtype=np.int64), "id": kept, "status": status[status_at],
                                 "quartier_code": table[index], "distance_to_boundary_m": distance, "error": errors})
    assert got.schema == want.schema
    assert got.equals(want)


@settings(max_examples=80, deadline=None)
@given(texts=st.lists(st.one_of(st.none(), st.text(alphabet="CRS0123456789mNE", min_size=1, max_size=12)), max_size=30),
       keep=st.lists(st.booleans(), min_size=30, max_size=30), extra=st.integers(0, 5))
def test_text_column_equals_the_column_of_objects(texts, keep, extra):
    """A column built from a result's text buffer (the carreau) is the Arrow column the objects gave: the
    result's rows placed at their chunk rows (some result rows dropped, as points abroad are, and chunk rows
    without a result, as error rows), null where the text is None or the row has none."""
    from eligibility.batch.locate import _text_column

    lengths = np.array([0 if t is None else len(t) for t in texts], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    body = np.frombuffer("".join(t for t in texts if t is not None).encode("ascii"), dtype=np.uint8)
    positions = np.array([i for i in range(len(texts)) if keep[i]], dtype=np.int64)
    n = len(positions) + extra
    at = np.sort(np.random.default_rng(len(texts)).choice(n, len(positions), replace=False)) if n else positions
    got = _text_column((offsets, body), at, positions, n)
    objects = np.full(n, None, dtype=object)
    objects[at] = np.array(texts + [None], dtype=object)[:len(texts)][positions]
    assert got.equals(pa.array(objects, type=pa.string()))


@settings(max_examples=100, deadline=None)
@given(n_labels=st.integers(1, 40), picks=st.lists(st.integers(-10**6, 10**6), max_size=40),
       answered=st.lists(st.booleans(), min_size=40, max_size=40), kept=st.lists(st.booleans(), min_size=40, max_size=40),
       dtype=st.sampled_from([np.int8, np.int16, np.int32, np.int64]))
def test_row_labels_are_the_former_int64_positions(n_labels, picks, answered, kept, dtype):
    """`_row_labels` (int32, no modulo pass) gives each chunk row the label position the former code gave
    (`np.full(n, L, int64)`, then `index % L` at the answered rows): numpy's -1 … -L read from the end, rows
    without an answer past the labels (null), every row answered in order or only some (rows abroad dropped)."""
    from eligibility.batch.locate import _row_labels

    labels = np.array([f"l{i}" for i in range(n_labels - 1)] + [None], dtype=object)
    index = np.array([p % (2 * n_labels) - n_labels for p in picks], dtype=np.int64)  # -L … L - 1
    index = index[(index >= np.iinfo(dtype).min) & (index <= np.iinfo(dtype).max)].astype(dtype)
    m = len(index)
    n = m + 3  # the chunk: the result's rows and 3 error rows
    at = np.flatnonzero(np.array(answered[:n]))[:m] if m else np.zeros(0, np.int64)
    res_rows = np.arange(len(at))  # the result holds one row per answered chunk row, in order
    index = index[:len(at)]
    sel = np.flatnonzero(np.array(kept[:len(at)], dtype=bool)) if len(at) else slice(None)
    former = np.full(n, n_labels, np.int64)
    former[at[sel]] = np.asarray(index, dtype=np.int64)[sel] % n_labels
    got = _row_labels(labels, index, at[sel], sel, n)
    assert got.dtype == np.int32 and np.array_equal(got, former)
    assert np.array_equal(labels[np.minimum(got, n_labels - 1)][got < n_labels], labels[former[former < n_labels]])
    if len(res_rows):  # every row answered, in order (`at` None)
        whole = _row_labels(labels, index, None, slice(None), len(index))
        assert np.array_equal(whole, np.asarray(index, dtype=np.int64) % n_labels)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 30), parquet=st.booleans())
def test_an_error_column_without_errors_is_the_column_of_nulls(n, parquet, tmp_path_factory):
    """A chunk without an error row leaves `error` out of the numpy columns: `_table` gives the column of
    nulls, which encodes to the bytes (CSV and Parquet) that the conversion of n None objects gave."""
    from eligibility.batch.sinks import OutputFormat, encode_part

    columns = [("row", "int"), ("status", "str"), ("error", "str")]
    rows = np.arange(1, n + 1, dtype=np.int64)
    coded = {"status": (np.array(["inside", None], dtype=object), np.zeros(n, np.int32))}
    with_objects = _table(columns, rows, {"error": np.full(n, None, dtype=object)}, coded, {})
    without = _table(columns, rows, {}, coded, {})
    assert without.table().equals(with_objects.table())
    fmt = OutputFormat("parquet") if parquet else OutputFormat("csv")
    assert encode_part(without, columns, fmt) == encode_part(with_objects, columns, fmt)
