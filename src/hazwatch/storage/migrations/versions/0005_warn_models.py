"""Trained process monitors: ``warn_models``, versioned per installation.

Revision ID: 0005_warn_models
Revises: 0004_warnings
Create Date: 2026-12-12 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_warn_models"
down_revision: str | None = "0004_warnings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "warn_models",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("installation", sa.Text(), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("period_ms", sa.BigInteger(), nullable=False),
        sa.Column("variables", sa.Text(), nullable=False),
        sa.Column("trained_from", sa.BigInteger(), nullable=False),
        sa.Column("trained_to", sa.BigInteger(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("model", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_warn_models"),
        sa.ForeignKeyConstraint(
            ["scope_id"], ["scope_nodes.id"], name="fk_warn_models_scope_id_scope_nodes"
        ),
        sa.UniqueConstraint("installation", "version", name="uq_warn_models_installation_version"),
    )


def downgrade() -> None:
    op.drop_table("warn_models")
