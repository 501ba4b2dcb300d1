"""Playbooks (every version) and the journals of their runs.

Revision ID: 0006_playbooks
Revises: 0005_warn_models
Create Date: 2026-11-28 00:00:02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_playbooks"
down_revision: str | None = "0005_warn_models"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "playbooks",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name="pk_playbooks"),
    )
    op.create_table(
        "playbook_runs",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("playbook", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("occurrence", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("step", sa.Text(), nullable=False),
        sa.Column("step_since", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", sa.BigInteger(), nullable=True),
        sa.Column("acknowledged_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_playbook_runs"),
    )
    op.create_index("ix_playbook_runs_status", "playbook_runs", ["status"])
    op.create_table(
        "playbook_run_entries",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("step", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "seq", name="pk_playbook_run_entries"),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["playbook_runs.id"],
            name="fk_playbook_run_entries_run_id_playbook_runs",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("playbook_run_entries")
    op.drop_index("ix_playbook_runs_status", table_name="playbook_runs")
    op.drop_table("playbook_runs")
    op.drop_table("playbooks")
