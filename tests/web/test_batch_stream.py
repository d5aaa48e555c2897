"""A streamed batch result says whether it is complete (issue 15, finding 5): its last line is an end row,
`row` = the number of result rows before it and status (or outcome) `complete`; a failure after the first
bytes were sent ends the stream with an `incomplete` end row that carries the French reason, never with a
clean cut. Tested through httpx (TestClient) on the real engine; the page's check is in test_browser.py."""
import csv
import io

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from eligibility.web import create_app
from qpv_cli.main import qpv

from .fakes import fail_second_chunk

POINTS = "lon,lat,date\n1.3536373,44.01929,2025-01-01\nabc,44,2025-01-01\n1.3601,44.0235,2025-01-01\n" \
         "1.3536373,44.01929,2025-01-01\n1.3601,44.0235,2025-01-01\n"


@pytest.fixture(scope="module")
def real():
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


def table(response):
    return list(csv.DictReader(io.StringIO(response.text)))


def test_a_complete_stream_ends_with_its_row_count_and_is_otherwise_qpv_batch(real, tmp_path):
    r = real.post("/api/batch/locate", files={"file": ("p.csv", POINTS, "text/csv")})
    assert r.status_code == 200
    rows = table(r)
    *data, end = rows
    assert [d["row"] for d in data] == ["1", "2", "3", "4", "5"]
    assert end["row"] == "5" and end["status"] == "complete" and end["error"] == ""
    src = tmp_path / "p.csv"
    src.write_text(POINTS, encoding="utf-8")
    assert CliRunner().invoke(qpv, ["batch", "locate", str(src), "-o", str(tmp_path / "o.csv"), "--no-progress"]).exit_code == 0
    body, last = r.content.rstrip(b"\n").rsplit(b"\n", 1)
    assert body + b"\n" == (tmp_path / "o.csv").read_bytes() and last.startswith(b"5,complete,")


@pytest.mark.parametrize("url, status", [("/api/batch/locate", "status"),
                                         ("/api/batch/evaluate/emplois-francs", "outcome")])
def test_a_failure_mid_stream_ends_with_an_incomplete_error_row(real, monkeypatch, url, status):
    fail_second_chunk(monkeypatch, 2)
    content = POINTS if "locate" in url else "contract.type\nCDI\nCDD\nCDI\nCDI\n"
    r = real.post(url, files={"file": ("p.csv", content, "text/csv")})
    assert r.status_code == 200  # the status line left with the first rows: the end row is the verdict
    *data, end = table(r)
    assert [d["row"] for d in data] == ["1", "2"]
    assert end["row"] == "2" and end[status] == "incomplete"
    assert end["error"].startswith("traitement interrompu après la ligne 2") and "erreur interne du serveur" in end["error"] and "RuntimeError" not in end["error"]


def test_a_bad_value_is_still_a_row_and_the_stream_completes(real):
    r = real.post("/api/batch/locate", files={"file": ("p.csv", "lon,lat,date\nnan,44,2025-01-01\n400,1,2025-01-01\n",
                                                       "text/csv")})
    *data, end = table(r)
    assert [d["status"] for d in data] == ["error", "error"] and end["status"] == "complete"


def page_table(response):
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline=""), delimiter=";"))


@pytest.mark.parametrize("traitement, key", [("locate", "statut"), ("emplois-francs", "decision")])
def test_the_page_stream_ends_with_a_french_end_row(real, traitement, key):
    """/lots/traiter (the page's French CSV) closes its stream the same way, in French."""
    content = POINTS if traitement == "locate" else "Identifiant;contract.type\nA;CDI\nB;CDD\n"
    r = real.post("/lots/traiter", files={"file": ("p.csv", content, "text/csv")}, data={"traitement": traitement})
    assert r.status_code == 200
    *data, end = page_table(r)
    assert [d["ligne"] for d in data] == [str(i) for i in range(1, len(data) + 1)] and len(data) == content.count("\n") - 1
    assert end["ligne"] == str(len(data)) and end[key] == "fin : résultat complet" and end["erreur"] == ""
    assert not any(d[key].startswith("fin") for d in data)


@pytest.mark.parametrize("traitement, key", [("locate", "statut"), ("emplois-francs", "decision")])
def test_a_failure_mid_stream_of_the_page_ends_with_an_incomplete_french_row(real, monkeypatch, traitement, key):
    fail_second_chunk(monkeypatch, 2)
    content = POINTS if traitement == "locate" else "contract.type\nCDI\nCDD\nCDI\nCDI\n"
    r = real.post("/lots/traiter", files={"file": ("p.csv", content, "text/csv")}, data={"traitement": traitement})
    assert r.status_code == 200
    *data, end = page_table(r)
    assert [d["ligne"] for d in data] == ["1", "2"]
    assert end["ligne"] == "2" and end[key] == "fin : résultat incomplet"
    assert end["erreur"].startswith("traitement interrompu après la ligne 2")


@pytest.mark.parametrize("url, data, field", [("/api/batch/locate", {}, "file"),
                                              ("/lots/traiter", {"traitement": "locate"}, "fichier")])
def test_a_file_that_is_not_csv_text_is_refused_naming_the_upload_not_a_server_path(real, url, data, field):
    r = real.post(url, files={"file": ("p.csv", "lon,lat\n1,2\n".encode("utf-16"), "text/csv")}, data=data)
    assert r.status_code == 400 and r.json()["error"]["field"] == field, r.text
    assert "UTF-16" in r.json()["error"]["message"] and "/tmp" not in r.text
