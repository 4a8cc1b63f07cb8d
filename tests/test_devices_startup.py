"""What a device is found in when the kiosk starts reaches the journal, the same for every device.

A printer already out of paper, or an acceptor already jammed, when the kiosk starts: the
driver sees it while it opens, before the engine has attached, and the journal must still
get one ``device.fault`` for it, of the same kind whichever device it is. The kiosk is built
by :func:`composition.wiring.build_kiosk` as in the field, with the real drivers on the ports of
device emulators the test started (and broke) first, over real pseudo-terminals.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from composition.wiring import Kiosk, build_kiosk
from contract import entries as E
from devices.emulators.ebds_emulator import EbdsEmulator
from devices.emulators.escpos_emulator import EscposEmulator
from kiosk.config import Devices, KioskConfig, Storage
from kiosk.ports import Device, Health

WAIT = 10.0


def _faults(kiosk: Kiosk) -> list[dict[str, Any]]:
    return [dict(e.payload) for e in kiosk.journal.entries() if e.type == E.DEVICE_FAULT]


def _journaled_fault(kiosk: Kiosk, device: str, reason: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while True:
        found = [f for f in _faults(kiosk) if f["device"] == device and f["reason"] == reason]
        if found:
            assert len(found) == 1, found
            return found[0]
        assert time.monotonic() < deadline, f"no device.fault {device} {reason}: {_faults(kiosk)}"
        time.sleep(0.02)


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[EscposEmulator]:
    emulator = EscposEmulator(tmp_path / "printer-port")
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def acceptor(tmp_path: Path) -> Iterator[EbdsEmulator]:
    emulator = EbdsEmulator(tmp_path / "acceptor-port")
    emulator.start()
    yield emulator
    emulator.stop()


def _start(tmp_path: Path, **devices: str) -> Kiosk:
    config = KioskConfig(storage=Storage(data_dir=tmp_path / "data"), devices=Devices(**devices))
    kiosk = build_kiosk(config)
    kiosk.engine.start()
    return kiosk


def test_a_printer_out_of_paper_at_start_is_journaled_like_a_jam(
    tmp_path: Path, printer: EscposEmulator, acceptor: EbdsEmulator
) -> None:
    printer.controls()["paper-out"].handler([])
    acceptor.controls()["jam"].handler([])
    kiosk = _start(tmp_path, receipt_printer=printer.port.path, bill_acceptor=acceptor.port.path)
    try:
        paper = _journaled_fault(kiosk, "receipt_printer", "paper_out")
        jam = _journaled_fault(kiosk, "bill_acceptor", "jam")
        assert paper.keys() == jam.keys() == {"device", "reason"}  # one kind of entry
        ports = kiosk.hardware.ports
        assert ports.printer.health().state is Health.FAULT
        assert ports.acceptor.health().state is Health.FAULT
        assert kiosk.journal.verify().ok
    finally:
        kiosk.close()


def test_devices_fine_at_start_journal_no_fault(tmp_path: Path, printer: EscposEmulator) -> None:
    kiosk = _start(tmp_path, receipt_printer=printer.port.path)
    try:
        for port in (kiosk.hardware.ports.printer, kiosk.hardware.ports.acceptor):
            assert isinstance(port, Device)
            assert port.wait_ready(WAIT)
        time.sleep(0.3)  # anything the drivers had to say at open has reached the engine
        assert _faults(kiosk) == []
    finally:
        kiosk.close()


def test_a_printer_missing_at_start_is_journaled(tmp_path: Path) -> None:
    kiosk = _start(tmp_path, receipt_printer=str(tmp_path / "no-printer-here"))
    try:
        _journaled_fault(kiosk, "receipt_printer", "disconnected")
    finally:
        kiosk.close()
