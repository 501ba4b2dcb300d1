"""Throughput of the hot path: validate → store → detect → alarms → warn, in one process.

The warn stage is the platform's: time to limit on every tag (one reading per tag per
30 s enters its trend), its warnings kept and journaled.

Every tag reports once per plant second; the readings of each plant second go through the
pipeline in batches. Values wander so that a small share of tags crosses limits and drives
real alarm transitions. Prints readings/s and peak RSS; ``--json`` for machines.

    python bench/ingest.py --tags 100000 --backend sqlite --seconds 20 --json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hazwatch.domain.batch import Batch
from hazwatch.domain.clock import HOUR_MS
from hazwatch.ingest.validation import Admission
from hazwatch.runtime.metrics import Metrics
from hazwatch.runtime.pipeline import Pipeline
from hazwatch.runtime.warn_stage import WarnStage
from hazwatch.runtime.warnings import WarningBook
from hazwatch.storage.alarm_repository import AlarmRepository
from hazwatch.storage.database import Database
from hazwatch.storage.dead_letter_repository import DeadLetterRepository
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.readings.store import open_reading_store
from hazwatch.storage.warning_repository import WarningRepository
from synthetic import synthetic_plant

PG_URL = os.environ.get(
    "HAZWATCH_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def open_database(backend: str, workdir: Path) -> tuple[Database, str | None]:
    if backend == "sqlite":
        return Database.open(f"sqlite:///{workdir / 'bench.db'}"), None
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return Database.open(f"{PG_URL}?options=-csearch_path%3D{schema}"), schema


def drop_schema(schema: str) -> None:
    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def run(tags: int, backend: str, seconds: float, batch_size: int) -> dict[str, object]:
    workdir = Path(tempfile.mkdtemp(prefix="hazwatch-bench-"))
    db, schema = open_database(backend, workdir)
    try:
        db.upgrade()
        plants = PlantRepository(db)
        plants.save(synthetic_plant(tags))
        tag_list = plants.tags()
        ids = np.array(sorted(t.id for t in tag_list), dtype=np.int32)
        start = int(time.time() * 1000) - HOUR_MS
        metrics = Metrics()
        book = WarningBook(WarningRepository(db))
        pipeline = Pipeline(
            tags=tag_list,
            store=open_reading_store(db.engine),
            alarms=AlarmRepository(db),
            dead_letters=DeadLetterRepository(db),
            admission=Admission(),
            rollup_retention_ms=HOUR_MS * 24 * 365,
            metrics=metrics,
            now=start,
            warn=WarnStage(book),
        )
        rng = np.random.default_rng(1)
        # Most tags sit mid-range; 0.5 % wander across their limits.
        base = rng.uniform(30, 70, len(ids))
        wild = rng.random(len(ids)) < 0.005
        readings = 0
        second = 0
        rss_before = peak_rss_mb()
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            ts = np.full(len(ids), start + second * 1000, dtype=np.int64)
            values = base + rng.normal(0, 1, len(ids))
            values[wild] = 50 + 49 * np.sin(second / 7 + base[wild])
            now = start + second * 1000 + 500
            for lo in range(0, len(ids), batch_size):
                hi = lo + batch_size
                batch = Batch.of(tag=ids[lo:hi], ts=ts[lo:hi], value=values[lo:hi], received=now)
                report = pipeline.process(batch, source="bench", now=now)
                readings += report.accepted
            pipeline.tick(now)
            second += 1
        pipeline.flush()
        elapsed = time.perf_counter() - t0
        alarm_changes = sum(
            sample.value
            for family in metrics.alarm_transitions.collect()
            for sample in family.samples
            if sample.name.endswith("_total")
        )
        return {
            "tags": tags,
            "backend": backend,
            "seconds": round(elapsed, 2),
            "batch": batch_size,
            "readings": readings,
            "readings_per_s": round(readings / elapsed),
            "plant_seconds": second,
            "alarm_transitions": int(alarm_changes),
            "open_warnings": len(book.open()),
            "pipeline_stage_s": {
                stage: round(
                    metrics.registry.get_sample_value(
                        "hazwatch_stage_seconds_sum", {"stage": stage}
                    )
                    or 0.0,
                    2,
                )
                for stage in ("validate", "store", "detect", "alarms", "warn")
            },
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "peak_rss_mb_before_run": round(rss_before, 1),
        }
    finally:
        db.close()
        if schema:
            drop_schema(schema)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tags", type=int, default=10_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=20_000, help="readings per batch")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = run(args.tags, args.backend, args.seconds, args.batch)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>24}: {value}")


if __name__ == "__main__":
    main()
