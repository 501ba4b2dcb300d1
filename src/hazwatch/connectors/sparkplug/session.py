"""What a Sparkplug host application knows of its edge nodes, and what their messages mean.

Pure: ``Host.feed(messages, now)`` takes (topic, payload bytes) pairs in arrival order and
returns an ``Outcome`` — readings (by slot: an index into ``Host.keys``), the slots whose
metrics were born (to be declared as tags), device health changes, rebirth requests, dead
letters and notes to log. It does no I/O and reads no clock.

Per edge node:

* **NBIRTH** starts a session: its metrics are registered (numbers and booleans become tag
  slots, with unit and range from the ``engUnit``/``engLow``/``engHigh`` properties;
  strings, datasets, templates, bytes, arrays and transient metrics are skipped and said so
  once), aliases are noted, its values are readings, its ``bdSeq`` and ``seq`` are kept,
  and the node's devices must be born again. **DBIRTH** does the same for a device.
* **NDATA/DDATA** metrics are found by alias or by name; values become readings stamped
  with the metric's timestamp, else the payload's, else ``now``. A null value is a NaN of
  bad quality; a boolean is 0 or 1.
* ``seq`` counts 0–255 over every message of a node but NDEATH; a skipped number means
  lost messages, and (``rebirth_on_gap``) a rebirth is requested.
* **NDEATH** whose ``bdSeq`` is not the current session's is stale and ignored; otherwise
  the node and all its devices go offline. **DDEATH** takes its device offline.
* Refused, with a dead letter: undecodable payloads and topics (``MALFORMED``, with a base64
  excerpt), data or device births before their birth (``UNKNOWN_TAG``; a rebirth is
  requested), unknown aliases or names (``UNKNOWN_TAG``), values that do not fit their
  datatype (``MALFORMED``), and metrics whose key another metric already holds.

Rebirth requests to one edge node are at least ``rebirth_interval_ms`` apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hazwatch.connectors.base import Health, TagDeclaration
from hazwatch.connectors.sparkplug import codec
from hazwatch.connectors.sparkplug.keys import equipment_key, tag_key
from hazwatch.connectors.sparkplug.topic import MessageType, TopicError, parse
from hazwatch.domain.batch import Quality
from hazwatch.domain.clock import Millis
from hazwatch.domain.reject import DeadLetter, RejectReason

SKIP = -1
"""The slot of a metric that is not read (not a number, transient, or a control)."""
REFUSED = -2
"""The slot of a metric whose tag key another metric holds."""

SEQ_MODULUS = 256
_MAX_TS = 2**63
_CONTROLS = ("Node Control/", "Device Control/")


@dataclass(frozen=True, slots=True)
class _Known:
    slot: int
    name: str
    datatype: int
    key: str = ""


@dataclass(slots=True)
class _Endpoint:
    """An edge node or a device as its last birth described it."""

    equipment: str
    label: str
    by_alias: dict[int, _Known] = field(default_factory=dict)
    by_name: dict[str, _Known] = field(default_factory=dict)
    born: bool = False
    health: Health | None = None

    def forget(self) -> None:
        self.by_alias.clear()
        self.by_name.clear()
        self.born = False


@dataclass(slots=True)
class _Node:
    group: str
    edge_node: str
    prefix: str
    node: _Endpoint
    devices: dict[str, _Endpoint] = field(default_factory=dict)
    born: bool = False
    bd_seq: int | None = None
    seq: int | None = None
    rebirth_asked: Millis | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Rebirth:
    """Ask ``edge_node`` of ``group`` to publish its births again, because of ``reason``."""

    group: str
    edge_node: str
    reason: str


@dataclass(slots=True)
class Outcome:
    """What a run of messages amounts to (see the module docstring)."""

    slot: list[int] = field(default_factory=list)
    ts: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    quality: list[int] = field(default_factory=list)
    born: list[int] = field(default_factory=list)
    devices: list[tuple[str, Health, str]] = field(default_factory=list)
    rebirths: list[Rebirth] = field(default_factory=list)
    refused: list[DeadLetter] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.slot)

    def slots(self) -> npt.NDArray[np.int64]:
        return np.asarray(self.slot, dtype=np.int64)


class Host:
    """The sessions of every edge node of the configured groups."""

    def __init__(
        self,
        groups: Mapping[str, str],
        *,
        source: str,
        rebirth_on_gap: bool = True,
        rebirth_interval_ms: Millis = 10_000,
    ) -> None:
        self.keys: list[str] = []
        """Tag key of each slot."""
        self._groups = dict(groups)
        self._source = source
        self._rebirth_on_gap = rebirth_on_gap
        self._rebirth_interval_ms = rebirth_interval_ms
        self._slots: dict[str, int] = {}
        self._declarations: list[TagDeclaration] = []
        self._owners: dict[str, str] = {}
        self._nodes: dict[tuple[str, str], _Node] = {}
        self._noted: set[str] = set()

    def declaration(self, slot: int) -> TagDeclaration:
        """The tag a slot's metric was last born as."""
        return self._declarations[slot]

    def feed(self, messages: Iterable[tuple[str, bytes]], now: Millis) -> Outcome:
        out = Outcome()
        for topic, data in messages:
            self._message(topic, data, now, out)
        return out

    # messages

    def _message(self, text: str, data: bytes, now: Millis, out: Outcome) -> None:
        try:
            topic = parse(text)
        except TopicError as exc:
            self._refuse(out, now, RejectReason.MALFORMED, str(exc), payload=data)
            return
        if topic.type in (MessageType.NCMD, MessageType.DCMD, MessageType.STATE):
            return
        prefix = self._groups.get(topic.group)
        if prefix is None:
            detail = f"{text}: group {topic.group!r} is not configured"
            self._refuse(out, now, RejectReason.UNKNOWN_TAG, detail, payload=data)
            return
        try:
            payload = codec.decode(data)
        except codec.PayloadError as exc:
            self._refuse(out, now, RejectReason.MALFORMED, f"{text}: {exc}", payload=data)
            return
        node = self._node(topic.group, topic.edge_node, prefix)
        match topic.type:
            case MessageType.NBIRTH:
                self._nbirth(node, payload, now, out)
            case MessageType.NDEATH:
                self._ndeath(node, payload, out)
            case MessageType.NDATA:
                self._data(node, node.node, payload, data, now, out)
            case MessageType.DBIRTH:
                self._dbirth(node, self._device(node, topic.device), payload, data, now, out)
            case MessageType.DDATA:
                self._data(node, self._device(node, topic.device), payload, data, now, out)
            case MessageType.DDEATH:
                self._ddeath(node, self._device(node, topic.device), payload, now, out)

    def _nbirth(self, node: _Node, payload: codec.Payload, now: Millis, out: Outcome) -> None:
        node.born = True
        node.bd_seq = codec.bd_seq(payload)
        node.seq = payload.seq % SEQ_MODULUS if payload.HasField("seq") else None
        node.rebirth_asked = None
        for device in node.devices.values():
            device.forget()
        self._register(node.node, payload, now, out)
        self._health(node.node, Health.ONLINE, "NBIRTH", out)

    def _dbirth(
        self,
        node: _Node,
        device: _Endpoint,
        payload: codec.Payload,
        data: bytes,
        now: Millis,
        out: Outcome,
    ) -> None:
        if not node.born:
            self._unborn(node, device, MessageType.DBIRTH, data, now, out)
            return
        self._sequence(node, payload, now, out)
        self._register(device, payload, now, out)
        self._health(device, Health.ONLINE, "DBIRTH", out)

    def _data(
        self,
        node: _Node,
        endpoint: _Endpoint,
        payload: codec.Payload,
        data: bytes,
        now: Millis,
        out: Outcome,
    ) -> None:
        if not (node.born and endpoint.born):
            kind = MessageType.NDATA if endpoint is node.node else MessageType.DDATA
            self._unborn(node, endpoint, kind, data, now, out)
            return
        self._sequence(node, payload, now, out)
        stamp = payload.timestamp if payload.HasField("timestamp") else now
        for metric in payload.metrics:
            if metric.HasField("alias"):
                known = endpoint.by_alias.get(metric.alias)
                if known is None:
                    detail = f"{endpoint.label}: unknown metric alias {metric.alias}"
                    self._refuse_metric(out, now, RejectReason.UNKNOWN_TAG, detail, metric, stamp)
                    continue
            elif metric.name:
                known = endpoint.by_name.get(metric.name)
                if known is None:
                    detail = f"{endpoint.label}: unknown metric name {metric.name!r}"
                    key = tag_key(endpoint.equipment, metric.name)
                    self._refuse_metric(
                        out, now, RejectReason.UNKNOWN_TAG, detail, metric, stamp, key=key
                    )
                    continue
            else:
                detail = f"{endpoint.label}: a metric with neither name nor alias"
                self._refuse_metric(out, now, RejectReason.MALFORMED, detail, metric, stamp)
                continue
            if known.slot >= 0:
                self._reading(known, endpoint, metric, stamp, now, out)
            elif known.slot == REFUSED:
                detail = (
                    f"{endpoint.label} metric {known.name!r}: its tag {known.key} "
                    f"belongs to {self._owners[known.key]}"
                )
                self._refuse_metric(
                    out, now, RejectReason.UNKNOWN_TAG, detail, metric, stamp, key=known.key
                )

    def _ndeath(self, node: _Node, payload: codec.Payload, out: Outcome) -> None:
        if not node.born:
            return
        bd_seq = codec.bd_seq(payload)
        if node.bd_seq is not None and bd_seq is not None and bd_seq != node.bd_seq:
            out.notes.append(
                f"{node.node.label}: ignored the NDEATH of an earlier session "
                f"(bdSeq {bd_seq}; the current session's is {node.bd_seq})"
            )
            return
        node.born = False
        node.seq = None
        node.node.forget()
        self._health(node.node, Health.OFFLINE, "NDEATH", out)
        for device in node.devices.values():
            device.forget()
            self._health(device, Health.OFFLINE, "NDEATH of its edge node", out)

    def _ddeath(
        self,
        node: _Node,
        device: _Endpoint,
        payload: codec.Payload,
        now: Millis,
        out: Outcome,
    ) -> None:
        if not node.born:
            return
        self._sequence(node, payload, now, out)
        device.forget()
        self._health(device, Health.OFFLINE, "DDEATH", out)

    # births

    def _register(
        self, endpoint: _Endpoint, payload: codec.Payload, now: Millis, out: Outcome
    ) -> None:
        endpoint.forget()
        endpoint.born = True
        stamp = payload.timestamp if payload.HasField("timestamp") else now
        for metric in payload.metrics:
            if not metric.name:
                detail = f"{endpoint.label}: a birth metric without a name"
                self._refuse_metric(out, now, RejectReason.MALFORMED, detail, metric, stamp)
                continue
            known = self._learn(endpoint, metric, now, out)
            if known.name in endpoint.by_name:
                detail = f"{endpoint.label}: metric {known.name!r} is born twice; the first counts"
                self._refuse_metric(out, now, RejectReason.MALFORMED, detail, metric, stamp)
                continue
            if metric.HasField("alias"):
                holder = endpoint.by_alias.get(metric.alias)
                if holder is not None:
                    detail = (
                        f"{endpoint.label}: alias {metric.alias} of metric {known.name!r} "
                        f"is already metric {holder.name!r}'s"
                    )
                    self._refuse_metric(out, now, RejectReason.MALFORMED, detail, metric, stamp)
                    continue
                endpoint.by_alias[metric.alias] = known
            endpoint.by_name[known.name] = known
            if known.slot >= 0 and (metric.is_null or metric.WhichOneof("value") is not None):
                self._reading(known, endpoint, metric, stamp, now, out)

    def _learn(
        self, endpoint: _Endpoint, metric: codec.Metric, now: Millis, out: Outcome
    ) -> _Known:
        """What a birth metric is: a tag slot, skipped, or refused for its key."""
        name, datatype = metric.name, metric.datatype
        if name == codec.BD_SEQ or name.startswith(_CONTROLS):
            return _Known(SKIP, name, datatype)
        key = tag_key(endpoint.equipment, name)
        if datatype not in codec.NUMERIC or metric.is_transient:
            if key not in self._noted:
                self._noted.add(key)
                why = (
                    "is transient"
                    if datatype in codec.NUMERIC
                    else f"is a {codec.datatype_name(datatype)}"
                )
                out.notes.append(
                    f"{endpoint.label} metric {name!r} {why}: not read "
                    "(only numbers and booleans become tags)"
                )
            return _Known(SKIP, name, datatype)
        owner = f"metric {name!r} of {endpoint.label}"
        holder = self._owners.setdefault(key, owner)
        if holder != owner:
            detail = f"{owner} maps to tag {key}, which {holder} already has: not read"
            self._refuse(out, now, RejectReason.UNKNOWN_TAG, detail, tag_key=key)
            return _Known(REFUSED, name, datatype, key)
        slot = self._slots.get(key)
        declaration = _declaration(key, metric)
        if slot is None:
            slot = self._slots[key] = len(self.keys)
            self.keys.append(key)
            self._declarations.append(declaration)
        else:
            self._declarations[slot] = declaration
        out.born.append(slot)
        return _Known(slot, name, datatype, key)

    # readings

    def _reading(
        self,
        known: _Known,
        endpoint: _Endpoint,
        metric: codec.Metric,
        stamp: Millis,
        now: Millis,
        out: Outcome,
    ) -> None:
        ts = metric.timestamp if metric.HasField("timestamp") else stamp
        if ts >= _MAX_TS:
            detail = f"{endpoint.label} metric {known.name!r}: timestamp {ts} is out of range"
            self._refuse(out, now, RejectReason.MALFORMED, detail, tag_key=known.key)
            return
        if metric.is_null:
            value, quality = float("nan"), Quality.BAD
        else:
            try:
                value = codec.value(metric, known.datatype)
            except ValueError as exc:
                detail = f"{endpoint.label} metric {known.name!r}: {exc}"
                self._refuse(out, now, RejectReason.MALFORMED, detail, tag_key=known.key, ts=ts)
                return
            quality = codec.quality(metric)
        out.slot.append(known.slot)
        out.ts.append(ts)
        out.value.append(value)
        out.quality.append(quality)

    # sessions

    def _node(self, group: str, edge_node: str, prefix: str) -> _Node:
        node = self._nodes.get((group, edge_node))
        if node is None:
            endpoint = _Endpoint(
                equipment=equipment_key(prefix, edge_node), label=f"{group}/{edge_node}"
            )
            node = self._nodes[group, edge_node] = _Node(
                group=group, edge_node=edge_node, prefix=prefix, node=endpoint
            )
        return node

    def _device(self, node: _Node, device: str | None) -> _Endpoint:
        name = device or ""
        endpoint = node.devices.get(name)
        if endpoint is None:
            endpoint = node.devices[name] = _Endpoint(
                equipment=equipment_key(node.prefix, node.edge_node, name),
                label=f"{node.group}/{node.edge_node}/{name}",
            )
        return endpoint

    def _sequence(self, node: _Node, payload: codec.Payload, now: Millis, out: Outcome) -> None:
        if not payload.HasField("seq"):
            return
        seq = payload.seq % SEQ_MODULUS
        due = None if node.seq is None else (node.seq + 1) % SEQ_MODULUS
        node.seq = seq
        if due is not None and seq != due and self._rebirth_on_gap:
            self._rebirth(node, now, out, f"sequence number {seq} where {due} was due")

    def _unborn(
        self,
        node: _Node,
        endpoint: _Endpoint,
        kind: MessageType,
        data: bytes,
        now: Millis,
        out: Outcome,
    ) -> None:
        birth = "NBIRTH" if not node.born else "DBIRTH"
        detail = f"{kind} from {endpoint.label} before its {birth}: its metrics are unknown"
        self._refuse(out, now, RejectReason.UNKNOWN_TAG, detail, payload=data)
        self._rebirth(node, now, out, f"{kind} before {birth}")

    def _rebirth(self, node: _Node, now: Millis, out: Outcome, reason: str) -> None:
        asked = node.rebirth_asked
        if asked is not None and now - asked < self._rebirth_interval_ms:
            return
        node.rebirth_asked = now
        out.rebirths.append(Rebirth(group=node.group, edge_node=node.edge_node, reason=reason))

    def _health(self, endpoint: _Endpoint, health: Health, detail: str, out: Outcome) -> None:
        if endpoint.health is not health:
            endpoint.health = health
            out.devices.append((endpoint.equipment, health, detail))

    # refusals

    def _refuse(
        self,
        out: Outcome,
        now: Millis,
        reason: RejectReason,
        detail: str,
        *,
        payload: bytes | None = None,
        tag_key: str | None = None,
        ts: Millis | None = None,
        value: float | None = None,
    ) -> None:
        out.refused.append(
            DeadLetter(
                received=now,
                source=self._source,
                reason=reason,
                detail=detail,
                tag_key=tag_key,
                ts=ts,
                value=value,
                payload=None if payload is None else codec.excerpt(payload),
            )
        )

    def _refuse_metric(
        self,
        out: Outcome,
        now: Millis,
        reason: RejectReason,
        detail: str,
        metric: codec.Metric,
        stamp: Millis,
        *,
        key: str | None = None,
    ) -> None:
        """Refuse one metric of a message, keeping its time and (if numeric) its value."""
        ts = metric.timestamp if metric.HasField("timestamp") else stamp
        try:
            value: float | None = codec.value(metric, metric.datatype)
        except ValueError:
            value = None
        self._refuse(
            out,
            now,
            reason,
            detail,
            tag_key=key,
            ts=ts if ts < _MAX_TS else None,
            value=value,
            payload=None if value is not None else metric.SerializeToString(),
        )


def _declaration(key: str, metric: codec.Metric) -> TagDeclaration:
    found = codec.properties(metric)
    lo = codec.property_number(found.get("engLow"))
    hi = codec.property_number(found.get("engHigh"))
    if lo is not None and hi is not None and lo >= hi:
        lo = hi = None
    return TagDeclaration(
        key=key,
        name=metric.name,
        unit=codec.property_text(found.get("engUnit")) or "",
        range_lo=lo,
        range_hi=hi,
        # Sparkplug reports by exception: a steady value is silent, not lost. A lost node or
        # device is known from its death certificate (device offline), not from silence.
        offline_after_s=0,
    )
