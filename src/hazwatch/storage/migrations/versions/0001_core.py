"""Core tables: scope tree, tags and limits, inventories, users and keys, alarms, dead letters.

Revision ID: 0001_core
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_core"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "scope_nodes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_scope_nodes"),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["scope_nodes.id"], name="fk_scope_nodes_parent_id_scope_nodes"
        ),
        sa.UniqueConstraint("path", name="uq_scope_nodes_path"),
        sa.UniqueConstraint("parent_id", "key", name="uq_scope_nodes_parent_id_key"),
    )
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("scope_path", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("range_lo", sa.Double(), nullable=False),
        sa.Column("range_hi", sa.Double(), nullable=False),
        sa.Column("period_s", sa.Double(), nullable=False),
        sa.Column("offline_after_s", sa.Double(), nullable=True),
        sa.Column("frozen_after_s", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tags"),
        sa.ForeignKeyConstraint(
            ["scope_id"], ["scope_nodes.id"], name="fk_tags_scope_id_scope_nodes"
        ),
        sa.UniqueConstraint("key", name="uq_tags_key"),
    )
    op.create_index("ix_tags_scope_id", "tags", ["scope_id"])
    op.create_index("ix_tags_scope_path", "tags", ["scope_path"])
    op.create_table(
        "tag_limits",
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("priority", sa.Text(), nullable=False),
        sa.Column("deadband", sa.Double(), nullable=False),
        sa.Column("on_delay_s", sa.Double(), nullable=False),
        sa.Column("off_delay_s", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("tag_id", "kind", name="pk_tag_limits"),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name="fk_tag_limits_tag_id_tags", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "inventories",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("chemical", sa.Text(), nullable=False),
        sa.Column("cas", sa.Text(), nullable=True),
        sa.Column("tonnes", sa.Double(), nullable=True),
        sa.Column("volume_m3", sa.Double(), nullable=True),
        sa.Column("density_t_per_m3", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inventories"),
        sa.ForeignKeyConstraint(
            ["scope_id"], ["scope_nodes.id"], name="fk_inventories_scope_id_scope_nodes"
        ),
    )
    op.create_index("ix_inventories_scope_id", "inventories", ["scope_id"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "role_bindings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "scope_id", name="pk_role_bindings"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_role_bindings_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["scope_id"], ["scope_nodes.id"], name="fk_role_bindings_scope_id_scope_nodes"
        ),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.ForeignKeyConstraint(
            ["scope_id"], ["scope_nodes.id"], name="fk_api_keys_scope_id_scope_nodes"
        ),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_table(
        "alarms",
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("condition", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("activated_at", sa.BigInteger(), nullable=True),
        sa.Column("acknowledged_at", sa.BigInteger(), nullable=True),
        sa.Column("shelved_until", sa.BigInteger(), nullable=True),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tag_id", "condition", name="pk_alarms"),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name="fk_alarms_tag_id_tags", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "alarm_journal",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("condition", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("from_state", sa.Text(), nullable=False),
        sa.Column("to_state", sa.Text(), nullable=False),
        sa.Column("input", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alarm_journal"),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name="fk_alarm_journal_tag_id_tags", ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "tag_id", "condition", "seq", name="uq_alarm_journal_tag_id_condition_seq"
        ),
    )
    op.create_index("ix_alarm_journal_at", "alarm_journal", ["at"])
    op.create_table(
        "dead_letters",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("scope_path", sa.Text(), nullable=False),
        sa.Column("tag_key", sa.Text(), nullable=True),
        sa.Column("ts", sa.BigInteger(), nullable=True),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
    )
    op.create_index("ix_dead_letters_received", "dead_letters", ["received"])
    op.create_index("ix_dead_letters_scope_path", "dead_letters", ["scope_path"])


def downgrade() -> None:
    op.drop_table("dead_letters")
    op.drop_table("alarm_journal")
    op.drop_table("alarms")
    op.drop_table("api_keys")
    op.drop_table("role_bindings")
    op.drop_table("users")
    op.drop_table("inventories")
    op.drop_table("tag_limits")
    op.drop_table("tags")
    op.drop_table("scope_nodes")
