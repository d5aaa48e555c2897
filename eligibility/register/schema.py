"""The register's tables (the schema at the newest Alembic revision; migrations/ builds it step by step).

- `register_entries`: one row per answer served, append-only. Its `answer` is the answer with the
  personal values of its trace replaced by their hashes (`entries.redact`), so it can be kept for as
  long as the decision must be justified. `prev_hash`/`entry_hash` chain the rows (`chain.py`).
- `register_personal`: the facts and the unredacted answer, only when the operator keeps facts in full;
  `purge` deletes these rows, which the chain does not cover.
- `register_rules`: the text of every rule file a recorded decision used, by sha256, so `recheck` can
  recompute with the rules of the day of the decision.
- `register_fragments`: the parts of answers that are the same for every decision of a rule or data version
  (legal references, parameters, datasets cited), each stored once under the sha256 of its canonical JSON;
  an entry's `answer` refers to them (`entries.FRAGMENT_KEYS`). The chain covers the references, and each
  fragment's key is its own hash, so a changed or removed fragment is detected too.
- `register_head`: one row, the last sequence number and hash, so that removing the newest entries is
  detected too.
"""
from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

entries = Table(
    "register_entries", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("recorded_at", String(32), nullable=False),  # UTC, ISO 8601 with microseconds and "Z": sorts as text
    Column("attestation_id", String(32), nullable=False),
    Column("attestation_sha256", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # locate | dispositif
    Column("served", String(16), nullable=False),  # answer | attestation
    Column("channel", String(16), nullable=False),  # service | cli | batch
    Column("dispositif", String(64)),
    Column("outcome", String(32), nullable=False),
    Column("quartier", String(32)),
    Column("rule_id", String(64)),
    Column("rule_version", String(32)),
    Column("rule_sha256", String(64)),
    Column("data_sha256", String(64), nullable=False),
    Column("decision_date", String(10)),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("versions", Text, nullable=False),
    Column("facts_sha256", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
)
Index("ix_register_entries_attestation_id", entries.c.attestation_id)
Index("ix_register_entries_recorded_at", entries.c.recorded_at)
Index("ix_register_entries_dispositif", entries.c.dispositif)
Index("ix_register_entries_quartier", entries.c.quartier)

personal = Table(
    "register_personal", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("recorded_at", String(32), nullable=False),
    Column("facts", Text, nullable=False),
    Column("answer", Text, nullable=False),
)
Index("ix_register_personal_recorded_at", personal.c.recorded_at)

rules = Table(
    "register_rules", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("rule_id", String(64), nullable=False),
    Column("file", String(255), nullable=False),
    Column("text", Text, nullable=False),
)

fragments = Table(
    "register_fragments", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("body", Text, nullable=False),  # canonical JSON; sha256(body) == sha256
)

head = Table(
    "register_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("entry_hash", String(64), nullable=False),
)

GENESIS = "0" * 64
# The newest Alembic revision (tests check it is the migrations' head): a register already there is not
# handed to Alembic at all when opened.
REVISION = "r0004"
