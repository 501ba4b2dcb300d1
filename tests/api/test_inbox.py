"""In-app notifications: stored once per key, read by their owner only, marked read."""

from __future__ import annotations

from typing import Any

from hazwatch.respond.notify.channels.inapp import InboxEntry
from hazwatch.runtime.platform import Platform

Api = Any
T0 = 1_800_000_000_000


def _entry(key: str, at: int) -> InboxEntry:
    return InboxEntry(
        key=key, title=f"alarm {key}", text="Cl2 AT-103 HH", rank=3, at=at, notice_ids=("7.HH",)
    )


def test_people_read_their_own_notifications_newest_first_and_mark_them_read(api: Api) -> None:
    platform: Platform = api.client.app.state.platform
    platform.inbox.put("op-a", _entry("k1", T0))
    platform.inbox.put("op-a", _entry("k2", T0 + 1000))
    platform.inbox.put("op-a", _entry("k1", T0 + 5000))  # a replay changes nothing
    platform.inbox.put("op-b", _entry("k3", T0))
    mine = api.get("op-a", "/inbox").json()
    assert [n["key"] for n in mine] == ["k2", "k1"]
    assert all(n["read_at"] is None for n in mine)
    assert api.post("op-a", "/inbox/k1/read").status_code == 204
    assert [n["read_at"] is None for n in api.get("op-a", "/inbox").json()] == [True, False]
    assert api.post("op-a", "/inbox/k3/read").status_code == 404, "not op-a's"
    assert [n["key"] for n in api.get("op-b", "/inbox").json()] == ["k3"]
    assert [e.key for e in platform.inbox.entries("op-a")] == ["k1", "k2"]
