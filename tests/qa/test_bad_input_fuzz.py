"""Bad input is exit 2 / HTTP 4xx, always (issue 15, findings 7 and 9): in-process fuzzing of the command line
(CliRunner) and of the service (TestClient, fake engine), with a fixed budget so that it runs in CI."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings, strategies as st

from eligibility.web import create_app
from eligibility.web.settings import WebSettings
from qpv_cli.main import qpv

BUDGET = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def run(*args):
    return CliRunner().invoke(qpv, [str(a) for a in args])


def refused(res) -> None:
    """Exit 2 with a French message that names no internal error and echoes no control character."""
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("Erreur : ") and "interne" not in res.stderr
    assert not any(ord(c) < 32 and c not in "\n\t" for c in res.stderr), repr(res.stderr)


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [40, 1000, 100_000])
def test_deeply_nested_facts_are_refused_in_french(tmp_path, depth):
    facts = tmp_path / "f.json"
    facts.write_text(nested(depth))
    res = run("evaluate", "emplois-francs", "--facts", facts, "--json")
    refused(res)
    assert "trop imbriqué" in res.stderr


@pytest.mark.parametrize("name", ["x" * 300, "../rules/tfpb", "tfpb\x00", "a/" * 200, "é" * 200])
def test_a_dispositif_name_is_checked_before_it_becomes_a_path(tmp_path, name):
    facts = tmp_path / "f.json"
    facts.write_text("{}")
    refused(run("evaluate", name, "--facts", facts))
    src = tmp_path / "in.csv"
    src.write_text("contract.type\nCDI\n")
    res = run("batch", "evaluate", name, src, "-o", tmp_path / "o.csv", "--no-progress")
    refused(res)
    assert "dispositif inconnu" in res.stderr and len(res.stderr) < 1000


def test_a_map_that_is_not_utf8_is_reported_as_such(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("Longitude;Latitude\n2,35;48,85\n")
    for suffix, content in ((".json", '{"Longitude": "lon", "Latitude": "lat"}'), (".yaml", "Longitude: lon\n"),
                            (".csv", "Longitude;lon\n")):
        m = tmp_path / f"map{suffix}"
        m.write_bytes(content.encode("cp1252") + "é".encode("cp1252"))
        res = run("batch", "locate", src, "-o", tmp_path / "o.csv", "--map", m, "--date", "2024-01-01", "--no-progress")
        refused(res)
        assert "UTF-8" in res.stderr


@pytest.mark.parametrize("content", ['{"a": ' * 50_000, "a: [" * 5000, "{[}"])
def test_malformed_or_deep_maps_are_refused_in_french(tmp_path, content):
    src = tmp_path / "in.csv"
    src.write_text("lon;lat\n2,35;48,85\n")
    for suffix in (".json", ".yaml"):
        m = tmp_path / f"map{suffix}"
        m.write_text(content)
        refused(run("batch", "locate", src, "-o", tmp_path / "o.csv", "--map", m, "--date", "2024-01-01",
                    "--no-progress"))


json_values = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                           max_leaves=20)


@BUDGET
@given(st.one_of(json_values.map(json.dumps), st.integers(30, 3000).map(nested), st.binary(max_size=300).map(
    lambda b: b.decode("latin-1"))))
def test_any_facts_file_is_answered_or_refused_never_an_internal_error(tmp_path_factory, text):
    facts = tmp_path_factory.mktemp("fuzz") / "f.json"
    facts.write_text(text, encoding="utf-8")
    res = run("evaluate", "emplois-francs", "--facts", facts, "--json", "--date", "2024-06-01")
    assert res.exit_code in (0, 2) and "interne" not in res.stderr, res.output


@BUDGET
@given(st.binary(max_size=400), st.integers(1, 5), st.sampled_from([b"", b"lon;lat\n", b"id,lon,lat\r\n"]))
def test_any_csv_bytes_are_answered_row_by_row_or_refused(tmp_path_factory, body, chunk, head):
    d = tmp_path_factory.mktemp("fuzz-csv")
    (d / "in.csv").write_bytes(head + body)
    res = run("batch", "locate", d / "in.csv", "-o", d / "o.csv", "--date", "2024-06-01", "--chunk-size", chunk,
              "--no-progress", "--json")
    assert res.exit_code in (0, 2) and "interne" not in res.stderr, res.output
    if res.exit_code == 0:
        assert json.loads(res.stdout)["rows"] == len(open(d / "o.csv", encoding="utf-8", newline="").read()
                                                      .splitlines()) - 1 or b'"' in body  # quoted lines join


# --- the service (fake engine: only the web layer's own parsing is under test here) ---------------

@pytest.fixture
def web():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1]))  # tests/: the web tests' fake engine
    from web.fakes import FakeEngine

    return TestClient(create_app(WebSettings(max_upload_bytes=2000), engine=FakeEngine()), raise_server_exceptions=False)


def test_deep_json_body_is_a_400_in_french_not_a_500(web):
    for depth in (40, 5000):
        r = web.post("/api/evaluate/emplois-francs", content=nested(depth), headers={"content-type": "application/json"})
        assert r.status_code == 400 and "trop imbriqué" in r.json()["error"]["message"], r.text


def test_text_plain_is_refused_with_415(web):
    r = web.post("/api/evaluate/emplois-francs", content='{"contract": {"type": "CDI"}}',
                 headers={"content-type": "text/plain"})
    assert r.status_code == 415 and r.json()["error"]["field"] == "content-type"
    assert "application/json" in r.json()["error"]["message"]
    ok = web.post("/api/evaluate/emplois-francs", json={"contract": {"type": "CDI"}})
    assert ok.status_code == 200


def test_a_chunked_upload_over_the_limit_is_a_413_in_french(web):
    boundary = "qpvlimite"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\nlon,lat\n" + "1.0,44.0\n" * 500 + f"\r\n--{boundary}--\r\n").encode()

    def chunks():  # no Content-Length: the limit can only be seen while reading
        for i in range(0, len(body), 512):
            yield body[i:i + 512]

    r = web.post("/api/batch/locate", content=chunks(), headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 413 and r.json()["error"]["message"].startswith("requête trop volumineuse"), r.text


def test_messages_escape_control_characters_and_cut_long_values(web):
    r = web.get("/api/locate", params={"lon": "\x1b[31mrouge\x07", "lat": "44"})
    message = r.json()["error"]["message"]
    assert r.status_code == 400 and "\x1b" not in message and "\\x1b" in message and "\x07" not in message
    r = web.get("/api/locate", params={"lon": "1" * 60_000 + "x", "lat": "44"})  # httpx caps a query near 64 kB
    assert r.status_code == 400 and len(r.text) < 2_000 and "60001 caractères" in r.json()["error"]["message"]
    res = run("locate", "--lon", "\x1b]0;titre\x07", "--lat", "44")
    refused(res)


def test_a_long_invalid_fact_value_is_cut_in_the_message(tmp_path):
    """pydantic's refusals quote the value: a 250 kB value is cut there too, not echoed back whole."""
    facts = tmp_path / "f.json"
    facts.write_text(json.dumps({"contract": {"type": "\x1b[31mCDI" + "A" * 250_000}}), encoding="utf-8")
    res = run("evaluate", "emplois-francs", "--facts", facts)
    refused(res)
    assert len(res.stderr) < 600 and "caractères)" in res.stderr and "valeur non autorisée" in res.stderr


def test_facts_that_are_not_an_object_say_what_was_received_in_french(web):
    r = web.post("/api/evaluate/emplois-francs", json=[1, 2])
    assert r.status_code == 400 and r.json()["error"]["message"].endswith("reçu : une liste"), r.text


@BUDGET
@given(st.one_of(st.binary(max_size=300), st.integers(30, 3000).map(lambda d: nested(d).encode())),
       st.sampled_from([None, "application/json", "text/plain", "application/x-www-form-urlencoded",
                        "application/ld+json"]))
def test_any_body_is_answered_or_refused_with_a_4xx(web, body, media):
    headers = {} if media is None else {"content-type": media}
    r = web.post("/api/evaluate/emplois-francs", content=body, headers=headers)
    assert r.status_code in (200, 400, 415), r.text
    if r.status_code != 200:
        assert r.json()["error"]["message"] and "interne" not in r.json()["error"]["message"]
