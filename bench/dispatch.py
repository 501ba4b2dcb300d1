"""How fast playbook notices get through the dispatcher during an alarm flood.

``--notices`` notify orders (one per alarm's run) for ``--people`` people each are posted
within one simulated minute; the dispatcher deduplicates, groups, plans and sends them over
a loopback-free recording channel, with every attempt written to the delivery ledger in a
real database (SQLite file by default). Reported: wall seconds from the first post until
every order is reported back, orders per second, and how many messages were sent (the
grouping's work: a flood becomes a few messages per person).

    .venv/bin/python bench/dispatch.py --notices 5000 --people 20 --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from hazwatch.domain.tag import Priority
from hazwatch.respond.notify.channel import Channel
from hazwatch.respond.notify.message import Message, Notice, Recipient, SourceKind
from hazwatch.respond.playbook import StepOutcome
from hazwatch.runtime.clock import ManualClock
from hazwatch.runtime.dispatcher import Dispatcher, NotifyRequest
from hazwatch.storage.database import Database
from hazwatch.storage.delivery_repository import DatabaseDeliveryLog

T0 = 1_800_000_000_000


class Counting:
    name = "webhook"

    def __init__(self) -> None:
        self.messages = 0

    async def send(self, message: Message, recipient: Recipient, *, key: str) -> None:
        self.messages += 1


async def flood(notices: int, people: int, url: str) -> dict[str, object]:
    db = Database.open(url)
    db.upgrade()
    channel = Counting()
    channels: dict[str, Channel] = {"webhook": channel}
    clock = ManualClock(T0)
    dispatcher = Dispatcher(channels=lambda: channels, log=DatabaseDeliveryLog(db), clock=clock)
    reported: list[StepOutcome] = []
    done = asyncio.Event()

    def report(key: str, outcome: StepOutcome, detail: str) -> None:
        reported.append(outcome)
        if len(reported) == notices:
            loop.call_soon_threadsafe(done.set)

    loop = asyncio.get_running_loop()
    dispatcher.report = report
    recipients = tuple(Recipient(user=f"p{i}", channels=("webhook",)) for i in range(people))
    task = asyncio.create_task(dispatcher.run())
    started = time.perf_counter()
    for i in range(notices):
        clock.current = T0 + i * 60_000 // notices
        notice = Notice(
            source=SourceKind.ALARM,
            id=f"run{i}:notify:{T0}",
            scope="chlor.main.cl2-storage",
            level=Priority.CRITICAL,
            title=f"detector {i} HH",
            at=clock.current,
            dedup_key=f"flood:notify:{i}",
        )
        dispatcher.post(NotifyRequest(notice=notice, recipients=recipients))
        if i % 500 == 0:
            await asyncio.sleep(0)
    clock.current = T0 + 61_000  # the grouped rest falls due
    await asyncio.wait_for(done.wait(), 600)
    seconds = time.perf_counter() - started
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    db.close()
    return {
        "notices": notices,
        "people": people,
        "seconds": round(seconds, 3),
        "orders_per_s": round(notices / seconds, 1),
        "messages_sent": channel.messages,
        "all_done": all(o is StepOutcome.DONE for o in reported),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=5000)
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        result = asyncio.run(flood(args.notices, args.people, url))
    print(json.dumps(result, indent=2) if args.json else result)


if __name__ == "__main__":
    main()
