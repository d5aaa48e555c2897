"""Shared fragments: the parts of answers that are the same for every decision of a rule or data version (legal
references, parameters, datasets cited) are stored once, in `register_fragments`, under the sha256 of their
canonical JSON, and new entries refer to them (`entries.FRAGMENT_KEYS`). Entries already recorded keep their
whole answer: their hashes cover it as stored, so they are not rewritten.

Revision ID: r0004
"""
import sqlalchemy as sa
from alembic import op

revision = "r0004"
down_revision = "r0003"


def upgrade() -> None:
    op.create_table(
        "register_fragments",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("register_fragments")
