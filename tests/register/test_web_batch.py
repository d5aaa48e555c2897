"""Files sent to the service (POST /api/batch/…, the /lots page) are recorded like `qpv batch --record`: one entry
per input row, appended chunk by chunk before the chunk's lines leave, the chain intact (SQLite and PostgreSQL)."""
from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from eligibility.errors import RegisterUnavailable
from eligibility.register import Register
from eligibility.register.recheck import recheck
from eligibility.web import create_app
from eligibility.web.settings import WebSettings

from .conftest import ROOT
from .test_batch_record import HEADER, ROWS

LOCAL = ("127.0.0.1", 50000)
POINTS = (ROOT / "examples" / "seed_points.csv").read_bytes()
CASES = ("\n".join([HEADER, *ROWS]) + "\n").encode()


def service(url=None, record=True, **kw):
    return TestClient(create_app(WebSettings(record=record, register_url=url, **kw)), raise_server_exceptions=False,
                      client=LOCAL)


def result_rows(body: str) -> list[dict]:
    """The streamed CSV's rows, the end row (whole or cut) last; the separator is the input file's."""
    header = body.split("\n", 1)[0]
    return list(csv.DictReader(io.StringIO(body), delimiter=";" if ";" in header else ","))


@pytest.fixture
def small_chunks(monkeypatch):
    from eligibility.web import engine as web_engine

    monkeypatch.setattr(web_engine, "STREAM_CHUNK_ROWS", 3)  # several chunks, hence several appends


@pytest.mark.slow
def test_batch_locate_upload_records_one_entry_per_row(any_url, small_chunks):
    with service(any_url) as c:
        recorded = c.post("/api/batch/locate", files={"file": ("points.csv", POINTS)})
    with service(record=False) as c:
        unrecorded = c.post("/api/batch/locate", files={"file": ("points.csv", POINTS)})
    assert recorded.status_code == 200 and recorded.content == unrecorded.content  # recording changes no byte
    reg = Register(any_url)
    entries = reg.list()
    given = list(csv.DictReader(io.StringIO(POINTS.decode())))
    assert len(entries) == len(given) == 10
    assert {(e["kind"], e["channel"], e["served"]) for e in entries} == {("locate", "batch", "answer")}
    assert [e["decision_date"] for e in entries] == [row["date"] for row in given]
    assert reg.verify_chain()["ok"]
    report = recheck(reg, "4", {"lon": given[3]["lon"], "lat": given[3]["lat"]})
    assert report["reproduced"], report


@pytest.mark.slow
def test_batch_evaluate_upload_records_every_row_error_rows_included(sqlite_url, small_chunks):
    with service(sqlite_url, register_keep_facts=True) as c:
        r = c.post("/api/batch/evaluate/emplois-francs", files={"file": ("cas.csv", CASES)})
    assert r.status_code == 200
    rows = result_rows(r.text)
    assert rows[-1]["outcome"] == "complete" and len(rows) - 1 == len(ROWS)
    reg = Register(sqlite_url)
    entries = reg.list()
    assert [e["outcome"] for e in entries] == [row["outcome"] for row in rows[:-1]] == \
        ["eligible", "eligible", "not_eligible", "undetermined", "error"]
    assert reg.verify_chain()["ok"]
    assert recheck(reg, "2")["reproduced"]  # facts kept, normalised as the batch read them
    assert reg.get("2")["facts"]["contract.working_time_ratio"] == 0.5


@pytest.mark.slow
def test_batch_page_records_too(sqlite_url):
    with service(sqlite_url) as c:
        r = c.post("/lots/traiter", files={"file": ("points.csv", POINTS)}, data={"traitement": "locate"})
    assert r.status_code == 200
    reg = Register(sqlite_url)
    assert len(reg.list()) == 10 and reg.verify_chain()["ok"]


def test_unreachable_register_refuses_the_upload_before_any_byte():
    with service("postgresql://nobody@127.0.0.1:1/none") as c:
        r = c.post("/api/batch/locate", files={"file": ("points.csv", POINTS)})
    assert r.status_code == 503 and "registre injoignable" in r.json()["error"]["message"]


@pytest.mark.slow
def test_register_failing_mid_stream_ends_the_result_with_only_recorded_lines(sqlite_url, small_chunks, monkeypatch):
    """The register stops writing after the first chunk: the stream ends there with the French reason, and every
    line given was recorded first."""
    from eligibility.register import store

    append = store.Register.append
    calls = []

    def failing(self, built):
        calls.append(1)
        if len(calls) > 1:
            raise RegisterUnavailable("registre plein (test)")
        return append(self, built)

    with service(sqlite_url) as c:
        monkeypatch.setattr(store.Register, "append", failing)
        r = c.post("/api/batch/locate", files={"file": ("points.csv", POINTS)})
    rows = result_rows(r.text)
    assert rows[-1]["status"] == "incomplete" and rows[-1]["row"] == "3"
    assert "n'ont pas pu être enregistrées au registre des décisions" in rows[-1]["error"]
    monkeypatch.setattr(store.Register, "append", append)
    reg = Register(sqlite_url)
    assert len(reg.list()) == len(rows) - 1 == 3 and reg.verify_chain()["ok"]
