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
from eligibility.batch.locate import LocateJob
from eligibility.batch.sinks import OutputFormat, encode_part
from eligibility.errors import BadInput
from eligibility.geography import locate_answer, locate_points

from conftest import POINTS

HERE = Path(__file__).parent


def locate_job(**kw):
    return lambda renamed: LocateJob(renamed, date=dt.date(2024, 1, 1), **kw)


def point(i):
    return POINTS[i % len(POINTS)]


def write_points(path, n, sep=";", bad_every=0):
    """Real places cycling through POINTS, dates alternating 2020/2024; every `bad_every` rows, a bad
    value (row 4, 4+bad_every, …) and a line with too few fields (row 6, …)."""
    lines = [sep.join(["id", "lon", "lat", "date"])]
    for i in range(n):
        lon, lat = (str(v).replace(".", "," if sep == ";" else ".") for v in point(i))
        if sep == ",":
            lon, lat = f'"{lon}"', f'"{lat}"'
        date = "2020-06-01" if i % 2 else "2024-06-01"
        if bad_every and i % bad_every == 3:
            lines.append(f"{i}{sep}pas un nombre{sep}45{sep}{date}")
        elif bad_every and i % bad_every == 5:
            lines.append(f"{i}{sep}1")
        else:
            lines.append(sep.join([str(i), lon, lat, date]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_one_output_row_per_input_row_in_order(tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    write_points(src, 103, bad_every=10)
    s = run_file(locate_job(keep=("id",)), src, out, chunk_size=7, show_progress=False)
    df = pd.read_csv(out, sep=";", dtype=str, keep_default_na=False)
    assert list(df["row"]) == [str(i) for i in range(1, 104)]
    bad_value = df["error"].str.startswith("colonne « lon » : nombre attendu")
    ragged = df["error"].str.startswith("2 champs au lieu de 4")
    abroad = df["error"].str.startswith("le point est hors du territoire français")  # the Atlantic point
    assert abroad.sum() == sum(1 for i in range(103) if point(i) == (-30.0, 40.0) and i % 10 not in (3, 5))
    assert bad_value.sum() == 10 and ragged.sum() == 10 and s["errors"] == 20 + abroad.sum()
    assert (df.loc[bad_value | ragged | abroad, "status"] == "error").all()
    ok = df[df["error"] == ""]
    assert s["rows"] == 103
    assert s["detected"] == ["virgule décimale dans « lat »", "virgule décimale dans « lon »"]
    # every answered row is what locate_points says for that point alone
    for _, r in ok.iterrows():
        i = int(r["id"])
        alone = locate_points([point(i)[0]], [point(i)[1]], "2020-06-01" if i % 2 else "2024-06-01").row(0)
        assert r["status"] == alone["status"]
        assert r["quartier_code"] == ((alone["quartier"] or {}).get("code") or "")
    assert not list(tmp_path.glob(".*"))  # no temporary file or parts left behind


def test_csv_and_parquet_outputs_agree_and_parquet_input_works(tmp_path):
    src = tmp_path / "in.csv"
    write_points(src, 40, sep=",")
    run_file(locate_job(), src, tmp_path / "a.csv", chunk_size=9, show_progress=False)
    run_file(locate_job(), src, tmp_path / "a.parquet", chunk_size=9, show_progress=False)
    a = pd.read_csv(tmp_path / "a.csv", dtype=str, keep_default_na=False)
    b = pd.read_parquet(tmp_path / "a.parquet")
    assert list(a["status"]) == list(b["status"]) and list(b["row"]) == list(range(1, 41))
    pq_in = tmp_path / "in.parquet"
    pd.DataFrame({"lon": [2.0, 5.23227, None], "lat": [46.0, 46.21069, 45.0]}).to_parquet(pq_in)
    run_file(locate_job(), pq_in, tmp_path / "c.csv", chunk_size=2, show_progress=False)
    c = pd.read_csv(tmp_path / "c.csv", dtype=str, keep_default_na=False)
    assert list(c["status"]) == ["outside", "inside", "error"] and c["error"][2] == "coordonnée manquante"
    assert c["quartier_code"][1] == "QN00101M"


def test_map_renames_user_columns_and_refuses_unknown_ones(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("Longitude;Latitude\n5,23227;46,21069\n", encoding="utf-8")
    m = tmp_path / "map.json"
    m.write_text(json.dumps({"Longitude": "lon", "Latitude": "lat"}))
    run_file(locate_job(), src, tmp_path / "o.csv", map_file=m, show_progress=False)
    assert pd.read_csv(tmp_path / "o.csv", sep=";")["status"][0] == "inside"
    m.write_text(json.dumps({"Lng": "lon"}))
    with pytest.raises(BadInput, match="« Lng »"):
        run_file(locate_job(), src, tmp_path / "o.csv", map_file=m, show_progress=False)
    with pytest.raises(BadInput, match="colonnes de position absentes"):
        run_file(locate_job(), src, tmp_path / "o.csv", show_progress=False)


def test_traces_are_keyed_by_row_and_equal_the_single_row_answer(tmp_path):
    src = tmp_path / "in.csv"
    write_points(src, 30, bad_every=10)
    run_file(locate_job(traces=True), src, tmp_path / "o.csv", chunk_size=4, traces=tmp_path / "t.jsonl",
             show_progress=False)
    lines = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert [t["row"] for t in lines] == list(range(1, 31))
    from qpv_cli.common import to_json

    for t in lines:
        i = t["row"] - 1
        if i % 10 in (3, 5) or point(i) == (-30.0, 40.0):  # bad lines, and outside France (exit 2 alone)
            assert "error" in t and "trace" not in t
            continue
        # the object of `qpv locate --json --date D` for that point alone, date_source included
        alone = locate_answer(locate_points([point(i)[0]], [point(i)[1]], "2020-06-01" if i % 2 else "2024-06-01"),
                              "le point", date_given=True)
        assert t == {"row": i + 1, **json.loads(to_json(alone))}
    assert lines[3]["error"].startswith("colonne « lon »")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_resume_after_sigkill_gives_identical_bytes(tmp_path, workers):
    """Killed with -9 midway (one process, or the reader of two forked workers), resumed: the same bytes as
    an uninterrupted one-process run, and no worker process left behind."""
    src = tmp_path / "in.csv"
    write_points(src, 400, bad_every=17)
    ref, out = tmp_path / "ref.csv", tmp_path / "out.csv"
    cmd = [sys.executable, str(HERE / "slow_run.py"), str(src)]
    # generous timeouts: on a loaded machine a child's start-up alone can take tens of seconds
    subprocess.run(cmd + [str(ref), str(tmp_path / "ref.jsonl"), "20"], check=True, timeout=300)
    proc = subprocess.Popen(cmd + [str(out), str(tmp_path / "out.jsonl"), "20", "--workers", workers])
    journal = tmp_path / ".out.csv.qpv-parts" / "journal.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_text().count("\n") >= 4:  # signature + 3 chunks
            break
        time.sleep(0.02)
    children = _children(proc.pid)
    assert len(children) >= (2 if workers == "2" else 0)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()  # nothing half-written where the user looks
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{c}").exists() for c in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [c for c in children if Path(f"/proc/{c}").exists()]  # the workers ended with their parent
    with open(journal, "ab") as f:
        f.write(b'{"chunk": 99, "torn')  # a torn write as a kill mid-line would leave
    subprocess.run(cmd + [str(out), str(tmp_path / "out.jsonl"), "20", "--resume", "--workers", workers], check=True,
                   timeout=300)
    assert out.read_bytes() == ref.read_bytes()
    assert (tmp_path / "out.jsonl").read_bytes() == (tmp_path / "ref.jsonl").read_bytes()


def _children(pid: int) -> list[int]:
    """The process ids whose parent is `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_resume_refuses_a_changed_input(tmp_path):
    src = tmp_path / "in.csv"
    write_points(src, 20)
    out = tmp_path / "o.csv"
    work = tmp_path / ".o.csv.qpv-parts"
    from eligibility.batch.journal import Journal

    Journal(out, {"other": "signature"}, resume=False)
    assert work.exists()
    with pytest.raises(BadInput, match="reprise impossible"):
        run_file(locate_job(), src, out, resume=True, show_progress=False)


TEXT = st.text(alphabet=st.sampled_from(list("=+-@\t\r\n ab1;,\"'é")), max_size=6)
FORMULA = ("=", "+", "-", "@", "\t", "\r")


@settings(max_examples=80, deadline=None)
@given(cells=st.lists(st.one_of(st.none(), TEXT), min_size=1, max_size=10),
       numbers=st.lists(st.floats(-1e6, 1e6), min_size=10, max_size=10), sep=st.sampled_from([";", ","]))
def test_csv_cells_read_back_neutralised_and_numbers_stay_numbers(cells, numbers, sep):
    n = len(cells)
    df = pd.DataFrame({"row": range(1, n + 1), "t": pd.Series(cells, dtype=object), "x": numbers[:n]})
    fmt = OutputFormat("csv", sep)
    body = encode_part(df, [("row", "int"), ("t", "str"), ("x", "float")], fmt).decode()
    back = list(csv.reader(io.StringIO(body, newline=""), delimiter=sep))
    assert len(back) == n
    for (row, text, num), before, x in zip(back, cells, numbers):
        before = before or ""
        assert text == ("'" + before if before.startswith(FORMULA) else before)
        assert not text.startswith(FORMULA)
        assert abs(float(num.replace(",", ".")) - x) <= 0.005 + 1e-6  # a plain number to the cent, never prefixed


def test_formula_cells_are_neutralised_in_the_csv_file(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id;lon;lat\n=HYPERLINK(\"x\");5,23227;46,21069\n-2+3;=1+1;45\n@SUM(A1);2;46\n", encoding="utf-8")
    run_file(lambda r: LocateJob(r, date=dt.date(2024, 1, 1), keep=("id",)), src, tmp_path / "o.csv",
             show_progress=False)
    rows = list(csv.reader(io.StringIO((tmp_path / "o.csv").read_text()), delimiter=";"))
    assert [r[1] for r in rows[1:]] == ["'=HYPERLINK(\"x\")", "'-2+3", "'@SUM(A1)"]
    assert not any(c[:1] in "=+-@\t\r" and c for r in rows for c in r)


def test_address_columns_go_through_the_address_domain(tmp_path):
    from eligibility.addresses import locate_addresses

    src = tmp_path / "in.csv"
    texts = ["1 place des Récollets, 82200 Moissac", "rue inconnue, 99999 Nulle part", "",
             "boulevard Léon Cladel, 82200 Moissac"]
    src.write_text("id;numero;voie;code_postal;commune\n1;1;place des Récollets;82200;Moissac\n"
                   "2;;rue inconnue;99999;Nulle part\n3;;;;\n4;;boulevard Léon Cladel;82200;Moissac\n",
                   encoding="utf-8")
    run_file(lambda r: LocateJob(r, date=dt.date(2024, 6, 1), keep=("id",)), src, tmp_path / "o.csv",
             show_progress=False)
    out = pd.read_csv(tmp_path / "o.csv", sep=";", dtype=str, keep_default_na=False)
    assert out["error"][2] == "adresse manquante (ligne 4 du fichier)" and out["status"][2] == "error"
    for i in (0, 1, 3):
        alone = locate_addresses([texts[i]], dt.date(2024, 6, 1))
        assert out["status"][i] == alone.status[0]
        assert out["quartier_code"][i] == (alone.quartier_code[0] or "")
    assert out["status"][0] == "inside" and out["quartier_code"][0] == "QN08203M"


LINE = st.lists(st.sampled_from(["5,23227", "46,21069", "2", "46", ";", '"', "\r", "x", "", "é", "\xff"]),
                max_size=6).map("".join)


@settings(max_examples=int(os.environ.get("QPV_FUZZ_EXAMPLES", "25")), deadline=None)
@given(lines=st.lists(LINE, min_size=1, max_size=15), sizes=st.tuples(st.integers(1, 4), st.integers(5, 50)))
def test_any_bytes_give_consecutive_rows_and_chunking_never_changes_the_output(tmp_path_factory, lines, sizes):
    d = tmp_path_factory.mktemp("fuzz")
    src = d / "in.csv"
    src.write_bytes(b"lon;lat\n" + "\n".join(lines).encode("utf-8", "surrogateescape").replace(b"\xc3\xbf", b"\xff"))
    outs = []
    for i, size in enumerate(sizes):
        out = d / f"o{i}.csv"
        s = run_file(locate_job(), src, out, chunk_size=size, show_progress=False)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]  # the same bytes whatever the chunk size
    rows = list(csv.reader(io.StringIO(outs[0].decode("utf-8"), newline=""), delimiter=";"))[1:]
    assert [int(r[0]) for r in rows] == list(range(1, s["rows"] + 1))
    assert s["rows"] <= len(lines)
    assert all((r[1] == "error") == (r[-1] != "") for r in rows)  # an error row says why, an answer has none


def test_parquet_job_interrupted_by_an_error_resumes_to_the_same_bytes(tmp_path, monkeypatch):
    from eligibility.batch import jobs

    src = tmp_path / "in.parquet"
    pts = [point(i) for i in range(50)]
    pd.DataFrame({"lon": [p[0] for p in pts], "lat": [p[1] for p in pts]}).to_parquet(src)
    job = locate_job(traces=True)
    run_file(job, src, tmp_path / "ref.parquet", chunk_size=7, traces=tmp_path / "ref.jsonl", show_progress=False)
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt  # the user pressed Ctrl-C during the 4th chunk
        return locate_points(*args, **kwargs)

    monkeypatch.setattr(jobs, "geography", lambda: failing)
    with pytest.raises(KeyboardInterrupt):
        run_file(job, src, tmp_path / "out.parquet", chunk_size=7, traces=tmp_path / "out.jsonl", show_progress=False)
    assert not (tmp_path / "out.parquet").exists()
    monkeypatch.setattr(jobs, "geography", lambda: locate_points)
    s = run_file(job, src, tmp_path / "out.parquet", chunk_size=7, traces=tmp_path / "out.jsonl", resume=True,
                 show_progress=False)
    assert s["resumed_rows"] == 21  # three chunks of 7 were kept
    assert (tmp_path / "out.parquet").read_bytes() == (tmp_path / "ref.parquet").read_bytes()
    assert (tmp_path / "out.jsonl").read_bytes() == (tmp_path / "ref.jsonl").read_bytes()


def test_a_journal_of_an_earlier_version_is_resumed_by_doing_its_chunks_again(tmp_path, monkeypatch):
    """Journals written before parts were checksummed with xxh3 recorded sha256 under other keys: resuming one
    keeps none of its chunks (nothing unchecked is assembled) and still writes the bytes of a whole run."""
    import hashlib

    from eligibility.batch import jobs

    src = tmp_path / "in.csv"
    write_points(src, 40)
    job = locate_job()
    run_file(job, src, tmp_path / "ref.csv", chunk_size=7, show_progress=False)
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return locate_points(*args, **kwargs)

    monkeypatch.setattr(jobs, "geography", lambda: failing)
    with pytest.raises(KeyboardInterrupt):
        run_file(job, src, tmp_path / "out.csv", chunk_size=7, show_progress=False)
    journal = tmp_path / ".out.csv.qpv-parts" / "journal.jsonl"
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert len(lines) == 4  # the signature and three chunks
    for entry in lines[1:]:  # as an earlier version wrote them
        entry["sha256"] = hashlib.sha256((journal.parent / entry.pop("part")).read_bytes()).hexdigest()
        entry["part"] = f"part-{entry['chunk']:08d}"
        entry.pop("checksum"), entry.pop("traces_checksum")
        entry["traces_sha256"] = None
    journal.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in lines))
    monkeypatch.setattr(jobs, "geography", lambda: locate_points)
    s = run_file(job, src, tmp_path / "out.csv", chunk_size=7, resume=True, show_progress=False)
    assert s["resumed_rows"] == 0
    assert (tmp_path / "out.csv").read_bytes() == (tmp_path / "ref.csv").read_bytes()


@settings(max_examples=6, deadline=None)
@given(st.integers(min_value=1, max_value=40), st.sampled_from([";", ","]), st.booleans())
def test_stream_job_yields_the_bytes_run_file_writes(tmp_path_factory, chunk_size, sep, bom):
    """The public streaming function (the web service's batch endpoints) equals the file runner's output,
    whatever the chunk size, separator or BOM; the first block is the header alone."""
    from eligibility.batch import open_job, stream_job

    tmp = tmp_path_factory.mktemp("stream")
    src, out = tmp / "in.csv", tmp / "out.csv"
    write_points(src, 37, sep=sep, bad_every=9)
    if bom:
        src.write_bytes(b"\xef\xbb\xbf" + src.read_bytes())
    run_file(locate_job(keep=("id",)), src, out, chunk_size=chunk_size, show_progress=False)
    job, source = open_job(locate_job(keep=("id",)), src)
    blocks = list(stream_job(job, source, chunk_size=chunk_size))
    assert b"".join(blocks) == out.read_bytes()
    assert blocks[0].count(b"\n") == 1 and len(blocks) == 1 + -(-37 // chunk_size)


def test_open_job_refuses_a_file_without_the_needed_columns_before_any_output(tmp_path):
    from eligibility.batch import open_job

    src = tmp_path / "in.csv"
    src.write_text("id;x\n1;2\n", encoding="utf-8")
    with pytest.raises(BadInput):
        open_job(locate_job(), src)
