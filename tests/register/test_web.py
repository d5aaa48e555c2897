"""The service records what it serves, refuses (503) to answer what it cannot record, and opens the register
over HTTP only when the operator asks, to loopback clients."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from eligibility.register import Register
from eligibility.web import create_app
from eligibility.web.settings import WebSettings


def _fake_engine_class():
    """The web tests' FakeEngine (tests/web/fakes.py): the web layer tested apart from the domains."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("qpv_web_fakes", Path(__file__).parents[1] / "web" / "fakes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FakeEngine


FakeEngine = _fake_engine_class()

LOCAL = ("127.0.0.1", 50000)


def client(url, engine=None, remote=False, **settings):
    app = create_app(WebSettings(record=True, register_url=url, **settings), engine=engine or FakeEngine())
    return TestClient(app, raise_server_exceptions=False, client=("192.0.2.7", 50000) if remote else LOCAL)


def test_every_answer_and_attestation_is_recorded_once(sqlite_url):
    with client(sqlite_url) as c:
        assert c.get("/api/locate", params={"lon": "1.355", "lat": "44.005", "date": "2025-01-01"}).status_code == 200
        assert c.post("/api/evaluate/emplois-francs", json={"contract.type": "CDD"}, params={"date": "2024-03-01"}).status_code == 200
        assert c.get("/attestation", params={"lon": "1.355", "lat": "44.005", "date": "2025-01-01"}).status_code == 200
        assert c.post("/attestation/emplois-francs", json={"contract.type": "CDD"}, params={"date": "2024-03-01"}).status_code == 200
        assert c.get("/", params={"lon": "1.355", "lat": "44.005"}).status_code == 200  # the page's answer too
        assert c.get("/api/quartiers").status_code == 200  # not a decision: not recorded
    reg = Register(sqlite_url)
    entries = reg.list()
    assert [(e["kind"], e["served"], e["channel"]) for e in entries] == [
        ("locate", "answer", "service"), ("dispositif", "answer", "service"), ("locate", "attestation", "service"),
        ("dispositif", "attestation", "service"), ("locate", "answer", "service")]
    assert entries[0]["outcome"] == "inside" and entries[0]["quartier"] == "QN08299Z"
    # The decision's entry carries the identifier its attestation shows.
    assert entries[1]["attestation_id"] == entries[3]["attestation_id"]
    assert reg.verify_chain()["ok"]


def test_attestation_identifier_is_found_by_the_lookup_endpoint(sqlite_url):
    with client(sqlite_url) as c:
        att = c.post("/attestation/emplois-francs", json={"contract.type": "CDD"}, params={"date": "2024-03-01"}).text
        ident = att.split("QPV-", 1)[1][:24]
        found = c.get(f"/api/register/attestation/QPV-{ident}").json()
        assert found["recorded"] == 1 and found["kind"] == "dispositif" and "facts" not in found
        assert c.get("/api/register/attestation/QPV-0000-0000-0000-0000-0000").json()["recorded"] == 0


def test_unreachable_register_answers_503_and_computes_nothing_unrecorded():
    engine = FakeEngine()
    with client("postgresql://nobody@127.0.0.1:1/none", engine=engine) as c:
        r = c.get("/api/locate", params={"lon": "1.355", "lat": "44.005"})
        assert r.status_code == 503
        message = r.json()["error"]["message"]
        assert "n'a pas pu être enregistrée" in message and "registre injoignable" in message
        assert "127.0.0.1:1" not in message  # where the register lives stays in the server log
        assert c.post("/api/evaluate/emplois-francs", json={"contract.type": "CDD"}).status_code == 503
        assert c.get("/attestation", params={"lon": "1.355", "lat": "44.005"}).status_code == 503
        assert c.get("/api/quartiers").status_code == 200  # unrecorded endpoints still answer


def test_full_register_answers_503(sqlite_url):
    reg = Register(sqlite_url)
    with reg.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
    app = create_app(WebSettings(record=True, register_url=sqlite_url), engine=FakeEngine())
    lazy = app.state.register
    opened = lazy.open()

    @event.listens_for(opened.engine, "connect")
    def _cap(dbapi_conn, _record):  # the file may not grow any more: SQLite reports "database or disk is full"
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    opened.engine.dispose()
    with TestClient(app, raise_server_exceptions=False, client=LOCAL) as c:
        answers = [c.post("/api/evaluate/emplois-francs", json={"contract.type": "CDD", "employee.birth_date": "1990-01-01"})
                   for _ in range(40)]
    assert answers[-1].status_code == 503
    assert "registre plein" in answers[-1].json()["error"]["message"]
    recorded = len(Register(sqlite_url).list())
    assert recorded == sum(a.status_code == 200 for a in answers)  # every 200 was recorded, no more
    assert Register(sqlite_url).verify_chain()["ok"]


def test_register_api_is_off_unless_enabled_and_loopback_only(sqlite_url):
    with client(sqlite_url) as c:
        c.get("/api/locate", params={"lon": "1.355", "lat": "44.005"})
        assert c.get("/api/register").status_code == 404
        assert c.get("/api/register/1").status_code == 404
    with client(sqlite_url, register_api=True) as c:
        listed = c.get("/api/register").json()["entries"]
        assert [e["id"] for e in listed] == [1]
        one = c.get("/api/register/1").json()
        assert one["id"] == 1 and one["outcome"] == "inside" and "facts" not in one
        assert c.get("/api/register/99").status_code == 404
        assert c.get("/api/register", params={"limit": "0"}).status_code == 400
        assert c.get("/api/register", params={"date_from": "hier"}).status_code == 400
    with client(sqlite_url, register_api=True, remote=True) as c:
        refused = c.get("/api/register")
        assert refused.status_code == 403 and "boucle locale" in refused.json()["error"]["message"]


def test_without_recording_nothing_is_written(sqlite_url):
    app = create_app(WebSettings(register_url=sqlite_url), engine=FakeEngine())
    with TestClient(app, client=LOCAL) as c:
        assert c.get("/api/locate", params={"lon": "1.355", "lat": "44.005"}).status_code == 200
        assert c.get("/api/register/attestation/QPV-0000").status_code == 404
    assert Register(sqlite_url).list() == []


@pytest.mark.parametrize("backend", ["postgresql"])
def test_service_records_on_postgresql(pg_url, backend):
    with client(pg_url) as c:
        for i in range(5):
            assert c.get("/api/locate", params={"lon": str(1.3 + i / 100), "lat": "44.005"}).status_code == 200
    reg = Register(pg_url)
    assert len(reg.list()) == 5 and reg.verify_chain()["ok"]


def test_each_uvicorn_worker_builds_the_app_from_the_serve_settings(sqlite_url, monkeypatch):
    """`qpv serve --workers N` hands its settings to every worker through QPV_WEB_SETTINGS."""
    from eligibility.web.app import app_from_env

    settings = WebSettings(record=True, register_url=sqlite_url, register_api=True, port=8123)
    monkeypatch.setenv("QPV_WEB_SETTINGS", settings.model_dump_json())
    app = app_from_env()
    assert app.state.settings == settings
    assert app.state.register is not None and app.state.register.url == sqlite_url
