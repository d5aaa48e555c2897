"""`qpv register list --quartier/--from/--to/--dispositif`: a quartier column (filled from each recorded
answer) and indexes for those filters; purge by date on the personal data.

The quartier is derived from the answer, which the hash chain covers, so filling it keeps the chain valid.

Revision ID: r0002
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision = "r0001"


def upgrade() -> None:
    with op.batch_alter_table("register_entries") as batch:
        batch.add_column(sa.Column("quartier", sa.String(32)))
    from eligibility.register.entries import quartier_of

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT seq, kind, answer FROM register_entries")).fetchall()
    for seq, kind, answer in rows:
        code = quartier_of(kind, json.loads(answer))
        if code is not None:
            bind.execute(sa.text("UPDATE register_entries SET quartier = :q WHERE seq = :s"), {"q": code, "s": seq})
    op.create_index("ix_register_entries_recorded_at", "register_entries", ["recorded_at"])
    op.create_index("ix_register_entries_dispositif", "register_entries", ["dispositif"])
    op.create_index("ix_register_entries_quartier", "register_entries", ["quartier"])
    op.create_index("ix_register_personal_recorded_at", "register_personal", ["recorded_at"])


def downgrade() -> None:
    op.drop_index("ix_register_personal_recorded_at", "register_personal")
    for name in ("quartier", "dispositif", "recorded_at"):
        op.drop_index(f"ix_register_entries_{name}", "register_entries")
    with op.batch_alter_table("register_entries") as batch:
        batch.drop_column("quartier")
