"""Attestation: the identifier recomputes from the inputs, and changes when any of them changes."""
import datetime as dt
from html import unescape

from hypothesis import given, settings, strategies as st

from eligibility.web.attestation import build, render_pdf, sections
from eligibility.web.engine import DomainEngine
from eligibility.web.pages import attestation_for, render_attestation_html

from .fakes import FakeEngine

lons = st.floats(min_value=1.30, max_value=1.40, allow_nan=False).map(lambda v: round(v, 6))
lats = st.floats(min_value=43.95, max_value=44.05, allow_nan=False).map(lambda v: round(v, 6))
dates = st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2030, 12, 31))


def att(engine=None, lon=1.355, lat=44.005, date="2025-02-03"):
    return attestation_for(engine or FakeEngine(), str(lon), str(lat), None, date)


@settings(max_examples=40, deadline=None)
@given(lons, lats, dates)
def test_identifier_is_stable_for_the_same_inputs(lon, lat, date):
    a = att(lon=lon, lat=lat, date=date.isoformat())
    b = att(lon=lon, lat=lat, date=date.isoformat())
    assert a["identifier"] == b["identifier"] and a["sha256"] == b["sha256"]


@settings(max_examples=40, deadline=None)
@given(lons, lats, dates, lons, lats, dates)
def test_identifier_changes_with_the_question(lon, lat, date, lon2, lat2, date2):
    a = att(lon=lon, lat=lat, date=date.isoformat())
    b = att(lon=lon2, lat=lat2, date=date2.isoformat())
    same_question = (lon, lat, date) == (lon2, lat2, date2)
    assert (a["sha256"] == b["sha256"]) == same_question


def test_identifier_changes_with_data_and_rule_versions():
    base = att()["sha256"]
    assert att(FakeEngine(data_sha="c" * 64))["sha256"] != base
    assert att(FakeEngine(rules_sha="d" * 64))["sha256"] != base
    assert att(FakeEngine())["sha256"] == base


def test_identifier_follows_real_rule_files(tmp_path, monkeypatch):
    """DomainEngine.versions hashes the rule files: editing one changes the identifier."""
    monkeypatch.setenv("QPV_RULES_DIR", str(tmp_path))
    (tmp_path / "r.yaml").write_text("id: r\nversion: '1'\n")

    class RealVersions(FakeEngine):
        versions = DomainEngine.versions

    first = att(RealVersions())
    assert first["versions"]["rules"] == [{"file": "r.yaml", "sha256": first["versions"]["rules"][0]["sha256"]}]
    assert att(RealVersions())["sha256"] == first["sha256"]
    (tmp_path / "r.yaml").write_text("id: r\nversion: '2'\n")
    assert att(RealVersions())["sha256"] != first["sha256"]


def test_identifier_does_not_depend_on_dict_order():
    q = {"kind": "locate", "lon": 1.0, "lat": 44.0, "date": "2025-01-01", "date_given": True}
    answer = FakeEngine().locate(1.0, 44.0, dt.date(2025, 1, 1))
    reordered = dict(reversed(list(answer.items())))
    v = FakeEngine().versions()
    assert build(q, answer, v)["sha256"] == build(q, reordered, v)["sha256"]


def test_document_shows_what_the_issue_asks():
    a = att()
    html = unescape(render_attestation_html(a))
    for expected in [a["identifier"], a["sha256"], "2025-02-03", "QP2024", "Décret n° 2023-1314", "123 m",
                     "Quartier d'essai (QN08299Z)", "a" * 64, "b" * 64, "qpv attest --lon 1.355 --lat 44.005 --date 2025-02-03"]:
        assert expected in html, expected
    assert "<script" not in html  # printable, standalone


def test_default_date_is_today_and_said_so():
    a = attestation_for(FakeEngine(), "1.355", "44.005", None, None)
    assert a["question"]["date"] == dt.date.today().isoformat() and a["question"]["date_given"] is False
    assert "aucune date demandée" in dict(sections(a)[0][1])["Date d'appréciation"]


def test_pdf_is_deterministic_and_complete():
    a = att()
    pdf = render_pdf(a)
    assert pdf.startswith(b"%PDF-") and pdf == render_pdf(att())
    assert render_pdf(att(lon=1.356)) != pdf


def test_attestation_endpoint_html_and_pdf(client):
    params = {"lon": "1.355", "lat": "44.005", "date": "2025-02-03"}
    html = client.get("/attestation", params=params)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert att()["identifier"] in html.text
    pdf = client.get("/attestation", params={**params, "format": "pdf"})
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content == render_pdf(att())
    bad = client.get("/attestation", params={**params, "format": "docx"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "format"
    assert client.get("/attestation", params={"lon": "x", "lat": "1"}).json()["error"]["field"] == "lon"


# --- attestation of a dispositif decision ---------------------------------------------------------

from eligibility.web.pages import evaluation_attestation_for  # noqa: E402


def ev(facts, date=None, engine=None):
    return evaluation_attestation_for(engine or FakeEngine(), "emplois-francs", facts, date)


def test_question_facts_are_flat_and_sorted_whatever_the_spelling():
    from eligibility.web.attestation import flat_facts

    nested = {"employee": {"residence": {"lon": 1.3, "lat": 44.0}}, "contract": {"type": "CDD"}}
    flat = {"employee.residence": {"lon": 1.3, "lat": 44.0}, "contract.type": "CDD"}
    assert flat_facts(nested) == flat_facts(flat) == {"contract.type": "CDD", "employee.residence": {"lon": 1.3, "lat": 44.0}}
    assert list(flat_facts(flat)) == ["contract.type", "employee.residence"]


@given(st.sampled_from(["CDI", "CDD"]), st.sampled_from(["CDI", "CDD"]), st.one_of(st.none(), dates), st.one_of(st.none(), dates))
@settings(max_examples=30, deadline=None)
def test_decision_identifier_changes_with_facts_and_date(t1, t2, d1, d2):
    a = ev({"contract.type": t1}, d1 and d1.isoformat())
    b = ev({"contract.type": t2}, d2 and d2.isoformat())
    assert (a["sha256"] == b["sha256"]) == ((t1, d1) == (t2, d2))


def test_decision_identifier_changes_with_rule_version():
    assert ev({"contract.type": "CDI"})["sha256"] != ev({"contract.type": "CDI"}, engine=FakeEngine(rules_sha="e" * 64))["sha256"]


def test_decision_attestation_document():
    a = ev({"contract.type": "CDD"}, "2024-03-01")
    html = unescape(render_attestation_html(a))
    for expected in ["Attestation de décision", "NON ÉLIGIBLE", "Le contrat doit être un CDI", "CDD",
                     "1er mars 2024", a["identifier"], "qpv attest --dispositif emplois-francs --facts FAITS.json --date 2024-03-01",
                     "/attestation/verifier?identifiant=" + a["identifier"]]:
        assert expected in html, expected
    assert render_pdf(a) == render_pdf(ev({"contract.type": "CDD"}, "2024-03-01"))


def test_decision_attestation_endpoints(client):
    r = client.post("/attestation/emplois-francs", json={"contract.type": "CDD"}, params={"date": "2024-03-01"})
    assert r.status_code == 200 and ev({"contract.type": "CDD"}, "2024-03-01")["identifier"] in r.text
    pdf = client.post("/attestation/emplois-francs", json={"contract.type": "CDD"}, params={"date": "2024-03-01", "format": "pdf"})
    assert pdf.content == render_pdf(ev({"contract.type": "CDD"}, "2024-03-01"))
    assert client.post("/attestation/emplois-francs", content=b"{").json()["error"]["field"] == "body"
    assert client.post("/attestation/inconnu", json={}).status_code == 404
    page = client.post("/dispositifs/emplois-francs/attestation", data={"contract.type": "CDD", "_date": "2024-03-01", "_format": "html"})
    assert page.status_code == 200 and ev({"contract.type": "CDD"}, "2024-03-01")["identifier"] in page.text
    bad = client.post("/dispositifs/emplois-francs/attestation", data={"_format": "docx"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "format"


def test_check_page_recomputes_the_identifier(client):
    from urllib.parse import parse_qs, urlsplit

    from eligibility.web.attestation import check_url

    a = att()
    query = {k: v[0] for k, v in parse_qs(urlsplit(check_url(a)).query).items()}
    ok = client.get("/attestation/verifier", params=query)
    assert ok.status_code == 200 and "<strong>VALABLE</strong>" in ok.text and 'aria-current="page"' in ok.text
    other = att(lon=1.356)["identifier"]
    changed = client.get("/attestation/verifier", params=dict(query, identifiant=other))
    assert "<strong>NE TIENT PLUS</strong>" in changed.text and other in changed.text
    bad = client.get("/attestation/verifier", params={"identifiant": "QPV-ZZ", "question": "{}"})
    assert bad.status_code == 400 and "QPV-XXXX" in unescape(bad.text)
    assert client.get("/attestation/verifier").status_code == 200  # the empty form


def test_attestation_is_not_offered_for_an_address_that_was_not_placed(client):
    r = client.get("/attestation", params={"address": "rue introuvable", "date": "2025-01-01"})
    assert r.status_code == 400 and "non localisée" in unescape(r.text)
