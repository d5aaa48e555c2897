"""The engine's shared input parsing and JSON encoder, and the layering rule: the engine never imports the CLI."""
import ast
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import eligibility
from eligibility.errors import BadInput
from eligibility.inputs import parse_date, parse_float
from eligibility.jsonio import to_json


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_no_engine_module_imports_the_cli():
    root = Path(eligibility.__file__).parent
    offenders = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                       if any(m == "qpv_cli" or m.startswith("qpv_cli.") for m in _imported_modules(p)))
    assert offenders == []


def test_cli_reexports_the_engine_helpers():
    from qpv_cli import common

    assert common.to_json is to_json
    assert common.parse_date is parse_date and common.parse_float is parse_float


def test_to_json_encodes_dates_numpy_scalars_and_models():
    from pydantic import BaseModel

    class Place(BaseModel):
        lon: float
        day: dt.date

    assert to_json({"d": dt.date(2025, 3, 31), "n": np.int64(3), "x": np.float32(0.5), "b": np.bool_(True),
                    "m": Place(lon=1.5, day=dt.date(2024, 1, 2))}) == \
        '{"d": "2025-03-31", "n": 3, "x": 0.5, "b": true, "m": {"lon": 1.5, "day": "2024-01-02"}}'
    with pytest.raises(ValueError):
        to_json({"x": float("nan")})  # NaN is not JSON: refused rather than written as NaN
    with pytest.raises(TypeError):
        to_json({"x": object()})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
    | st.dates(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20)


@given(json_values)
def test_to_json_is_deterministic_and_round_trips(value):
    text = to_json(value)
    assert to_json(value) == text
    assert to_json(json.loads(text)) == text  # dates become ISO strings, which encode to the same bytes


def test_parse_date_and_float_errors_are_french_and_name_the_field():
    assert parse_date(" 2025-03-31 ") == dt.date(2025, 3, 31)
    assert parse_date(None, default=dt.date(2020, 1, 1)) == dt.date(2020, 1, 1)
    with pytest.raises(BadInput, match="AAAA-MM-JJ") as exc:
        parse_date("31/03/2025", field="date")
    assert exc.value.field == "date"
    with pytest.raises(BadInput, match="date manquante"):
        parse_date(None)
    assert parse_float("1.5", "lon") == 1.5
    for bad in ("abc", "nan", "inf", None):
        with pytest.raises(BadInput, match="nombre") as exc:
            parse_float(bad, "lon")
        assert exc.value.field == "lon"
