"""Prometheus metrics of one hazwatch process (a registry per process, never the global one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.readings = Counter(
            "hazwatch_ingest_readings_total",
            "Readings accepted and stored, by source",
            ["source"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "hazwatch_ingest_rejected_total",
            "Readings or payloads refused, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            "hazwatch_stage_seconds",
            "Time spent per batch in each pipeline stage",
            ["stage"],
            buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5),
            registry=self.registry,
        )
        self.stage_lag = Gauge(
            "hazwatch_stage_lag_seconds",
            "Wall-clock time from a batch's arrival to the end of a stage, last batch",
            ["stage"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "hazwatch_queue_depth",
            "Work items waiting for the pipeline",
            registry=self.registry,
        )
        self.alarm_transitions = Counter(
            "hazwatch_alarm_transitions_total",
            "Alarm state transitions, by target state",
            ["state"],
            registry=self.registry,
        )
        self.active_alarms = Gauge(
            "hazwatch_alarms_not_normal",
            "Alarms in any state but normal",
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
