"""The channel conformance suite, run against every channel on a real loopback server,
then each channel's exact wire format."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from ports import free_port

from hazwatch.respond.notify.channel import Channel, ChannelError
from hazwatch.respond.notify.channels.dingtalk import DingTalkChannel
from hazwatch.respond.notify.channels.email import EmailChannel, SmtpSettings, Tls
from hazwatch.respond.notify.channels.inapp import InAppChannel, MemoryInbox
from hazwatch.respond.notify.channels.sms import BodyFormat, SmsChannel, SmsTemplate
from hazwatch.respond.notify.channels.webhook import WebhookChannel
from hazwatch.respond.notify.channels.wecom import MAX_CONTENT_BYTES, WeComChannel
from hazwatch.respond.notify.message import Message, Recipient

if TYPE_CHECKING:
    from conftest import Factory, HttpServer, SmtpServer

SECRET = "SECtest-secret"
KEY = "k" * 64
HTTP_CHANNELS = ("webhook", "dingtalk", "wecom", "sms")


@dataclass
class Rig:
    """One channel wired to a loopback server: what it received, how to make it fail."""

    channel: Channel
    recipient: Recipient
    received: Callable[[], list[str]]
    busy: Callable[[], None] | None  # the far end answers "try later"
    reject: Callable[[], None] | None  # the far end refuses this request for good
    unreachable: Channel | None  # the same channel aimed at a port nobody listens on


def _http_rig(name: str, server: HttpServer, client: httpx.AsyncClient) -> Rig:
    dead = f"http://127.0.0.1:{free_port()}"
    channels: dict[str, Callable[[str], Channel]] = {
        "webhook": lambda url: WebhookChannel(client=client, secret=SECRET),
        "dingtalk": lambda url: DingTalkChannel(client=client, secret=SECRET),
        "wecom": lambda url: WeComChannel(client=client),
        "sms": lambda url: SmsChannel(
            client=client,
            template=SmsTemplate(url=url + "/sms", body='{"to": "{phone}", "msg": "{text}"}'),
        ),
    }
    address = "+8613800000000" if name == "sms" else server.url + "/hook?access_token=t"
    recipient = Recipient(user="wang", channels=(name,), addresses={name: address})

    busy_reply = {"dingtalk": (200, '{"errcode": 130101, "errmsg": "send too fast"}')}
    busy_reply["wecom"] = (200, '{"errcode": 45009, "errmsg": "api freq out of limit"}')
    reject_reply = {"dingtalk": (200, '{"errcode": 310000, "errmsg": "sign not match"}')}
    reject_reply["wecom"] = (200, '{"errcode": 93000, "errmsg": "invalid webhook url"}')

    dead_recipient_url = dead + "/hook"
    unreachable = channels[name](dead)
    if name != "sms":
        recipient_dead = {name: dead_recipient_url}
        unreachable = _Readdressed(unreachable, recipient_dead)
    return Rig(
        channel=channels[name](server.url),
        recipient=recipient,
        received=lambda: [r.body.decode("utf-8") for r in server.received],
        busy=lambda: server.script.append(busy_reply.get(name, (503, "unavailable"))),
        reject=lambda: server.script.append(reject_reply.get(name, (400, "bad request"))),
        unreachable=unreachable,
    )


class _Readdressed:
    """A channel sent to another address than the recipient's (to aim it at a dead port)."""

    def __init__(self, inner: Channel, addresses: dict[str, str]) -> None:
        self.name, self._inner, self._addresses = inner.name, inner, addresses

    async def send(self, message: Message, recipient: Recipient, *, key: str) -> None:
        moved = Recipient(
            user=recipient.user, channels=recipient.channels, addresses=self._addresses
        )
        await self._inner.send(message, moved, key=key)


WITH_FAR_END = [*HTTP_CHANNELS, "email"]
"""The channels that talk to a server (in-app keeps its inbox in memory)."""


@pytest.fixture(params=[*WITH_FAR_END, "inapp"])
def rig(request: pytest.FixtureRequest, client: httpx.AsyncClient) -> Rig:
    name: str = request.param
    if name in HTTP_CHANNELS:
        server: HttpServer = request.getfixturevalue("http_server")
        return _http_rig(name, server, client)
    if name == "email":
        smtp: SmtpServer = request.getfixturevalue("smtp_server")

        def settings(port: int) -> SmtpSettings:
            return SmtpSettings(host="127.0.0.1", port=port, tls=Tls.NONE, timeout=5.0)

        def set_reply(reply: str) -> Callable[[], None]:
            return lambda: setattr(smtp, "reply", reply)

        return Rig(
            channel=EmailChannel(settings=settings(smtp.port)),
            recipient=Recipient(
                user="wang", channels=("email",), addresses={"email": "wang@example.com"}
            ),
            received=lambda: [str(m["Subject"]) + "\n" + str(m.get_content()) for m in smtp.mails],
            busy=set_reply("451 4.3.0 try again later"),
            reject=set_reply("550 5.7.1 message refused"),
            unreachable=EmailChannel(settings=settings(free_port())),
        )
    inbox = MemoryInbox()
    return Rig(
        channel=InAppChannel(inbox=inbox),
        recipient=Recipient(user="wang", channels=("inapp",)),
        received=lambda: [e.title + "\n" + e.text for e in inbox.entries("wang")],
        busy=None,
        reject=None,
        unreachable=None,
    )


async def test_a_channel_delivers_the_message_once(rig: Rig, make: Factory) -> None:
    message = make.message(make.alarm(7))
    await rig.channel.send(message, rig.recipient, key=KEY)
    (received,) = rig.received()
    assert "PT-7 pressure high-high" in received


@pytest.mark.parametrize("rig", WITH_FAR_END, indirect=True)
async def test_a_busy_far_end_is_a_retryable_error(rig: Rig, make: Factory) -> None:
    rig.busy()
    with pytest.raises(ChannelError) as caught:
        await rig.channel.send(make.message(), rig.recipient, key=KEY)
    assert caught.value.retryable
    assert caught.value.channel == rig.channel.name


@pytest.mark.parametrize("rig", WITH_FAR_END, indirect=True)
async def test_a_refusal_is_not_retryable(rig: Rig, make: Factory) -> None:
    rig.reject()
    with pytest.raises(ChannelError) as caught:
        await rig.channel.send(make.message(), rig.recipient, key=KEY)
    assert not caught.value.retryable


@pytest.mark.parametrize("rig", WITH_FAR_END, indirect=True)
async def test_an_unreachable_far_end_is_retryable(rig: Rig, make: Factory) -> None:
    with pytest.raises(ChannelError) as caught:
        await rig.unreachable.send(make.message(), rig.recipient, key=KEY)
    assert caught.value.retryable


@pytest.mark.parametrize("rig", WITH_FAR_END, indirect=True)
async def test_a_recipient_without_an_address_is_not_retryable(rig: Rig, make: Factory) -> None:
    nobody = Recipient(user="nobody", channels=(rig.channel.name,))
    with pytest.raises(ChannelError) as caught:
        await rig.channel.send(make.message(), nobody, key=KEY)
    assert not caught.value.retryable
    assert rig.received() == []


# --- wire formats ---------------------------------------------------------------------


async def test_webhook_is_signed_json_with_an_idempotency_key(
    http_server: HttpServer, client: httpx.AsyncClient, make: Factory
) -> None:
    channel = WebhookChannel(client=client, secret=SECRET, url=http_server.url + "/in")
    message = make.message(make.alarm(1), make.alarm(2))
    await channel.send(message, Recipient(user="wang", channels=("webhook",)), key=KEY)
    (req,) = http_server.received
    assert (req.method, req.path) == ("POST", "/in")
    assert req.headers["idempotency-key"] == KEY
    assert req.headers["content-type"] == "application/json"
    expected = hmac.new(SECRET.encode(), req.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(req.headers["x-hazwatch-signature"], f"sha256={expected}")
    doc = req.json()
    assert doc["key"] == KEY and doc["recipient"] == "wang"
    assert [n["id"] for n in doc["notices"]] == ["alarm:1:HH:1", "alarm:2:HH:1"]
    assert doc["counts"] == {"high": 2}
    assert doc["notices"][0]["level"] == "high" and doc["notices"][0]["source"] == "alarm"


async def test_dingtalk_sends_markdown_with_a_valid_signature(
    http_server: HttpServer, client: httpx.AsyncClient, make: Factory
) -> None:
    stamp = 1_780_000_000_000
    channel = DingTalkChannel(
        client=client,
        url=http_server.url + "/robot/send?access_token=abc",
        secret=SECRET,
        clock=lambda: stamp,
    )
    message = make.message(make.alarm(1))
    await channel.send(message, Recipient(user="wang", channels=("dingtalk",)), key=KEY)
    (req,) = http_server.received
    url = urlsplit(req.path)
    assert url.path == "/robot/send"
    query = parse_qs(url.query)
    assert query["access_token"] == ["abc"] and query["timestamp"] == [str(stamp)]
    # DingTalk's rule: base64(HMAC-SHA256(secret, f"{timestamp}\n{secret}")), URL-encoded
    mac = hmac.new(SECRET.encode(), f"{stamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    assert query["sign"] == [base64.b64encode(mac).decode()]
    doc = req.json()
    assert set(doc) == {"msgtype", "markdown"} and doc["msgtype"] == "markdown"
    assert set(doc["markdown"]) == {"title", "text"}
    assert doc["markdown"]["title"] == "PT-1 pressure high-high"
    assert "PT-1 pressure high-high" in doc["markdown"]["text"]


async def test_dingtalk_without_a_secret_adds_no_signature(
    http_server: HttpServer, client: httpx.AsyncClient, make: Factory
) -> None:
    channel = DingTalkChannel(client=client, url=http_server.url + "/robot/send?access_token=abc")
    await channel.send(make.message(), Recipient(user="wang", channels=()), key=KEY)
    assert parse_qs(urlsplit(http_server.received[0].path).query) == {"access_token": ["abc"]}


async def test_wecom_sends_markdown_content_within_4096_bytes(
    http_server: HttpServer, client: httpx.AsyncClient, make: Factory
) -> None:
    channel = WeComChannel(client=client, url=http_server.url + "/cgi-bin/webhook/send?key=x")
    flood = [make.alarm(n) for n in range(300)]
    for message in (make.message(make.alarm(1)), make.message(*flood)):
        await channel.send(message, Recipient(user="wang", channels=()), key=KEY)
    small, big = (r.json() for r in http_server.received)
    assert small == {
        "msgtype": "markdown",
        "markdown": {
            "content": "### PT-1 pressure high-high\n- **high** PT-1 pressure high-high"
            " — 1.92 MPa ≥ 1.80 MPa (lpg.main.sphere-farm)"
        },
    }
    assert len(big["markdown"]["content"].encode("utf-8")) <= MAX_CONTENT_BYTES
    assert big["markdown"]["content"].startswith("### 300 notices (300 high)")


@pytest.mark.parametrize(
    ("fmt", "body", "read"),
    [
        (BodyFormat.JSON, '{"to": "{phone}", "msg": "{text}"}', json.loads),
        (
            BodyFormat.FORM,
            "to={phone}&msg={text}",
            lambda b: {k: v[0] for k, v in parse_qs(b.decode()).items()},
        ),
    ],
)
async def test_sms_fills_the_template_escaping_for_the_body_format(
    http_server: HttpServer,
    client: httpx.AsyncClient,
    make: Factory,
    fmt: BodyFormat,
    body: str,
    read: Callable[[bytes], dict[str, str]],
) -> None:
    template = SmsTemplate(
        url=http_server.url + "/send?to={phone}",
        method="PUT",
        headers={"Authorization": "Bearer t", "Content-Type": "application/json"},
        body=body,
        body_format=fmt,
    )
    channel = SmsChannel(client=client, template=template)
    tricky = replace(make.alarm(1), title='T&"1" 高高')
    recipient = Recipient(user="wang", channels=("sms",), addresses={"sms": "+86 138"})
    await channel.send(make.message(tricky), recipient, key=KEY)
    (req,) = http_server.received
    assert req.method == "PUT" and req.headers["authorization"] == "Bearer t"
    assert parse_qs(urlsplit(req.path).query) == {"to": ["+86 138"]}
    assert read(req.body) == {"to": "+86 138", "msg": 'T&"1" 高高'}


async def test_email_carries_subject_recipient_and_message_id(
    smtp_server: SmtpServer, make: Factory
) -> None:
    settings = SmtpSettings(
        host="127.0.0.1", port=smtp_server.port, tls=Tls.NONE, sender="hw@plant.cn"
    )
    channel = EmailChannel(settings=settings)
    recipient = Recipient(user="wang", channels=("email",), addresses={"email": "wang@plant.cn"})
    await channel.send(make.message(make.alarm(1), make.alarm(2)), recipient, key=KEY)
    (mail,) = smtp_server.mails
    assert smtp_server.envelopes == [("hw@plant.cn", ["wang@plant.cn"])]
    assert mail["Subject"] == "2 notices (2 high)"
    assert mail["Message-ID"] == f"<{KEY[:32]}@hazwatch>"
    assert "PT-2 pressure high-high" in mail.get_content()


async def test_inapp_ignores_a_key_it_already_holds(make: Factory) -> None:
    inbox = MemoryInbox()
    channel = InAppChannel(inbox=inbox)
    wang = Recipient(user="wang", channels=("inapp",))
    for _ in range(2):
        await channel.send(make.message(), wang, key=KEY)
    assert len(inbox.entries("wang")) == 1
    assert inbox.entries("li") == ()
