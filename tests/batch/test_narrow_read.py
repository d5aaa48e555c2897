"""The locate job reads a clean chunk narrower (issue 13): only the columns it uses, the coordinates as numbers
when Arrow reads every cell as a finite number. Whatever the cells hold (spaces, tabs, decimal commas, blanks,
`nan`, `inf`, signs, exponents, text), the output is the one the text reading gives, byte for byte."""
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
DATE = st.sampled_from(["2024-06-01", "2019-03-15", "", "01/02/2025"])


def _text_reading(monkeypatch):
    """The job as it read every chunk before: every column, as text."""
    monkeypatch.setattr(LocateJob, "_reading", lambda self: ((), None))


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
