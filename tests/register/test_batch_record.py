"""`qpv batch … --record`: one entry per input row, written in bulk, each row re-checkable."""
from __future__ import annotations

import json

from click.testing import CliRunner

from eligibility.register import Register
from eligibility.register.recheck import recheck
from qpv_cli.main import qpv

from .conftest import ROOT

HEADER = ("contract.type;contract.signature_date;contract.working_time_ratio;employee.residence.lon;employee.residence.lat;"
          "employee.birth_date;employee.status;employee.jobseeker_category;employee.employed_by_employer_last_6_months;"
          "employer.kind;employer.up_to_date_with_obligations;employer.economic_dismissal_last_6_months;application_date")
ROWS = [
    "CDI;2024-03-01;1.0;-0.506648;43.900985;1990-05-12;jobseeker;1;false;company;true;false;2024-03-20",
    "CDI;01/03/2024;0,5;-0.506648;43.900985;12/05/1990;jobseeker;1;false;company;true;false;20/03/2024",  # French habits
    "CDD;2024-03-01;1.0;1.1039;44.1036;1990-05-12;other;;false;company;true;false;2024-03-20",
    "CDI;2024-03-01;1.0;-0.506648;43.900985;1990-05-12;jobseeker;;false;company;;false;2024-03-20",  # incomplete
    "CDI;pas une date;1.0;-0.506648;43.900985;1990-05-12;jobseeker;1;false;company;true;false;2024-03-20",  # bad value
]


def test_batch_evaluate_records_every_row_and_each_rechecks(tmp_path, sqlite_url, monkeypatch):
    from eligibility.register import store

    monkeypatch.setattr(store, "BULK_ROWS", 2)  # several bulk transactions for 5 rows
    data = tmp_path / "cas.csv"
    data.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    out = CliRunner().invoke(qpv, ["batch", "evaluate", "emplois-francs", str(data), "-o", str(tmp_path / "out.csv"),
                                   "--record", "--keep-facts", "--register", sqlite_url, "--no-progress", "--json",
                                   "--chunk-size", "2"])
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output.strip().splitlines()[-1])
    assert summary["recorded"] == 5 and summary["traces"] is None
    reg = Register(sqlite_url)
    entries = reg.list()
    assert [e["channel"] for e in entries] == ["batch"] * 5
    assert [e["outcome"] for e in entries] == ["eligible", "eligible", "not_eligible", "undetermined", "error"]
    assert reg.verify_chain()["ok"]
    for e in entries[:4]:
        report = recheck(reg, str(e["id"]))
        assert report["reproduced"], (e["id"], report)
    assert reg.get("2")["facts"]["contract.working_time_ratio"] == 0.5  # normalised as the batch read it


def test_batch_locate_records_one_entry_per_row(tmp_path, sqlite_url):
    out = CliRunner().invoke(qpv, ["batch", "locate", str(ROOT / "examples" / "seed_points.csv"), "-o",
                                   str(tmp_path / "out.csv"), "--record", "--register", sqlite_url, "--no-progress"])
    assert out.exit_code == 0, out.output
    assert "10 entrées inscrites" in out.output
    reg = Register(sqlite_url)
    entries = reg.list()
    assert len(entries) == 10 and reg.verify_chain()["ok"]
    import csv

    rows = list(csv.DictReader(open(ROOT / "examples" / "seed_points.csv", encoding="utf-8")))
    for e, row in zip(entries, rows):
        assert e["decision_date"] == row["date"]
        report = recheck(reg, str(e["id"]), {"lon": row["lon"], "lat": row["lat"]})
        assert report["reproduced"], report


def test_unreachable_register_refuses_the_batch_before_work(tmp_path):
    out = CliRunner().invoke(qpv, ["batch", "locate", str(ROOT / "examples" / "seed_points.csv"), "-o",
                                   str(tmp_path / "out.csv"), "--record", "--register", "postgresql://x@127.0.0.1:1/y",
                                   "--no-progress"])
    assert out.exit_code == 1 and "registre injoignable" in out.output
    assert not (tmp_path / "out.csv").exists()
