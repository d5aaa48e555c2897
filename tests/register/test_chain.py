"""The hash chain detects a row changed or deleted behind the service's back (SQLite and PostgreSQL)."""
from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import text

from qpv_cli.main import qpv

from .conftest import decision_entry, locate_entry, open_register


def filled(url, keep_facts=False, n=4):
    reg = open_register(url, keep_facts)
    reg.append([decision_entry() if i % 2 == 0 else locate_entry() for i in range(n)])
    assert reg.verify_chain()["ok"]
    return reg


def sql(reg, statement, **params):
    with reg.engine.begin() as conn:
        conn.execute(text(statement), params)


def problems(reg):
    return [(p["seq"], p["problem"]) for p in reg.verify_chain()["problems"]]


def test_intact_chain_verifies(any_url):
    report = filled(any_url).verify_chain()
    assert report == {**report, "ok": True, "entries": 4, "last_seq": 4, "problems": []}


def test_changed_outcome_is_detected(any_url):
    reg = filled(any_url)
    sql(reg, "UPDATE register_entries SET outcome = 'not_eligible' WHERE seq = 3")
    assert problems(reg) == [(3, "altered")]


def test_changed_trace_is_detected(any_url):
    reg = filled(any_url)
    answer = json.loads(reg.get("1")["answer"] and json.dumps(reg.get("1")["answer"]))
    answer["amounts"]["total"] = 1.0
    sql(reg, "UPDATE register_entries SET answer = :a WHERE seq = 1", a=json.dumps(answer))
    assert problems(reg) == [(1, "altered")]


def test_rehashed_row_still_breaks_the_next_link(any_url):
    """Someone who recomputes the changed row's own hash still breaks its successor's link."""
    from eligibility.register import entries as E

    reg = filled(any_url)
    row = next(r for rows in reg.iter_rows() for r in rows if r["seq"] == 2)
    row["outcome"] = "inside"
    new_hash = E.link(2, row["prev_hash"], E.body_digest(row))
    sql(reg, "UPDATE register_entries SET outcome = 'inside', entry_hash = :h WHERE seq = 2", h=new_hash)
    assert problems(reg) == [(3, "broken_link")]


def test_deleted_row_is_detected(any_url):
    reg = filled(any_url)
    sql(reg, "DELETE FROM register_entries WHERE seq = 2")
    assert problems(reg) == [(3, "deleted")]


def test_deleted_newest_row_is_detected(any_url):
    reg = filled(any_url)
    sql(reg, "DELETE FROM register_entries WHERE seq = 4")
    assert problems(reg) == [(4, "truncated")]


def test_changed_quartier_is_detected(any_url):
    reg = filled(any_url)
    sql(reg, "UPDATE register_entries SET quartier = 'QN99999Z' WHERE seq = 1")
    assert problems(reg) == [(1, "altered")]


def test_changed_kept_facts_are_detected_and_purge_keeps_the_chain(any_url):
    reg = filled(any_url, keep_facts=True)
    sql(reg, "UPDATE register_personal SET facts = :f WHERE seq = 1", f=json.dumps({"employee.birth_date": "1980-01-01"}))
    assert problems(reg) == [(1, "facts_altered")]
    assert reg.purge("2999-01-01") == 4  # every kept fact erased; the entries and their chain remain
    assert reg.verify_chain()["ok"] and reg.get("1")["facts_kept"] is False


def test_verify_chain_command_exit_codes(sqlite_url):
    reg = filled(sqlite_url)
    runner = CliRunner()
    ok = runner.invoke(qpv, ["register", "verify-chain", "--register", sqlite_url])
    assert ok.exit_code == 0 and "Chaîne intacte : 4 entrée(s)." in ok.output
    sql(reg, "DELETE FROM register_entries WHERE seq = 2")
    bad = runner.invoke(qpv, ["register", "verify-chain", "--register", sqlite_url, "--json"])
    assert bad.exit_code == 1
    assert json.loads(bad.output)["problems"][0]["problem"] == "deleted"
