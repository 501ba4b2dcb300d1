"""The enterprise a park's place belongs to, whose posts are warned when a plume reaches it.

Revision ID: 0014_place_enterprise
Revises: 0013_gb18218
Create Date: 2026-12-06 00:00:05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_place_enterprise"
down_revision: str | None = "0013_gb18218"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("park_places", sa.Column("enterprise", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("park_places", "enterprise")
