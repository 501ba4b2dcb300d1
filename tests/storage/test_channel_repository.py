"""Notification channels in the database: created, replaced, read back whole, removed; and
the migration that adds their table, up and down."""

from __future__ import annotations

from sqlalchemy import inspect, select

from hazwatch.respond.notify.channel_config import ChannelEntry, parse_channel
from hazwatch.storage.channel_repository import ChannelRepository
from hazwatch.storage.database import Database
from hazwatch.storage.outcome import PutOutcome
from hazwatch.storage.schema import channels

T0 = 1_800_000_000_000

HOOK = parse_channel(
    {
        "name": "ops-hook",
        "kind": "webhook",
        "config": {"url": "https://hooks.example.cn/in", "secret": "whsec-1"},
    }
)
MAIL = parse_channel(
    {
        "name": "mail",
        "kind": "email",
        "enabled": False,
        "config": {
            "host": "smtp.example.cn",
            "port": 587,
            "tls": "starttls",
            "sender": "alarm@example.cn",
            "username": "alarm",
            "password": "smtp-pw",
        },
    }
)


def test_put_creates_then_replaces(db: Database) -> None:
    repo = ChannelRepository(db)
    assert repo.put(HOOK, actor="admin", now=T0) is PutOutcome.CREATED
    moved = parse_channel(
        {
            "name": "ops-hook",
            "kind": "webhook",
            "enabled": False,
            "config": {"url": "https://other.example.cn/in", "secret": "whsec-2"},
        }
    )
    assert repo.put(moved, actor="li", now=T0 + 1) is PutOutcome.REPLACED
    assert repo.get("ops-hook") == moved
    with db.engine.connect() as conn:
        row = conn.execute(select(channels)).one()
    assert (row.kind, row.enabled, row.updated_at, row.updated_by) == (
        "webhook",
        False,
        T0 + 1,
        "li",
    )


def test_secrets_are_kept_whole_and_entries_listed_by_name(db: Database) -> None:
    repo = ChannelRepository(db)
    for entry in (MAIL, HOOK):
        repo.put(entry, actor="admin", now=T0)
    listed = ChannelRepository(db).list()
    assert [e.name for e in listed] == ["mail", "ops-hook"]
    assert listed == [MAIL, HOOK], "secrets and every field survive the database"
    assert repo.get("nothing") is None


def test_a_kind_can_change_under_one_name(db: Database) -> None:
    repo = ChannelRepository(db)
    repo.put(HOOK, actor="admin", now=T0)
    robot = parse_channel(
        {
            "name": "ops-hook",
            "kind": "wecom",
            "config": {"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"},
        }
    )
    repo.put(robot, actor="admin", now=T0)
    stored = repo.get("ops-hook")
    assert isinstance(stored, ChannelEntry) and stored.kind == "wecom"


def test_delete_removes_once(db: Database) -> None:
    repo = ChannelRepository(db)
    repo.put(HOOK, actor="admin", now=T0)
    assert repo.delete("ops-hook")
    assert not repo.delete("ops-hook")
    assert repo.get("ops-hook") is None and repo.list() == []


def test_the_migration_adds_and_drops_the_table(db: Database) -> None:
    ChannelRepository(db).put(HOOK, actor="admin", now=T0)
    db.downgrade("0010_inbox")
    with db.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert "channels" not in tables and "inbox" in tables
    db.upgrade("0011_channels")
    with db.engine.connect() as conn:
        assert "channels" in inspect(conn).get_table_names()
    assert ChannelRepository(db).list() == []
    db.upgrade()
