"""The link-health convention: the health of links the platform does not run itself.

An edge gateway (or any sender) tells the platform how its links are — each connector that
has an equipment key, and every device behind its connectors — on the topic
``hazwatch/v1/<enterprise>/links/<sender>``, with a UTF-8 JSON payload::

    {"ts": 1800000000000,
     "links": [{"equipment": "lpg.main.sphere-farm.plc-1", "health": "offline",
                "detail": "no answer [modbus.timeout]"}]}

It is state, not history: each message lists every link the sender knows, with its
current health (``online``, ``degraded``, ``offline`` or ``connecting``), and is published
retained at QoS 1 on every change and on every (re)connection of the sender. ``ts`` (epoch
milliseconds) says when the sender took the snapshot. Every equipment key must start with
the topic's enterprise (else ``FORBIDDEN``); what cannot be read is ``MALFORMED``: a bad
message as a whole, a bad entry on its own (the other entries still count).

Pure: ``links_topic_of`` and ``parse_links`` read messages, ``encode_links`` writes them,
``LinkMemory`` turns a sender's successive messages into the changes to report. No I/O and
no clock (``now`` is given).

A sender also leaves a *last will* at the broker: the same message with ``"lost": true``,
which the broker publishes (retained) when the sender vanishes without a word — a gateway
that crashed or lost its network. Every link of that sender, those the will lists and those
it reported since, then counts as offline: nothing supervises them any more.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from hazwatch.connectors.http.decode import EXCERPT, excerpt
from hazwatch.connectors.mqtt.config import TOPIC_ROOT
from hazwatch.domain.clock import MAX_MILLIS, Millis
from hazwatch.domain.keys import EQUIPMENT_KEY, SEGMENT_RE
from hazwatch.domain.link import Health, status_key
from hazwatch.domain.reject import DeadLetter, RejectReason

LINKS_LEVEL = "links"
"""the topic level after the enterprise that marks a links message"""


MAX_DETAIL = 500
"""characters of ``detail`` kept; the rest is cut"""

"""the last millisecond of the year 9999, as for readings"""

_HEALTHS = {h.value: h for h in Health}
_HEALTH_RULE = '"health" must be online, degraded, offline or connecting'
_FORM = 'expected a JSON object {"ts": <epoch ms>, "links": [{"equipment", "health", "detail"}, …]}'
_MAX_SENDERS = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class LinksTopic:
    """Where a links message came from; ``problem`` says what is wrong with the topic."""

    enterprise: str
    sender: str
    problem: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkEntry:
    """The health of one link, by its equipment key."""

    equipment: str
    health: Health
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LinksMessage:
    """One sender's snapshot of all its links."""

    enterprise: str
    sender: str
    ts: Millis
    links: tuple[LinkEntry, ...]
    lost: bool = False
    """the sender's last will: all its links are unsupervised"""


def links_topic(enterprise: str, sender: str) -> str:
    """The topic a sender publishes its links on."""
    return f"{TOPIC_ROOT}{enterprise}/{LINKS_LEVEL}/{sender}"


def links_topic_of(topic: str) -> LinksTopic | None:
    """The enterprise and sender of a links topic; None for a topic that is not one (whose
    level after the enterprise is not ``links``)."""
    if not topic.startswith(TOPIC_ROOT):
        return None
    levels = topic[len(TOPIC_ROOT) :].split("/")
    if len(levels) < 2 or levels[1] != LINKS_LEVEL:
        return None
    enterprise = levels[0]
    sender = levels[2] if len(levels) == 3 else ""
    if not SEGMENT_RE.fullmatch(enterprise) or not sender:
        return LinksTopic(
            enterprise=enterprise,
            sender=sender,
            problem=f"a links topic is {TOPIC_ROOT}<enterprise>/{LINKS_LEVEL}/<sender>",
        )
    return LinksTopic(enterprise=enterprise, sender=sender)


def parse_links(
    topic: str,
    where: LinksTopic,
    payload: bytes | bytearray,
    *,
    source: str,
    now: Millis,
    max_payload_bytes: int,
) -> tuple[LinksMessage | None, list[DeadLetter]]:
    """The message of a links topic, and its refusals (see the module docstring). The
    message is None when nothing of it could be read."""

    def refuse(reason: RejectReason, detail: str) -> tuple[None, list[DeadLetter]]:
        letter = DeadLetter(
            received=now,
            source=source,
            reason=reason,
            detail=f"{topic}: {detail}",
            payload=excerpt(bytes(payload[:EXCERPT])),
        )
        return None, [letter]

    if where.problem:
        return refuse(RejectReason.MALFORMED, where.problem)
    if len(payload) > max_payload_bytes:
        return refuse(
            RejectReason.OVERSIZED, f"{len(payload)} bytes; at most {max_payload_bytes} allowed"
        )
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return refuse(RejectReason.MALFORMED, f"not UTF-8 JSON: {exc}")
    if type(doc) is not dict or type(doc.get("links")) is not list:
        return refuse(RejectReason.MALFORMED, _FORM)
    ts = doc.get("ts")
    if type(ts) is not int or not 0 <= ts <= MAX_MILLIS:
        return refuse(RejectReason.MALFORMED, '"ts" must be epoch milliseconds (0 to year 9999)')
    lost = doc.get("lost", False)
    if type(lost) is not bool:
        return refuse(RejectReason.MALFORMED, '"lost" must be true or false')
    entries: list[LinkEntry] = []
    refused: list[DeadLetter] = []
    seen: set[str] = set()
    for index, item in enumerate(doc["links"]):
        read = _entry(item, where.enterprise, seen)
        if isinstance(read, LinkEntry):
            seen.add(read.equipment)
            entries.append(read)
            continue
        reason, detail = read
        equipment = item.get("equipment") if type(item) is dict else None
        known = isinstance(equipment, str) and EQUIPMENT_KEY.fullmatch(equipment) is not None
        refused.append(
            DeadLetter(
                received=now,
                source=source,
                reason=reason,
                detail=f"{topic}: link {index}: {detail}",
                tag_key=status_key(str(equipment)) if known else None,  # placed by its tag
                payload=orjson.dumps(item, default=str).decode()[:EXCERPT],
            )
        )
    message = LinksMessage(
        enterprise=where.enterprise, sender=where.sender, ts=ts, links=tuple(entries), lost=lost
    )
    return message, refused


def _entry(item: object, enterprise: str, seen: set[str]) -> LinkEntry | tuple[RejectReason, str]:
    if type(item) is not dict:
        return RejectReason.MALFORMED, "not an object"
    equipment = item.get("equipment")
    if type(equipment) is not str or not EQUIPMENT_KEY.fullmatch(equipment):
        return (
            RejectReason.MALFORMED,
            '"equipment" must be an equipment key enterprise.site.installation.equipment',
        )
    if equipment.partition(".")[0] != enterprise:
        return (
            RejectReason.FORBIDDEN,
            f"equipment {equipment!r} is not of enterprise {enterprise!r}, whose topic it came on",
        )
    if equipment in seen:
        return RejectReason.MALFORMED, f"equipment {equipment!r} listed twice; the first counts"
    said = item.get("health")
    health = _HEALTHS.get(said) if type(said) is str else None
    if health is None:
        return RejectReason.MALFORMED, _HEALTH_RULE
    detail = item.get("detail")
    if detail is None:
        detail = ""
    elif type(detail) is not str:
        return RejectReason.MALFORMED, '"detail" must be a string'
    return LinkEntry(equipment=equipment, health=health, detail=detail[:MAX_DETAIL])


def encode_links(ts: Millis, links: Iterable[LinkEntry], *, lost: bool = False) -> bytes:
    """The payload of a links message: ``links`` as they are now, taken at ``ts``; with
    ``lost``, the sender's last will."""
    doc: dict[str, object] = {
        "ts": ts,
        "links": [
            {"equipment": e.equipment, "health": e.health.value, "detail": e.detail} for e in links
        ],
    }
    if lost:
        doc["lost"] = True
    return orjson.dumps(doc)


def last_will(ts: Millis, sender: str, equipment: Iterable[str]) -> bytes:
    """The will a sender leaves at the broker: every link it knows, offline."""
    detail = f"{sender} lost its connection: its links are not supervised"
    links = [LinkEntry(equipment=e, health=Health.OFFLINE, detail=detail) for e in equipment]
    return encode_links(ts, links, lost=True)


class LinkMemory:
    """What each sender said last, so that only changes of health are reported.

    Messages are applied in the order they arrive: each replaces what its sender said
    before. A link the sender no longer lists is forgotten (its last health stands at the
    platform); listed again, it counts as new."""

    def __init__(self) -> None:
        self._said: dict[tuple[str, str], dict[str, Health]] = {}

    def changes(self, message: LinksMessage) -> list[LinkEntry]:
        """The entries of ``message`` whose health differs from the sender's last message;
        for a last will, every link of the sender not yet offline."""
        sender = (message.enterprise, message.sender)
        before = self._said.get(sender, {})
        if sender not in self._said and len(self._said) >= _MAX_SENDERS:
            self._said.clear()  # a flood of sender names: start over rather than grow
        links = list(message.links)
        if message.lost:
            detail = f"{message.sender} lost its connection: its links are not supervised"
            listed = {e.equipment for e in links}
            links += [
                LinkEntry(equipment=key, health=Health.OFFLINE, detail=detail)
                for key in before
                if key not in listed
            ]
        self._said[sender] = {e.equipment: e.health for e in links}
        return [e for e in links if before.get(e.equipment) is not e.health]
