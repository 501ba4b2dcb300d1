"""Device health from polls: debounced failures, degraded versus offline, recovery."""

from __future__ import annotations

from hazwatch.connectors.base import Health
from hazwatch.connectors.modbus.watch import DeviceWatch, Failure

BUSY = Failure(code="modbus.exception.6", detail="unit 1 holding 0+4: server device busy")
ADDRESS = Failure(code="modbus.exception.2", detail="unit 1 input 90+2: illegal data address")


def test_first_good_poll_reports_online_once() -> None:
    watch = DeviceWatch(offline_after=3)
    assert watch.observe(2, []) == (Health.ONLINE, "")
    assert watch.observe(2, []) is None


def test_failures_are_reported_after_n_consecutive_polls() -> None:
    watch = DeviceWatch(offline_after=3)
    watch.observe(2, [])
    assert watch.observe(2, [BUSY, BUSY]) is None
    assert watch.observe(2, [BUSY, BUSY]) is None
    change = watch.observe(2, [BUSY, BUSY])
    assert change is not None
    state, detail = change
    assert state is Health.OFFLINE
    assert "modbus.exception.6" in detail
    assert "2 of 2 reads failed" in detail


def test_a_good_poll_resets_the_count() -> None:
    watch = DeviceWatch(offline_after=2)
    watch.observe(1, [])
    watch.observe(1, [BUSY])
    assert watch.observe(1, []) is None  # still online: nothing to report
    assert watch.observe(1, [BUSY]) is None


def test_some_reads_failing_is_degraded_then_all_failing_is_offline() -> None:
    watch = DeviceWatch(offline_after=1)
    change = watch.observe(3, [ADDRESS])
    assert change is not None
    assert change[0] is Health.DEGRADED
    assert change[1].startswith("modbus.exception.2: 1 of 3 reads failed; unit 1 input 90+2")
    change = watch.observe(3, [ADDRESS, BUSY, BUSY])
    assert change is not None
    assert change[0] is Health.OFFLINE
    assert change[1].startswith("modbus.exception.2, modbus.exception.6")
    assert watch.observe(3, []) == (Health.ONLINE, "")


def test_lost_connection_reports_offline_once_and_online_after_reconnecting() -> None:
    watch = DeviceWatch(offline_after=3)
    watch.observe(1, [])
    assert watch.lost("connection lost") == (Health.OFFLINE, "connection lost")
    assert watch.state is None
    assert watch.lost("connection lost") is None
    assert watch.observe(1, [BUSY]) is None  # not judged yet in the new connection
    assert watch.observe(1, []) == (Health.ONLINE, "")
