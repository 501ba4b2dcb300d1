"""Inventories measured live: the level tag of an inventory's tank and the tank's shape.

Revision ID: 0017_inventory_levels
Revises: 0016_reports
Create Date: 2026-12-06 00:00:08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_inventory_levels"
down_revision: str | None = "0016_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("inventories", sa.Column("level_tag", sa.Text(), nullable=True))
    op.add_column("inventories", sa.Column("shape", sa.Text(), nullable=True))


def downgrade() -> None:
    # plain DROP COLUMN (SQLite >= 3.35), as 0013_gb18218 does
    op.drop_column("inventories", "shape")
    op.drop_column("inventories", "level_tag")
