"""A batch never stops on a row (issue 15, finding 4): NaN, inf and out-of-range values in any column, at any
chunk size, become error rows that name the file's own line; every other row is answered."""
import csv
import datetime as dt
import io

import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st

from eligibility.batch import run_file
from eligibility.batch.evaluate import EvaluateJob
from eligibility.batch.locate import LocateJob
from eligibility.errors import BadInput

# Good places, all in France (the Atlantic point of conftest.POINTS is an error row by design)
GOOD = [(5.23227, 46.21069), (4.661736, 43.807085), (2.0, 46.0), (1.44, 43.6)]
GOOD_XY = [(652000.0, 6862000.0), (900000.0, 6500000.0)]
BAD = {"lon": ["nan", "NaN", "inf", "-inf", "Infinity", "400", "-181", "abc", ""],
       "lat": ["nan", "-inf", "91", "1e400", "x"]}
BAD_XY = ["nan", "inf", "-1e12", "abc"]

row = st.tuples(
    st.sampled_from(["good", "bad_x", "bad_y", "multiline", "ragged"]),
    st.integers(0, 100),
)


def _file(kinds, metric: bool):
    """(CSV text, per record: (first physical line, bad?))."""
    xc, yc = ("x", "y") if metric else ("lon", "lat")
    lines, expect, line = [f"id;{xc};{yc}"], [], 2
    for k, (kind, n) in enumerate(kinds):
        x, y = (GOOD_XY if metric else GOOD)[n % 2 if metric else n % len(GOOD)]
        x, y = str(x).replace(".", ","), str(y)
        ident = str(k)
        if kind == "bad_x":
            x = (BAD_XY if metric else BAD["lon"])[n % (len(BAD_XY) if metric else len(BAD["lon"]))]
        elif kind == "bad_y":
            y = (BAD_XY if metric else BAD["lat"])[n % (len(BAD_XY) if metric else len(BAD["lat"]))]
        elif kind == "multiline":  # a quoted identifier over several physical lines: rows stop being lines
            ident = '"' + "\n".join(["ligne"] * (1 + n % 3)) + '"'
        record = f"{ident};{x};{y}" if kind != "ragged" else f"{ident};{x}"
        lines.append(record)
        expect.append((line, kind not in ("good", "multiline")))
        line += record.count("\n") + 1
    return "\n".join(lines) + "\n", expect


def _read(path, sep=";"):
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")), delimiter=sep))


@settings(max_examples=40, deadline=None)
@given(st.lists(row, min_size=1, max_size=25), st.integers(1, 9), st.booleans(), st.booleans())
def test_every_record_gets_one_row_naming_its_own_line(tmp_path_factory, kinds, chunk_size, metric, traces):
    d = tmp_path_factory.mktemp("never-stops")
    text, expect = _file(kinds, metric)
    (d / "in.csv").write_text(text, encoding="utf-8")
    s = run_file(lambda r: LocateJob(r, date=dt.date(2024, 6, 1), traces=traces, keep=("id",)), d / "in.csv",
                 d / "out.csv", chunk_size=chunk_size, show_progress=False, traces=d / "t.jsonl" if traces else None)
    out = _read(d / "out.csv")
    assert [r["row"] for r in out] == [str(i) for i in range(1, len(kinds) + 1)] and s["rows"] == len(kinds)
    for r, (line, bad) in zip(out, expect):
        if bad:
            assert r["status"] == "error" and r["error"].endswith(f"(ligne {line} du fichier)"), (r, line)
        else:
            assert r["status"] in ("inside", "outside", "near_boundary") and r["error"] == "", r
    assert s["errors"] == sum(bad for _, bad in expect)
    if traces:
        import json

        assert [json.loads(t)["row"] for t in (d / "t.jsonl").read_text().splitlines()] == list(range(1, len(kinds) + 1))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["good", "bad"]), st.integers(0, 100)), min_size=1, max_size=15),
       st.integers(1, 6))
def test_evaluate_rows_with_bad_places_are_error_rows(tmp_path_factory, kinds, chunk_size):
    """`employee.residence.lon` out of range, NaN or inf used to stop `batch evaluate` (exit 2, no output)."""
    d = tmp_path_factory.mktemp("never-stops-ev")
    lines = ["contract.type;employee.residence.lon;employee.residence.lat"]
    for kind, n in kinds:
        lon, lat = GOOD[n % len(GOOD)]
        if kind == "bad":
            lon = ["400", "nan", "inf", "-200", "-Infinity"][n % 5]
        lines.append(f"CDI;{lon};{lat}")
    (d / "in.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run_file(lambda r: EvaluateJob("emplois-francs", r, date=dt.date(2024, 6, 1)), d / "in.csv", d / "out.csv",
             chunk_size=chunk_size, show_progress=False)
    out = _read(d / "out.csv")
    assert [r["row"] for r in out] == [str(i) for i in range(1, len(kinds) + 1)]
    for i, (r, (kind, _)) in enumerate(zip(out, kinds)):
        assert (r["outcome"] == "error") == (kind == "bad"), r
        if kind == "bad":
            assert "employee.residence" in r["error"] and r["error"].endswith(f"(ligne {i + 2} du fichier)")


def test_parquet_nan_and_inf_are_error_rows_at_any_chunk_size(tmp_path):
    src = tmp_path / "in.parquet"
    pd.DataFrame({"lon": [2.0, np.nan, np.inf, 5.23227, -np.inf, 400.0],
                  "lat": [46.0, 46.0, 46.0, 46.21069, 46.0, 46.0]}).to_parquet(src)
    for size in (1, 2, 4, 100):
        run_file(lambda r: LocateJob(r, date=dt.date(2024, 6, 1)), src, tmp_path / "o.csv", chunk_size=size,
                 show_progress=False)
        out = _read(tmp_path / "o.csv", sep=",")  # a Parquet input gives « , » CSV
        assert [r["status"] for r in out] == ["outside", "error", "error", "inside", "error", "error"]


def test_a_value_the_engine_refuses_for_the_whole_chunk_becomes_its_rows_error(tmp_path, monkeypatch):
    """The safety net: whatever a vectorised step refuses (BadInput) is isolated to its rows by halving the
    chunk; the other rows get the answers they get without the bad row."""
    from eligibility.batch import jobs

    real = jobs.geography()

    def picky(lon, lat, dates, **kw):
        lon = np.asarray(lon)
        if (lon == 1.44).any():
            raise BadInput("valeur refusée par le moteur", field="lon", row=int(np.flatnonzero(lon == 1.44)[0]) + 1)
        return real(lon, lat, dates, **kw)

    monkeypatch.setattr(jobs, "geography", lambda: picky)
    src = tmp_path / "in.csv"
    src.write_text("lon;lat\n" + "".join(f"{lon};{lat}\n" for lon, lat in GOOD * 3), encoding="utf-8")
    run_file(lambda r: LocateJob(r, date=dt.date(2024, 6, 1), traces=True), src, tmp_path / "o.csv", chunk_size=5,
             traces=tmp_path / "t.jsonl", show_progress=False)
    out = _read(tmp_path / "o.csv")
    monkeypatch.undo()
    run_file(lambda r: LocateJob(r, date=dt.date(2024, 6, 1)), src, tmp_path / "ref.csv", chunk_size=5,
             show_progress=False)
    ref = _read(tmp_path / "ref.csv")
    for i, (r, (lon, _)) in enumerate(zip(out, GOOD * 3)):
        if lon == 1.44:
            assert r["status"] == "error"
            assert r["error"] == f"champ « lon » : valeur refusée par le moteur (ligne {i + 2} du fichier)"
        else:
            assert r == ref[i]
