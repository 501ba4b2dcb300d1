"""Early warnings: ``warnings`` (the current state of each) and ``warning_journal``.

Revision ID: 0004_warnings
Revises: 0003_packed_readings
Create Date: 2026-12-05 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_warnings"
down_revision: str | None = "0003_packed_readings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "warnings",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("detector", sa.Text(), nullable=False),
        sa.Column("installation", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("scope_path", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("colour", sa.Text(), nullable=False),
        sa.Column("raised_colour", sa.Text(), nullable=False),
        sa.Column("colour_since", sa.BigInteger(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("last_observed_at", sa.BigInteger(), nullable=False),
        sa.Column("observations", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("active_since", sa.BigInteger(), nullable=False),
        sa.Column("acknowledged_at", sa.BigInteger(), nullable=True),
        sa.Column("acknowledged_by", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.BigInteger(), nullable=True),
        sa.Column("closed_by", sa.Text(), nullable=True),
        sa.Column("close_cause", sa.Text(), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("escalations", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_warnings"),
        sa.ForeignKeyConstraint(
            ["scope_id"], ["scope_nodes.id"], name="fk_warnings_scope_id_scope_nodes"
        ),
    )
    op.create_index("ix_warnings_key", "warnings", ["key"])
    op.create_index("ix_warnings_scope_path", "warnings", ["scope_path"])
    op.create_table(
        "warning_journal",
        sa.Column("warning_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("input", sa.Text(), nullable=False),
        sa.Column("from_state", sa.Text(), nullable=True),
        sa.Column("to_state", sa.Text(), nullable=False),
        sa.Column("from_colour", sa.Text(), nullable=True),
        sa.Column("to_colour", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("warning_id", "seq", name="pk_warning_journal"),
        sa.ForeignKeyConstraint(
            ["warning_id"],
            ["warnings.id"],
            name="fk_warning_journal_warning_id_warnings",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_warning_journal_at", "warning_journal", ["at"])


def downgrade() -> None:
    op.drop_table("warning_journal")
    op.drop_table("warnings")
