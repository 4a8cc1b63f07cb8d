"""The one driver thread (devices.worker) and the one way health changes are reported."""

from __future__ import annotations

import logging
import queue
import threading

import pytest

from devices.health import CLOSED, DISCONNECTED, HealthReport, transition_events
from devices.outlet import EventOutlet
from devices.worker import Worker
from kiosk.ports import (
    AcceptorFault,
    DeviceFault,
    DeviceHealth,
    DeviceNotice,
    DeviceRecovered,
    Health,
)

WAIT = 5.0


def test_a_step_that_raises_is_logged_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    steps: queue.Queue[int] = queue.Queue()
    count = 0

    def step() -> None:
        nonlocal count
        count += 1
        steps.put(count)
        if count == 1:
            raise RuntimeError("a bad reply")
        worker.sleep(0.01)

    worker = Worker("test-worker", step)
    with caplog.at_level(logging.ERROR, logger="devices.worker"):
        worker.start()
        assert steps.get(timeout=WAIT) == 1
        assert steps.get(timeout=WAIT) == 2  # still running after the failure
        assert worker.stop(WAIT)
    assert any("test-worker: step failed" in r.message for r in caplog.records)
    assert not worker.running


def test_stop_ends_a_sleep_at_once_and_finish_runs_on_the_thread() -> None:
    finished: queue.Queue[str] = queue.Queue()
    worker = Worker(
        "sleeper",
        lambda: worker.sleep(60.0),
        finish=lambda: finished.put(threading.current_thread().name),
    )
    worker.start()
    assert worker.running
    assert worker.stop(WAIT)
    assert finished.get(timeout=WAIT) == "sleeper"


def test_wake_cuts_a_sleep_short() -> None:
    woke: queue.Queue[bool] = queue.Queue()
    worker = Worker("waker", lambda: woke.put(worker.sleep(60.0)))
    worker.start()
    try:
        worker.wake()
        assert woke.get(timeout=WAIT) is True
    finally:
        worker.stop(WAIT)


def test_a_step_may_stop_its_own_worker() -> None:
    worker = Worker("once", lambda: worker.request_stop())
    worker.start()
    assert worker.join(WAIT)
    assert worker.stop(WAIT)  # stopping again, and from outside, is harmless


# ---------------------------------------------------------------------------- health


def _report() -> tuple[HealthReport, list[object]]:
    seen: list[object] = []
    outlet = EventOutlet("receipt_printer")
    outlet.attach(seen.append)
    return HealthReport(outlet), seen


def test_a_fault_found_at_open_is_reported_like_any_fault() -> None:
    report, seen = _report()
    assert report.now() == CLOSED
    report.opened()
    assert report.now() == DISCONNECTED  # until the driver has looked
    report.set(DeviceHealth(Health.FAULT, "paper_out"))
    assert seen == [DeviceFault("receipt_printer", "paper_out")]


def test_a_device_fine_at_open_says_nothing() -> None:
    report, seen = _report()
    report.opened()
    report.set(DeviceHealth())
    assert seen == [] and report.now() == DeviceHealth()


def test_changes_after_open_are_reported_once_each() -> None:
    report, seen = _report()
    report.opened()
    report.set(DeviceHealth())
    low = DeviceHealth(Health.DEGRADED, "paper_low")
    out = DeviceHealth(Health.FAULT, "paper_out")
    for health in (low, low, out, out, DeviceHealth()):
        report.set(health)
    assert seen == [
        DeviceNotice("receipt_printer", "paper_low"),
        DeviceFault("receipt_printer", "paper_out"),
        DeviceRecovered("receipt_printer"),
    ]
    report.closed()
    assert report.now() == CLOSED and len(seen) == 3  # closing is not a fault


def test_a_device_closed_while_faulted_and_fine_at_its_next_open_recovered() -> None:
    report, seen = _report()
    report.opened()
    report.set(DeviceHealth(Health.FAULT, "paper_out"))
    report.closed()
    report.opened()
    report.set(DeviceHealth())  # nothing changed against OK, but the fault is over
    report.set(DeviceHealth())
    assert seen == [DeviceFault("receipt_printer", "paper_out"), DeviceRecovered("receipt_printer")]


def test_the_outlet_says_recovered_once_per_fault_whatever_the_polls() -> None:
    outlet = EventOutlet("bill_acceptor")
    seen: list[object] = []
    outlet.attach(seen.append)
    jam = DeviceHealth(Health.FAULT, "jam")
    outlet.health_now(DeviceHealth())  # fine, and nothing to recover from
    outlet.send(AcceptorFault("jam"))
    for health in (jam, jam, DeviceHealth(), DeviceHealth(), DeviceHealth(Health.DEGRADED, "x")):
        outlet.health_now(health)
    assert seen == [AcceptorFault("jam"), DeviceRecovered("bill_acceptor")]


def test_events_before_attach_wait_in_the_outlet() -> None:
    outlet = EventOutlet("scanner")
    report = HealthReport(outlet)
    report.opened()
    report.set(DISCONNECTED)
    seen: list[object] = []
    outlet.attach(seen.append)
    assert seen == [DeviceFault("scanner", "disconnected")]


@pytest.mark.parametrize(
    ("old", "new", "events"),
    [
        (DeviceHealth(), DeviceHealth(Health.FAULT, "jam"), [DeviceFault("d", "jam")]),
        (
            DeviceHealth(Health.FAULT, "jam"),
            DeviceHealth(Health.FAULT, "cover_open"),
            [DeviceFault("d", "cover_open")],
        ),
        (
            DeviceHealth(Health.FAULT, "jam"),
            DeviceHealth(Health.DEGRADED, "paper_low"),
            [DeviceNotice("d", "paper_low")],  # the outlet says it recovered
        ),
        (DeviceHealth(Health.DEGRADED, "paper_low"), DeviceHealth(), []),
    ],
)
def test_transition_events(old: DeviceHealth, new: DeviceHealth, events: list[object]) -> None:
    assert transition_events("d", old, new) == events
