"""`batch evaluate` reads a CSV chunk's Arrow text columns straight into the engine's columns
(`evaluate._read_text_columns` → `rules.facts.typed_columns`): the same columns, bad values, per-row errors and
notes as the pandas path (`_normalise` then `rules.facts.frame_columns`), which Parquet chunks still take."""
import numpy as np
import pyarrow as pa
from hypothesis import given, settings, strategies as st

from eligibility.batch.evaluate import _accepted_columns, _normalise, _read_text_columns
from eligibility.rules import get_rule
from eligibility.rules import values as V
from eligibility.rules.facts import frame_columns

RULE = "emplois-francs"
CELLS = {  # good and bad cells of each type, as spreadsheets write them
    "number": ["12", "12,5", "0.5", " 1 234,5 ", "1.234,5", "deux", "nan", "inf", "-3", "1e3", "6", "6,0", "2,5", ""],
    "integer": ["1", "4,0", "8", "2,5", "-1", "un", " 3 ", ""],
    "date": ["2024-03-01", "01/03/2024", " 2024-03-01 ", "2024-02-30", "31/12/2023", "2024-3-1", "hier", "1990-05-01", ""],
    "bool": ["oui", "non", "True", "false", " OUI ", "1", "0", "peut-être", "False", ""],
    "lon": ["2,35", "5,23227", "-63,08", "2.35", "200", "abc", "55,72", " 2,1 ", ""],
    "lat": ["48,85", "46,21069", "18,06", "48.8", "-95", "x", "-21,04", ""],
}


def _cells_for(name: str, kind: str, rule) -> list[str]:
    if name.endswith(".lon"):
        return CELLS["lon"]
    if name.endswith(".lat"):
        return CELLS["lat"]
    if kind == "enum":
        values = list(rule.model.facts[name].values)
        return values + [v.lower() for v in values[:2]] + [f" {values[0]} ", "inconnu", ""]
    if kind == "string":  # a place's quartier code or address
        return ["QN07501M", " qn07501m ", "1 rue de la Paix, Paris", ""]
    return CELLS[kind]


def _same_col(a, b) -> None:
    assert type(a) is type(b) and a.kind == b.kind
    np.testing.assert_array_equal(a.known, b.known)
    assert a.value.dtype == b.value.dtype
    if a.value.dtype == object:
        assert list(a.value) == list(b.value)
    else:
        np.testing.assert_array_equal(a.value, b.value)
    if isinstance(a, V.Coded):
        np.testing.assert_array_equal(a.codes, b.codes)
        assert list(a.labels) == list(b.labels)


@st.composite
def text_tables(draw):
    rule = get_rule(RULE)
    accepted = _accepted_columns(rule)
    names = draw(st.lists(st.sampled_from(sorted(accepted)), min_size=1, max_size=8, unique=True))
    if draw(st.booleans()):  # the benchmark's shape: every column a CSV of this rule has
        names = sorted({n for n in accepted if not n.endswith((".quartier_code", ".address"))} | set(names))
    n = draw(st.integers(1, 60))
    data = {}
    for name in names:
        cells = _cells_for(name, accepted[name], rule)
        data[name] = draw(st.lists(st.sampled_from(cells), min_size=n, max_size=n))
    extra = {"id": [str(i) for i in range(n)]}  # a column the rule does not read
    return pa.table({**extra, **{name: pa.array(v, type=pa.string()) for name, v in data.items()}})


@settings(max_examples=120, deadline=None)
@given(table=text_tables())
def test_arrow_columns_equal_the_pandas_path(table):
    rule = get_rule(RULE)
    accepted = _accepted_columns(rule)
    renamed = {c: c for c in table.column_names}
    df = table.to_pandas()
    facts, errors, notes = _normalise(df[[c for c in df.columns if c in accepted]], accepted)
    cols, places, bad = frame_columns(rule, facts)

    (new_cols, new_places, new_bad), new_errors, new_notes = _read_text_columns(rule, table, renamed, accepted)

    assert list(new_errors) == list(errors)
    assert new_notes == notes
    assert new_bad.rows == bad.rows  # every message, in the same order per row
    assert list(new_cols) == list(cols)
    for path in cols:
        _same_col(new_cols[path], cols[path])
    assert list(new_places) == list(places)
    for path, p in places.items():
        q = new_places[path]
        for part in ("form", "quartier_code", "address"):
            assert list(getattr(q, part)) == list(getattr(p, part)), part
        for part in ("lon", "lat"):
            np.testing.assert_array_equal(getattr(q, part), getattr(p, part))


def test_renamed_columns_and_a_long_column_of_distinct_numbers():
    """Columns renamed by `--map` are read under their fact names; a column longer than two samples whose first
    cells are all distinct (coordinates) takes the direct conversion, and still reads as the pandas path."""
    rule = get_rule(RULE)
    accepted = _accepted_columns(rule)
    n = 20_000
    rng = np.random.default_rng(16)
    lon = [f"{x:.5f}".replace(".", ",") for x in rng.uniform(-5, 9, n)]
    lon[17] = "abc"
    lat = [f"{x:.5f}" for x in rng.uniform(42, 51, n)]
    lat[5] = ""
    table = pa.table({"x": lon, "y": lat, "d": rng.choice(["2024-03-01", "01/03/2024", "2024-02-30"], n).tolist()})
    renamed = {"x": "employee.residence.lon", "y": "employee.residence.lat", "d": "contract.signature_date"}
    df = table.to_pandas().rename(columns=renamed)
    facts, errors, notes = _normalise(df, accepted)
    cols, places, bad = frame_columns(rule, facts)
    (new_cols, new_places, new_bad), new_errors, new_notes = _read_text_columns(rule, table, renamed, accepted)
    assert list(new_errors) == list(errors) and new_notes == notes and new_bad.rows == bad.rows
    assert errors[17] is not None and bad.rows  # the bad coordinate and the half place are reported
    _same_col(new_cols["contract.signature_date"], cols["contract.signature_date"])
    np.testing.assert_array_equal(new_places["employee.residence"].lon, places["employee.residence"].lon)
    assert list(new_places["employee.residence"].form) == list(places["employee.residence"].form)


def test_a_column_that_is_not_text_takes_the_pandas_path():
    rule = get_rule(RULE)
    table = pa.table({"contract.duration_months": pa.array([12.0, None]), "contract.type": ["CDD", "CDI"]})
    assert _read_text_columns(rule, table, {c: c for c in table.column_names}, _accepted_columns(rule)) is None
