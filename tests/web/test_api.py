"""Every endpoint and every error path, through FastAPI's test client (engine: FakeEngine)."""
import json
import logging

import pytest

from eligibility.jsonio import to_json

from .fakes import FakeEngine


def error_of(response):
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"status", "field", "message"}
    assert body["error"]["status"] == response.status_code
    assert "Traceback" not in response.text
    return body["error"]


def test_health(client):
    r = client.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_openapi_lists_every_endpoint(client):
    paths = client.get("/openapi.json").json()["paths"]
    for p in ["/health", "/api/locate", "/api/geocode", "/api/evaluate/{dispositif}", "/api/quartiers",
              "/api/quartiers/{code}", "/api/batch/locate", "/api/batch/evaluate/{dispositif}"]:
        assert p in paths, p


def test_docs_use_bundled_assets_only(client):
    html = client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_locate_returns_the_engine_object_bytes(client, engine):
    r = client.get("/api/locate", params={"lon": "1.355", "lat": "44.005", "date": "2025-03-01"})
    assert r.status_code == 200
    import datetime as dt
    assert r.content == to_json(engine.locate(1.355, 44.005, dt.date(2025, 3, 1))).encode()
    assert r.json()["status"] == "inside"


def test_locate_by_address(client):
    r = client.get("/api/locate", params={"address": "1 rue de test 82000 Montauban"})
    assert r.status_code == 200 and r.json()["quartier"]["code"] == "QN08299Z"


@pytest.mark.parametrize("params, field", [
    ({}, "lon"),
    ({"lon": "abc", "lat": "44"}, "lon"),
    ({"lon": "1", "lat": "nan"}, "lat"),
    ({"lon": "1"}, "lat"),
    ({"lon": "1", "lat": "44", "date": "2025-13-01"}, "date"),
    ({"lon": "1", "lat": "44", "address": "x"}, "address"),
    ({"address": "   "}, "address"),
    ({"address": "rue " * 100}, "address"),
])
def test_locate_bad_input_names_the_field(client, params, field):
    r = client.get("/api/locate", params=params)
    assert r.status_code == 400
    assert error_of(r)["field"] == field


def test_geocode(client):
    assert client.get("/api/geocode", params={"address": "1 rue X"}).json()["lon"] == 1.355
    assert error_of(client.get("/api/geocode"))["field"] == "address"


def test_quartiers_and_perimeter(client):
    assert client.get("/api/quartiers", params={"commune": "82121"}).json()["quartiers"][0]["code"] == "QN08299Z"
    q = client.get("/api/quartiers/QN08299Z").json()
    assert q["geometry"]["type"] == "Polygon"
    r = client.get("/api/quartiers/QN00000X")
    assert r.status_code == 400 and error_of(r)["field"] == "code"


def test_perimeters_radius_is_bounded(client):
    assert client.get("/api/perimeters", params={"lon": 1.35, "lat": 44}).json()["type"] == "FeatureCollection"
    r = client.get("/api/perimeters", params={"lon": 1.35, "lat": 44, "radius_m": 6000})
    assert r.status_code == 400 and error_of(r)["field"] == "radius_m"


def test_evaluate(client, engine):
    facts = {"contract.type": "CDI"}
    r = client.post("/api/evaluate/emplois-francs", json=facts, params={"date": "2024-05-02"})
    assert r.status_code == 200 and r.json()["outcome"] == "eligible"
    assert engine.calls[-1][3].isoformat() == "2024-05-02"


@pytest.mark.parametrize("body, status, field", [
    (b"{not json", 400, "body"),
    (b"", 400, "body"),
    (b"[1, 2]", 400, "body"),
    (b"\xff\xfe", 400, "body"),
])
def test_evaluate_bad_body(client, body, status, field):
    r = client.post("/api/evaluate/emplois-francs", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status
    assert error_of(r)["field"] == field


def test_evaluate_unknown_dispositif(client):
    r = client.post("/api/evaluate/chomage-partiel", json={})
    assert r.status_code == 404 and error_of(r)["field"] == "dispositif"


def test_evaluate_bad_date(client):
    r = client.post("/api/evaluate/emplois-francs", json={}, params={"date": "hier"})
    assert r.status_code == 400 and error_of(r)["field"] == "date"


def test_oversized_body_by_content_length(make_client):
    client = make_client(max_body_bytes=100)
    r = client.post("/api/evaluate/emplois-francs", content=json.dumps({"x": "a" * 200}))
    assert r.status_code == 413 and error_of(r)["field"] == "body"


def test_oversized_body_streamed_without_content_length(make_client):
    client = make_client(max_body_bytes=100)

    def chunks():
        for _ in range(10):
            yield b'{"x": "' + b"a" * 50 + b'"}'

    r = client.post("/api/evaluate/emplois-francs", content=chunks())
    assert r.status_code == 413 and error_of(r)["field"] == "body"


def test_unknown_route_and_method_are_json(client):
    assert error_of(client.get("/api/nope"))["status"] == 404
    assert error_of(client.delete("/api/locate"))["status"] == 405


def test_internal_error_is_json_without_trace(make_client, caplog):
    class Broken(FakeEngine):
        def locate(self, *a):
            raise RuntimeError("boom in a secret place")

    with caplog.at_level(logging.INFO, logger="qpv.web.access"):
        r = make_client(engine=Broken()).get("/api/locate", params={"lon": 1, "lat": 44})
    assert r.status_code == 500
    assert "erreur interne du serveur" in error_of(r)["message"] and "RuntimeError" not in r.text and "secret" not in r.text
    assert json.loads([x for x in caplog.records if x.name == "qpv.web.access"][-1].getMessage())["status"] == 500


def test_missing_domain_is_503(make_client):
    class Missing(FakeEngine):
        def geocode(self, address):
            from eligibility.addresses_not_there import geocode  # noqa: F401

    r = make_client(engine=Missing()).get("/api/geocode", params={"address": "x"})
    assert r.status_code == 503 and "non installé" in error_of(r)["message"]


def test_time_limit(make_client):
    client = make_client(engine=FakeEngine(delay_s=1.0), request_timeout_s=0.2)
    r = client.get("/api/locate", params={"lon": 1, "lat": 44})
    assert r.status_code == 504 and "délai" in error_of(r)["message"]


def test_batch_locate_streams_one_row_per_input_row(client):
    csv_in = "lon,lat\n1.355,44.005\n2.0,45.0\n"
    r = client.post("/api/batch/locate", files={"file": ("points.csv", csv_in, "text/csv")}, data={"date": "2025-01-01"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"] and "points.csv" not in r.headers["content-disposition"]
    lines = r.text.strip().split("\n")
    assert lines == ["row,status,quartier_code", "1,inside,QN08299Z", "2,outside,", "2,complete,"]  # + end row


def test_batch_evaluate(client):
    r = client.post("/api/batch/evaluate/emplois-francs", files={"file": ("c.csv", "contract.type\nCDI\nCDD\n", "text/csv")})
    assert r.status_code == 200 and r.text.split() == ["row,outcome", "1,eligible", "2,not_eligible", "2,complete"]
    r = client.post("/api/batch/evaluate/inconnu", files={"file": ("c.csv", "a\n1\n", "text/csv")})
    assert r.status_code == 404


def test_batch_errors(make_client):
    client = make_client(max_upload_bytes=300)
    assert error_of(client.post("/api/batch/locate"))["field"] == "file"
    assert error_of(client.post("/api/batch/locate", files={"file": ("e.csv", b"", "text/csv")}))["field"] == "file"
    r = client.post("/api/batch/locate", files={"file": ("x.csv", "a,b\n1,2\n", "text/csv")})
    assert r.status_code == 400 and error_of(r)["field"] == "file"
    r = client.post("/api/batch/locate", files={"file": ("big.csv", "lon,lat\n" + "1.0,44.0\n" * 100, "text/csv")})
    assert r.status_code == 413


def test_upload_name_never_becomes_a_path(client, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = client.post("/api/batch/locate", files={"file": ("../../evil.csv", "lon,lat\n1,44\n", "text/csv")})
    assert r.status_code == 200
    assert list(tmp_path.iterdir()) == [] and not (tmp_path.parent.parent / "evil.csv").exists()


def test_cors_is_off_by_default(client, make_client):
    r = client.get("/health", headers={"origin": "https://ailleurs.example"})
    assert "access-control-allow-origin" not in r.headers
    r = make_client(cors_origins=["https://mairie.example"]).get("/health", headers={"origin": "https://mairie.example"})
    assert r.headers["access-control-allow-origin"] == "https://mairie.example"


def test_access_log_has_no_coordinates_unless_asked(make_client, caplog):
    with caplog.at_level(logging.INFO, logger="qpv.web.access"):
        make_client().get("/api/locate", params={"lon": "1.3551", "lat": "44.0051"})
    record = json.loads(caplog.records[-1].getMessage())
    assert record["path"] == "/api/locate" and record["status"] == 200
    assert "1.3551" not in caplog.text and "query" not in record
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="qpv.web.access"):
        make_client(log_personal_data=True).get("/api/locate", params={"lon": "1.3551", "lat": "44.0051"})
    assert "1.3551" in json.loads(caplog.records[-1].getMessage())["query"]
