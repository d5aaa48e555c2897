"""Per-row messages (`batch.messages`): the pointer test says what `np.equal(messages, None)` says, and the shared
arrays without a message cannot be written through."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.batch.columns import first_error
from eligibility.batch.messages import has_message, is_none, messages_where, no_messages

cells = st.one_of(st.none(), st.text(max_size=5), st.just(""), st.just("None"))


@settings(max_examples=200, deadline=None)
@given(st.lists(cells, max_size=60), st.integers(1, 3))
def test_is_none_is_the_comparison_with_none(values, step):
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    for messages in (arr, arr[::step], arr[::-1]):  # contiguous or not
        expected = np.equal(messages, None).astype(bool)
        assert is_none(messages).tolist() == expected.tolist()
        assert has_message(messages).tolist() == (~expected).tolist()


def test_a_null_cell_reads_as_none_as_numpy_reads_it():
    arr = np.empty(4, dtype=object)  # numpy fills an empty object array with None
    arr[1] = "erreur"
    assert is_none(arr).tolist() == [True, False, True, True]
    assert is_none(np.array([], dtype=object)).tolist() == []


def test_other_values_than_texts_are_compared_as_numpy_compares_them():
    arr = np.array([None, 0, float("nan"), "x"], dtype=object)
    assert is_none(arr).tolist() == [True, False, False, False]
    assert is_none(np.array([1.0, np.nan])).tolist() == [False, False]  # not an object array: numpy's own test


def test_the_arrays_without_a_message_are_shared_and_read_only():
    a = no_messages(5)
    assert a is no_messages(5) and a.tolist() == [None] * 5 and is_none(a).all()
    with pytest.raises(ValueError):
        a[0] = "erreur"


def test_messages_where_writes_only_the_rows_of_its_mask():
    mask = np.array([False, True, False])
    assert messages_where(mask, "vide").tolist() == [None, "vide", None]
    assert messages_where(np.zeros(3, bool), "vide") is no_messages(3)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(cells, cells, cells), min_size=1, max_size=30))
def test_first_error_keeps_each_rows_first_message(rows):
    columns = [np.array([r[k] for r in rows] + [None], dtype=object)[:-1] for k in range(3)]
    expected = [next((m for m in r if m is not None), None) for r in rows]
    got = first_error(*columns)
    assert got.tolist() == expected
    if all(m is None for m in expected):
        assert got is no_messages(len(rows))
