"""First schema: entries with their hash chain, personal data apart, archived rule texts, the head.

Revision ID: r0001
"""
import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "register_entries",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("attestation_id", sa.String(32), nullable=False),
        sa.Column("attestation_sha256", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("served", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("dispositif", sa.String(64)),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("rule_id", sa.String(64)),
        sa.Column("rule_version", sa.String(32)),
        sa.Column("rule_sha256", sa.String(64)),
        sa.Column("data_sha256", sa.String(64), nullable=False),
        sa.Column("decision_date", sa.String(10)),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("versions", sa.Text, nullable=False),
        sa.Column("facts_sha256", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_register_entries_attestation_id", "register_entries", ["attestation_id"])
    op.create_table(
        "register_personal",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("facts", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
    )
    op.create_table(
        "register_rules",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("file", sa.String(255), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_table(
        "register_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )
    op.execute(sa.text("INSERT INTO register_head (id, seq, entry_hash) VALUES (1, 0, '" + "0" * 64 + "')"))


def downgrade() -> None:
    for table in ("register_head", "register_rules", "register_personal", "register_entries"):
        op.drop_table(table)
