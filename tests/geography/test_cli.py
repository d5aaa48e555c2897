"""`qpv locate` and `qpv quartiers`: the JSON contract of DESIGN.md and exit codes."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from qpv_cli.main import qpv

from eligibility.errors import BadInput

LOCATE_KEYS = {"status", "quartier", "commune", "vintage", "legal_basis", "distance_to_boundary_m", "carreau", "trace"}


def run(*args):
    return CliRunner().invoke(qpv, list(args))


def test_locate_json_contract():
    r = run("locate", "--lon", "-0.5093728558010466", "--lat", "43.87779141657054", "--date", "2024-06-01", "--json")
    assert r.exit_code == 0, r.stderr
    obj = json.loads(r.stdout)  # exactly one JSON object
    assert LOCATE_KEYS <= set(obj)
    assert obj["status"] in ("inside", "near_boundary")
    assert obj["quartier"]["code"] == "QN04005I" and set(obj["quartier"]) == {"code", "name", "communes"}
    assert obj["commune"] == {"code": "40281", "name": "Saint-Pierre-du-Mont"}
    assert obj["vintage"] == "QP2024"
    assert obj["carreau"].startswith("CRS3035RES200mN")
    t = obj["trace"]
    assert t["date_source"] == "option" and t["geometry"]["tolerance_m"] == 15.0 and t["projection"] == "EPSG:2154"
    assert {d["dataset"] for d in t["datasets"]} >= {"qp2024", "communes_geo", "departements_geo"}
    assert all(len(d["sha256"]) == 64 for d in t["datasets"])


def test_locate_default_date_is_today_and_said_in_the_trace():
    r = run("locate", "--lon", "2.35", "--lat", "48.85", "--json")
    assert r.exit_code == 0
    assert json.loads(r.stdout)["trace"]["date_source"] == "default"


def test_locate_lambert93_and_text_output():
    r = run("locate", "--x", "418015.9", "--y", "6315021.0", "--date", "2024-06-01")
    assert r.exit_code == 0
    assert "QN04005I" in r.stdout and "Millésime : QP2024" in r.stdout


def test_locate_not_covered_is_an_answer_not_an_error():
    r = run("locate", "--lon", "-0.5", "--lat", "43.9", "--date", "2020-01-01", "--json")
    assert r.exit_code == 0
    obj = json.loads(r.stdout)
    assert obj["status"] == "not_covered" and obj["reason"] and obj["vintage"] is None


@pytest.mark.parametrize("args", [
    ["--lon", "abc", "--lat", "45"],
    ["--lon", "nan", "--lat", "45"],
    ["--lon", "2", "--lat", "95"],
    ["--lon", "-30", "--lat", "40"],          # Atlantic: not France
    ["--lon", "2", "--lat", "45", "--date", "2024/01/01"],
    ["--lon", "2"],
    ["--lon", "2", "--lat", "45", "--x", "1", "--y", "2"],
    ["--lon", "2", "--lat", "45", "--tolerance", "-3"],
])
def test_locate_bad_input_exit_2(args):
    r = run("locate", *args, "--json")
    assert r.exit_code == 2
    assert r.stdout == "" and r.stderr.startswith("Erreur : ")
    assert "Traceback" not in r.stderr


def test_quartiers_list_and_show():
    r = run("quartiers", "list", "--commune", "82112", "--json")
    assert r.exit_code == 0
    codes = [q["code"] for q in json.loads(r.stdout)["quartiers"]]
    assert codes == ["QP082003", "QP082004", "QN08203M", "QN08204M"]
    r = run("quartiers", "list", "--departement", "04", "--vintage", "qp2024", "--json")
    assert {"QN00402M", "QN00403M"} <= {q["code"] for q in json.loads(r.stdout)["quartiers"]}
    r = run("quartiers", "show", "QN04004M", "--date", "2020-01-01", "--json")
    obj = json.loads(r.stdout)
    assert obj["in_force"] is False and "2023-1314" in obj["legal_basis"]
    r = run("quartiers", "show", "QP082003", "--date", "2020-01-01")
    assert "EN VIGUEUR" in r.stdout and "2014-1750" in r.stdout


@pytest.mark.parametrize("args", [["quartiers", "list", "--vintage", "QP1999"], ["quartiers", "list", "--commune", "8211"],
                                  ["quartiers", "list", "--epci", "123"], ["quartiers", "list", "--departement", "99"],
                                  ["quartiers", "show", "QN00000X"], ["quartiers", "show", "QN04004M", "--date", "hier"]])
def test_quartiers_bad_input_exit_2(args):
    r = run(*args, "--json")
    assert r.exit_code == 2 and r.stderr.startswith("Erreur : ")


def test_real_process_exit_code_and_single_json_line():
    """Through a real process, as users run it (stdout holds one JSON line, nothing else)."""
    cmd = [sys.executable, "-c", "from qpv_cli.main import main; main()", "locate"]
    out = subprocess.run(cmd + ["--lon", "1.0836", "--lat", "44.1034", "--date", "2020-06-01", "--json"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.strip().splitlines()) == 1
    assert json.loads(out.stdout)["vintage"] == "QP2015"
    bad = subprocess.run(cmd + ["--lon", "x", "--lat", "1"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stdout == "" and "Traceback" not in bad.stderr


def test_locate_answer_is_what_the_command_prints():
    """`locate_answer` (shared by the CLI and the web service) = `qpv locate --json`; outside France is BadInput."""
    from eligibility.geography import locate_answer, locate_points

    res = locate_points([-0.506648], [43.900985], dt.date(2024, 6, 1))
    obj = locate_answer(res, "le point", date_given=True)
    assert obj["trace"]["date_source"] == "option"
    printed = json.loads(run("locate", "--lon", "-0.506648", "--lat", "43.900985", "--date", "2024-06-01", "--json").output)
    assert printed == obj
    assert locate_answer(res, "le point", date_given=False)["trace"]["date_source"] == "default"
    with pytest.raises(BadInput, match="hors du territoire"):
        locate_answer(locate_points([-30.0], [40.0], dt.date(2024, 6, 1)), "le point (-30, 40)", date_given=True)
