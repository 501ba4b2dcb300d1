from __future__ import annotations

import asyncio

import numpy as np

from hazwatch.domain.scope import Grant
from hazwatch.runtime.hub import Hub


def test_alarms_and_values_reach_only_subscribers_who_may_see_them() -> None:
    async def scenario() -> tuple[list[str], list[str], dict[str, list[object]]]:
        hub = Hub(asyncio.get_running_loop())
        plant_a = hub.subscribe(Grant(("/1/2/",)))
        everything = hub.subscribe(Grant.everything())
        hub.publish_alarms([("/1/3/", {"tag_id": 2, "id": "2.HH"})])
        hub.publish_alarms([("/1/2/9/", {"tag_id": 1, "id": "1.H"})])
        await asyncio.sleep(0)

        paths = {0: "/0/", 1: "/1/2/9/", 2: "/1/3/"}
        ts = np.array([-1, 1000, 1000], dtype=np.int64)
        hub.sample_values(
            ts, np.array([np.nan, 5.0, 6.0]), np.zeros(3, np.uint8), paths.__getitem__, "t"
        )
        hub.sample_values(
            ts, np.array([np.nan, 5.0, 6.0]), np.zeros(3, np.uint8), paths.__getitem__, "t"
        )

        a = [plant_a.queue.get_nowait() for _ in range(plant_a.queue.qsize())]
        e = [everything.queue.get_nowait() for _ in range(everything.queue.qsize())]
        values = next(ev.data["values"] for ev in a if ev.kind == "values")
        return (
            [ev.data.get("id", ev.kind) for ev in a],
            [ev.data.get("id", ev.kind) for ev in e],
            values,
        )

    seen_a, seen_all, values_a = asyncio.run(scenario())
    assert seen_a == ["1.H", "values"]
    assert seen_all == ["2.HH", "1.H", "values"]
    assert values_a == {"1": [1000, 5.0, 0]}


def test_a_subscriber_that_falls_behind_is_told_and_dropped() -> None:
    async def scenario() -> tuple[str, int]:
        hub = Hub(asyncio.get_running_loop())
        slow = hub.subscribe(Grant.everything())
        hub.publish_alarms([("/", {"id": f"{i}.H"}) for i in range(1200)])
        await asyncio.sleep(0)
        events = [slow.queue.get_nowait() for _ in range(slow.queue.qsize())]
        return events[-1].kind, hub.subscribers

    last, remaining = asyncio.run(scenario())
    assert last == "closed"
    assert remaining == 0
