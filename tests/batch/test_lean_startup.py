"""`qpv batch locate` and `qpv batch evaluate` (issue 13) load neither pandas nor the libraries of other commands, with answer fields
that need only the quartier and with every field (the default): the whole process, as a user runs it, checked
in a child process. The quartier fields do not load pyarrow.compute's Python wrappers either."""
import json
import subprocess
import sys

HEAVY = ("pandas", "scipy", "sqlalchemy", "rich", "fastapi", "dask", "_ssl")  # _ssl: OpenSSL, see batch/lazy_ssl.py
# pyarrow.compute: its import builds a wrapper per Arrow kernel (0.1-0.2 s per process); the batch calls the
# kernels it needs through eligibility/batch/arrow_compute.py (the carreau of the default fields still imports it)
QUARTIER_FIELDS_HEAVY = HEAVY + ("pyarrow.compute",)
RUN = """
import json, sys
from qpv_cli.main import qpv
try:
    qpv.main(sys.argv[1:], standalone_mode=False)
finally:
    print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


SMALL_FILE = ("id,lon,lat,date\n1,1.35,44.01,2024-06-01\n2,x,44.01,2024-06-01\n3,2.35,48.85,2024-06-01\n"
              "4,-74.0,40.7,2024-06-01\n")


def _run(tmp_path, fields: str | None, *options: str, heavy=HEAVY, text=SMALL_FILE):
    src = tmp_path / "in.csv"
    src.write_text(text, encoding="utf-8")
    out = tmp_path / "out.csv"
    cmd = [sys.executable, "-c", RUN.format(heavy=heavy), "batch", "locate", str(src), "-o", str(out),
           *(["--fields", fields] if fields else []), "--no-progress", "--json", *options]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary, loaded = done.stdout.strip().splitlines()
    return json.loads(summary), json.loads(loaded), out.read_text(encoding="utf-8").splitlines()


def test_quartier_fields_load_no_pandas(tmp_path):
    summary, loaded, lines = _run(tmp_path, "status,quartier_code,quartier_name,vintage,reason,departement,region",
                                  "--keep", "id", heavy=QUARTIER_FIELDS_HEAVY)
    assert loaded == []
    assert summary["rows"] == 4 and summary["errors"] == 2
    assert lines[0] == "row,id,status,reason,quartier_code,quartier_name,vintage,departement,region,error"
    assert [line.split(",")[2] for line in lines[1:]] == ["outside", "error", "outside", "error"]
    assert lines[1].split(",")[6:9] == ["QP2024", "82", "76"]


def test_every_field_loads_no_pandas(tmp_path):
    summary, loaded, lines = _run(tmp_path, None)
    assert loaded == []
    assert summary["rows"] == 4 and summary["errors"] == 2
    assert lines[0] == ("row,status,reason,quartier_code,quartier_name,vintage,commune_code,commune_name,departement,"
                        "region,distance_to_boundary_m,carreau,error")
    assert lines[1].split(",")[1:] == ["outside", "", "", "", "QP2024", "82121", "Montauban", "82", "76", "807.99",
                                       "CRS3035RES200mN2362200E3627400", ""]
    assert lines[3].split(",")[6:8] == ["75056", "Paris"]


def test_every_field_of_a_large_batch_loads_no_scipy(tmp_path):
    """A batch past `index.SMALL_BATCH` points answers far points from the vertex KD-tree (pykdtree, not
    scipy.spatial: ~0.3-0.4 CPU s of import saved in every worker)."""
    import numpy as np

    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(-1.0, 6.0, 3_000), rng.uniform(43.5, 49.5, 3_000)  # metropolitan France, mostly far
    text = "id,lon,lat,date\n" + "".join(f"{i},{x:.6f},{y:.6f},2025-01-01\n" for i, (x, y) in enumerate(zip(lon, lat)))
    summary, loaded, lines = _run(tmp_path, None, "--workers", "1", text=text)
    assert loaded == []
    assert summary["rows"] == 3_000 and len(lines) == 3_001
    import csv

    far = [float(r["distance_to_boundary_m"]) for r in csv.DictReader(lines) if r["distance_to_boundary_m"]]
    assert len(far) > 2_000 and max(far) > 10_000  # distances answered, many far from every quartier


EVALUATE_FILE = (
    "contract.type;contract.signature_date;contract.duration_months;contract.working_time_ratio;"
    "employee.residence.lon;employee.residence.lat;employee.birth_date;employee.status;employee.jobseeker_category;"
    "employee.employed_by_employer_last_6_months;employer.kind;employer.up_to_date_with_obligations;"
    "employer.economic_dismissal_last_6_months;application_date\n"
    "CDD;2024-03-18;12,0;;-63,080817;18,067634;1993-08-11;jobseeker;4,0;False;company;True;False;2024-04-10\n"
    "CDI;2025-02-24;;;2,031199;48,971204;1998-07-31;csp;8,0;False;company;True;False;2025-04-03\n")


def test_evaluate_loads_only_what_it_needs(tmp_path):
    """`qpv batch evaluate` (issue 13, start17, eval19): the rules engine, never pandas (a CSV chunk is read,
    decided and written with Arrow and numpy) nor the libraries of other commands; nor the Decision model's
    pydantic classes, which a batch never builds (~13 ms of the serial start)."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(EVALUATE_FILE, encoding="utf-8")
    heavy = HEAVY + ("eligibility.decisions.models",)
    cmd = [sys.executable, "-c", RUN.format(heavy=heavy), "batch", "evaluate", "emplois-francs", str(src),
           "-o", str(out), "--no-progress", "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary, loaded = done.stdout.strip().splitlines()
    assert json.loads(loaded) == []
    assert json.loads(summary)["rows"] == 2
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("row;outcome;")
    assert [line.split(";")[1] for line in lines[1:]] == ["not_eligible", "not_eligible"]
