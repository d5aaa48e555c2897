"""Converting a text column once per distinct value (`per_distinct`) gives every row what converting the
column cell by cell gives: values, missing flags, error messages and notes."""
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import yaml
from hypothesis import given, settings, strategies as st

from eligibility.batch.columns import _commas_to_points, to_float
from eligibility.batch.evaluate import _date
from eligibility.rules.facts import SAMPLE, _bool_words, factorize, per_distinct
from eligibility.paths import rules_dir

CELLS = {  # what spreadsheets put in number, date and yes/no columns, good and bad
    "number": ["12", "12,5", "0.5", " 1 234,5 ", "1.234,5", "deux", "nan", "-3", "1e3", ""],
    "date": ["2024-03-01", "01/03/2024", " 2024-03-01 ", "2024-02-30", "31/12/2023", "2024-3-1", "hier", ""],
    "bool": ["oui", "non", "True", "false", " OUI ", "1", "0", "peut-être", ""],
}
CONVERT = {"number": to_float, "date": _date, "bool": _bool_words}


def _same(a, b) -> None:
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and len(a) == len(b)
        if a.dtype == object:
            assert list(a) == list(b)
        else:
            np.testing.assert_array_equal(a, b)
    else:
        assert a == b


@pytest.mark.parametrize("kind", sorted(CELLS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_per_distinct_equals_cell_by_cell(kind, data):
    # at least 24 cells of at most 11 distinct texts: the grouped path is the one taken
    cells = data.draw(st.lists(st.sampled_from(CELLS[kind] + [None]), min_size=24, max_size=80))
    s = pd.Series(cells, dtype="str")
    args = () if kind == "bool" else ("colonne",)
    direct, grouped = CONVERT[kind](s, *args), per_distinct(CONVERT[kind], s, *args)
    assert len(direct) == len(grouped)
    for a, b in zip(direct, grouped):
        _same(a, b)


def test_libyaml_reads_every_rule_file_as_the_pure_python_parser():
    for path in sorted(rules_dir().glob("*.yaml")):
        data = path.read_bytes()
        assert yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) == yaml.safe_load(data), path.name


@pytest.mark.parametrize("first_distinct", [True, False])
def test_long_columns_give_the_same_answers_whichever_path_the_first_cells_choose(first_distinct):
    """A column longer than two samples: a first sample of almost all distinct texts (coordinates) sends it to the
    direct conversion, a repetitive one to the per-distinct path; either way each cell reads as it would alone."""
    n = 2 * SAMPLE + 500
    rng = np.random.default_rng(13)
    distinct = [f"{x:.6f}".replace(".", ",") for x in rng.uniform(-5, 10, n)]
    repeated = [["12", "0,5", "", "deux", " 1 234,5 "][i % 5] for i in range(n)]
    # distinct first: the direct path; distinct only in the last 500 cells: the per-distinct path with distinct values
    cells = distinct[:SAMPLE] + repeated[SAMPLE:] if first_distinct else repeated[:-500] + distinct[-500:]
    s = pd.Series(cells, dtype="str")
    direct, grouped = to_float(s, "colonne"), per_distinct(to_float, s, "colonne")
    for a, b in zip(direct, grouped):
        _same(a, b)


TEXTS = st.lists(st.one_of(st.none(), st.sampled_from(["", " ", "a", "CDI", "é,è", "1,5", "2.0", ",,"]), st.text(max_size=6)),
                 max_size=40)


@settings(max_examples=60, deadline=None)
@given(cells=TEXTS, dtype=st.sampled_from(["str", "string[pyarrow]", "string[python]", object]))
def test_factorize_is_pandas_factorize(cells, dtype):
    """Arrow's dictionary encoding (Arrow-backed text) gives pandas' codes and distinct values, in the same order."""
    s = pd.Series(cells, dtype=dtype)
    codes, uniques = factorize(s)
    want_codes, want_uniques = pd.factorize(s, use_na_sentinel=True)
    np.testing.assert_array_equal(codes, want_codes)
    assert list(uniques) == list(want_uniques)


@settings(max_examples=60, deadline=None)
@given(cells=TEXTS, start=st.integers(0, 5), large=st.booleans())
def test_commas_to_points_is_arrow_replace(cells, start, large):
    """The byte translation of decimal commas gives what Arrow's replace_substring gives, on slices too."""
    arr = pa.array(cells, type=pa.large_string() if large else pa.string()).slice(min(start, len(cells)))
    assert _commas_to_points(arr).to_pylist() == pc.replace_substring(arr, ",", ".").to_pylist()


@pytest.mark.parametrize("kind", ["number", "date"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_per_distinct_of_an_arrow_column_equals_cell_by_cell(kind, data):
    """An Arrow text array (a CSV chunk read without pandas) is grouped by Arrow's hashing, nulls included."""
    from eligibility.batch.columns import to_date

    cells = data.draw(st.lists(st.sampled_from(CELLS[kind] + [None]), min_size=24, max_size=80))
    arr = pa.array(cells, type=pa.string())
    convert = to_float if kind == "number" else to_date
    direct, grouped = convert(arr, "colonne"), per_distinct(convert, arr, "colonne")
    assert len(direct) == len(grouped)
    for a, b in zip(direct, grouped):
        _same(a, b)
