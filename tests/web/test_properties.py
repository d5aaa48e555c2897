"""Invariants of the web layer, over arbitrary input (hypothesis; engine: FakeEngine)."""
import json

from hypothesis import HealthCheck, given, settings, strategies as st

text = st.text(max_size=30)
params = st.fixed_dictionaries({}, optional={"lon": text, "lat": text, "address": text, "date": text})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params)
def test_any_query_gets_an_answer_or_a_named_4xx(client, p):
    r = client.get("/api/locate", params=p)
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        err = r.json()["error"]
        assert err["field"] in ("lon", "lat", "address", "date") and err["message"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_any_body_gets_a_decision_or_a_named_4xx(client, body):
    r = client.post("/api/evaluate/emplois-francs", content=body)
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        assert r.json()["error"]["field"] == "body"


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.floats(1.3, 1.4), st.floats(43.9, 44.1), st.dates().map(lambda d: d.isoformat()))
def test_same_question_same_bytes(client, lon, lat, date):
    q = {"lon": repr(lon), "lat": repr(lat), "date": date}
    first = client.get("/api/locate", params=q)
    assert first.status_code == 200 and first.content == client.get("/api/locate", params=q).content
    json.loads(first.content)
