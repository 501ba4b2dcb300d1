"""Throughput of the warn stage alone: time to limit on every tag plus PCA monitoring of
every installation, on one core.

The plant: ``--installations`` installations of ``--variables`` tags each (2,000 × 50 =
100,000 tags), every tag reporting once per plant second, with HH/H/L/LL limits as in
``bench/ingest.py``. Each installation's values are a few slowly wandering latent drivers
seen through its own mixing matrix plus noise; its PCA monitor is fitted beforehand on
``--train`` samples of the same normal process (not timed). The readings of each plant
second go through the stage in batches of ``--batch``, first ``--warm-up-s`` plant seconds
untimed (by default until every time-to-limit trend window is full), then timed:

    latest values ← batch;  TimeToLimitWatch.observe (one reading per tag per 30 s enters
    its trend);  InstallationMonitors.observe (one sample per installation per
    ``--period-s`` of plant time, scored by its PCA, with the 2-of-3 / 3-clean hysteresis)

Only those calls are timed (making the synthetic data is not); ``cpu_seconds`` is the
process CPU time of the timed calls, so ``cpu_seconds / seconds`` shows how many cores they
used (run with ``OPENBLAS_NUM_THREADS=1`` to hold numpy's BLAS to one thread). Verdicts
are counted but not handed to a warning book (that is database work on the rare verdicts,
not the stage's throughput). Prints readings/s; ``--json`` for machines.

    OPENBLAS_NUM_THREADS=1 python bench/warn.py --installations 2000 --variables 50 \
        --period-s 10 --seconds 30 --json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

import numpy as np

from hazwatch.domain.batch import Batch
from hazwatch.domain.tag import ConditionKind, Limit, Priority, Tag
from hazwatch.domain.tagtable import TagTable
from hazwatch.runtime.pipeline import LatestValues
from hazwatch.warn.monitoring import InstallationModel, InstallationMonitors
from hazwatch.warn.pca import PCA
from hazwatch.warn.watch import TimeToLimitWatch

LATENT = 5
LIMITS = (
    Limit(kind=ConditionKind.HH, value=95, priority=Priority.HIGH, deadband=1),
    Limit(kind=ConditionKind.H, value=90, priority=Priority.MEDIUM, deadband=1),
    Limit(kind=ConditionKind.L, value=10, priority=Priority.MEDIUM, deadband=1),
    Limit(kind=ConditionKind.LL, value=5, priority=Priority.HIGH, deadband=1),
)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_tags(installations: int, variables: int) -> list[Tag]:
    return [
        Tag(
            id=i * variables + v,
            key=f"e{i // 100}.s0.i{i % 100}.q0.t{v}",
            name=f"t{v}",
            scope_id=1,
            scope_path="/1/",
            unit="",
            range_lo=0.0,
            range_hi=100.0,
            period_s=1.0,
            limits=LIMITS,
        )
        for i in range(installations)
        for v in range(variables)
    ]


def run(
    installations: int,
    variables: int,
    period_s: float,
    seconds: float,
    batch_size: int,
    train: int,
    warm_up: int,
) -> dict[str, object]:
    rng = np.random.default_rng(1)
    tags = make_tags(installations, variables)
    n = len(tags)
    ids = np.arange(n, dtype=np.int32)
    table = TagTable.build(tags)
    mixing = rng.normal(0, 1, size=(installations, LATENT, variables))
    level = rng.uniform(35, 65, size=(installations, variables))

    def plant(latent: np.ndarray) -> np.ndarray:
        noise = rng.normal(0, 1, size=(len(latent), installations, variables))
        return np.asarray(level + np.einsum("tik,ikv->tiv", latent, mixing) + noise)

    t_fit = time.perf_counter()
    monitors = InstallationMonitors()
    period_ms = int(period_s * 1000)
    for i in range(installations):
        drivers = rng.normal(size=(train, LATENT))
        normal = level[i] + drivers @ mixing[i] + rng.normal(0, 1, size=(train, variables))
        pca = PCA(components=LATENT, confidence=0.99)
        pca.fit(normal)
        monitors.install(
            InstallationModel(
                installation=f"e{i // 100}.s0.i{i % 100}",
                method="pca",
                version=1,
                period_ms=period_ms,
                variables=tuple(t.key for t in tags[i * variables : (i + 1) * variables]),
                tag_ids=tuple(range(i * variables, (i + 1) * variables)),
                monitor=pca,
            )
        )
    fit_s = time.perf_counter() - t_fit

    trend = TimeToLimitWatch()
    latest = LatestValues(n)
    start = 1_800_000_000_000
    latent = rng.normal(size=(installations, LATENT))
    readings = flagged = subsided = 0
    second = 0
    busy = cpu = 0.0
    rss_before = peak_rss_mb()
    wall0 = time.perf_counter()
    warm = 0
    while busy < seconds:
        # Slowly wandering drivers (AR(1), unit variance): normal operation, not a fault.
        latent = 0.99 * latent + np.sqrt(1 - 0.99**2) * rng.normal(size=latent.shape)
        values = plant(latent[np.newaxis])[0].reshape(-1)
        ts = np.full(n, start + second * 1000, dtype=np.int64)
        now = start + second * 1000 + 500
        batches = [
            Batch.of(
                tag=ids[lo : lo + batch_size],
                ts=ts[lo : lo + batch_size],
                value=values[lo : lo + batch_size],
                received=now,
            )
            for lo in range(0, n, batch_size)
        ]
        t0, c0 = time.perf_counter(), time.process_time()
        for batch in batches:
            latest.update(batch)
            trend.observe(batch, table, now)
            verdicts = monitors.observe(latest.ts, latest.value, int(batch.ts.max()))
            flagged += len(verdicts.flagged)
            subsided += len(verdicts.subsided)
            readings += len(batch)
        second += 1
        if second <= warm_up:
            # Untimed: until every trend window is full, forecasts are cheaper than later.
            readings = flagged = subsided = 0
            warm = second
            continue
        busy += time.perf_counter() - t0
        cpu += time.process_time() - c0
    wall = time.perf_counter() - wall0
    return {
        "installations": installations,
        "variables": variables,
        "tags": n,
        "method": "pca",
        "components": LATENT,
        "sample_period_s": period_s,
        "batch": batch_size,
        "seconds": round(busy, 2),
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "readings": readings,
        "readings_per_s": round(readings / busy),
        "plant_seconds": second - warm,
        "warm_up_plant_seconds": warm,
        "samples_scored_per_s": round(installations * (second - warm) / period_s / busy),
        "flagged_observations": flagged,
        "subsided": subsided,
        "fit_s": round(fit_s, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "peak_rss_mb_before_run": round(rss_before, 1),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--installations", type=int, default=2_000)
    parser.add_argument("--variables", type=int, default=50)
    parser.add_argument("--period-s", type=float, default=10.0, help="monitor sample period")
    parser.add_argument("--seconds", type=float, default=20.0, help="timed seconds to run")
    parser.add_argument("--batch", type=int, default=20_000, help="readings per batch")
    parser.add_argument("--train", type=int, default=1_000, help="normal samples per model")
    parser.add_argument(
        "--warm-up-s",
        type=int,
        default=32 * 30,
        help="plant seconds run untimed first (default: until every trend window is full)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = run(
        args.installations,
        args.variables,
        args.period_s,
        args.seconds,
        args.batch,
        args.train,
        args.warm_up_s,
    )
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>24}: {value}")


if __name__ == "__main__":
    main()
