"""`qpv batch … --record`: one entry per input row, written in bulk, each row re-checkable."""
from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility.register import Register
from eligibility.register.recheck import recheck
from qpv_cli.main import qpv

from .conftest import ROOT

HEADER = ("contract.type;contract.signature_date;contract.working_time_ratio;employee.residence.lon;employee.residence.lat;"
          "employee.birth_date;employee.status;employee.jobseeker_category;employee.employed_by_employer_last_6_months;"
          "employer.kind;employer.up_to_date_with_obligations;employer.economic_dismissal_last_6_months;application_date")
ROWS = [
    "CDI;2024-03-01;1.0;-0.506648;43.900985;1990-05-12;jobseeker;1;false;company;true;false;2024-03-20",
    "CDI;01/03/2024;0,5;-0.506648;43.900985;12/05/1990;jobseeker;1;false;company;true;false;20/03/2024",  # French habits
    "CDD;2024-03-01;1.0;1.1039;44.1036;1990-05-12;other;;false;company;true;false;2024-03-20",
    "CDI;2024-03-01;1.0;-0.506648;43.900985;1990-05-12;jobseeker;;false;company;;false;2024-03-20",  # incomplete
    "CDI;pas une date;1.0;-0.506648;43.900985;1990-05-12;jobseeker;1;false;company;true;false;2024-03-20",  # bad value
]


def test_batch_evaluate_records_every_row_and_each_rechecks(tmp_path, sqlite_url, monkeypatch):
    from eligibility.register import store

    monkeypatch.setattr(store, "BULK_ROWS", 2)  # several bulk transactions for 5 rows
    data = tmp_path / "cas.csv"
    data.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    out = CliRunner().invoke(qpv, ["batch", "evaluate", "emplois-francs", str(data), "-o", str(tmp_path / "out.csv"),
                                   "--record", "--keep-facts", "--register", sqlite_url, "--no-progress", "--json",
                                   "--chunk-size", "2"])
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output.strip().splitlines()[-1])
    assert summary["recorded"] == 5 and summary["traces"] is None
    reg = Register(sqlite_url)
    entries = reg.list()
    assert [e["channel"] for e in entries] == ["batch"] * 5
    assert [e["outcome"] for e in entries] == ["eligible", "eligible", "not_eligible", "undetermined", "error"]
    assert reg.verify_chain()["ok"]
    for e in entries[:4]:
        report = recheck(reg, str(e["id"]))
        assert report["reproduced"], (e["id"], report)
    assert reg.get("2")["facts"]["contract.working_time_ratio"] == 0.5  # normalised as the batch read it


def test_batch_locate_records_one_entry_per_row(tmp_path, sqlite_url):
    out = CliRunner().invoke(qpv, ["batch", "locate", str(ROOT / "examples" / "seed_points.csv"), "-o",
                                   str(tmp_path / "out.csv"), "--record", "--register", sqlite_url, "--no-progress"])
    assert out.exit_code == 0, out.output
    assert "10 entrée(s) inscrite(s)" in out.output
    reg = Register(sqlite_url)
    entries = reg.list()
    assert len(entries) == 10 and reg.verify_chain()["ok"]
    import csv

    rows = list(csv.DictReader(open(ROOT / "examples" / "seed_points.csv", encoding="utf-8")))
    for e, row in zip(entries, rows):
        assert e["decision_date"] == row["date"]
        report = recheck(reg, str(e["id"]), {"lon": row["lon"], "lat": row["lat"]})
        assert report["reproduced"], report


def test_unreachable_register_refuses_the_batch_before_work(tmp_path):
    out = CliRunner().invoke(qpv, ["batch", "locate", str(ROOT / "examples" / "seed_points.csv"), "-o",
                                   str(tmp_path / "out.csv"), "--record", "--register", "postgresql://x@127.0.0.1:1/y",
                                   "--no-progress"])
    assert out.exit_code == 1 and "registre injoignable" in out.output
    assert not (tmp_path / "out.csv").exists()


# Rows whose entries are compared with the entry of the same question answered alone: points in and around
# quartiers of Montauban and Toulouse, with the row's own date.
def _points_file(path, points) -> None:
    path.write_text("id,lon,lat,date\n" + "".join(f"{i},{lon},{lat},{d}\n" for i, (lon, lat, d) in enumerate(points)),
                    encoding="utf-8")


CHAINED_CONTENT = ("attestation_id", "attestation_sha256", "kind", "served", "channel", "dispositif", "outcome",
                   "quartier", "rule", "data_sha256", "decision_date", "question", "answer", "versions", "facts_sha256",
                   "facts_kept")


def _recorded(url: str) -> list[dict]:
    reg = Register(url)
    assert reg.verify_chain()["ok"]
    return [{k: e[k] for k in CHAINED_CONTENT} for e in (reg.get(str(s["id"])) for s in reg.list())]


def test_recorded_batch_is_the_same_with_one_or_two_workers(tmp_path, any_url, monkeypatch):
    """Entries built in the forked workers (3 chunks over 2 processes) are those built in one process, in the
    input's order, on both backends; every row re-checks."""
    from eligibility.batch import pool

    monkeypatch.setattr(pool, "MIN_ROWS", 0)  # the pool even for these few rows
    import numpy as np

    rng = np.random.default_rng(3)
    points = [(round(float(lon), 6), round(float(lat), 6), f"2025-0{1 + i % 9}-1{i % 10}")
              for i, (lon, lat) in enumerate(zip(rng.uniform(1.30, 1.45, 45), rng.uniform(43.55, 44.05, 45)))]
    points[7] = ("pas un nombre", "43.6", "2025-01-01")  # an error row is recorded too
    data = tmp_path / "points.csv"
    _points_file(data, points)
    urls = {1: f"sqlite:///{tmp_path / 'one.sqlite3'}", 2: any_url}
    for workers, url in urls.items():
        out = CliRunner().invoke(qpv, ["batch", "locate", str(data), "-o", str(tmp_path / f"out{workers}.csv"), "--record",
                                       "--register", url, "--no-progress", "--workers", str(workers), "--chunk-size", "15"])
        assert out.exit_code == 0, out.output
    one, two = _recorded(urls[1]), _recorded(urls[2])
    assert len(one) == len(points) and one == two
    assert one[7]["outcome"] == "error"
    reg = Register(urls[2])
    for e in reg.list()[:3]:
        row = points[e["id"] - 1]
        assert recheck(reg, str(e["id"]), {"lon": row[0], "lat": row[1]})["reproduced"]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(points=st.lists(st.tuples(st.floats(1.30, 1.45), st.floats(43.55, 44.05), st.dates(dt.date(2015, 1, 1),
                                                                                          dt.date(2026, 12, 31))),
                       min_size=1, max_size=6))
def test_batch_entry_is_the_entry_of_the_row_answered_alone(tmp_path, points):
    """Each batch entry (built per chunk, the versions' JSON shared) is byte for byte the entry of the same
    question answered and recorded alone (`entries.build`, as `qpv locate --record` does)."""
    from eligibility.register import entries as E
    from eligibility.register.recording import locate_question
    from eligibility.web.engine import DomainEngine

    from .conftest import versions

    points = [(round(lon, 6), round(lat, 6), d) for lon, lat, d in points]
    folder = tmp_path / f"case{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    _points_file(folder / "points.csv", points)
    url = f"sqlite:///{folder / 'register.sqlite3'}"
    out = CliRunner().invoke(qpv, ["batch", "locate", str(folder / "points.csv"), "-o", str(folder / "out.csv"),
                                   "--record", "--keep-facts", "--register", url, "--no-progress", "--chunk-size", "4"])
    assert out.exit_code == 0, out.output
    recorded = _recorded(url)
    assert len(recorded) == len(points)
    engine = DomainEngine()
    for entry, (lon, lat, day) in zip(recorded, points):
        built = E.build(locate_question(day, lon=lon, lat=lat), engine.locate(lon, lat, day), versions(),
                        served="answer", channel="batch")
        alone = {**built["row"], "answer": E.expand(built["row"]["answer"], built["fragments"])}  # as `list` gives it
        got = {**entry, "question": E.canonical(entry["question"]).decode(), "answer": E.canonical(entry["answer"]).decode(),
               "versions": E.canonical(entry["versions"]).decode()}
        assert {k: got[k] for k in alone if k in got} == {k: alone[k] for k in alone if k in got}
