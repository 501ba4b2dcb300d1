"""What the alarm-system and data-access KPIs read from the database, for a period and a
grant: the alarm journal as an ``evaluate.alarm_log.AlarmLog``, and what each data tag,
link and dead letter says about data access as ``evaluate.access_kpi.AccessInputs``.

Scoping follows the other repositories: every row read is filtered by its tag's (or dead
letter's) scope path inside SQL. Rows are labelled with the keys of their enterprise and
operator position; those keys come from the visible nodes and the ancestors of the
grant's own nodes (an installation's operator sees its enterprise's key).

* **Operator position.** The plant model has no console or operator-position concept tied
  to tags (contacts hold posts, not tags), so a position is a node of the scope tree: the
  installation by default, or the site (``position=ScopeKind.SITE``); its key is the dotted
  key path, ``acid.main.storage``.
* **Priority** is the alarm's priority now (the journal does not keep it per transition).
* **State at the start.** Per alarm, the last transition before the start, the last
  process transition before it and the last entry into a standing state before it are read
  with the transitions of the period (see ``alarm_log``).
* **Received readings** come from the one-minute rollups (usable readings: good or
  uncertain quality with a value), so the period must start and end on whole minutes. The
  newest minute of each tag is written when the next one begins: a period ending now may
  miss it.
* **Latency** is received − source time of each stored raw reading (the time the platform
  received it, stamped by the connector or the ingest endpoint). The pipeline's own
  receipt-to-store lag is not stored (it is the live ``hazwatch_stage_lag_seconds``
  gauge). Raw readings are read tag group by tag group over ``[latency_from, end)`` only.
* **Devices** are links (their status tags ``….link-status``); an outage is the time their
  ``device_offline`` condition was active (raised after the link alarm delay).
* Tags carry no creation time: expected readings count from the period start.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    and_,
    column,
    func,
    select,
    table,
    union,
)

from hazwatch.domain.alarm import AlarmInput, AlarmState
from hazwatch.domain.clock import MINUTE_MS, Millis
from hazwatch.domain.link import STATUS_TAG
from hazwatch.domain.reject import RejectReason
from hazwatch.domain.scope import Grant, ScopeKind
from hazwatch.domain.tag import ConditionKind, Priority
from hazwatch.evaluate.access_kpi import (
    DEFAULT_LATE_AFTER_MS,
    AccessInputs,
    DeviceLink,
    Latency,
    Rejection,
    TagSupply,
    measure_latency,
)
from hazwatch.evaluate.alarm_log import STANDING, AlarmEvent, AlarmLog, AlarmSubject, replay
from hazwatch.storage.database import Database
from hazwatch.storage.readings.store import read_readings
from hazwatch.storage.schema import alarm_journal, alarms, dead_letters, scope_nodes, tags
from hazwatch.storage.visibility import visible

LATENCY_TAGS = 64
"""Tags whose raw readings are read at once for latency (bounds memory: a day of a 1 Hz
tag is ~2.8 MB decoded)."""

_rollups = table("rollups_1m", column("tag_id"), column("bucket"), column("count"))
_STATUS_SUFFIX = f".{STATUS_TAG}"


@dataclass(frozen=True, slots=True)
class _TagRow:
    id: int
    key: str
    period_s: float
    scope_path: str


@dataclass(frozen=True, slots=True)
class _Node:
    kind: ScopeKind
    key: str


class _Places:
    """Enterprise and position keys of scope paths (``/1/4/9/``)."""

    def __init__(self, nodes: dict[int, _Node]) -> None:
        self._nodes = nodes

    def _chain(self, path: str) -> list[_Node]:
        ids = (int(part) for part in path.strip("/").split("/") if part)
        return [node for i in ids if (node := self._nodes.get(i)) is not None]

    def enterprise(self, path: str) -> str:
        return next((n.key for n in self._chain(path) if n.kind is ScopeKind.ENTERPRISE), "")

    def position(self, path: str, level: ScopeKind) -> str:
        keys: list[str] = []
        for node in self._chain(path):
            if node.kind.depth < ScopeKind.ENTERPRISE.depth:
                continue
            keys.append(node.key)
            if node.kind is level:
                break
        return ".".join(keys)

    def enterprises(self) -> tuple[str, ...]:
        return tuple(sorted(n.key for n in self._nodes.values() if n.kind is ScopeKind.ENTERPRISE))


class KpiSource:
    def __init__(self, db: Database) -> None:
        self._db = db

    def alarm_log(
        self,
        grant: Grant,
        start: Millis,
        end: Millis,
        *,
        position: ScopeKind = ScopeKind.INSTALLATION,
        conditions: Collection[ConditionKind] | None = None,
    ) -> AlarmLog:
        """The journal of the alarms ``grant`` may see, for ``[start, end)`` (see the module
        docstring); ``conditions`` keeps only those conditions. Alarm ids are the API's
        (``"42.HH"``)."""
        if position not in (ScopeKind.SITE, ScopeKind.INSTALLATION):
            raise ValueError(f"position must be a site or an installation, not {position}")
        if end <= start:
            raise ValueError("end must lie after start")
        j = alarm_journal
        prior = _prior(start)
        rows = union(
            _journal_columns().join(prior, _same_transition(prior)),
            _journal_columns().where(j.c.at >= start, j.c.at < end),
        ).subquery()
        where = [visible(tags.c.scope_path, grant)]
        if conditions is not None:
            where.append(rows.c.condition.in_([c.value for c in conditions]))
        query = (
            select(rows, tags.c.key, tags.c.scope_path, alarms.c.priority)
            .join(tags, tags.c.id == rows.c.tag_id)
            .join(
                alarms,
                and_(alarms.c.tag_id == rows.c.tag_id, alarms.c.condition == rows.c.condition),
            )
            .where(*where)
            .order_by(rows.c.tag_id, rows.c.condition, rows.c.seq)
        )
        with self._db.engine.connect() as conn:
            found = conn.execute(query).all()
            places = self._places(conn, grant)
        return _log(found, places, position)

    def access_inputs(
        self,
        grant: Grant,
        start: Millis,
        end: Millis,
        *,
        late_after_ms: Millis = DEFAULT_LATE_AFTER_MS,
        latency_from: Millis | None = None,
    ) -> AccessInputs:
        """What the data tags, links and dead letters ``grant`` may see say about data
        access over ``[start, end)``, which must start and end on whole minutes; latency
        over ``[max(start, latency_from), end)``."""
        for name, value in (("start", start), ("end", end)):
            if value % MINUTE_MS:
                raise ValueError(f"{name} must lie on a whole minute (rollups count minutes)")
        if end <= start:
            raise ValueError("end must lie after start")
        since = start if latency_from is None else max(start, latency_from)
        with self._db.engine.connect() as conn:
            places = self._places(conn, grant)
            visible_tags = [
                _TagRow(*row)
                for row in conn.execute(
                    select(tags.c.id, tags.c.key, tags.c.period_s, tags.c.scope_path)
                    .where(visible(tags.c.scope_path, grant))
                    .order_by(tags.c.id)
                )
            ]
            counts = _rollup_counts(conn, grant, start, end)
            rejected = conn.execute(
                select(dead_letters.c.scope_path, dead_letters.c.reason, func.count())
                .where(
                    visible(dead_letters.c.scope_path, grant),
                    dead_letters.c.received >= start,
                    dead_letters.c.received < end,
                )
                .group_by(dead_letters.c.scope_path, dead_letters.c.reason)
            ).all()
        data = [t for t in visible_tags if not t.key.endswith(_STATUS_SUFFIX)]
        latency = self._latency([t.id for t in data], since, end, late_after_ms)
        supplies = tuple(
            TagSupply(
                tag_key=t.key,
                enterprise=places.enterprise(t.scope_path),
                period_s=t.period_s,
                received=counts.get(t.id, (0, 0))[0],
                minutes=counts.get(t.id, (0, 0))[1],
                latency=latency.get(t.id, Latency()),
            )
            for t in data
        )
        return AccessInputs(
            enterprises=places.enterprises(),
            tags=supplies,
            rejected=tuple(
                Rejection(enterprise=places.enterprise(path), reason=RejectReason(reason), count=n)
                for path, reason, n in rejected
            ),
            devices=self._devices(grant, start, end, visible_tags, places),
            latency_from=since,
        )

    def _latency(
        self, tag_ids: Sequence[int], start: Millis, end: Millis, late_after_ms: Millis
    ) -> dict[int, Latency]:
        found: dict[int, Latency] = {}
        for first in range(0, len(tag_ids), LATENCY_TAGS):
            chunk = np.asarray(sorted(tag_ids[first : first + LATENCY_TAGS]), dtype=np.int32)
            readings = read_readings(self._db.engine, chunk.tolist(), start, end)
            bounds = np.searchsorted(readings.tag, chunk, side="left")
            stops = np.searchsorted(readings.tag, chunk, side="right")
            for tag_id, lo, hi in zip(chunk.tolist(), bounds.tolist(), stops.tolist(), strict=True):
                if hi > lo:
                    found[tag_id] = measure_latency(
                        readings.ts[lo:hi], readings.received[lo:hi], late_after_ms
                    )
        return found

    def _devices(
        self,
        grant: Grant,
        start: Millis,
        end: Millis,
        visible_tags: Iterable[_TagRow],
        places: _Places,
    ) -> tuple[DeviceLink, ...]:
        status = [t for t in visible_tags if t.key.endswith(_STATUS_SUFFIX)]
        if not status:
            return ()
        log = self.alarm_log(grant, start, end, conditions=(ConditionKind.DEVICE_OFFLINE,))
        offline = {h.subject.tag_key: h.active for h in replay(log, start, end)}
        return tuple(
            DeviceLink(
                device=t.key.removesuffix(_STATUS_SUFFIX),
                enterprise=places.enterprise(t.scope_path),
                offline=offline.get(t.key, ()),
            )
            for t in status
        )

    def _places(self, conn: Connection, grant: Grant) -> _Places:
        """The visible nodes and the ancestors of the grant's nodes."""
        above = {int(p) for prefix in grant.prefixes for p in prefix.strip("/").split("/") if p}
        query = select(scope_nodes.c.id, scope_nodes.c.kind, scope_nodes.c.key).where(
            visible(scope_nodes.c.path, grant) | scope_nodes.c.id.in_(sorted(above))
        )
        return _Places({i: _Node(ScopeKind(kind), key) for i, kind, key in conn.execute(query)})


def _journal_columns() -> Select[Any]:
    j = alarm_journal
    return select(j.c.tag_id, j.c.condition, j.c.seq, j.c.at, j.c.input, j.c.to_state)


def _prior(start: Millis) -> Any:
    """Per alarm, the seq of the last transition, the last process transition and the last
    entry into a standing state before ``start``."""
    j = alarm_journal
    standing = [s.value for s in STANDING]

    def last(*where: ColumnElement[bool]) -> Select[Any]:
        return (
            select(j.c.tag_id, j.c.condition, func.max(j.c.seq).label("seq"))
            .where(j.c.at < start, *where)
            .group_by(j.c.tag_id, j.c.condition)
        )

    return union(
        last(),
        last(j.c.input.in_([AlarmInput.ACTIVATE.value, AlarmInput.CLEAR.value])),
        last(j.c.to_state.in_(standing), j.c.from_state.not_in(standing)),
    ).subquery("prior")


def _same_transition(prior: Any) -> ColumnElement[bool]:
    j = alarm_journal
    return and_(
        prior.c.tag_id == j.c.tag_id, prior.c.condition == j.c.condition, prior.c.seq == j.c.seq
    )


def _rollup_counts(
    conn: Connection, grant: Grant, start: Millis, end: Millis
) -> dict[int, tuple[int, int]]:
    """Per tag: usable readings and minutes holding one, in ``[start, end)``."""
    query = (
        select(_rollups.c.tag_id, func.sum(_rollups.c.count), func.count())
        .select_from(_rollups.join(tags, tags.c.id == _rollups.c.tag_id))
        .where(
            visible(tags.c.scope_path, grant),
            _rollups.c.bucket >= start,
            _rollups.c.bucket < end,
            _rollups.c.count > 0,
        )
        .group_by(_rollups.c.tag_id)
    )
    return {int(t): (int(n), int(m)) for t, n, m in conn.execute(query)}


def _log(rows: Sequence[Row[Any]], places: _Places, position: ScopeKind) -> AlarmLog:
    subjects: dict[str, AlarmSubject] = {}
    events: list[AlarmEvent] = []
    for row in rows:
        alarm = f"{row.tag_id}.{row.condition}"
        if alarm not in subjects:
            subjects[alarm] = AlarmSubject(
                alarm=alarm,
                tag_key=row.key,
                condition=ConditionKind(row.condition),
                priority=Priority(row.priority),
                enterprise=places.enterprise(row.scope_path),
                position=places.position(row.scope_path, position),
            )
        events.append(
            AlarmEvent(
                alarm=alarm,
                at=row.at,
                input=AlarmInput(row.input),
                to_state=AlarmState(row.to_state),
            )
        )
    return AlarmLog(subjects=tuple(subjects.values()), events=tuple(events))
