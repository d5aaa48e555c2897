"""The kernels the batch calls without `pyarrow.compute` (eligibility/batch/arrow_compute.py) give what
`pyarrow.compute`'s own functions give, on random text, number and boolean columns with nulls."""
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from eligibility.batch import arrow_compute as ac

CELLS = st.lists(st.one_of(st.none(), st.text(alphabet="0123456789 .,-+eE\"'=\u00a0nanif\n", max_size=8)), max_size=40)
NUMBERS = st.lists(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=64)), max_size=40)


def _same(a, b):
    assert a.type == b.type, (a.type, b.type)
    if pa.types.is_floating(a.type):  # NaN is not equal to itself: compare nulls, then values with NaN equal
        assert a.is_null().equals(b.is_null())
        assert np.array_equal(a.to_numpy(zero_copy_only=False), b.to_numpy(zero_copy_only=False), equal_nan=True)
    else:
        assert a.equals(b), (a, b)


@settings(max_examples=60, deadline=None)
@given(CELLS)
def test_text_kernels(cells):
    text = pa.array(cells, type=pa.string())
    empty, false = pa.scalar("", pa.string()), pa.scalar(False, pa.bool_())
    _same(ac.match_substring(text, ","), pc.match_substring(text, ","))
    _same(ac.match_substring_regex(text, r"^[+-]?\d+\.?\d*$"), pc.match_substring_regex(text, r"^[+-]?\d+\.?\d*$"))
    _same(ac.replace_substring(text, ",", "."), pc.replace_substring(text, ",", "."))
    _same(ac.replace_substring_regex(text, r"[\s\x{00a0}]", ""), pc.replace_substring_regex(text, r"[\s\x{00a0}]", ""))
    _same(ac.utf8_trim_whitespace(text), pc.utf8_trim_whitespace(text))
    _same(ac.utf8_lower(text), pc.utf8_lower(text))
    _same(ac.fill_null(text, empty), pc.fill_null(text, empty))
    _same(ac.equal(text, empty), pc.equal(text, empty))
    _same(ac.is_null(text), text.is_null())
    _same(ac.cast(text, pa.large_string()), text.cast(pa.large_string()))
    quote = pa.scalar('"', pa.string())
    _same(ac.binary_join_element_wise(quote, text, quote, empty), pc.binary_join_element_wise(quote, text, quote, empty))
    other = pa.array(cells[::-1], type=pa.string())
    joined = ac.join_cells(text, other, text, pa.scalar(";", pa.string()))
    _same(joined, pc.binary_join_element_wise(text, other, text, ";", null_handling="replace", null_replacement=""))
    _same(joined, pc.binary_join_element_wise(pc.fill_null(text, ""), pc.fill_null(other, ""), pc.fill_null(text, ""), ";"))
    comma = ac.fill_null(ac.match_substring(text, ","), false)
    dot = pc.fill_null(pc.match_substring(text, "."), false)
    _same(ac.and_(comma, ac.invert(dot)), pc.and_(comma, pc.invert(dot)))
    assert ac.any(comma).equals(pc.any(comma))
    _same(ac.if_else(comma, text, empty), pc.if_else(comma, text, empty))
    _same(ac.filter(text, comma), text.filter(comma))
    _same(ac.replace_with_mask(text, comma, ac.filter(text, comma)), pc.replace_with_mask(text, comma, text.filter(comma)))
    index = np.arange(len(cells))[::-1]
    _same(ac.take(text, index), text.take(index))
    _same(ac.take(text, pa.array(index, mask=index % 3 == 0)), text.take(pa.array(index, mask=index % 3 == 0)))


@settings(max_examples=60, deadline=None)
@given(CELLS, NUMBERS)
@example(cells=[], numbers=[1.797693134862316e+306])  # overflowed in pc.round and ac.round alike
def test_casts_and_rounding(cells, numbers):
    text = pa.array(cells, type=pa.string())
    try:
        expected = pc.cast(text, pa.float64())
    except pa.ArrowInvalid:  # the same refusal
        try:
            ac.cast(text, pa.float64())
        except pa.ArrowInvalid:
            pass
        else:
            raise AssertionError("the cast was refused by pyarrow.compute only")
    else:
        _same(ac.cast(text, pa.float64()), expected)
    floats = pa.array(numbers, type=pa.float64())
    try:  # rounding near the largest doubles overflows: both refuse alike (the batch rounds bounded values only)
        expected = pc.round(floats, 2)
    except pa.ArrowInvalid as refusal:
        with pytest.raises(pa.ArrowInvalid, match=re.escape(str(refusal))):
            ac.round(floats, 2)
    else:
        _same(ac.round(floats, 2), expected)
        _same(ac.cast(ac.round(floats, 2), pa.string()), pc.cast(expected, pa.string()))
    _same(ac.is_nan(floats), pc.is_nan(floats))
    _same(ac.fill_null(floats, pa.scalar(np.nan)), pc.fill_null(floats, pa.scalar(np.nan)))


def test_fill_null_casts_the_scalar_to_the_values_type():
    text = pa.array(["a", None], type=pa.large_string())
    _same(ac.fill_null(text, pa.scalar("", pa.string())), pc.fill_null(text, pa.scalar("", pa.string())))
    floats = pa.array([1.5, None], type=pa.float32())
    _same(ac.fill_null(floats, pa.scalar(np.nan)), pc.fill_null(floats, pa.scalar(np.nan)))


@settings(max_examples=60, deadline=None)
@given(CELLS)
def test_dictionary_encode_with_nulls(cells):
    text = pa.array(cells, type=pa.string())
    _same(ac.dictionary_encode_nulls(text), pc.dictionary_encode(text, null_encoding="encode"))
