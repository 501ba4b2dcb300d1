"""Notification channels through the API: admins only, secrets masked and kept, problems
naming the field, and a test message sent to a loopback receiver."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from ports import free_port
from receivers import HttpServer, http_receiver

Api = Any

SECRET = "whsec-test-1"


@pytest.fixture
def receiver() -> Iterator[HttpServer]:
    with http_receiver() as server:
        yield server


def _put(api: Api, name: str, body: object, user: str = "admin") -> httpx.Response:
    return api.client.put(f"/api/v1/channels/{name}", json=body, headers=api.as_user(user))


def _delete(api: Api, name: str, user: str = "admin") -> httpx.Response:
    return api.client.delete(f"/api/v1/channels/{name}", headers=api.as_user(user))


def _hook(url: str = "https://hooks.example.cn/in", secret: str = SECRET) -> dict[str, Any]:
    return {"kind": "webhook", "enabled": True, "config": {"url": url, "secret": secret}}


MAIL = {
    "kind": "email",
    "config": {
        "host": "smtp.example.cn",
        "port": 465,
        "tls": "ssl",
        "sender": "alarm@example.cn",
        "username": "alarm",
        "password": "smtp-pw",
    },
}


def test_an_admin_creates_replaces_reads_and_deletes_a_channel(api: Api) -> None:
    created = _put(api, "ops-hook", _hook())
    assert created.status_code == 201, created.text
    assert created.json() == {
        "name": "ops-hook",
        "kind": "webhook",
        "enabled": True,
        "config": {"url": "https://hooks.example.cn/in", "secret": "***"},
        "secrets_set": ["config.secret"],
    }
    replaced = _put(api, "ops-hook", _hook(url="https://other.example.cn/in") | {"enabled": False})
    assert replaced.status_code == 200, replaced.text
    read = api.get("admin", "/channels/ops-hook").json()
    assert read["config"]["url"] == "https://other.example.cn/in" and read["enabled"] is False
    _put(api, "mail", MAIL)
    assert [c["name"] for c in api.get("admin", "/channels").json()] == ["mail", "ops-hook"]
    assert _delete(api, "ops-hook").status_code == 204
    assert _delete(api, "ops-hook").status_code == 404
    assert api.get("admin", "/channels/ops-hook").status_code == 404


def test_secrets_never_leave_and_the_mask_keeps_them(api: Api, receiver: HttpServer) -> None:
    _put(api, "ops-hook", _hook(url=receiver.url + "/in"))
    _put(api, "mail", MAIL)
    listed = api.get("admin", "/channels").text
    assert SECRET not in listed and "smtp-pw" not in listed
    shown = api.get("admin", "/channels/ops-hook").json()
    assert shown["config"]["secret"] == "***"
    # a form round trip: the document as shown, sent back with one field changed
    shown["enabled"] = False
    assert _put(api, "ops-hook", shown).status_code == 200
    shown["enabled"] = True
    assert _put(api, "ops-hook", shown).status_code == 200
    sent = api.post("admin", "/channels/ops-hook/test", json={})
    assert sent.status_code == 200, sent.text
    (request,) = receiver.received
    digest = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-hazwatch-signature"] == f"sha256={digest}", "the secret was kept"


def test_a_mask_with_nothing_stored_is_refused(api: Api) -> None:
    refused = _put(api, "ops-hook", _hook(secret="***"))
    assert refused.status_code == 422
    assert refused.json()["problems"] == [
        "config.secret: '***' keeps a stored secret, and none is stored"
    ]


def test_a_bad_channel_answers_422_naming_each_field(api: Api) -> None:
    bad = {"kind": "email", "config": {"host": "smtp", "port": 0, "tls": "maybe"}}
    refused = _put(api, "mail", bad)
    assert refused.status_code == 422
    fields = {p.split(":")[0] for p in refused.json()["problems"]}
    assert fields == {"config.port", "config.tls", "config.sender"}
    wrong_url = _put(api, "ops-hook", _hook(url="not a url"))
    assert wrong_url.json()["problems"] == ["config.url: expected an http or https URL"]
    unknown = _put(api, "ops-hook", {"kind": "pigeon"})
    assert unknown.json()["problems"][0].startswith("kind: Input should be")
    assert api.get("admin", "/channels").json() == [], "nothing refused was stored"


def test_the_name_in_the_path_must_be_a_key_segment_and_match_the_body(api: Api) -> None:
    refused = _put(api, "Ops%20Hook", _hook())
    assert refused.status_code == 422
    assert refused.json()["problems"][0].startswith("name: expected a key segment")
    other = _put(api, "ops-hook", _hook() | {"name": "other"})
    assert other.status_code == 422
    assert other.json()["problems"] == [
        "name: 'other' differs from the name in the path 'ops-hook'"
    ]
    assert _put(api, "ops-hook", _hook() | {"name": "ops-hook"}).status_code == 201


def test_only_admins_read_or_write_channels(api: Api) -> None:
    _put(api, "ops-hook", _hook())
    for user in ("op-a", "viewer-a"):
        assert api.get(user, "/channels").status_code == 403
        assert api.get(user, "/channels/ops-hook").status_code == 403
        assert _put(api, "ops-hook", _hook(url="https://evil.example/in"), user).status_code == 403
        assert _delete(api, "ops-hook", user).status_code == 403
        assert api.post(user, "/channels/ops-hook/test", json={}).status_code == 403
    assert api.client.get("/api/v1/channels").status_code == 401
    assert (
        api.get("admin", "/channels/ops-hook")
        .json()["config"]["url"]
        .startswith("https://hooks.example.cn")
    )


def test_a_test_message_reaches_the_webhook_and_says_it_is_a_test(
    api: Api, receiver: HttpServer
) -> None:
    _put(api, "ops-hook", _hook(url="https://unused.example.cn/in") | {"enabled": False})
    sent = api.post(
        "admin", "/channels/ops-hook/test", json={"address": receiver.url + "/hook", "title": "KW"}
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["outcome"] == "sent" and sent.json()["channel"] == "ops-hook"
    (request,) = receiver.received
    assert request.path == "/hook", "the address in the body wins over the configured URL"
    document = request.json()
    assert document["title"] == "KW" and document["recipient"] == "admin"
    assert [n["source"] for n in document["notices"]] == ["test"]
    assert request.headers["idempotency-key"] == sent.json()["key"]


def test_a_failing_far_end_answers_502_with_the_channels_error(
    api: Api, receiver: HttpServer
) -> None:
    _put(api, "ops-hook", _hook(url=receiver.url + "/in"))
    receiver.default = (503, "receiver is down")
    down = api.post("admin", "/channels/ops-hook/test", json={})
    assert down.status_code == 502
    assert down.json()["retryable"] is True and "HTTP 503" in down.json()["detail"]
    receiver.default = (400, "bad request")
    refused = api.post("admin", "/channels/ops-hook/test", json={})
    assert refused.status_code == 502 and refused.json()["retryable"] is False
    assert len(receiver.received) == 2, "a test is tried once, without retries"
    nobody = f"http://127.0.0.1:{free_port()}/in"
    unreachable = api.post("admin", "/channels/ops-hook/test", json={"address": nobody})
    assert unreachable.status_code == 502 and unreachable.json()["retryable"] is True


def test_a_test_over_inapp_lands_in_the_callers_inbox(api: Api) -> None:
    assert _put(api, "inapp", {"kind": "inapp"}).status_code == 201
    sent = api.post("admin", "/channels/inapp/test", json={})
    assert sent.status_code == 200, sent.text
    (entry,) = api.get("admin", "/inbox").json()
    assert entry["key"] == sent.json()["key"] and "test message" in entry["title"]


def test_a_test_needs_an_address_where_the_channel_has_none(api: Api) -> None:
    _put(api, "mail", MAIL)
    refused = api.post("admin", "/channels/mail/test", json={})
    assert refused.status_code == 422
    assert refused.json()["problems"] == [
        "address: the email channel needs an e-mail address to send to"
    ]
    assert api.post("admin", "/channels/nothing/test", json={}).status_code == 404
