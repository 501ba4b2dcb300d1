"""In-app notifications per user.

Revision ID: 0010_inbox
Revises: 0009_deliveries
Create Date: 2026-11-28 00:00:06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_inbox"
down_revision: str | None = "0009_deliveries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("notice_ids", sa.Text(), nullable=False),
        sa.Column("read_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_inbox"),
    )
    op.create_index("ix_inbox_username_at", "inbox", ["username", "at"])


def downgrade() -> None:
    op.drop_index("ix_inbox_username_at", table_name="inbox")
    op.drop_table("inbox")
