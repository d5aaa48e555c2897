"""A job's answer frame (`jobs.output_frame`, the evaluate job's): text columns built through Arrow
equal what pandas infers itself."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.batch.jobs import output_frame

COLUMNS = [("row", "int"), ("status", "str"), ("distance_to_boundary_m", "float"), ("error", "str")]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.text(max_size=8)), st.one_of(st.none(), st.text(max_size=8))),
                max_size=30))
def test_property_frame_equals_pandas_inference(rows):
    out = {"row": np.arange(len(rows), dtype=np.int64),
           "status": np.array([r[0] for r in rows] + [None], dtype=object)[:len(rows)],
           "distance_to_boundary_m": np.linspace(0, 1, len(rows)),
           "error": np.array([r[1] for r in rows] + [None], dtype=object)[:len(rows)]}
    got, want = output_frame(out, COLUMNS), pd.DataFrame(out)
    assert list(got.dtypes) == list(want.dtypes)
    pd.testing.assert_frame_equal(got, want)


def test_a_column_arrow_will_not_take_as_text_is_left_to_pandas():
    out = {"row": np.arange(2, dtype=np.int64), "status": np.array(["inside", 3], dtype=object),
           "distance_to_boundary_m": np.zeros(2), "error": np.array([None, "x"], dtype=object)}
    pd.testing.assert_frame_equal(output_frame(out, COLUMNS), pd.DataFrame(out))


@settings(max_examples=50, deadline=None)
@given(labels=st.lists(st.one_of(st.none(), st.just(""), st.text(max_size=6)), min_size=1, max_size=6),
       picks=st.lists(st.integers(0, 10**6), max_size=30))
def test_property_coded_columns_equal_pandas_inference(labels, picks):
    """A text column given as (labels, index) (geography's small tables) is the column pandas infers from
    the same values as objects: same dtype, same values, same missing values."""
    table = np.array(labels + [None], dtype=object)[:len(labels)]
    index = np.array([p % len(labels) for p in picks], dtype=np.int64)
    n = len(index)
    out = {"row": np.arange(n, dtype=np.int64), "status": np.full(n, None, dtype=object),
           "distance_to_boundary_m": np.zeros(n), "error": np.full(n, None, dtype=object)}
    got = output_frame(out, COLUMNS, {"status": (table, index)})
    want = pd.DataFrame({**out, "status": table[index]})
    assert list(got.dtypes) == list(want.dtypes)
    pd.testing.assert_frame_equal(got, want)
