"""Round trips through the register, on SQLite and on a real PostgreSQL server."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import text

from eligibility.errors import RegisterUnavailable
from eligibility.register import Register, lookup_attestation
from eligibility.register import entries as E
from eligibility.web.attestation import flat_facts

from .conftest import EXAMPLE_FACTS, decision_entry, locate_entry, open_register


def test_round_trip_keeps_every_field(any_url):
    reg = open_register(any_url)
    built = [decision_entry(), locate_entry(date=dt.date(2025, 1, 1))]
    done = reg.append(built)
    assert [d["seq"] for d in done] == [1, 2]
    first = reg.get("1")
    row = built[0]["row"]
    assert first["attestation_id"] == row["attestation_id"] and first["attestation_id"].startswith("QPV-")
    assert (first["kind"], first["outcome"], first["quartier"]) == ("dispositif", "eligible", "QN04004M")
    assert first["rule"] == {"id": "emplois-francs", "version": row["rule_version"], "sha256": row["rule_sha256"]}
    assert first["decision_date"] == "2024-03-01"
    assert first["data_sha256"] == E.data_fingerprint()
    assert first["answer"] == json.loads(E.expand(row["answer"], built[0]["fragments"]))  # shared parts put back
    assert first["question"] == {"kind": "evaluate", "dispositif": "emplois-francs", "date": None}
    assert first["facts_sha256"] == E.sha256_of(flat_facts(EXAMPLE_FACTS))
    second = reg.get(built[1]["row"]["attestation_id"].lower())  # by attestation identifier, any case
    assert second["id"] == 2 and second["kind"] == "locate" and second["outcome"] == "outside"
    assert second["decision_date"] == "2025-01-01"


def test_personal_values_are_hashed_unless_facts_are_kept(any_url):
    plain = open_register(any_url)
    plain.append([decision_entry()])
    entry = plain.get("1")
    stored = json.dumps(entry["answer"])
    assert "-0.506648" not in stored and "43.900985" not in stored  # the residence point
    assert "1990-05-12" not in json.dumps(entry)  # the birth date
    assert entry["facts_kept"] is False and "facts" not in entry
    kept = Register(any_url, keep_facts=True)
    kept.append([decision_entry()])
    full = kept.get("2")
    assert full["facts_kept"] is True
    assert full["facts"]["employee.birth_date"] == "1990-05-12"
    assert E.sha256_of(full["facts"]) == full["facts_sha256"]
    assert E.redact(full["full_answer"]) == full["answer"]


def test_list_filters(any_url):
    reg = open_register(any_url)
    reg.append([decision_entry(recorded_at="2026-03-01T10:00:00.000000Z"),
                locate_entry(date=dt.date(2025, 1, 1), recorded_at="2026-03-15T10:00:00.000000Z"),
                decision_entry(facts={**EXAMPLE_FACTS, "employee": {**EXAMPLE_FACTS["employee"], "status": "other"}},
                               recorded_at="2026-04-01T00:00:00.000000Z")])
    ids = lambda **kw: [e["id"] for e in reg.list(**kw)]  # noqa: E731
    assert ids() == [1, 2, 3]
    assert ids(date_from="2026-03-02") == [2, 3]
    assert ids(date_to="2026-03-15") == [1, 2]  # the whole last day is included
    assert ids(dispositif="emplois-francs") == [1, 3]
    assert ids(dispositif="locate") == [2]
    assert ids(outcome="not_eligible") == [3]
    assert ids(quartier="qn04004m") == [1, 3]
    assert ids(limit=1, offset=1) == [2]


def test_lookup_attestation_counts_every_recording(any_url):
    reg = open_register(any_url)
    built = decision_entry()
    reg.append([built, decision_entry()])
    found = lookup_attestation(built["row"]["attestation_id"], reg)
    assert found["recorded"] == 2 and found["entries"] == [1, 2]
    assert lookup_attestation("QPV-0000-0000-0000-0000-0000", reg) is None


def test_bulk_append_in_chunks_keeps_order_and_chain(any_url, monkeypatch):
    from eligibility.register import store

    monkeypatch.setattr(store, "BULK_ROWS", 7)  # several transactions for 30 rows
    reg = open_register(any_url)
    one = decision_entry()
    done = reg.append(dict(one, row=dict(one["row"], recorded_at=f"2026-01-01T00:00:{i:02d}.000000Z")) for i in range(30))
    assert [d["seq"] for d in done] == list(range(1, 31))
    report = reg.verify_chain()
    assert report["ok"] and report["entries"] == 30


def test_rule_text_is_archived_once(any_url):
    reg = open_register(any_url)
    reg.append([decision_entry(), decision_entry()])
    sha = reg.get("1")["rule"]["sha256"]
    archived = reg.rule_text(sha)
    assert archived["file"] == "emplois-francs.yaml"
    import hashlib

    assert hashlib.sha256(archived["text"].encode()).hexdigest() == sha
    with reg.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM register_rules")).scalar() == 1


def test_unreachable_server_is_a_french_error():
    with pytest.raises(RegisterUnavailable) as err:
        Register("postgresql://nobody@127.0.0.1:1/none")
    assert "registre injoignable" in str(err.value)


def test_unknown_url_scheme_is_refused(tmp_path):
    with pytest.raises(RegisterUnavailable, match="adresse de registre non reconnue"):
        Register("mysql://x@localhost/y")


def test_postgresql_connection_closed_by_the_server_is_retried_once(pg_url):
    """The pool does not ping each checkout: a pooled connection the server has closed (restart, idle timeout)
    fails once and the append is retried on a fresh one, so the answer is still recorded."""
    import psycopg

    reg = open_register(pg_url)
    reg.append([locate_entry()])  # a connection now waits in the pool
    with psycopg.connect(pg_url) as admin:  # the server closes every other session of the database
        killed = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]
    assert killed >= 1
    assert [d["seq"] for d in reg.append([locate_entry()])] == [2]
    report = reg.verify_chain()
    assert report["ok"] and report["entries"] == 2


def test_retried_append_whose_first_attempt_committed_is_not_written_twice(pg_url):
    """The connection drops after the server committed, before its answer arrived: the retry finds the very
    entries (same recording time, same content) and returns them instead of appending them a second time.
    Here the first attempt of the second append fails on a connection the server closed, and the same built
    entries are in the register already, as they would be had the lost answer been a commit."""
    import psycopg

    reg = open_register(pg_url)
    built = [locate_entry(), decision_entry(), locate_entry(lon=1.35, lat=44.0)]
    assert [d["seq"] for d in reg.append(built)] == [1, 2, 3]
    with psycopg.connect(pg_url) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    assert reg.append(built) == [{"seq": i, "attestation_id": e["row"]["attestation_id"]} for i, e in enumerate(built, 1)]
    assert reg.verify_chain()["entries"] == 3
    other = locate_entry(lon=1.36, lat=44.01)  # not in the register: the retry writes it
    with psycopg.connect(pg_url) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    assert [d["seq"] for d in reg.append([other])] == [4]
    assert reg.verify_chain()["ok"]


def test_bulk_append_bigger_than_one_postgresql_statement_is_one_chain(any_url, monkeypatch):
    """On PostgreSQL a bulk over PG_STATEMENT_ROWS is several register_append statements in one transaction."""
    from eligibility.register import store

    monkeypatch.setattr(store, "PG_STATEMENT_ROWS", 2)
    reg = open_register(any_url, keep_facts=True)
    reg.append([locate_entry()])
    done = reg.append([decision_entry() if i % 2 else locate_entry() for i in range(5)])
    assert [d["seq"] for d in done] == [2, 3, 4, 5, 6]
    report = reg.verify_chain()
    assert report["ok"] and report["entries"] == 6
    assert [e["facts_kept"] for e in (reg.get(str(i)) for i in range(1, 7))] == [True] * 6
