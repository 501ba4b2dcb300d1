"""Incidents: timeline, tasks; emergency-plan templates.

Revision ID: 0012_incidents
Revises: 0011_channels
Create Date: 2026-12-06 00:00:03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_incidents"
down_revision: str | None = "0011_channels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), nullable=False),
        sa.Column("scope_key", sa.Text(), nullable=False),
        sa.Column("scope_path", sa.Text(), nullable=False),
        sa.Column("source_kind", sa.Text(), nullable=False),
        sa.Column("source_ref", sa.Text(), nullable=False),
        sa.Column("source_run", sa.Text(), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.BigInteger(), nullable=False),
        sa.Column("opened_by", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("closed_at", sa.BigInteger(), nullable=True),
        sa.Column("closed_by", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_incidents"),
    )
    op.create_index("ix_incidents_scope_path", "incidents", ["scope_path"])
    op.create_index("ix_incidents_source_run", "incidents", ["source_run"])
    op.create_index("ix_incidents_opened_at", "incidents", ["opened_at"])
    op.create_table(
        "incident_tasks",
        sa.Column("incident_key", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("assignee", sa.Text(), nullable=False),
        sa.Column("due_at", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("done_at", sa.BigInteger(), nullable=True),
        sa.Column("done_by", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("incident_key", "key", name="pk_incident_tasks"),
        sa.ForeignKeyConstraint(
            ["incident_key"],
            ["incidents.key"],
            name="fk_incident_tasks_incident_key_incidents",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "incident_timeline",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("incident_key", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_incident_timeline"),
        sa.ForeignKeyConstraint(
            ["incident_key"],
            ["incidents.key"],
            name="fk_incident_timeline_incident_key_incidents",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("incident_key", "key", name="uq_incident_timeline_incident_key_key"),
    )
    op.create_table(
        "emergency_plans",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name="pk_emergency_plans"),
    )


def downgrade() -> None:
    op.drop_table("emergency_plans")
    op.drop_table("incident_timeline")
    op.drop_table("incident_tasks")
    op.drop_index("ix_incidents_opened_at", table_name="incidents")
    op.drop_index("ix_incidents_source_run", table_name="incidents")
    op.drop_index("ix_incidents_scope_path", table_name="incidents")
    op.drop_table("incidents")
