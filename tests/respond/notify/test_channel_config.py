"""Channel configuration: validation naming the field, masked secrets kept across a round
trip, and entries built into channels that send over loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from hazwatch.respond.notify.channel_config import (
    MASK,
    ChannelConfigError,
    ChannelEntry,
    ChannelKind,
    DingTalkConfig,
    EmailConfig,
    build_channel,
    document_of,
    masked_document,
    parse_channel,
)
from hazwatch.respond.notify.channels.dingtalk import DingTalkChannel
from hazwatch.respond.notify.channels.email import EmailChannel, Tls
from hazwatch.respond.notify.channels.inapp import InAppChannel, MemoryInbox
from hazwatch.respond.notify.channels.sms import SmsChannel
from hazwatch.respond.notify.channels.webhook import WebhookChannel
from hazwatch.respond.notify.channels.wecom import WeComChannel
from hazwatch.respond.notify.message import Recipient

if TYPE_CHECKING:
    from conftest import Factory, HttpServer, SmtpServer

ROBOT = "https://oapi.dingtalk.com/robot/send?access_token=abc"

VALID: dict[str, dict[str, Any]] = {
    "webhook": {"url": "https://hooks.example.cn/in", "secret": "whsec-1"},
    "dingtalk": {"url": ROBOT, "secret": "SEC-1"},
    "wecom": {"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"},
    "email": {
        "host": "smtp.example.cn",
        "port": 465,
        "tls": "ssl",
        "sender": "Hazwatch <alarm@example.cn>",
        "username": "alarm",
        "password": "smtp-pw",
        "timeout_s": 5,
    },
    "sms": {
        "url": "https://sms.example.cn/v1/send",
        "method": "POST",
        "headers": {"Authorization": "Bearer tk", "X-Api-Key": "k1", "Content-Type": "json"},
        "body": '{"to": "{phone}", "content": "{text}"}',
        "format": "json",
        "max_chars": 70,
    },
    "inapp": {},
}


def _doc(kind: str, name: str | None = None, **config: Any) -> dict[str, Any]:
    return {
        "name": name or kind,
        "kind": kind,
        "enabled": True,
        "config": VALID[kind] | config,
    }


def _problems(data: object, stored: ChannelEntry | None = None) -> tuple[str, ...]:
    with pytest.raises(ChannelConfigError) as caught:
        parse_channel(data, stored=stored)
    return caught.value.problems


@pytest.mark.parametrize("kind", list(VALID))
def test_every_kind_reads_back_from_its_document(kind: str) -> None:
    entry = parse_channel(_doc(kind))
    assert entry.kind == kind and entry.name == kind and entry.enabled
    assert parse_channel(document_of(entry)) == entry


def test_email_tls_takes_tls_for_implicit_tls_and_defaults_the_timeout() -> None:
    config = VALID["email"] | {"tls": "tls"}
    del config["timeout_s"]
    entry = parse_channel({"name": "mail", "kind": "email", "config": config})
    assert isinstance(entry.config, EmailConfig)
    assert entry.config.tls is Tls.IMPLICIT and entry.config.timeout_s == 10.0
    assert document_of(entry)["config"]["tls"] == "ssl"


def test_dingtalk_secret_is_optional_and_enabled_defaults_to_true() -> None:
    entry = parse_channel({"name": "ops", "kind": "dingtalk", "config": {"url": ROBOT}})
    assert isinstance(entry.config, DingTalkConfig)
    assert entry.config.secret == "" and entry.enabled


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_doc("webhook", url="ftp://x/y"), "config.url: expected an http or https URL"),
        (_doc("webhook", secret=""), "config.secret: String should have at least 1 character"),
        (_doc("wecom", url="https:///no-host"), "config.url: expected an http or https URL"),
        (_doc("email", port=70000), "config.port: Input should be less than or equal to 65535"),
        (_doc("email", port="smtp"), "config.port: Input should be a valid integer"),
        (_doc("email", tls="maybe"), "config.tls: Input should be 'starttls', 'ssl' or 'none'"),
        (_doc("email", sender="nobody"), "config.sender: expected an e-mail address"),
        (_doc("email", username=""), "config.password: a password needs a username"),
        (_doc("email", timeout_s=0), "config.timeout_s: Input should be greater than 0"),
        (_doc("sms", method="DELETE"), "config.method: Input should be 'GET', 'POST' or 'PUT'"),
        (_doc("sms", format="xml"), "config.format: Input should be 'json', 'form' or 'raw'"),
        (_doc("sms", max_chars=0), "config.max_chars: Input should be greater than or equal to 1"),
        (_doc("sms", body='{"to": "{phone}"}'), "config.body: {text} appears neither in the url"),
        (_doc("sms", headers={"Bad Name": "x"}), "config.headers: 'Bad Name' is not a header"),
        (_doc("sms", headers={"X-A": "1\r\nX-B: 2"}), "config.headers: the value of 'X-A' holds"),
        (_doc("wecom", secret="s"), "config.secret: Extra inputs are not permitted"),
        (_doc("webhook", name="Ops Hook"), "name: expected a key segment"),
        (_doc("webhook") | {"kind": "pigeon"}, "kind: Input should be 'webhook', 'dingtalk'"),
        (_doc("webhook") | {"enabled": "perhaps"}, "enabled: Input should be a valid boolean"),
        (_doc("webhook") | {"colour": "red"}, "colour: Extra inputs are not permitted"),
        (_doc("webhook") | {"config": "url"}, "config: Input should be a valid dictionary"),
        (_doc("webhook", name="inapp"), "kind: the channel named 'inapp' is the in-app channel"),
        (_doc("inapp", name="box"), "name: the in-app channel is named 'inapp'"),
        (_doc("inapp") | {"enabled": False}, "enabled: in-app is every recipient's last resort"),
        ("webhook", "expected a mapping with name, kind, enabled and config"),
    ],
)
def test_a_bad_document_names_the_field(data: object, expected: str) -> None:
    problems = _problems(data)
    assert any(p.startswith(expected) for p in problems), problems


def test_every_problem_is_reported_at_once() -> None:
    bad = _doc("email", name="Mail!", port=0, sender="x")
    problems = _problems(bad)
    assert [p.split(":")[0] for p in problems] == ["name", "config.port", "config.sender"]


def test_a_missing_config_field_is_named() -> None:
    problems = _problems({"name": "mail", "kind": "email", "config": {"host": "smtp"}})
    assert {p.split(":")[0] for p in problems} == {"config.port", "config.tls", "config.sender"}
    assert all(p.endswith("Field required") for p in problems)


def test_secrets_are_masked_and_listed() -> None:
    shown = masked_document(parse_channel(_doc("sms")))
    headers = shown["config"]["headers"]
    assert headers == {"Authorization": MASK, "X-Api-Key": MASK, "Content-Type": "json"}
    assert shown["secrets_set"] == ["config.headers.Authorization", "config.headers.X-Api-Key"]
    assert "Bearer tk" not in json.dumps(shown) and "k1" not in json.dumps(shown)
    mail = masked_document(parse_channel(_doc("email")))
    assert mail["config"]["password"] == MASK and mail["secrets_set"] == ["config.password"]
    assert mail["config"]["username"] == "alarm"
    hook = masked_document(parse_channel(_doc("webhook")))
    assert hook["config"]["secret"] == MASK and hook["config"]["url"] == VALID["webhook"]["url"]


def test_an_unset_secret_is_shown_empty_and_not_listed() -> None:
    shown = masked_document(
        parse_channel({"name": "d", "kind": "dingtalk", "config": {"url": ROBOT}})
    )
    assert shown["config"]["secret"] == "" and shown["secrets_set"] == []


def test_secrets_never_show_in_a_repr() -> None:
    for kind in ("webhook", "email", "sms"):
        text = repr(parse_channel(_doc(kind)))
        for secret in ("whsec-1", "smtp-pw", "Bearer tk"):
            assert secret not in text


@pytest.mark.parametrize("kind", ["webhook", "dingtalk", "email", "sms"])
def test_the_mask_sent_back_keeps_the_stored_secret(kind: str) -> None:
    stored = parse_channel(_doc(kind))
    shown = masked_document(stored)
    assert parse_channel(shown, stored=stored) == stored


def test_a_new_secret_replaces_the_stored_one_and_other_fields_change() -> None:
    stored = parse_channel(_doc("webhook"))
    shown = masked_document(stored)
    shown["config"]["url"] = "https://other.example.cn/in"
    kept = parse_channel(shown, stored=stored)
    assert kept.config == stored.config.model_copy(update={"url": "https://other.example.cn/in"})
    shown["config"]["secret"] = "whsec-2"
    assert document_of(parse_channel(shown, stored=stored))["config"]["secret"] == "whsec-2"


def test_the_mask_without_a_stored_secret_is_refused() -> None:
    masked = _doc("webhook", secret=MASK)
    expected = "config.secret: '***' keeps a stored secret, and none is stored"
    assert _problems(masked) == (expected,)
    unsigned = parse_channel({"name": "webhook", "kind": "dingtalk", "config": {"url": ROBOT}})
    assert _problems(masked, stored=unsigned) == (expected,), "another kind keeps nothing"
    sms = parse_channel(_doc("sms"))
    new_header = _doc("sms", headers={"X-Token": MASK})
    assert _problems(new_header, stored=sms) == (
        "config.headers.X-Token: '***' keeps a stored secret, and none is stored",
    )


# --- building --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        ("webhook", WebhookChannel),
        ("dingtalk", DingTalkChannel),
        ("wecom", WeComChannel),
        ("email", EmailChannel),
        ("sms", SmsChannel),
        ("inapp", InAppChannel),
    ],
)
async def test_an_entry_builds_its_channel_under_its_name(
    kind: str, cls: type, client: httpx.AsyncClient
) -> None:
    name = "inapp" if kind == "inapp" else f"ops-{kind}"
    channel = build_channel(
        parse_channel(_doc(kind, name=name)), client=client, inbox=MemoryInbox()
    )
    assert isinstance(channel, cls)
    assert channel.name == name


async def test_a_built_webhook_signs_with_the_configured_secret(
    http_server: HttpServer, client: httpx.AsyncClient, make: Factory
) -> None:
    entry = parse_channel(_doc("webhook", name="ops-hook", url=http_server.url + "/in"))
    channel = build_channel(entry, client=client, inbox=MemoryInbox())
    await channel.send(make.message(), Recipient(user="wang", channels=("ops-hook",)), key="k1")
    (req,) = http_server.received
    assert req.path == "/in"
    digest = hmac.new(b"whsec-1", req.body, hashlib.sha256).hexdigest()
    assert req.headers["x-hazwatch-signature"] == f"sha256={digest}"


async def test_a_built_dingtalk_robot_signs_its_url(
    http_server: HttpServer, client: httpx.AsyncClient, make: Factory
) -> None:
    entry = parse_channel(_doc("dingtalk", url=http_server.url + "/robot/send?access_token=t"))
    channel = build_channel(entry, client=client, inbox=MemoryInbox())
    await channel.send(make.message(), Recipient(user="wang", channels=("dingtalk",)), key="k")
    (req,) = http_server.received
    query = parse_qs(urlsplit(req.path).query)
    assert query["access_token"] == ["t"] and "sign" in query and "timestamp" in query


async def test_a_built_sms_gateway_fills_the_template(
    http_server: HttpServer, client: httpx.AsyncClient, make: Factory
) -> None:
    entry = parse_channel(_doc("sms", name="sms", url=http_server.url + "/send?to={phone}"))
    channel = build_channel(entry, client=client, inbox=MemoryInbox())
    phone = Recipient(user="wang", channels=("sms",), addresses={"sms": "+8613800000000"})
    await channel.send(make.message(), phone, key="k")
    (req,) = http_server.received
    assert req.path == "/send?to=%2B8613800000000"
    assert req.headers["authorization"] == "Bearer tk" and req.headers["x-api-key"] == "k1"
    sent = req.json()
    assert sent["to"] == "+8613800000000" and len(sent["content"]) <= 70


async def test_a_built_email_channel_reaches_the_smtp_server(
    smtp_server: SmtpServer, client: httpx.AsyncClient, make: Factory
) -> None:
    config = {"host": "127.0.0.1", "port": smtp_server.port, "tls": "none"}
    config |= {"sender": "alarm@example.cn", "timeout_s": 5}
    entry = parse_channel({"name": "mail", "kind": "email", "config": config})
    channel = build_channel(entry, client=client, inbox=MemoryInbox())
    to = Recipient(user="wang", channels=("mail",), addresses={"mail": "wang@example.cn"})
    await channel.send(make.message(), to, key="k" * 64)
    (mail,) = smtp_server.mails
    assert mail["From"] == "alarm@example.cn" and mail["To"] == "wang@example.cn"


async def test_a_built_inapp_channel_writes_to_the_inbox_given(
    client: httpx.AsyncClient, make: Factory
) -> None:
    inbox = MemoryInbox()
    channel = build_channel(parse_channel(_doc("inapp")), client=client, inbox=inbox)
    await channel.send(make.message(), Recipient(user="wang", channels=("inapp",)), key="k")
    (entry,) = inbox.entries("wang")
    assert entry.key == "k"


def test_kind_follows_the_config() -> None:
    assert parse_channel(_doc("wecom")).kind is ChannelKind.WECOM
