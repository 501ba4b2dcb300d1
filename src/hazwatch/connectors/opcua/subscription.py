"""A subscription that hands over each publish cycle whole.

The library's subscription splits a publish response into one event per value; the
connector wants the cycle as one unit (one batch per cycle), so this subscription passes the
data changes of each publish response, and any subscription status change, to ``sink`` in
one call. Keep-alives (publishes without notifications) are passed too, empty: they show the
server is alive. ``sink`` may wait: the next publish request is sent only after it returns,
so a slow reader slows the server's sending instead of losing values here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from asyncua import ua
from asyncua.client.ua_session import UaSession
from asyncua.common.subscription import Subscription


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """What one publish response brought: data changes, and a status change if any."""

    changes: tuple[ua.MonitoredItemNotification, ...] = ()
    status: ua.StatusCode | None = None


Sink = Callable[[Notice], Awaitable[None]]


class CycleSubscription(Subscription):
    def __init__(
        self, session: UaSession, parameters: ua.CreateSubscriptionParameters, sink: Sink
    ) -> None:
        super().__init__(session, parameters, handler=None, queue_maxsize=1)
        self._sink = sink

    async def publish_callback(self, publish_result: ua.PublishResult) -> None:
        changes: list[ua.MonitoredItemNotification] = []
        status: ua.StatusCode | None = None
        for notification in publish_result.NotificationMessage.NotificationData or ():
            if isinstance(notification, ua.DataChangeNotification):
                changes += notification.MonitoredItems
            elif isinstance(notification, ua.StatusChangeNotification):
                status = notification.Status
        await self._sink(Notice(changes=tuple(changes), status=status))
