"""GB 18218 inputs of the plant: people near an installation, category of an inventory.

Revision ID: 0013_gb18218
Revises: 0012_incidents
Create Date: 2026-12-06 00:00:04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_gb18218"
down_revision: str | None = "0012_incidents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("scope_nodes", sa.Column("people_within_500m", sa.Integer(), nullable=True))
    op.add_column("inventories", sa.Column("category", sa.Text(), nullable=True))


def downgrade() -> None:
    # plain DROP COLUMN (SQLite >= 3.35): a batch copy of scope_nodes would drop the table
    # that every other table's foreign keys point at
    op.drop_column("inventories", "category")
    op.drop_column("scope_nodes", "people_within_500m")
