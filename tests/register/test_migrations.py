"""Alembic migrations: from an empty database, and from the previous schema (r0001) with entries in it."""
from __future__ import annotations

import json

from sqlalchemy import inspect, text

from eligibility.register import Register
from eligibility.register import entries as E
from eligibility.register.schema import GENESIS, REVISION

from .conftest import decision_entry, locate_entry


def test_empty_database_gets_the_newest_schema(any_url):
    reg = Register(any_url)
    assert reg.schema_revision() == REVISION
    tables = set(inspect(reg.engine).get_table_names())
    assert {"register_entries", "register_personal", "register_rules", "register_head", "register_alembic_version"} <= tables
    assert "quartier" in {c["name"] for c in inspect(reg.engine).get_columns("register_entries")}
    Register(any_url)  # opening again is a no-op
    assert reg.schema_revision() == REVISION


def test_previous_schema_is_migrated_with_its_entries(any_url):
    old = Register(any_url, migrate=False)
    old.migrate("r0001")
    assert "quartier" not in {c["name"] for c in inspect(old.engine).get_columns("register_entries")}
    # Entries written by the r0001 code: same columns, no quartier.
    prev = GENESIS
    with old.engine.begin() as conn:
        for seq, built in enumerate([decision_entry(), locate_entry()], start=1):
            row = {k: v for k, v in built["row"].items() if k != "quartier"}
            row["answer"] = E.expand(row["answer"], built["fragments"])  # whole: the r0001 code had no fragments
            row.update(seq=seq, prev_hash=prev, entry_hash=E.link(seq, prev, E.body_digest(row)))
            prev = row["entry_hash"]
            conn.execute(text(f"INSERT INTO register_entries ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"), row)
        conn.execute(text("UPDATE register_head SET seq = 2, entry_hash = :h WHERE id = 1"), {"h": prev})
    new = Register(any_url)  # migrates to head
    assert new.schema_revision() == REVISION
    assert new.get("1")["quartier"] == "QN04004M"  # filled from the recorded answer
    assert new.get("2")["quartier"] is None
    assert new.verify_chain()["ok"]
    new.append([decision_entry()])  # the chain goes on from the migrated entries
    report = new.verify_chain()
    assert report["ok"] and report["entries"] == 3
    assert [e["id"] for e in new.list(quartier="QN04004M")] == [1, 3]
    assert json.loads(json.dumps(new.get("3")["question"]))["dispositif"] == "emplois-francs"


def test_the_revision_a_register_is_checked_against_is_alembic_head():
    """Opening a register skips Alembic when the database is at schema.REVISION: it must be the real head."""
    from pathlib import Path

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import eligibility.register.store as store

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(store.__file__).parent / "migrations"))
    assert ScriptDirectory.from_config(cfg).get_heads() == [REVISION]


def test_an_up_to_date_register_is_opened_without_alembic(any_url, monkeypatch):
    Register(any_url)
    monkeypatch.setattr(Register, "migrate", lambda self, revision="head": (_ for _ in ()).throw(AssertionError("migrated")))
    assert Register(any_url).schema_revision() == REVISION
