"""The OPC UA connector: one session with one server, one subscription, a batch per publish.

Each connection (the first, and every one after a loss):

1. connects (with user name and password, and a secure channel, where configured);
2. browses the ``browse`` roots afresh and makes the plan of watched variables (``plan``);
   browsed tags the platform does not know yet are declared where the runner can;
3. resolves every tag key; a variable whose tag stays unknown is refused once
   (``UNKNOWN_TAG``) and not monitored;
4. creates one subscription and a monitored item per variable (its sampling interval and
   deadband). Items the server refuses, and browse roots it cannot browse, make the
   connector and its device DEGRADED (the node ids and status names in the detail), and
   each such variable gets one BAD reading, so its tag shows bad instead of going quiet;
5. turns each publish cycle into one ``Batch`` (``decode``). A value that is not a number
   is refused (``MALFORMED``) and the cycle's other values still make the batch. A BAD
   reading without a value carries the tag's last good value (NaN before any), as the
   other families do, so that it never looks like a new measurement.

The link is watched three ways: a closed socket is seen at once; the library reads the
server state every ``health_check_interval_s``; and the subscription must publish (data or
a keep-alive) within three keep-alive periods. Any of these ends the session with a
``ConnectError``, and the base class connects again, with backoff, and subscribes anew:
nothing of the old session is reused. The device of ``config.device`` is reported online,
degraded or offline as the connection goes.

``max_skew_ms`` is the largest difference between a value's source and server timestamps
seen so far: a large one points at a device clock that is off.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from asyncua import ua
from asyncua.client.client import Client
from asyncua.client.ua_session import UaSession
from asyncua.crypto import security_policies
from asyncua.ua.uaerrors import UaStatusCodeError

from hazwatch.connectors.base import (
    AuthError,
    Backoff,
    ConnectError,
    ConnectorBase,
    Health,
    Link,
    TagDeclaration,
)
from hazwatch.connectors.opcua import errors
from hazwatch.connectors.opcua.browse import browse_variables
from hazwatch.connectors.opcua.config import OpcUaConfig, parse_node_id
from hazwatch.connectors.opcua.decode import decode_cycle, hold_last_good, status_name
from hazwatch.connectors.opcua.monitoring import item_request, subscription_parameters
from hazwatch.connectors.opcua.plan import Found, Plan, Problem, Watch, make_plan, needs_namespaces
from hazwatch.connectors.opcua.plan import resolve as resolve_namespace
from hazwatch.connectors.opcua.subscription import CycleSubscription, Notice
from hazwatch.domain.batch import Batch, Quality, Values
from hazwatch.domain.reject import DeadLetter, RejectReason

log = logging.getLogger(__name__)

NOTICES = 16
"""Publish cycles held between the library and the connector before the library waits."""
STALE_KEEPALIVES = 3
MAX_LISTED = 20


class OpcUaConnector(ConnectorBase):
    def __init__(self, config: OpcUaConfig, link: Link, *, backoff: Backoff | None = None) -> None:
        super().__init__(config.name, link, backoff=backoff)
        self.config = config
        self.max_skew_ms = 0
        """The largest |source − server| timestamp difference seen, in ms."""
        self.failed: dict[str, str] = {}
        """Node ids of the current connection that could not be monitored → why."""
        self._refused: set[tuple[str, str | None, str]] = set()
        self._last_good: dict[int, float] = {}  # by tag id, kept across connections
        self._device_state: tuple[Health, str] | None = None

    async def session(self) -> None:
        config = self.config
        notices: asyncio.Queue[Notice | Exception] = asyncio.Queue(maxsize=NOTICES)
        client = Client(
            config.endpoint,
            timeout=config.timeout_s,
            watchdog_intervall=config.health_check_interval_s,
        )
        client.session_timeout = int(max(30.0, 4 * config.health_check_interval_s) * 1000)
        client.connection_lost_callback = notices.put
        connected = False
        detail = "closed"
        try:
            await self._prepare(client)
            await client.connect()
            connected = True
            await self._serve(client, notices)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error = errors.from_exception(exc)
            detail = str(error)
            if error is exc:
                raise
            raise error from exc
        finally:
            self.failed = {}
            self._device(Health.OFFLINE, detail)
            if connected:
                await self._close(client)
            else:  # cancelled or failed while connecting: no session, maybe a socket
                client.disconnect_socket()

    async def _prepare(self, client: Client) -> None:
        """Credentials and security, before connecting."""
        config = self.config
        if config.username is not None:
            client.set_user(config.username)
        if config.password is not None:
            client.set_password(config.password.get_secret_value())
        security = config.security
        if security.policy == "none":
            return
        assert security.certificate is not None and security.private_key is not None
        for field, path in (
            ("certificate", security.certificate),
            ("private_key", security.private_key),
            ("server_certificate", security.server_certificate),
        ):
            if path is not None and not path.is_file():
                raise AuthError(
                    f"security.{field}: {path} is not a readable file",
                    code=errors.PREFIX + "BadCertificateInvalid",
                )
        if security.application_uri is not None:
            client.application_uri = security.application_uri
        password = security.private_key_password
        try:
            await client.set_security(
                security_policies.SecurityPolicyBasic256Sha256,
                certificate=str(security.certificate),
                private_key=str(security.private_key),
                private_key_password=password.get_secret_value() if password else None,
                server_certificate=(
                    str(security.server_certificate) if security.server_certificate else None
                ),
                mode=getattr(ua.MessageSecurityMode, security.mode),
            )
        except ValueError as exc:  # a file that is not a certificate or key
            raise AuthError(
                f"security: cannot load the certificate or key: {exc}",
                code=errors.PREFIX + "BadCertificateInvalid",
            ) from exc

    async def _serve(self, client: Client, notices: asyncio.Queue[Notice | Exception]) -> None:
        """Plan, subscribe, then turn notices into batches until the link fails."""
        config = self.config
        session = client.uaclient.session
        namespaces = await client.get_namespace_array() if needs_namespaces(config) else []
        browsed, broken_roots = await self._browse(session, namespaces)
        plan = make_plan(config, browsed, namespaces)
        for problem in plan.problems:
            self._refuse_once(RejectReason.MALFORMED, problem)
        await self._declare(plan)
        watches, tag_ids = self._resolve(plan.watches)
        subscription = CycleSubscription(
            session,
            subscription_parameters(config.publishing_interval_ms, config.health_check_interval_s),
            notices.put,
        )
        created = await subscription.init()
        tag_of, failed = await self._monitor(subscription, watches, tag_ids)
        failed = {**broken_roots, **failed}
        self.failed = failed
        await self._mark_bad([tag_ids[i] for i, w in enumerate(watches) if w.label in failed])
        self._report_health(failed, monitored=int((tag_of >= 0).sum()))

        stale_s = (
            created.RevisedPublishingInterval
            * max(1, created.RevisedMaxKeepAliveCount)
            * STALE_KEEPALIVES
            / 1000
            + config.timeout_s
        )
        labels = [w.label for w in watches]
        keys = [w.key for w in watches]
        last = np.array([self._last_good.get(t, np.nan) for t in tag_ids], dtype=np.float64)
        while True:
            try:  # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel
                async with asyncio.timeout(stale_s):
                    notice = await notices.get()
            except TimeoutError:
                raise ConnectError(
                    f"no publish or keep-alive from the server in {stale_s:.1f} s",
                    code=errors.PREFIX + "BadTimeout",
                ) from None
            if isinstance(notice, Exception):
                raise errors.from_exception(notice) from notice
            if notice.status is not None and not notice.status.is_good():
                raise errors.from_status(notice.status.value, "the subscription ended")
            if notice.changes:
                await self._take(notice, tag_of, last, labels, keys)

    async def _monitor(
        self, subscription: CycleSubscription, watches: Sequence[Watch], tag_ids: Sequence[int]
    ) -> tuple[npt.NDArray[np.int32], dict[str, str]]:
        """Create a monitored item per watch, its client handle the watch's index. Returns
        the tag id of each handle (-1 where the item failed) and the failures → why."""
        failed: dict[str, str] = {}
        handles: list[int] = []
        requests: list[ua.MonitoredItemCreateRequest] = []
        for handle, watch in enumerate(watches):
            if watch.node_id is None:
                failed[watch.label] = "namespace not on the server"
                continue
            handles.append(handle)
            requests.append(
                item_request(
                    watch.node_id,
                    handle=handle,
                    sampling_interval_ms=watch.sampling_interval_ms,
                    publishing_interval_ms=self.config.publishing_interval_ms,
                    deadband=watch.deadband,
                )
            )
        results = await subscription.create_monitored_items(requests) if requests else []
        tag_of = np.full(len(watches), -1, dtype=np.int32)
        for handle, result in zip(handles, results, strict=True):
            if isinstance(result, ua.StatusCode):
                failed[watches[handle].label] = status_name(result.value)
            else:
                tag_of[handle] = tag_ids[handle]
        return tag_of, failed

    async def _browse(
        self, session: UaSession, namespaces: Sequence[str]
    ) -> tuple[list[list[Found]], dict[str, str]]:
        """What each browse root holds, and the roots that could not be browsed → why."""
        browsed: list[list[Found]] = []
        broken: dict[str, str] = {}
        for entry in self.config.browse:
            root = resolve_namespace(parse_node_id(entry.root), namespaces)
            if root is None:
                broken[entry.root] = "namespace not on the server"
                browsed.append([])
                continue
            try:
                browsed.append(await browse_variables(session, root, recursive=entry.recursive))
            except UaStatusCodeError as exc:
                error = errors.from_status(int(exc.code), f"browse {entry.root}")
                if isinstance(error, ConnectError):
                    raise error from exc
                broken[entry.root] = status_name(int(exc.code))
                browsed.append([])
        return browsed, broken

    async def _declare(self, plan: Plan) -> None:
        """Make browsed tags the platform lacks known, where the runner can create tags."""
        if self.link.declare is None:
            return
        period_s = max(self.config.publishing_interval_ms, self.config.sampling_interval_ms) / 1000
        missing = [
            TagDeclaration(
                key=watch.key,
                name=watch.found.display_name or watch.found.browse_name,
                unit=watch.found.unit,
                range_lo=watch.found.range_lo,
                range_hi=watch.found.range_hi,
                period_s=period_s,
            )
            for watch in plan.watches
            if watch.found is not None and self.link.resolve(watch.key) is None
        ]
        if not missing:
            return
        try:
            await self.link.declare(missing)
        except Exception:  # the tags stay unknown, and are refused as such
            log.warning(
                "connector %s: declaring %d tags failed", self.name, len(missing), exc_info=True
            )

    def _resolve(self, watches: Sequence[Watch]) -> tuple[list[Watch], list[int]]:
        """The watches whose tags are known, with their tag ids; the others refused once."""
        known: list[Watch] = []
        ids: list[int] = []
        for watch in watches:
            tag_id = self.link.resolve(watch.key)
            if tag_id is None:
                self._refuse_once(
                    RejectReason.UNKNOWN_TAG,
                    Problem(
                        label=watch.label, key=watch.key, detail=f"tag {watch.key} is not known"
                    ),
                )
                continue
            known.append(watch)
            ids.append(tag_id)
        return known, ids

    async def _take(
        self,
        notice: Notice,
        tag_of: npt.NDArray[np.int32],
        last: Values,
        labels: list[str],
        keys: list[str],
    ) -> None:
        """One publish cycle: refuse what is not a number, emit the rest as one batch."""
        now = self.link.now()
        cycle = decode_cycle(notice.changes, now)
        values = hold_last_good(cycle, last)
        for refusal in cycle.refused:
            known = 0 <= refusal.item < len(labels)
            self.link.refuse(
                DeadLetter(
                    received=now,
                    source=self.name,
                    reason=RejectReason.MALFORMED,
                    detail=f"{labels[refusal.item] if known else refusal.item}: {refusal.detail}",
                    tag_key=keys[refusal.item] if known else None,
                    ts=refusal.ts,
                    payload=refusal.excerpt or None,
                )
            )
        inside = (cycle.item >= 0) & (cycle.item < len(tag_of))
        tags = np.full(len(cycle), -1, dtype=np.int32)
        tags[inside] = tag_of[cycle.item[inside]]
        ours = tags >= 0
        self.max_skew_ms = max(self.max_skew_ms, cycle.max_skew())
        for item in np.unique(cycle.item[inside]).tolist():
            if tag_of[item] >= 0 and not np.isnan(last[item]):
                self._last_good[int(tag_of[item])] = float(last[item])
        await self.emit(
            Batch(
                tag=tags[ours],
                ts=cycle.ts[ours],
                value=values[ours],
                quality=cycle.quality[ours],
                received=now,
                server_ts=cycle.server_ts[ours],
            )
        )

    async def _mark_bad(self, tag_ids: Sequence[int]) -> None:
        """One BAD reading for each tag whose variable cannot be monitored, with the tag's
        last good value (NaN before any)."""
        if not tag_ids:
            return
        now = self.link.now()
        n = len(tag_ids)
        await self.emit(
            Batch.of(
                tag=tag_ids,
                ts=np.full(n, now),
                value=[self._last_good.get(t, np.nan) for t in tag_ids],
                quality=np.full(n, Quality.BAD),
                received=now,
            )
        )

    def _report_health(self, failed: dict[str, str], *, monitored: int) -> None:
        if not failed and monitored:
            self.online()
            self._device(Health.ONLINE, "")
            return
        if failed:
            listed = [f"{label} ({why})" for label, why in list(failed.items())[:MAX_LISTED]]
            more = len(failed) - len(listed)
            detail = "cannot monitor " + ", ".join(listed) + (f" and {more} more" if more else "")
        else:
            detail = "no variable to monitor"
        self.online(detail)
        self.health.set(Health.DEGRADED, detail)
        self._device(Health.DEGRADED, detail)

    def _device(self, health: Health, detail: str) -> None:
        """Report the device's health when it changed (or, degraded, when what fails did)."""
        last = self._device_state
        if (
            last is not None
            and last[0] is health
            and (health is not Health.DEGRADED or last[1] == detail)
        ):
            return
        self._device_state = (health, detail)
        self.link.device(self.config.device, health, detail)

    def _refuse_once(self, reason: RejectReason, problem: Problem) -> None:
        """Refuse a variable that cannot be read, once in the connector's life."""
        marker = (problem.label, problem.key, reason.value)
        if marker in self._refused:
            return
        self._refused.add(marker)
        self.link.refuse(
            DeadLetter(
                received=self.link.now(),
                source=self.name,
                reason=reason,
                detail=f"{problem.label}: {problem.detail}",
                tag_key=problem.key,
            )
        )

    async def _close(self, client: Client) -> None:
        try:
            async with asyncio.timeout(self.config.timeout_s):
                await client.disconnect()
        except Exception:  # the link may be gone already; the session ends either way
            log.debug("connector %s: disconnect failed", self.name, exc_info=True)
