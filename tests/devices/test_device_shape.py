"""Every driver and stand-in has the one Device shape; every driver error is a DeviceError."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from devices.ebds.driver import AcceptorUnavailable, EbdsAcceptor
from devices.escpos.driver import EscposPrinter
from devices.scanner import SerialScanner
from devices.serial_link import LinkDown
from devices.simulated import (
    SimulatedAcceptor,
    SimulatedPrinter,
    SimulatedScanner,
    SimulatedTerminal,
)
from devices.zvt.driver import ZvtTerminal
from devices.zvt.link import LinkLost
from devices.zvt.session import Timing as ZvtTiming
from kiosk.ports import AcceptorFault, Device, DeviceError, DeviceFault, Health

Make = Callable[[Path], Device]

DRIVERS: dict[str, Make] = {
    "ebds": lambda d: EbdsAcceptor(str(d / "none"), reconnect_interval=0.05),
    "escpos": lambda d: EscposPrinter(str(d / "none"), poll_interval=0.05, reconnect_interval=0.05),
    "scanner": lambda d: SerialScanner(str(d / "none"), reconnect_interval=0.05),
    "zvt": lambda d: ZvtTerminal.serial(
        str(d / "none"),
        state_path=d / "zvt.json",
        reconnect_interval=0.05,
        timing=ZvtTiming(command_ack=0.3),
    ),
}
STAND_INS: dict[str, Make] = {
    "acceptor": lambda d: SimulatedAcceptor(d / "a.json"),
    "printer": lambda d: SimulatedPrinter(d / "p.json"),
    "scanner": lambda d: SimulatedScanner(),
    "terminal": lambda d: SimulatedTerminal(d / "t.json"),
}


@pytest.mark.parametrize(
    "make", [*DRIVERS.values(), *STAND_INS.values()], ids=[*DRIVERS, *STAND_INS]
)
def test_each_is_a_device_closed_until_opened_and_after_closing(make: Make, tmp_path: Path) -> None:
    device = make(tmp_path)
    assert isinstance(device, Device)
    assert device.health().reason == "closed"
    assert isinstance(device.counters(), dict)
    device.open()
    try:
        assert all(isinstance(v, int) for v in device.counters().values())
    finally:
        device.close()
    assert (device.health().state, device.health().reason) == (Health.FAULT, "closed")


@pytest.mark.parametrize("make", DRIVERS.values(), ids=DRIVERS)
def test_a_driver_with_nothing_on_its_port_reports_it_through_its_outlet(
    make: Make, tmp_path: Path
) -> None:
    """Found at open, before anything attached: the fault waits for the engine."""
    device = make(tmp_path)
    device.open()
    try:
        assert not device.wait_ready(0.8)
        seen: list[object] = []
        device.attach(seen.append)  # attached late, as the engine is
        # the acceptor's faults are AcceptorFault (the engine settles a stack by them); the
        # engine journals both as the same device.fault
        faults = [e for e in seen if isinstance(e, DeviceFault | AcceptorFault)]
        assert faults and {f.reason for f in faults} == {"disconnected"}
        assert device.health().state is Health.FAULT
    finally:
        device.close()


def test_the_simulated_printer_reports_paper_out_at_open(tmp_path: Path) -> None:
    printer = SimulatedPrinter(tmp_path / "p.json")
    printer.set_paper(False)  # ran out while the kiosk was off
    printer.open()
    seen: list[object] = []
    printer.attach(seen.append)
    assert seen == [DeviceFault("receipt_printer", "paper_out")]


@pytest.mark.parametrize("error", [LinkDown, LinkLost, AcceptorUnavailable])
def test_driver_errors_share_one_root(error: type[Exception]) -> None:
    assert issubclass(error, DeviceError)
    assert issubclass(error, ConnectionError)  # what callers caught before still catches them
