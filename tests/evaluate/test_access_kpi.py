"""Data-access KPIs over a hand-built hour (access.yaml) against the figures worked out by
hand in it, the 90 % boundary, the ranking and the latency summary."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from hazwatch.domain.clock import HOUR_MS, Millis, to_millis
from hazwatch.domain.reject import RejectReason
from hazwatch.evaluate.access_kpi import (
    AccessInputs,
    AccessKpi,
    DeviceLink,
    Latency,
    Rejection,
    ReviewReason,
    TagSupply,
    access_kpis,
    measure_latency,
)
from hazwatch.evaluate.alarm_log import Span

DATA = yaml.safe_load((Path(__file__).parent / "access.yaml").read_text(encoding="utf-8"))


def _ms(value: object) -> Millis:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return to_millis(moment)


def _inputs() -> AccessInputs:
    def latency(values: list[int]) -> Latency:
        readings, total, most, late, ahead = values
        return Latency(readings=readings, total_ms=total, max_ms=most, late=late, ahead=ahead)

    tags = tuple(
        TagSupply(
            tag_key=key,
            enterprise=t["enterprise"],
            period_s=t["period_s"],
            received=t["received"],
            minutes=t["minutes"],
            since=_ms(t["since"]) if "since" in t else None,
            latency=latency(t["latency"]),
        )
        for key, t in DATA["tags"].items()
    )
    devices = tuple(
        DeviceLink(
            device=key,
            enterprise=d["enterprise"],
            offline=tuple(
                Span(since=_ms(a), until=None if b is None else _ms(b)) for a, b in d["offline"]
            ),
        )
        for key, d in DATA["devices"].items()
    )
    rejected = tuple(
        Rejection(enterprise=e, reason=RejectReason(r), count=n) for e, r, n in DATA["rejected"]
    )
    return AccessInputs(
        enterprises=tuple(DATA["enterprises"]), tags=tags, rejected=rejected, devices=devices
    )


START, END = _ms(DATA["period"]["start"]), _ms(DATA["period"]["end"])


def _fraction(value: object) -> float | None:
    return None if value is None else float(Fraction(str(value)))


def _check(kpi: AccessKpi, want: dict[str, Any]) -> None:
    assert kpi.rank == want["rank"]
    assert kpi.review == (None if want["review"] is None else ReviewReason(want["review"]))
    for name in ("tags", "expected", "received", "counted", "slots", "filled", "offline_ms"):
        assert getattr(kpi, name) == want[name], name
    for name in ("online_rate", "completeness", "device_availability"):
        assert getattr(kpi, name) == pytest.approx(_fraction(want[name])), name
    latency = kpi.latency
    assert [
        latency.readings,
        latency.total_ms,
        latency.max_ms,
        latency.late,
        latency.ahead,
    ] == want["latency"]
    assert latency.timeliness == pytest.approx(_fraction(want["timeliness"]))
    assert {r.reason.value: r.count for r in kpi.rejected} == want["rejected"]
    assert kpi.rejected_total == sum(want["rejected"].values())
    assert [kpi.devices, kpi.devices_offline, kpi.devices_offline_at_end] == want["devices"]


def test_kpis_match_the_hand_worked_figures() -> None:
    report = access_kpis(_inputs(), START, END)
    want = DATA["expected"]
    assert [k.enterprise for k in report.enterprises] == want["ranking"]
    assert list(report.flagged) == want["flagged"]
    for kpi in report.enterprises:
        _check(kpi, want[kpi.enterprise])
    _check(report.overall, want["overall"])
    assert report.threshold == 0.9
    assert report.latency_from == START


def test_exactly_at_the_threshold_is_not_below_it() -> None:
    acid = next(k for k in access_kpis(_inputs(), START, END).enterprises if k.enterprise == "acid")
    assert acid.online_rate == 0.9
    assert acid.review is None
    stricter = access_kpis(_inputs(), START, END, threshold=0.91)
    assert list(stricter.flagged) == ["acid", "steel", "paint"]


def test_equal_rates_share_a_rank() -> None:
    def tag(key: str, enterprise: str, received: int) -> TagSupply:
        return TagSupply(
            tag_key=key, enterprise=enterprise, period_s=60, received=received, minutes=received
        )

    inputs = AccessInputs(
        enterprises=("a", "b", "c"),
        tags=(tag("a.t", "a", 54), tag("b.t", "b", 54), tag("c.t", "c", 60)),
    )
    report = access_kpis(inputs, 0, HOUR_MS)
    assert [(k.enterprise, k.rank) for k in report.enterprises] == [("c", 1), ("a", 2), ("b", 2)]
    assert report.flagged == ()


def test_latency_is_received_minus_source_time() -> None:
    ts = np.array([0, 1000, 2000, 3000, 4000], dtype=np.int64)
    received = np.array([500, 1000, 63_000, 2500, 64_000], dtype=np.int64)
    # delays 500, 0, 61 000 (late), -500 (source clock ahead: 0), 60 000 (exactly: on time)
    latency = measure_latency(ts, received, 60_000)
    assert latency == Latency(readings=5, total_ms=121_500, max_ms=61_000, late=1, ahead=1)
    assert latency.timeliness == pytest.approx(4 / 5)
    assert latency.mean_ms == pytest.approx(121_500 / 5)
    assert measure_latency(ts[:0], received[:0], 60_000) == Latency()


def test_a_tag_created_after_the_period_expects_nothing() -> None:
    late = TagSupply(
        tag_key="a.t", enterprise="a", period_s=1, received=0, minutes=0, since=2 * HOUR_MS
    )
    report = access_kpis(AccessInputs(enterprises=("a",), tags=(late,)), 0, HOUR_MS)
    (a,) = report.enterprises
    assert (a.expected, a.online_rate, a.rank, a.review) == (0, None, None, None)


def test_bad_input_is_refused_with_the_field_named() -> None:
    inputs = AccessInputs(enterprises=(), tags=())
    with pytest.raises(ValueError, match="end"):
        access_kpis(inputs, HOUR_MS, 0)
    with pytest.raises(ValueError, match="threshold"):
        access_kpis(inputs, 0, HOUR_MS, threshold=1.5)
    with pytest.raises(ValueError, match="period_s"):
        TagSupply(tag_key="a.t", enterprise="a", period_s=0, received=0, minutes=0)
    with pytest.raises(ValueError, match="differ in length"):
        measure_latency(np.zeros(2, dtype=np.int64), np.zeros(1, dtype=np.int64), 1)


def test_a_link_never_offline_is_fully_available() -> None:
    device = DeviceLink(device="d", enterprise="a")
    report = access_kpis(AccessInputs(enterprises=(), tags=(), devices=(device,)), 0, HOUR_MS)
    (a,) = report.enterprises
    assert (a.devices, a.devices_offline, a.offline_ms, a.device_availability) == (1, 0, 0, 1.0)
    assert a.review is ReviewReason.NO_TAGS
