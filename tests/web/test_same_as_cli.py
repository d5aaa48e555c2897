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
    return TestClient(create_app(), raise_server_exceptions=False)


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
    assert r.content == out.read_bytes()
    assert r.text.count("\n") == 4  # header + one row per input row, the bad one included
