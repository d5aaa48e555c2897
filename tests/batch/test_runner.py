"""Whole files: one output row per input row, atomic output, resume after a kill, CSV injection."""
import csv
import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from eligibility.batch import run_file
from eligibility.batch.jobs import LocateJob
from eligibility.batch.sinks import neutralise
from eligibility.errors import BadInput

HERE = Path(__file__).parent


def locate_job(**kw):
    return lambda renamed: LocateJob(renamed, date=dt.date(2024, 1, 1), **kw)


def write_points(path, n, sep=";", bad_every=0):
    lines = [sep.join(["id", "lon", "lat", "date"])]
    for i in range(n):
        lon = f"{(i % 50) / 10:.1f}".replace(".", "," if sep == ";" else ".")
        if bad_every and i % bad_every == 3:
            lines.append(f"{i}{sep}pas un nombre{sep}45{sep}2024-01-01")
        elif bad_every and i % bad_every == 5:
            lines.append(f"{i}{sep}1")
        else:
            lines.append(sep.join([str(i), f'"{lon}"' if sep == "," else lon, "45", "2024-01-01"]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_one_output_row_per_input_row_in_order(tmp_path, fake_geography):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    write_points(src, 103, bad_every=10)
    s = run_file(locate_job(), src, out, chunk_size=7, show_progress=False)
    df = pd.read_csv(out, sep=";", dtype=str, keep_default_na=False)
    assert list(df["row"]) == [str(i) for i in range(1, 104)]
    bad_value = df["error"].str.startswith("colonne « lon » : nombre attendu")
    ragged = df["error"].str.startswith("2 champs au lieu de 4")
    assert bad_value.sum() == 10 and ragged.sum() == 10 and s["errors"] == 20
    assert (df.loc[bad_value | ragged, "status"] == "error").all()
    ok = df[df["error"] == ""]
    assert set(ok["status"]) == {"inside", "outside"} and s["rows"] == 103
    assert s["detected"] == ["virgule décimale dans « lon »"]
    assert not list(tmp_path.glob(".*"))  # no temporary file or parts left behind


def test_csv_and_parquet_outputs_agree_and_parquet_input_works(tmp_path, fake_geography):
    src = tmp_path / "in.csv"
    write_points(src, 40, sep=",")
    run_file(locate_job(), src, tmp_path / "a.csv", chunk_size=9, show_progress=False)
    run_file(locate_job(), src, tmp_path / "a.parquet", chunk_size=9, show_progress=False)
    a = pd.read_csv(tmp_path / "a.csv", dtype=str, keep_default_na=False)
    b = pd.read_parquet(tmp_path / "a.parquet")
    assert list(a["status"]) == list(b["status"]) and list(b["row"]) == list(range(1, 41))
    pq_in = tmp_path / "in.parquet"
    pd.DataFrame({"lon": [1.0, 3.0, None], "lat": [45.0, 45.0, 45.0]}).to_parquet(pq_in)
    run_file(locate_job(), pq_in, tmp_path / "c.csv", chunk_size=2, show_progress=False)
    c = pd.read_csv(tmp_path / "c.csv", dtype=str, keep_default_na=False)
    assert list(c["status"]) == ["outside", "inside", "error"] and c["error"][2] == "coordonnée manquante"


def test_map_renames_user_columns_and_refuses_unknown_ones(tmp_path, fake_geography):
    src = tmp_path / "in.csv"
    src.write_text("Longitude;Latitude\n3,5;45\n", encoding="utf-8")
    m = tmp_path / "map.json"
    m.write_text(json.dumps({"Longitude": "lon", "Latitude": "lat"}))
    run_file(locate_job(), src, tmp_path / "o.csv", map_file=m, show_progress=False)
    assert pd.read_csv(tmp_path / "o.csv", sep=";")["status"][0] == "inside"
    m.write_text(json.dumps({"Lng": "lon"}))
    with pytest.raises(BadInput, match="« Lng »"):
        run_file(locate_job(), src, tmp_path / "o.csv", map_file=m, show_progress=False)
    with pytest.raises(BadInput, match="colonnes de position absentes"):
        run_file(locate_job(), src, tmp_path / "o.csv", show_progress=False)


def test_traces_are_keyed_by_row_and_equal_the_single_row_answer(tmp_path, fake_geography):
    from fakes import fake_locate_points

    src = tmp_path / "in.csv"
    write_points(src, 30, bad_every=10)
    run_file(locate_job(traces=True), src, tmp_path / "o.csv", chunk_size=4, traces=tmp_path / "t.jsonl",
             show_progress=False)
    lines = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert [t["row"] for t in lines] == list(range(1, 31))
    alone = fake_locate_points([float(f"{0 / 10:.1f}")], [45.0], dt.date(2024, 1, 1))
    assert lines[0] == {"row": 1, **json.loads(json.dumps(alone.row(0)))}
    assert lines[3]["error"].startswith("colonne « lon »")


def test_resume_after_sigkill_gives_identical_bytes(tmp_path):
    src = tmp_path / "in.csv"
    write_points(src, 400, bad_every=17)
    ref, out = tmp_path / "ref.csv", tmp_path / "out.csv"
    cmd = [sys.executable, str(HERE / "slow_run.py"), str(src)]
    subprocess.run(cmd + [str(ref), str(tmp_path / "ref.jsonl"), "20"], check=True, timeout=60)
    proc = subprocess.Popen(cmd + [str(out), str(tmp_path / "out.jsonl"), "20"])
    journal = tmp_path / ".out.csv.qpv-parts" / "journal.jsonl"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_text().count("\n") >= 4:  # signature + 3 chunks
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()  # nothing half-written where the user looks
    with open(journal, "ab") as f:
        f.write(b'{"chunk": 99, "torn')  # a torn write as a kill mid-line would leave
    subprocess.run(cmd + [str(out), str(tmp_path / "out.jsonl"), "20", "--resume"], check=True, timeout=60)
    assert out.read_bytes() == ref.read_bytes()
    assert (tmp_path / "out.jsonl").read_bytes() == (tmp_path / "ref.jsonl").read_bytes()


def test_resume_refuses_a_changed_input(tmp_path, fake_geography):
    src = tmp_path / "in.csv"
    write_points(src, 20)
    out = tmp_path / "o.csv"
    work = tmp_path / ".o.csv.qpv-parts"
    from eligibility.batch.journal import Journal

    Journal(out, {"other": "signature"}, resume=False)
    assert work.exists()
    with pytest.raises(BadInput, match="reprise impossible"):
        run_file(locate_job(), src, out, resume=True, show_progress=False)


TEXT = st.text(alphabet=st.sampled_from(list("=+-@\t\r ab1;,\"'")), max_size=6)


@settings(max_examples=80, deadline=None)
@given(cells=st.lists(TEXT, min_size=1, max_size=10))
def test_no_text_cell_can_start_a_formula(cells):
    df = pd.DataFrame({"t": pd.Series(cells, dtype=object), "n": [-1.5] * len(cells)})
    out = neutralise(df)
    for before, after in zip(cells, out["t"]):
        assert not after[:1] in ("=", "+", "-", "@", "\t", "\r")
        assert after == before or after == "'" + before
    assert (out["n"] == -1.5).all()  # numbers the engine produced stay numbers


def test_formula_cells_are_neutralised_in_the_csv_file(tmp_path, fake_geography):
    src = tmp_path / "in.csv"
    src.write_text("lon;lat\n3;45\n=1+1;45\n", encoding="utf-8")
    run_file(locate_job(), src, tmp_path / "o.csv", show_progress=False)
    cells = [c for r in csv.reader(io.StringIO((tmp_path / "o.csv").read_text()), delimiter=";") for c in r]
    assert "'=Quartier (faux)" in cells  # the fake's quartier name starts with "="
    assert not any(c[:1] in "=+-@" and c for c in cells)
