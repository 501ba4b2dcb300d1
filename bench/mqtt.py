"""Readings through a real broker into the whole platform: MQTT → decode → validate → store
(raw + rollups) → detect → alarms, with the publisher on the same machine.

Three cases, each on a fresh database with a synthetic plant of ``--tags`` tags:

* ``batched``: QoS 1, 100 readings per message (the gateway's column form), offered at
  ``--batched-rate`` readings/s (default 300,000) — ``readings_per_s`` is this figure;
* ``single0``: QoS 0, one reading per message, ``--single0-rate`` messages/s (30,000);
* ``single1``: QoS 1, one reading per message, ``--single1-rate`` messages/s (10,000).

A case "keeps up" when every published reading is stored and evaluated within a second of
the publisher's last message. A rate of 0 floods (as fast as the publisher can) and
measures the most the platform takes in.

    python bench/mqtt.py --tags 10000 --backend sqlite --seconds 20 --json
    python bench/mqtt.py --case batched --batched-rate 0     # the ceiling

The broker is ``--host``/``--port`` (default the local Mosquitto on 127.0.0.1:1883).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hazwatch.connectors.config_file import ConnectorEntry
from hazwatch.connectors.mqtt import MqttConfig
from hazwatch.domain.link import Health
from hazwatch.runtime.clock import WallClock
from hazwatch.runtime.platform import Platform
from hazwatch.runtime.sources import Sources
from hazwatch.settings import Settings
from hazwatch.storage.plant_repository import PlantRepository
from ingest import drop_schema, open_database, peak_rss_mb
from synthetic import synthetic_plant

HERE = Path(__file__).resolve().parent
SOURCE = "mqtt:bench"
KEPT_UP_S = 1.0
SETTLE_S = 30.0

CASES = {
    "batched": {"qos": 1, "per_message": 100},
    "single0": {"qos": 0, "per_message": 1},
    "single1": {"qos": 1, "per_message": 1},
}


def accepted(platform: Platform) -> float:
    value = platform.metrics.registry.get_sample_value(
        "hazwatch_ingest_readings_total", {"source": SOURCE}
    )
    return value or 0.0


def _cpu_s(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def rejected(platform: Platform) -> float:
    total = 0.0
    for family in platform.metrics.rejected.collect():
        total += sum(s.value for s in family.samples if s.name.endswith("_total"))
    return total


def prepare(args: argparse.Namespace, workdir: Path) -> tuple[str, list[str], str | None]:
    """A fresh database with the synthetic plant: (its URL, the tag keys, PG schema)."""
    db, schema = open_database(args.backend, workdir)
    try:
        db.upgrade()
        plants = PlantRepository(db)
        plants.save(synthetic_plant(args.tags))
        keys = [t.key for t in plants.tags()]
        return db.engine.url.render_as_string(hide_password=False), keys, schema
    finally:
        db.close()


def mqtt_entry(case: str, args: argparse.Namespace) -> ConnectorEntry:
    config = MqttConfig(
        name="bench",
        host=args.host,
        port=args.port,
        client_id=f"hazwatch-bench-{os.getpid()}-{case}",
        qos=CASES[case]["qos"],
        share_group=None,
        clean_start=True,
        session_expiry_s=0,
        flush_ms=args.flush_ms,
        max_readings_per_batch=args.batch,
    )
    return ConnectorEntry(config=config)


class Progress:
    """When the stored count last moved."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.count = 0.0
        self.changed = time.monotonic()

    def poll(self) -> float:
        if (count := accepted(self.platform)) != self.count:
            self.count, self.changed = count, time.monotonic()
        return count


async def run_case(case: str, args: argparse.Namespace, rate: float) -> dict[str, object]:
    workdir = Path(tempfile.mkdtemp(prefix="hazwatch-bench-"))
    url, keys, schema = prepare(args, workdir)
    settings = Settings(data_dir=workdir, database_url=url, queue_batches=args.queue)
    platform = Platform.open(settings, WallClock())
    sources = Sources(platform, [mqtt_entry(case, args)])
    platform.engine.start()
    running = asyncio.create_task(sources.run())
    try:
        deadline = time.monotonic() + 10
        while sources.status[0].health is not Health.ONLINE:
            if time.monotonic() > deadline:
                raise SystemExit(f"cannot reach the broker at {args.host}:{args.port}")
            await asyncio.sleep(0.05)
        spec = workdir / "publisher.json"
        spec.write_text(
            json.dumps(
                {
                    "host": args.host,
                    "port": args.port,
                    "keys": keys,
                    "t0": int(time.time() * 1000) - 1000,  # a round is 1 ms: never ahead
                    "seconds": args.seconds,
                    "rate": rate,
                    **CASES[case],
                }
            )
        )
        rss_before = peak_rss_mb()
        cpu_before, publisher_cpu_before = _cpu_s(), _cpu_s(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        publisher = subprocess.Popen(
            [sys.executable, str(HERE / "publisher.py"), str(spec)], stdout=subprocess.PIPE
        )
        progress = Progress(platform)
        while publisher.poll() is None:
            await asyncio.sleep(0.05)
            progress.poll()
        published_at = progress.changed = time.monotonic()
        out = json.loads(publisher.stdout.read() if publisher.stdout else b"{}")
        wanted = out["readings"]
        while progress.poll() + rejected(platform) < wanted:
            await asyncio.sleep(0.02)
            if time.monotonic() - progress.changed > SETTLE_S:
                break  # lost or refused: reported below
        stored_at = time.monotonic()
        stored = int(accepted(platform))
        lag = max(0.0, stored_at - published_at)
        per_message = CASES[case]["per_message"]
        span = stored_at - started
        return {
            "case": case,
            "qos": CASES[case]["qos"],
            "readings_per_message": per_message,
            "offered_readings_per_s": rate or "flood",
            "published_readings": wanted,
            "published_per_s": round(wanted / out["seconds"]),
            "stored_readings": stored,
            "rejected": int(rejected(platform)),
            "readings_per_s": round(stored / span),
            "messages_per_s": round(stored / per_message / span),
            "lag_after_last_publish_s": round(lag, 2),
            "kept_up": stored == wanted and lag <= KEPT_UP_S,
            "pipeline_stage_s": stage_seconds(platform),
            "platform_cpu_cores": round((_cpu_s() - cpu_before) / span, 2),
            "publisher_cpu_cores": round(
                (_cpu_s(resource.RUSAGE_CHILDREN) - publisher_cpu_before) / out["seconds"], 2
            ),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "peak_rss_mb_before_run": round(rss_before, 1),
        }
    finally:
        sources.stop()
        await running
        platform.close()
        if schema:
            drop_schema(schema)
        shutil.rmtree(workdir, ignore_errors=True)


def stage_seconds(platform: Platform) -> dict[str, float]:
    registry = platform.metrics.registry
    return {
        stage: round(
            registry.get_sample_value("hazwatch_stage_seconds_sum", {"stage": stage}) or 0.0, 2
        )
        for stage in ("validate", "store", "detect", "alarms", "warn")
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    parser.add_argument("--tags", type=int, default=10_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--batched-rate", type=float, default=300_000, help="readings/s")
    parser.add_argument("--single0-rate", type=float, default=30_000, help="messages/s")
    parser.add_argument("--single1-rate", type=float, default=10_000, help="messages/s")
    parser.add_argument("--batch", type=int, default=20_000, help="readings per engine batch")
    parser.add_argument("--flush-ms", type=int, default=50)
    parser.add_argument("--queue", type=int, default=16, help="engine queue, in batches")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    rates = {
        "batched": args.batched_rate,
        "single0": args.single0_rate,
        "single1": args.single1_rate,
    }
    cases = list(CASES) if args.case == "all" else [args.case]
    results = {case: asyncio.run(run_case(case, args, rates[case])) for case in cases}
    first = results[cases[0]]
    summary: dict[str, object] = {
        "tags": args.tags,
        "backend": args.backend,
        "seconds": args.seconds,
        "readings_per_s": first["readings_per_s"],
        "cases": results,
    }
    if args.json:
        print(json.dumps(summary))
    else:
        for case, result in results.items():
            print(case)
            for key, value in result.items():
                print(f"{key:>28}: {value}")


if __name__ == "__main__":
    main()
