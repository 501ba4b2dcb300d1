"""Reports: schedules, produced reports and their files.

Revision ID: 0016_reports
Revises: 0015_risk
Create Date: 2026-12-06 00:00:07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_reports"
down_revision: str | None = "0015_risk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "report_schedules",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("scope_path", sa.Text(), nullable=False),
        sa.Column("period_kind", sa.Text(), nullable=False),
        sa.Column("zone", sa.Text(), nullable=False),
        sa.Column("formats", sa.Text(), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("since", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_report_schedules"),
        sa.ForeignKeyConstraint(
            ["scope_id"],
            ["scope_nodes.id"],
            name="fk_report_schedules_scope_id_scope_nodes",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_report_schedules_scope_path", "report_schedules", ["scope_path"])
    op.create_table(
        "reports",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("schedule", sa.Text(), nullable=True),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("scope_kind", sa.Text(), nullable=False),
        sa.Column("scope_key", sa.Text(), nullable=False),
        sa.Column("scope_name", sa.Text(), nullable=False),
        sa.Column("scope_path", sa.Text(), nullable=False),
        sa.Column("period_kind", sa.Text(), nullable=False),
        sa.Column("zone", sa.Text(), nullable=False),
        sa.Column("period_start", sa.BigInteger(), nullable=False),
        sa.Column("period_end", sa.BigInteger(), nullable=False),
        sa.Column("formats", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column("claim", sa.Text(), nullable=True),
        sa.Column("claimed_at", sa.BigInteger(), nullable=True),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=True),
        sa.Column("delivery", sa.Text(), nullable=False),
        sa.Column("delivery_attempts", sa.Integer(), nullable=False),
        sa.Column("delivered_at", sa.BigInteger(), nullable=True),
        sa.Column("delivery_error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reports"),
        sa.UniqueConstraint(
            "schedule",
            "period_start",
            "period_end",
            name="uq_reports_schedule_period_start_period_end",
        ),
    )
    op.create_index("ix_reports_scope_path", "reports", ["scope_path"])
    op.create_index("ix_reports_created_at", "reports", ["created_at"])
    op.create_table(
        "report_files",
        sa.Column("report_id", BIG_ID, nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column("media_type", sa.Text(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("report_id", "format", name="pk_report_files"),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name="fk_report_files_report_id_reports",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("report_files")
    op.drop_index("ix_reports_created_at", table_name="reports")
    op.drop_index("ix_reports_scope_path", table_name="reports")
    op.drop_table("reports")
    op.drop_index("ix_report_schedules_scope_path", table_name="report_schedules")
    op.drop_table("report_schedules")
