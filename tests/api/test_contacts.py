"""Contacts through the API: admins set posts, people set their own preferences."""

from __future__ import annotations

from typing import Any

import pytest

Api = Any

LI_NA = {
    "posts": [{"position": "shift-operator", "scope": "ea.s.i"}],
    "channels": ["dingtalk", "email", "inapp"],
    "addresses": {"email": "li.na@example.cn", "dingtalk": "https://oapi.dingtalk.com/robot/x"},
    "min_priority": "medium",
    "quiet_hours": {"start": "22:00", "end": "07:00", "zone": "Asia/Shanghai"},
}


CHANNELS = {
    "dingtalk": {"kind": "dingtalk", "config": {"url": "https://oapi.dingtalk.com/robot/send"}},
    "email": {
        "kind": "email",
        "config": {"host": "smtp.example.cn", "port": 25, "tls": "none", "sender": "a@b.cn"},
    },
    "sms": {
        "kind": "sms",
        "config": {
            "url": "https://sms.example.cn/send",
            "body": '{"to": "{phone}", "text": "{text}"}',
        },
    },
}


@pytest.fixture(autouse=True)
def _channels(api: Api) -> None:
    for name, body in CHANNELS.items():
        put = api.client.put(f"/api/v1/channels/{name}", json=body, headers=api.as_user("admin"))
        assert put.status_code == 201, put.text


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
    for bad, field in (
        (
            LI_NA | {"quiet_hours": {"start": "22:00", "end": "07:00", "zone": "Mars/Olympus"}},
            ("body", "quiet_hours", "zone"),
        ),
        (LI_NA | {"channels": ["email", "pigeon"]}, ("body", "channels", 1)),  # not configured
        (LI_NA | {"addresses": {"pigeon": "loft 3"}}, ("body", "addresses", 0)),
    ):
        refused = api.client.put("/api/v1/contacts/op-a", json=bad, headers=api.as_user("admin"))
        assert refused.status_code == 422
        assert [tuple(e["loc"]) for e in refused.json()["detail"]] == [field]
    assert api.get("admin", "/contacts/nobody").status_code == 404
