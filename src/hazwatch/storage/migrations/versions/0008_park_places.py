"""Park places (schools, hospitals, residential areas…) and emergency resources.

Revision ID: 0008_park_places
Revises: 0007_contacts
Create Date: 2026-11-28 00:00:04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_park_places"
down_revision: str | None = "0007_contacts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "park_places",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_park_places"),
        sa.ForeignKeyConstraint(
            ["scope_id"], ["scope_nodes.id"], name="fk_park_places_scope_id_scope_nodes"
        ),
        sa.UniqueConstraint("scope_id", "key", name="uq_park_places_scope_id_key"),
    )
    op.create_table(
        "emergency_resources",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("capacity", sa.Double(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("available", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_emergency_resources"),
        sa.ForeignKeyConstraint(
            ["scope_id"], ["scope_nodes.id"], name="fk_emergency_resources_scope_id_scope_nodes"
        ),
        sa.UniqueConstraint("scope_id", "key", name="uq_emergency_resources_scope_id_key"),
    )


def downgrade() -> None:
    op.drop_table("emergency_resources")
    op.drop_table("park_places")
