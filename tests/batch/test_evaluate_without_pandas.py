"""`qpv batch evaluate` answers a CSV chunk without pandas (issue 13, eval19): the answers go to the CSV writer
as an Arrow table (`jobs.Answers.arrow`), the detail texts are grouped by Arrow's hashing (`evaluate._factorize`),
the engine's columns and messages come from numpy and Arrow. Each piece gives what the pandas path gave, and a
whole command run without pandas writes the bytes of the same job run in a process that has pandas loaded."""
from __future__ import annotations

import json
import subprocess
import sys
import types

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.batch import arrow_only
from eligibility.batch import evaluate as E
from eligibility.batch import run_file
from eligibility.batch.evaluate import EvaluateJob
from eligibility.batch.jobs import Answers, output_frame
from eligibility.batch.sinks import OutputFormat, encode_part
from eligibility.rules import facts as F
from eligibility.rules import get_rule

COLUMNS = [("row", "int"), ("outcome", "str"), ("amount.total", "float"), ("reasons", "str"), ("error", "str")]
TEXTS = st.one_of(st.none(), st.just(""), st.sampled_from(["=1+1", "-2", "@x", 'a"b', "a;b", "a,b", "l1\nl2", "é ü"]),
                  st.text(max_size=6))


@settings(max_examples=80, deadline=None)
@given(n=st.integers(0, 25), data=st.data())
def test_property_answers_encode_as_their_pandas_frame(n, data):
    """CSV from `Answers.arrow()` == CSV from `output_frame` (the pandas frame written before), for both separators;
    Parquet is still written from the frame (same bytes)."""
    labels = np.array([None] + data.draw(st.lists(TEXTS, min_size=0, max_size=5)), dtype=object)
    outcomes = np.array(["eligible", "not_eligible", "undetermined", "error", "out_of_scope"], dtype=object)
    pick = st.lists(st.integers(0, 10**6), min_size=n, max_size=n)
    out = {"row": np.arange(7, 7 + n, dtype=np.int64), "outcome": np.full(n, None, dtype=object),
           "amount.total": np.array(data.draw(st.lists(st.one_of(st.just(np.nan), st.floats(-1e9, 1e9)), min_size=n,
                                                       max_size=n)), dtype=float),
           "reasons": np.full(n, None, dtype=object),
           "error": np.array(data.draw(st.lists(TEXTS, min_size=n, max_size=n)) + [None], dtype=object)[:n]}
    coded = {"outcome": (outcomes, np.array([p % 5 for p in data.draw(pick)], dtype=np.intp)),
             "reasons": (labels, np.array([p % len(labels) for p in data.draw(pick)], dtype=np.intp))}
    answers = Answers(out, COLUMNS, coded)
    for fmt in (OutputFormat("csv", ";"), OutputFormat("csv", ","), OutputFormat("parquet")):
        assert encode_part(answers, COLUMNS, fmt) == encode_part(output_frame(out, COLUMNS, coded), COLUMNS, fmt)


def test_a_value_that_is_not_text_goes_through_the_frame():
    out = {"row": np.arange(2, dtype=np.int64), "outcome": np.full(2, None, dtype=object),
           "amount.total": np.zeros(2), "reasons": np.full(2, None, dtype=object),
           "error": np.array([None, 3], dtype=object)}
    answers = Answers(out, COLUMNS, {})
    assert answers.arrow() is None
    fmt = OutputFormat("csv", ";")
    with pytest.raises(pa.ArrowTypeError) as frame_way:  # as it always was: the column is not text
        encode_part(output_frame(out, COLUMNS, {}), COLUMNS, fmt)
    with pytest.raises(pa.ArrowTypeError) as answers_way:
        encode_part(answers, COLUMNS, fmt)
    assert str(answers_way.value) == str(frame_way.value)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-3, 3) | st.integers(-2**62, 2**62), max_size=40), st.lists(st.sampled_from(
    [None, "inside", "outside", "near_boundary"]), max_size=40))
def test_property_factorize_is_pandas_factorize(ints, objects):
    for values in (np.array(ints, dtype=np.int64), np.array(ints, dtype=np.intp), np.array(objects, dtype=object)):
        codes, distinct = E._factorize(values)
        want, uniques = pd.factorize(values, use_na_sentinel=False)
        np.testing.assert_array_equal(codes, want)
        assert distinct == len(uniques)


def _pandas_factorize(values):  # what `_group` used before (pd.factorize, None a value too), the reference
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return codes, len(uniques)


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 50), n_flags=st.integers(0, 70), data=st.data())
def test_property_groups_are_the_pandas_groups(n, n_flags, data):
    """More than 62 flags (two packed integers), label numbers and object statuses: same first rows, same group
    numbers as with pandas."""
    columns = [np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool) for _ in range(n_flags)]
    columns.append(np.array(data.draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), dtype=np.intp))
    if data.draw(st.booleans()):
        columns.append(np.array(data.draw(st.lists(st.sampled_from([None, "inside", "outside"]), min_size=n,
                                                   max_size=n)), dtype=object))
    rows = np.array(sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=1))), dtype=np.int64)
    full = [np.resize(c, n) for c in columns]
    got, want = E._group(full, rows), E._group(full, rows, factorize=_pandas_factorize)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_bad_values_quote_numpy_and_arrow_cells_as_pandas_cells():
    rule = get_rule("emplois-francs")
    values = np.array([1.5, np.inf, -3.0, np.nan])
    mask = np.array([False, True, True, False])
    a, b = F.BadValues(rule), F.BadValues(rule)
    a.add(mask, "contract.duration_months", "nombre attendu", values)
    b.add(mask, "contract.duration_months", "nombre attendu", pd.Series(values))
    assert a.rows == b.rows and len(a.rows) == 2
    texts = pa.array(np.array(["CDI", "CDX", None, " cdd "], dtype=object), type=pa.string())
    c, d = F.BadValues(rule), F.BadValues(rule)
    c.add(np.array([False, True, False, True]), "contract.type", "valeur non autorisée", texts)
    d.add(np.array([False, True, False, True]), "contract.type", "valeur non autorisée", texts.to_pandas())
    assert c.rows == d.rows and "« CDX »" in c.rows[1][0] and "«  cdd  »" in c.rows[3][0]


def test_texts_without_pandas_are_pyarrows_objects(monkeypatch):
    arr = pa.array(np.array(["b", None, "", "é"], dtype=object), type=pa.string()).slice(0, 4)
    want = arrow_only.to_texts(arr)
    monkeypatch.setattr(F, "sys", types.SimpleNamespace(modules={}))
    monkeypatch.setattr(arrow_only, "sys", types.SimpleNamespace(modules={}))
    got = arrow_only.to_texts(arr)
    assert got.dtype == object and list(got) == list(want) == ["b", None, "", "é"]
    assert F._is_series(pd.Series([1])) is False  # no pandas loaded: nothing is a Series
    monkeypatch.undo()
    assert F._is_series(pd.Series([1])) and not F._is_series(arr)


HEADER = ("contract.type;contract.signature_date;contract.duration_months;contract.working_time_ratio;"
          "employee.residence.lon;employee.residence.lat;employee.birth_date;employee.status;employee.jobseeker_category;"
          "employee.employed_by_employer_last_6_months;employer.kind;employer.up_to_date_with_obligations;"
          "employer.economic_dismissal_last_6_months;application_date")
ROWS = [
    "CDD;2024-03-18;12,0;;-63,080817;18,067634;1993-08-11;jobseeker;4,0;False;company;True;False;2024-04-10",
    "CDI;2025-02-24;;;2,031199;48,971204;1998-07-31;csp;8,0;False;company;True;False;2025-04-03",
    "CDI;2024-06-01;;0,5;5,36;43,3;1990-01-01;jobseeker;1;non;company;oui;non;2024-06-10",
    "CDI;2024-06-01;;;2,35;48,85;1990-01-01;jobseeker;1;peut-être;company;True;False;2024-06-10",  # bad yes/no
    "CDX;31/02/2024;deux;inf;200;48,85;hier;jobseeker;1,5;False;company;True;False;2024-06-10",   # bad everything
    "CDI;2024-06-01;;;;;;;;;;;;",                                                                # blanks
    "CDI;2024-06-01",                                                                            # broken line
    "=CDI;01/06/2024;6;1;1,0836;44,1034;1995-05-05;jobseeker;1;False;company;True;False;2024-06-20",
    "CDD;2024-01-15;6;1;55,45;-20,88;1995-05-05;jobseeker;1;False;company;True;False;2024-02-01",  # overseas
]


def test_a_command_without_pandas_writes_the_bytes_of_a_process_with_pandas(tmp_path):
    """The command line (a child process: pandas never loaded, checked) and the runner in this process (pandas
    loaded: `to_texts` and `per_distinct` take their pandas branches) write the same output on a file with bad
    values, blanks, a broken line and a formula cell, with chunks small enough to be answered by workers."""
    src = tmp_path / "in.csv"
    src.write_text(HEADER + "\n" + "\n".join(ROWS * 2500) + "\n", encoding="utf-8")
    code = ("import json, sys\nfrom qpv_cli.main import qpv\ntry:\n    qpv.main(sys.argv[1:], standalone_mode=False)\n"
            "finally:\n    print(json.dumps('pandas' in sys.modules))\n")
    for workers in ("1", "2"):
        out = tmp_path / f"cli{workers}.csv"
        done = subprocess.run([sys.executable, "-c", code, "batch", "evaluate", "emplois-francs", str(src), "-o", str(out),
                               "--no-progress", "--json", "--chunk-size", "5000", "--workers", workers],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        summary, pandas_loaded = done.stdout.strip().splitlines()
        assert json.loads(pandas_loaded) is False
        assert json.loads(summary)["errors"] > 2500
    ref = tmp_path / "ref.csv"
    run_file(lambda renamed: EvaluateJob("emplois-francs", renamed), src, ref, chunk_size=5000, workers=1,
             show_progress=False)
    assert (tmp_path / "cli1.csv").read_bytes() == (tmp_path / "cli2.csv").read_bytes() == ref.read_bytes()
