"""Contacts: posts held and notification preferences of each user.

Revision ID: 0007_contacts
Revises: 0006_playbooks
Create Date: 2026-11-28 00:00:03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_contacts"
down_revision: str | None = "0006_playbooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("username", name="pk_contacts"),
    )


def downgrade() -> None:
    op.drop_table("contacts")
