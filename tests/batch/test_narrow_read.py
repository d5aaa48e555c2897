"""The locate job reads a clean chunk narrower (issue 13): only the columns it uses, the coordinates as numbers
when Arrow reads every cell as a finite number, the dates as dates when it reads every cell as an AAAA-MM-JJ date.
Whatever the cells hold (spaces, tabs, decimal commas, blanks, `nan`, `inf`, signs, exponents, text, dates that do
not exist or are written otherwise), the output is the one the text reading gives, byte for byte."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.batch import run_file, sources
from eligibility.batch.locate import LocateJob

NUMBER = st.one_of(
    st.floats(-5.5, 9.5, allow_nan=False).map(lambda v: f"{v:.6f}"),  # plain, in metropolitan France's box
    st.sampled_from(["2.35", " 2.35", "2.35\t", "\t 48.8 ", "2,35", "1 234,5", "", " ", "nan", "NaN", "inf",
                     "-inf", "+2.5", "1e0", "2.", ".5", "-0", "abc", "0x1p1", "4.8e1", "48,8"]))
LAT = st.one_of(st.floats(42.5, 50.5, allow_nan=False).map(lambda v: f"{v:.6f}"), NUMBER)
DATE = st.one_of(
    st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)).map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}"),
    st.sampled_from(["2024-06-01", "2019-03-15", "", " ", "01/02/2025", " 2024-06-01", "2024-06-01\t", "2024-02-30",
                     "2023-02-29", "2024-02-29", "0000-01-01", "2024-6-1", "2024-13-01", "2024-00-10", "20240601",
                     "2024-06-01T00:00", "2024/06/01", "+2024-06-01", "nan"]))


def _text_reading(monkeypatch):
    """The job as it read every chunk before: every column, as text."""
    monkeypatch.setattr(LocateJob, "_reading", lambda self: ((), None, ()))


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(NUMBER, LAT, DATE), min_size=1, max_size=25), size=st.integers(1, 9),
       fields=st.sampled_from([("status", "quartier_code"), None]),
       keep=st.sampled_from([(), ("id",), ("lon",), ("lat", "date"), ("date", "note")]), sep=st.sampled_from([",", ";"]))
def test_narrow_reading_writes_the_bytes_of_the_text_reading(tmp_path_factory, rows, size, fields, keep, sep):
    """With `,` a decimal comma splits its cell (a broken row, the same either way); with `;` it is a number.
    A kept column is the file's text as written, the coordinates and dates included."""
    tmp = tmp_path_factory.mktemp("narrow")
    src = tmp / "in.csv"
    src.write_text(sep.join(["id", "lon", "lat", "date", "note"]) + "\n"
                   + "".join(sep.join([f"r{i}", a, b, c, f"n{i}"]) + "\n" for i, (a, b, c) in enumerate(rows)),
                   encoding="utf-8")

    def job(renamed):
        return LocateJob(renamed, date=dt.date(2024, 1, 1), fields=fields, keep=keep)

    run_file(job, src, tmp / "narrow.csv", chunk_size=size, show_progress=False, workers=1)
    with pytest.MonkeyPatch.context() as m:
        _text_reading(m)
        run_file(job, src, tmp / "text.csv", chunk_size=size, show_progress=False, workers=1)
    assert (tmp / "narrow.csv").read_bytes() == (tmp / "text.csv").read_bytes()


def test_a_clean_chunk_is_read_narrow_and_a_column_of_text_falls_back():
    """Numbers Arrow reads come as float64 and the unused columns are not built; one cell that is no finite number
    makes the column text again (the columns' own reading then names it)."""
    import pyarrow as pa

    def chunk(text: str):
        return sources.Chunk(0, 0, text.count("\n"), None, ("id", "lon", "lat", "date"), text=text.encode())

    clean = chunk("a,2.35,48.8,2024-01-01\nb, 2.4 ,48.9,2024-01-01\n").arrow(("lon", "lat"), ("lon", "lat", "date"))
    assert clean.column_names == ["lon", "lat", "date"] and clean.schema.field("lon").type == pa.float64()
    assert clean.column("lon").to_pylist() == [2.35, 2.4]
    for cell in ("inf", "nan", "", "abc"):
        table = chunk(f"a,{cell},48.8,2024-01-01\n").arrow(("lon", "lat"), ("lon", "lat", "date"))
        assert table.schema.field("lon").type == pa.string() and table.column("lon").to_pylist() == [cell]


def test_dates_are_read_as_dates_when_every_one_is_written_aaaa_mm_jj():
    """A date column Arrow reads whole comes as date32, the days the text reading gives (a blank: missing, as
    there); one cell it cannot read (a date that does not exist, spaces, JJ/MM/AAAA) makes the column text again and
    leaves the numbers read; a chunk whose first date is not written AAAA-MM-JJ is not tried as dates at all."""
    import numpy as np
    import pyarrow as pa

    from eligibility.batch.columns import to_date

    def chunk(text: str):
        return sources.Chunk(0, 0, text.count("\n"), None, ("id", "lon", "lat", "date"), text=text.encode())

    def read(text: str):
        return chunk(text).arrow(("lon", "lat"), ("lon", "lat", "date"), ("date",))

    text = "a,2.35,48.8,2024-02-29\nb,2.4,48.9, 1999-12-31\nc,2.4,48.9,0001-01-01\nd,2.4,48.9,\n"
    table = read(text)
    assert table.schema.field("date").type == pa.date32() and table.schema.field("lon").type == pa.float64()
    typed = to_date(table.column("date"), "date")
    as_text = to_date(chunk(text).arrow().column("date"), "date")
    assert np.array_equal(typed[0], as_text[0], equal_nan=True) and list(typed[1]) == list(as_text[1]) == [False] * 3 + [True]
    assert list(typed[2]) == list(as_text[2]) == [None] * 4
    for cell in ("2023-02-29", " ", "2024-6-1", "01/02/2024"):
        table = read(f"a,2.35,48.8,2024-01-01\nb,2.4,48.9,{cell}\n")
        assert table.schema.field("date").type == pa.string() and table.column("date").to_pylist() == ["2024-01-01", cell]
        assert table.schema.field("lon").type == pa.float64()
    tried = []
    original = sources.Chunk._arrow

    def spy(self, *args, **kwargs):
        tried.append(kwargs.get("dates", ()))
        return original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(sources.Chunk, "_arrow", spy)
        table = read("a,2.35,48.8,01/02/2024\nb,2.4,48.9,2024-01-01\n")
    assert tried == [()] and table.schema.field("date").type == pa.string()


EVALUATE_HEADER = ("contract.type;contract.signature_date;contract.duration_months;contract.working_time_ratio;"
                   "employee.residence.lon;employee.residence.lat;employee.birth_date;employee.status;"
                   "employee.jobseeker_category;employee.employed_by_employer_last_6_months;employer.kind;"
                   "employer.up_to_date_with_obligations;employer.economic_dismissal_last_6_months;application_date")
EVALUATE_DATE = st.one_of(
    st.dates(dt.date(1930, 1, 1), dt.date(2030, 12, 31)).map(lambda d: d.isoformat()),
    st.sampled_from(["", " 2024-06-01", "2024-02-30", "01/06/2024", "2024-6-1", "hier"]))


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(EVALUATE_DATE, EVALUATE_DATE, EVALUATE_DATE), min_size=1, max_size=20),
       size=st.integers(1, 7), keep=st.sampled_from([(), ("employee.birth_date",)]))
def test_evaluate_reads_dates_as_dates_and_writes_the_bytes_of_the_text_reading(tmp_path_factory, rows, size, keep):
    """`batch evaluate` asks for its date facts as dates: the same output, notes and errors as every column read
    as text, whatever the dates hold; a kept date column is written as the file has it."""
    from eligibility.batch.evaluate import EvaluateJob

    tmp = tmp_path_factory.mktemp("dates")
    src = tmp / "in.csv"
    src.write_text(EVALUATE_HEADER + "\n" + "".join(
        f"CDI;{a};;1;2,35;48,85;{b};jobseeker;1;False;company;True;False;{c}\n" for a, b, c in rows), encoding="utf-8")

    def job(renamed):
        return EvaluateJob("emplois-francs", renamed, keep=keep)

    typed = run_file(job, src, tmp / "typed.csv", chunk_size=size, show_progress=False, workers=1)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(EvaluateJob, "_typed_dates", lambda self, accepted: ())
        text = run_file(job, src, tmp / "text.csv", chunk_size=size, show_progress=False, workers=1)
    assert (tmp / "typed.csv").read_bytes() == (tmp / "text.csv").read_bytes()
    assert [typed[k] for k in ("rows", "counts", "errors", "detected")] == [text[k] for k in ("rows", "counts", "errors", "detected")]


def test_evaluate_asks_for_its_date_facts_as_dates_unless_kept_or_traced():
    from eligibility.batch.evaluate import EvaluateJob, _accepted_columns, _rule

    renamed = {c: c for c in EVALUATE_HEADER.split(";")}
    accepted = _accepted_columns(_rule("emplois-francs"))
    dates = ("contract.signature_date", "employee.birth_date", "application_date")
    assert EvaluateJob("emplois-francs", renamed)._typed_dates(accepted) == dates
    assert EvaluateJob("emplois-francs", renamed, keep=("application_date",))._typed_dates(accepted) == dates[:2]
    assert EvaluateJob("emplois-francs", renamed, traces=True)._typed_dates(accepted) == ()
