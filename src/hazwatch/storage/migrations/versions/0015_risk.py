"""Dynamic risk colour: an enterprise's assessment score, and the history of colour changes.

Revision ID: 0015_risk
Revises: 0014_place_enterprise
Create Date: 2026-12-06 00:00:06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_risk"
down_revision: str | None = "0014_place_enterprise"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("scope_nodes", sa.Column("assessment_score", sa.Double(), nullable=True))
    op.create_table(
        "risk_history",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("colour", sa.Text(), nullable=False),
        sa.Column("previous", sa.Text(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_risk_history"),
        sa.ForeignKeyConstraint(
            ["scope_id"],
            ["scope_nodes.id"],
            name="fk_risk_history_scope_id_scope_nodes",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_risk_history_scope_id_at", "risk_history", ["scope_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_risk_history_scope_id_at", table_name="risk_history")
    op.drop_table("risk_history")
    op.drop_column("scope_nodes", "assessment_score")  # plain DROP COLUMN, as in 0013
