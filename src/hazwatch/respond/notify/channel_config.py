"""Notification channels as configuration: typed, validated entries built into ``Channel``s.

An entry, as the API takes it and the database keeps it::

    {"name": "dingtalk", "kind": "dingtalk", "enabled": true,
     "config": {"url": "https://oapi.dingtalk.com/robot/send?access_token=…", "secret": "SEC…"}}

``name`` is a key segment (``a-z 0-9 - _``, at most 64): what recipients' channel lists and
addresses refer to. ``kind`` chooses the ``config`` model:

==========  =================================================================================
kind        config
==========  =================================================================================
webhook     ``url``, ``secret`` (HMAC-SHA256 signing key, required)
dingtalk    ``url``, ``secret`` (the robot's 加签 key; optional)
wecom       ``url``
email       ``host``, ``port``, ``tls`` (``none``/``starttls``/``ssl``; ``tls`` means ``ssl``),
            ``sender``, ``username``, ``password``, ``timeout_s`` (seconds, default 10)
sms         ``url``, ``method`` (GET/POST/PUT), ``headers``, ``body``, ``format``
            (``json``/``form``/``raw``), ``max_chars`` (default 140)
inapp       nothing; the channel named ``inapp`` is every recipient's last resort, so that
            name is kept for this kind, and it cannot be disabled
==========  =================================================================================

``parse_channel`` raises ``ChannelConfigError`` whose ``problems`` each name the field
(``config.url: expected an http or https URL``). ``build_channel`` turns an entry into the
``Channel`` that sends.

Secrets — the webhook and DingTalk ``secret``, the SMTP ``password``, and every SMS header
whose name contains ``auth``, ``token`` or ``key`` — leave only as ``MASK``
(``masked_document``, with ``secrets_set`` listing where one is stored). A document sent
back with ``MASK`` in such a field keeps the stored secret (``parse_channel(…, stored=…)``),
so an edit round trip through a form never erases it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, cast
from urllib.parse import urlsplit

import httpx
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from hazwatch.domain.keys import SEGMENT_RE
from hazwatch.respond.notify.channel import Channel
from hazwatch.respond.notify.channels.dingtalk import DingTalkChannel
from hazwatch.respond.notify.channels.email import EmailChannel, SmtpSettings, Tls
from hazwatch.respond.notify.channels.inapp import InAppChannel, Inbox
from hazwatch.respond.notify.channels.sms import BodyFormat, SmsChannel, SmsTemplate
from hazwatch.respond.notify.channels.webhook import WebhookChannel
from hazwatch.respond.notify.channels.wecom import WeComChannel
from hazwatch.respond.notify.pipeline import LAST_RESORT

MASK = "***"
"""What a stored secret reads as; sent back, it keeps the stored secret."""

_SECRET_HEADER = re.compile(r"auth|token|key", re.IGNORECASE)
# RFC 9110 field-name token characters
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class ChannelKind(StrEnum):
    WEBHOOK = "webhook"
    DINGTALK = "dingtalk"
    WECOM = "wecom"
    EMAIL = "email"
    SMS = "sms"
    INAPP = "inapp"


class ChannelConfigError(Exception):
    """A channel entry that cannot be used; ``problems`` name the field each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http or https URL")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ClassVar[ChannelKind]


class WebhookConfig(_Config):
    """POST signed JSON to ``url`` (a recipient's own ``webhook`` address wins)."""

    kind: ClassVar[ChannelKind] = ChannelKind.WEBHOOK
    url: HttpUrl
    secret: str = Field(min_length=1, repr=False, description="HMAC-SHA256 signing key")


class DingTalkConfig(_Config):
    kind: ClassVar[ChannelKind] = ChannelKind.DINGTALK
    url: HttpUrl
    secret: str = Field(default="", repr=False, description="the robot's 加签 key, if set")


class WeComConfig(_Config):
    kind: ClassVar[ChannelKind] = ChannelKind.WECOM
    url: HttpUrl


class EmailConfig(_Config):
    """An SMTP server; ``timeout_s`` in seconds."""

    kind: ClassVar[ChannelKind] = ChannelKind.EMAIL
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    tls: Tls
    sender: str
    username: str = ""
    password: str = Field(default="", repr=False)
    timeout_s: float = Field(default=10.0, gt=0, le=300)

    @field_validator("tls", mode="before")
    @classmethod
    def _tls_alias(cls, value: object) -> object:
        return Tls.IMPLICIT.value if value == "tls" else value

    @field_validator("sender")
    @classmethod
    def _address(cls, value: str) -> str:
        _, address = parseaddr(value)
        if "@" not in address:
            raise ValueError("expected an e-mail address (name <address> allowed)")
        return value

    @field_validator("password")
    @classmethod
    def _needs_user(cls, value: str, info: ValidationInfo) -> str:
        if value and not info.data.get("username"):
            raise ValueError("a password needs a username")
        return value


class SmsConfig(_Config):
    """An SMS gateway request template; ``{phone}``, ``{text}`` and ``{key}`` are filled in
    (see ``channels/sms.py``)."""

    kind: ClassVar[ChannelKind] = ChannelKind.SMS
    url: HttpUrl
    method: Literal["GET", "POST", "PUT"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict, repr=False)
    body: str = ""
    format: BodyFormat = BodyFormat.JSON
    max_chars: int = Field(default=140, ge=1, le=1000)

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not a header name")
            if "\r" in text or "\n" in text:
                raise ValueError(f"the value of {name!r} holds a line break")
        return value

    @field_validator("body")
    @classmethod
    def _placeholders(cls, value: str, info: ValidationInfo) -> str:
        url = info.data.get("url")
        if url is None:  # the URL was refused already
            return value
        for placeholder in ("{phone}", "{text}"):
            if placeholder not in url and placeholder not in value:
                raise ValueError(f"{placeholder} appears neither in the url nor in the body")
        return value


class InAppConfig(_Config):
    kind: ClassVar[ChannelKind] = ChannelKind.INAPP


ChannelConfig = WebhookConfig | DingTalkConfig | WeComConfig | EmailConfig | SmsConfig | InAppConfig

_MODELS: dict[ChannelKind, type[_Config]] = {
    m.kind: m
    for m in (WebhookConfig, DingTalkConfig, WeComConfig, EmailConfig, SmsConfig, InAppConfig)
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelEntry:
    """One configured channel; ``kind`` follows from ``config``."""

    name: str
    enabled: bool
    config: ChannelConfig

    @property
    def kind(self) -> ChannelKind:
        return self.config.kind


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    kind: ChannelKind
    enabled: bool = True
    config: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _segment(cls, value: str) -> str:
        if not SEGMENT_RE.fullmatch(value):
            raise ValueError(
                "expected a key segment: a-z, 0-9, '-' and '_', starting with a letter or "
                "digit, at most 64 characters"
            )
        return value


def parse_channel(data: object, *, stored: ChannelEntry | None = None) -> ChannelEntry:
    """Validate a channel document; ``ChannelConfigError`` with every problem.

    A secret field holding ``MASK`` takes its value from ``stored`` (the entry saved under
    the same name) when that is of the same kind; refused when nothing is stored there.
    ``secrets_set``, as ``masked_document`` adds it, is ignored, so a shown document can be
    sent back as it is.
    """
    if not isinstance(data, dict):
        raise ChannelConfigError(["expected a mapping with name, kind, enabled and config"])
    data = {k: v for k, v in data.items() if k != "secrets_set"}  # read-only, as shown
    problems: list[str] = []
    try:
        outer = _Entry.model_validate(data)
    except ValidationError as exc:
        problems += _problems(exc)
        outer = None
    kind = outer.kind if outer is not None else _kind(data.get("kind"))
    given = outer.config if outer is not None else data.get("config", {})
    if outer is not None:
        problems += _reserved(outer)
    config: _Config | None = None
    if kind is not None and isinstance(given, dict):
        fields, unmasked = _unmask(kind, given, stored)
        problems += unmasked
        try:
            config = _MODELS[kind].model_validate(fields)
        except ValidationError as exc:
            problems += _problems(exc, ("config",))
    if problems or outer is None or config is None:
        raise ChannelConfigError(problems)
    return ChannelEntry(name=outer.name, enabled=outer.enabled, config=cast(ChannelConfig, config))


def _kind(value: object) -> ChannelKind | None:
    try:
        return ChannelKind(str(value))
    except ValueError:
        return None


def _reserved(entry: _Entry) -> list[str]:
    """The name ``inapp`` and the in-app kind go together, and in-app stays enabled: the
    pipeline appends ``inapp`` to every recipient's channels as the last resort, and treats
    it as the one channel quiet hours allow."""
    if entry.name == LAST_RESORT and entry.kind is not ChannelKind.INAPP:
        return [f"kind: the channel named {LAST_RESORT!r} is the in-app channel"]
    if entry.kind is ChannelKind.INAPP and entry.name != LAST_RESORT:
        return [f"name: the in-app channel is named {LAST_RESORT!r}"]
    if entry.kind is ChannelKind.INAPP and not entry.enabled:
        return ["enabled: in-app is every recipient's last resort; it stays enabled"]
    return []


def document_of(entry: ChannelEntry) -> dict[str, Any]:
    """The whole entry as plain data, secrets included (what the database keeps);
    ``parse_channel`` reads it back to an equal entry."""
    return {
        "name": entry.name,
        "kind": entry.kind.value,
        "enabled": entry.enabled,
        "config": entry.config.model_dump(mode="json"),
    }


def masked_document(entry: ChannelEntry) -> dict[str, Any]:
    """The entry as the API shows it: each stored secret replaced by ``MASK``, and
    ``secrets_set`` listing those fields (``config.secret``, ``config.headers.X-Token``)."""
    document = document_of(entry)
    config = document["config"]
    set_: list[str] = []
    for path in _secret_paths(entry.kind, config):
        holder = config if len(path) == 1 else config[path[0]]
        if holder[path[-1]]:
            holder[path[-1]] = MASK
            set_.append(".".join(("config", *path)))
    return document | {"secrets_set": set_}


def build_channel(entry: ChannelEntry, *, client: httpx.AsyncClient, inbox: Inbox) -> Channel:
    """The channel that sends for ``entry``, named after it. HTTP channels share ``client``
    (its timeout applies); in-app writes to ``inbox``. Whether the entry is enabled is the
    caller's business."""
    c, name = entry.config, entry.name
    if isinstance(c, WebhookConfig):
        return WebhookChannel(client=client, secret=c.secret, url=c.url, name=name)
    if isinstance(c, DingTalkConfig):
        return DingTalkChannel(client=client, url=c.url, secret=c.secret, name=name)
    if isinstance(c, WeComConfig):
        return WeComChannel(client=client, url=c.url, name=name)
    if isinstance(c, EmailConfig):
        settings = SmtpSettings(
            host=c.host,
            port=c.port,
            sender=c.sender,
            username=c.username,
            password=c.password,
            tls=c.tls,
            timeout=c.timeout_s,
        )
        return EmailChannel(settings=settings, name=name)
    if isinstance(c, SmsConfig):
        template = SmsTemplate(
            url=c.url,
            method=c.method,
            headers=dict(c.headers),
            body=c.body,
            body_format=c.format,
            max_chars=c.max_chars,
        )
        return SmsChannel(client=client, template=template, name=name)
    return InAppChannel(inbox=inbox, name=name)


def _secret_paths(kind: ChannelKind, config: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """Where ``config`` (plain data of a ``kind``) holds secrets, present or not."""
    if kind in (ChannelKind.WEBHOOK, ChannelKind.DINGTALK):
        return [("secret",)]
    if kind is ChannelKind.EMAIL:
        return [("password",)]
    headers = config.get("headers")
    if kind is ChannelKind.SMS and isinstance(headers, dict):
        return [("headers", h) for h in headers if isinstance(h, str) and _SECRET_HEADER.search(h)]
    return []


def _unmask(
    kind: ChannelKind, config: dict[str, Any], stored: ChannelEntry | None
) -> tuple[dict[str, Any], list[str]]:
    """``config`` with every ``MASK`` replaced by the stored secret at the same place."""
    kept = document_of(stored)["config"] if stored is not None and stored.kind is kind else {}
    fields = {k: dict(v) if isinstance(v, dict) else v for k, v in config.items()}
    problems: list[str] = []
    for path in _secret_paths(kind, fields):
        holder = fields if len(path) == 1 else fields[path[0]]
        if holder.get(path[-1]) != MASK:
            continue
        old = kept if len(path) == 1 else kept.get(path[0], {})
        secret = old.get(path[-1]) if isinstance(old, dict) else None
        if isinstance(secret, str) and secret:
            holder[path[-1]] = secret
        else:
            where = ".".join(("config", *path))
            problems.append(f"{where}: {MASK!r} keeps a stored secret, and none is stored")
    return fields, problems


def _problems(exc: ValidationError, prefix: tuple[str, ...] = ()) -> list[str]:
    """``config.port: Input should be less than or equal to 65535`` — one per error."""
    found: list[str] = []
    for error in exc.errors():
        where = ""
        for part in (*prefix, *error["loc"]):
            where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else part)
        message = str(error["msg"]).removeprefix("Value error, ")
        found.append(f"{where}: {message}" if where else message)
    return found
