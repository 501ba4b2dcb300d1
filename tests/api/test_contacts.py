"""Contacts through the API: admins set posts, people set their own preferences."""

from __future__ import annotations

from typing import Any

Api = Any

LI_NA = {
    "posts": [{"position": "shift-operator", "scope": "ea.s.i"}],
    "channels": ["dingtalk", "email", "inapp"],
    "addresses": {"email": "li.na@example.cn", "dingtalk": "https://oapi.dingtalk.com/robot/x"},
    "min_priority": "medium",
    "quiet_hours": {"start": "22:00", "end": "07:00", "zone": "Asia/Shanghai"},
}


def test_an_admin_sets_a_contact_and_reads_it_back(api: Api) -> None:
    saved = api.client.put("/api/v1/contacts/op-a", json=LI_NA, headers=api.as_user("admin"))
    assert saved.status_code == 200, saved.text
    read = api.get("admin", "/contacts/op-a").json()
    assert read["posts"] == LI_NA["posts"]
    assert read["quiet_hours"] == {"start": "22:00", "end": "07:00", "zone": "Asia/Shanghai"}
    assert [c["user"] for c in api.get("admin", "/contacts").json()] == ["op-a"]


def test_people_set_their_own_preferences_but_not_their_posts(api: Api) -> None:
    api.client.put("/api/v1/contacts/op-a", json=LI_NA, headers=api.as_user("admin"))
    own = LI_NA | {"channels": ["sms"], "addresses": {"sms": "+8613800000000"}}
    assert (
        api.client.put("/api/v1/contacts/op-a", json=own, headers=api.as_user("op-a")).status_code
        == 200
    )
    assert api.get("op-a", "/contacts/op-a").json()["channels"] == ["sms"]
    promoted = own | {"posts": [{"position": "enterprise-head", "scope": "ea"}]}
    refused = api.client.put("/api/v1/contacts/op-a", json=promoted, headers=api.as_user("op-a"))
    assert refused.status_code == 403 and "posts" in refused.json()["detail"]
    other = api.client.put("/api/v1/contacts/op-b", json=own, headers=api.as_user("op-a"))
    assert other.status_code == 403
    assert api.get("op-a", "/contacts/op-b").status_code == 403
    assert api.get("op-a", "/contacts").status_code == 403


def test_a_bad_contact_names_the_field(api: Api) -> None:
    bad = LI_NA | {
        "channels": ["pigeon"],
        "quiet_hours": {"start": "22:00", "end": "07:00", "zone": "Mars/Olympus"},
    }
    refused = api.client.put("/api/v1/contacts/op-a", json=bad, headers=api.as_user("admin"))
    assert refused.status_code == 422
    fields = [tuple(e["loc"]) for e in refused.json()["detail"]]
    assert ("body", "channels", 0) in fields
    assert ("body", "quiet_hours", "zone") in fields
    assert api.get("admin", "/contacts/nobody").status_code == 404
