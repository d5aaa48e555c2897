"""With the real engine, each endpoint returns the bytes of the matching `qpv … --json` command."""
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from eligibility.web import create_app
from qpv_cli.main import qpv

INSIDE = ("1.3536373", "44.01929")       # inside QN08201I « Cœur de Ville », Montauban (QP2024)
ADDRESS = "24 Rue des Chapeliers 04000 Digne-les-Bains"  # house number in QN00401M (BANO, bundled)


@pytest.fixture(scope="module")
def real():
    # As a context manager the client runs the start-up warm-up (index building on a cold cache).
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


def served_rows(content: bytes, rows: int, status: str = "status") -> bytes:
    """The streamed CSV without its end row, after checking that row: `rows` result rows, complete."""
    body, end = content.rstrip(b"\n").rsplit(b"\n", 1)
    assert end.split(b",")[:2] == [str(rows).encode(), b"complete"], end
    return body + b"\n"


def cli_json(*args) -> bytes:
    result = CliRunner().invoke(qpv, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes.rstrip(b"\n")


def test_locate_point(real):
    r = real.get("/api/locate", params={"lon": INSIDE[0], "lat": INSIDE[1], "date": "2025-01-01"})
    assert r.status_code == 200 and r.json()["quartier"]["code"] == "QN08201I"
    assert r.content == cli_json("locate", "--lon", INSIDE[0], "--lat", INSIDE[1], "--date", "2025-01-01")


def test_locate_address(real):
    r = real.get("/api/locate", params={"address": ADDRESS, "date": "2025-01-01"})
    assert r.status_code == 200 and r.json()["status"] == "inside"
    assert r.content == cli_json("locate", "--address", ADDRESS, "--date", "2025-01-01")


def test_quartiers(real):
    r = real.get("/api/quartiers", params={"commune": "82121"})
    assert r.content == cli_json("quartiers", "list", "--commune", "82121")
    q = real.get("/api/quartiers/QN08201I", params={"date": "2025-01-01"}).json()
    assert q["in_force"] is True and q["geometry"]["type"] in ("Polygon", "MultiPolygon")


@pytest.mark.parametrize("params, field", [
    ({"lon": "181", "lat": "44"}, "lon"),
    ({"lon": "1", "lat": "-91"}, "lat"),
    ({"lon": "-40", "lat": "40"}, "position"),   # Atlantic Ocean: outside French territory
])
def test_bad_coordinates(real, params, field):
    r = real.get("/api/locate", params=params)
    assert r.status_code == 400 and r.json()["error"]["field"] == field


def test_nearby_perimeters_for_the_map(real):
    fc = real.get("/api/perimeters", params={"lon": INSIDE[0], "lat": INSIDE[1], "date": "2025-01-01", "radius_m": 2500}).json()
    codes = [f["properties"]["code"] for f in fc["features"]]
    assert codes == ["QN08201I", "QN08205N", "QN08202M"]  # nearest first


def test_batch_locate_same_rows_as_qpv_batch(real, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(f"lon,lat,date\n{INSIDE[0]},{INSIDE[1]},2025-01-01\n1.3601,44.0235,2025-01-01\nabc,44,2025-01-01\n")
    r = real.post("/api/batch/locate", files={"file": ("in.csv", src.read_bytes(), "text/csv")})
    assert r.status_code == 200
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(qpv, ["batch", "locate", str(src), "-o", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert served_rows(r.content, 3) == out.read_bytes()
    assert r.text.count("\n") == 5  # header + one row per input row, the bad one included + the end row


def test_geocode(real):
    r = real.get("/api/geocode", params={"address": ADDRESS})
    assert r.status_code == 200 and r.json()["level"] == "housenumber"
    assert r.content == cli_json("geocode", ADDRESS)


FACTS = {"contract": {"type": "CDI", "signature_date": "2024-03-01", "working_time_ratio": 1},
         "employee": {"residence": {"lon": 1.3536373, "lat": 44.01929}, "status": "jobseeker", "jobseeker_category": 1,
                      "employed_by_employer_last_6_months": False, "birth_date": "1990-05-01"},
         "employer": {"kind": "company", "up_to_date_with_obligations": True, "economic_dismissal_last_6_months": False},
         "application_date": "2024-03-15"}


def test_evaluate(real, tmp_path):
    import json

    facts_file = tmp_path / "faits.json"
    facts_file.write_text(json.dumps(FACTS))
    r = real.post("/api/evaluate/emplois-francs", json=FACTS)
    assert r.status_code == 200 and r.json()["outcome"] == "eligible" and r.json()["amounts"]["total"] == 15000
    assert r.content == cli_json("evaluate", "emplois-francs", "--facts", str(facts_file))


def test_evaluate_bad_fact_names_its_field(real):
    r = real.post("/api/evaluate/emplois-francs", json={"contract": {"type": "CDX"}})
    assert r.status_code == 400 and r.json()["error"]["field"].startswith("contract.type")
    r = real.post("/api/evaluate/emplois-francs", json={"contract": {"typo": "CDI"}})
    assert r.status_code == 400 and "contract.typo" in r.json()["error"]["field"]


def test_unknown_dispositif_real(real):
    r = real.post("/api/evaluate/chomage", json={})
    assert r.status_code == 404 and r.json()["error"]["field"] == "dispositif"
    assert "emplois-francs" in r.json()["error"]["message"]


def test_batch_evaluate_same_rows_as_qpv_batch(real, tmp_path):
    src = tmp_path / "cas.csv"
    src.write_text("contract.type,contract.signature_date,contract.duration_months\nCDI,2024-03-01,\nCDD,2024-03-01,3\nCDX,2024-03-01,\n")
    r = real.post("/api/batch/evaluate/emplois-francs", files={"file": ("cas.csv", src.read_bytes(), "text/csv")})
    assert r.status_code == 200, r.text
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(qpv, ["batch", "evaluate", "emplois-francs", str(src), "-o", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert served_rows(r.content, 3) == out.read_bytes()
    rows = r.text.strip().split("\n")[1:-1]
    assert [line.split(",")[0] for line in rows] == ["1", "2", "3"]


def test_qpv_attest_gives_the_served_document(real, tmp_path):
    params = {"lon": INSIDE[0], "lat": INSIDE[1], "date": "2025-01-01"}
    served = real.get("/attestation", params=params)
    result = CliRunner().invoke(qpv, ["attest", "--lon", INSIDE[0], "--lat", INSIDE[1], "--date", "2025-01-01"])
    assert result.exit_code == 0 and result.stdout_bytes == served.content
    pdf = tmp_path / "a.pdf"
    CliRunner().invoke(qpv, ["attest", "--lon", INSIDE[0], "--lat", INSIDE[1], "--date", "2025-01-01", "--format", "pdf", "-o", str(pdf)])
    assert pdf.read_bytes() == real.get("/attestation", params={**params, "format": "pdf"}).content


def test_qpv_attest_decision_gives_the_served_document(real, tmp_path):
    import json

    facts_file = tmp_path / "faits.json"
    facts_file.write_text(json.dumps(FACTS))
    served = real.post("/attestation/emplois-francs", json=FACTS)
    result = CliRunner().invoke(qpv, ["attest", "--dispositif", "emplois-francs", "--facts", str(facts_file)])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == served.content and "ÉLIGIBLE" in served.text


def test_decision_attestation_same_for_nested_and_flat_facts():
    from eligibility.web.attestation import flat_facts
    from eligibility.web.engine import DomainEngine
    from eligibility.web.pages import evaluation_attestation_for

    nested = evaluation_attestation_for(DomainEngine(), "emplois-francs", FACTS, None)
    flat = evaluation_attestation_for(DomainEngine(), "emplois-francs", flat_facts(FACTS), None)
    assert nested["identifier"] == flat["identifier"]
    changed = dict(flat_facts(FACTS), **{"contract.working_time_ratio": 0.5})
    assert evaluation_attestation_for(DomainEngine(), "emplois-francs", changed, None)["identifier"] != nested["identifier"]


def test_every_dispositif_has_a_generated_page(real):
    from eligibility.rules import get_rule

    dispositifs = real.get("/api/dispositifs").json()["dispositifs"]
    assert {d["id"] for d in dispositifs} >= {"emplois-francs", "tfpb", "adultes-relais"}
    for d in dispositifs:
        html = real.get(f"/dispositifs/{d['id']}").text
        for path in get_rule(d["id"]).model.facts:  # one input (or place group) per declared fact
            assert f'name="{path}' in html, (d["id"], path)
        blank = real.post(f"/dispositifs/{d['id']}", data={})
        assert blank.status_code == 400 and "le formulaire est vide" in blank.text  # nothing given: says what to fill
        assert 'href="#f-' in blank.text


def test_qpv_attest_bad_input_exit_2():
    for args in (["attest"], ["attest", "--lon", "abc", "--lat", "44"], ["attest", "--lon", "1", "--lat", "44", "--date", "hier"],
                 ["attest", "--dispositif", "emplois-francs"], ["attest", "--dispositif", "inconnu", "--facts", "-"]):
        result = CliRunner().invoke(qpv, args, input="{}")
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output and result.stderr.startswith("Erreur : ")


def test_service_is_read_only_over_reference_data(real, tmp_path):
    from eligibility.paths import data_dir, rules_dir

    def snapshot():
        return sorted((str(p), p.stat().st_size, p.stat().st_mtime_ns)
                      for root in (data_dir(), rules_dir()) for p in root.rglob("*") if p.is_file())

    before = snapshot()
    real.get("/api/locate", params={"address": ADDRESS, "date": "2025-01-01"})
    real.post("/api/evaluate/emplois-francs", json=FACTS)
    real.post("/api/batch/locate", files={"file": ("p.csv", f"lon,lat,date\n{INSIDE[0]},{INSIDE[1]},2025-01-01\n", "text/csv")})
    real.get("/attestation", params={"lon": INSIDE[0], "lat": INSIDE[1], "format": "pdf"})
    assert snapshot() == before and len(before) > 10


def test_batch_locate_accepts_parquet(real, tmp_path):
    import pandas as pd

    src = tmp_path / "in.parquet"
    pd.DataFrame({"lon": [float(INSIDE[0]), 1.3601], "lat": [float(INSIDE[1]), 44.0235], "date": ["2025-01-01"] * 2}).to_parquet(src)
    r = real.post("/api/batch/locate", files={"file": ("sans-extension", src.read_bytes(), "application/octet-stream")})
    assert r.status_code == 200, r.text
    out = tmp_path / "out.csv"
    assert CliRunner().invoke(qpv, ["batch", "locate", str(src), "-o", str(out), "--no-progress"]).exit_code == 0
    line = r.text.splitlines()[1]
    assert served_rows(r.content, 2) == out.read_bytes() and line.startswith("1,inside,") and "QN08201I" in line


def test_the_page_and_the_attestation_state_emplois_francs_plus(real):
    """A remark of the decision (here the emplois francs+ majoration) is shown on the page and the attestation."""
    from html import unescape

    form = {"contract.type": "CDI", "contract.signature_date": "2021-01-15", "contract.working_time_ratio": "1",
            "employee.residence.quartier_code": "QP082003", "employee.birth_date": "2000-01-01",
            "employee.status": "jobseeker", "employee.jobseeker_category": "1",
            "employee.employed_by_employer_last_6_months": "false", "employer.kind": "company",
            "employer.up_to_date_with_obligations": "true", "employer.economic_dismissal_last_6_months": "false",
            "application_date": "2021-02-01"}
    html = unescape(real.post("/dispositifs/emplois-francs", data=form).text)
    assert "<h3>À noter</h3>" in html and "majoration emplois francs+ appliquée" in html and "17 000,00 €" in html
    att = unescape(real.post("/dispositifs/emplois-francs/attestation", data={**form, "_format": "html"}).text)
    assert "majoration emplois francs+ appliquée" in att
