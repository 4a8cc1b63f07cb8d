"""Part of the composition root: the devices a kiosk runs with, picked from its config.

Each device is a real serial port, the protocol emulator on a pseudo-terminal in this
process (the demo: the real drivers speak the real protocol to it), or a file-backed
simulation (the crash test: its state outlives a killed kiosk, as real hardware's does).
Whatever was picked, :class:`Controls` is how a demo script makes the "hardware" do
something — push a bill in, present a card, scan a stub — and read what was printed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Protocol

from devices.emulators.base import Emulator
from devices.simulated import (
    SimulatedAcceptor,
    SimulatedDirectory,
    SimulatedPrinter,
    SimulatedScanner,
    SimulatedTerminal,
)
from kiosk.config import (
    EMULATED,
    SIMULATED,
    AcceptorProtocol,
    EmulatedAcceptorModel,
    KioskConfig,
)
from kiosk.money import Money
from kiosk.ports import BillAcceptor, CardTerminal, PortSet, ReceiptPrinter, Scanner
from kiosk.printout import render_printable

READY_TIMEOUT = 5.0


class NoControl(RuntimeError):
    """A demo action on a device that is real hardware: a person has to do it."""


def _no_control(what: str) -> Callable[..., None]:
    def refuse(*_args: object) -> None:
        raise NoControl(f"{what} is real hardware here: do it by hand")

    return refuse


@dataclass
class Controls:
    insert_bill: Callable[[int], None]
    present_card: Callable[[str], None]
    scan: Callable[[str], None]
    receipt_text: Callable[[], list[str]]
    emulators: dict[str, object] = field(default_factory=dict)
    network: Callable[[bool], None] = field(default_factory=lambda: _no_control("the network"))
    """Pull the network cable (False) or plug it back in (True): only a demo hub's link."""

    def emulate(self, device: str, control: str) -> None:
        """Work one of an emulated device's controls by hand (``paper-out`` on the
        ``printer``, ``cassette-remove`` on the ``bill-acceptor``)."""
        emulator = self.emulators.get(device)
        if emulator is None:
            raise NoControl(f"the {device} is not emulated here: do it by hand")
        controls = emulator.controls()  # type: ignore[attr-defined]
        _say(controls[control].handler([]))


@dataclass
class Hardware:
    ports: PortSet
    controls: Controls
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self.closers):
            close()
        self.closers.clear()


class _AcceptorDriver(BillAcceptor, Protocol):
    def open(self) -> None: ...
    def close(self) -> None: ...
    def wait_ready(self, timeout: float) -> bool: ...


def _acceptor_kind(
    protocol: AcceptorProtocol, model: EmulatedAcceptorModel = "mei"
) -> tuple[Callable[[str], _AcceptorDriver], Callable[[Path], Emulator]]:
    """The driver and the emulator that speak ``protocol`` (an EBDS emulator playing
    ``model``), imported only when used."""
    if protocol == "id003":
        from devices.emulators.id003_emulator import Id003Emulator
        from devices.id003.driver import Id003Acceptor

        return Id003Acceptor, Id003Emulator
    from devices.ebds.driver import EbdsAcceptor
    from devices.emulators.ebds_emulator import EbdsEmulator

    return EbdsAcceptor, functools.partial(EbdsEmulator, flavour=model)


def _acceptor(
    where: str,
    protocol: AcceptorProtocol,
    model: EmulatedAcceptorModel,
    folder: Path,
    closers: list[Callable[[], None]],
    controls: dict[str, object],
) -> tuple[BillAcceptor, Callable[[int], None]]:
    if where == SIMULATED:
        simulated = SimulatedAcceptor(folder / "bill_acceptor.json")
        simulated.open()
        return simulated, lambda dollars: simulated.insert(Money(dollars * 100))
    make_driver, make_emulator = _acceptor_kind(protocol, model)
    insert: Callable[[int], None] = _no_control("the bill acceptor")
    port = where
    if where == EMULATED:
        emulator = make_emulator(folder / "run" / "bill-acceptor")
        emulator.start()
        closers.append(emulator.stop)
        controls["bill-acceptor"] = emulator
        port = emulator.port.path
        handler = emulator.controls()["insert"].handler
        insert = lambda dollars: _say(handler([str(dollars)]))  # noqa: E731
    driver = make_driver(port)
    driver.open()
    closers.append(driver.close)
    driver.wait_ready(READY_TIMEOUT)
    return driver, insert


def _printer(
    where: str, folder: Path, closers: list[Callable[[], None]], controls: dict[str, object]
) -> tuple[ReceiptPrinter, Callable[[], list[str]]]:
    if where == SIMULATED:
        simulated = SimulatedPrinter(folder / "receipt_printer.json", render=render_printable)
        simulated.open()
        return simulated, lambda: simulated.last_text
    # python-escpos brings Pillow, qrcode and pyusb: imported only when a printer is driven
    from devices.emulators.escpos_emulator import EscposEmulator
    from devices.escpos.driver import EscposPrinter

    last: Callable[[], list[str]] = lambda: []  # noqa: E731
    port, settle = where, 1.0
    if where == EMULATED:
        emulator = EscposEmulator(folder / "run" / "printer", out_dir=folder / "receipts")
        emulator.start()
        closers.append(emulator.stop)
        controls["printer"] = emulator
        port, settle = emulator.port.path, 0.0

        def last() -> list[str]:
            return emulator.receipts[-1].text.splitlines() if emulator.receipts else []

    driver = EscposPrinter(port, state_path=folder / "printer_state.json", settle_time=settle)
    driver.open()
    closers.append(driver.close)
    driver.wait_ready(READY_TIMEOUT)
    return driver, last


def _scanner(
    where: str, folder: Path, closers: list[Callable[[], None]], controls: dict[str, object]
) -> tuple[Scanner, Callable[[str], None]]:
    if where == SIMULATED:
        simulated = SimulatedScanner()
        simulated.open()
        return simulated, simulated.scan
    from devices.emulators.scanner_emulator import ScannerEmulator
    from devices.scanner import SerialScanner

    scan: Callable[[str], None] = _no_control("the barcode scanner")
    port = where
    if where == EMULATED:
        emulator = ScannerEmulator(folder / "run" / "scanner")
        emulator.start()
        closers.append(emulator.stop)
        controls["scanner"] = emulator
        port = emulator.port.path
        handler = emulator.controls()["scan"].handler
        scan = lambda code: _say(handler([code]))  # noqa: E731
    driver = SerialScanner(port)
    driver.open()
    closers.append(driver.close)
    driver.wait_ready(READY_TIMEOUT)
    return driver, scan


def _terminal(
    where: str,
    folder: Path,
    closers: list[Callable[[], None]],
    controls: dict[str, object],
    zone: tzinfo | None = None,
) -> tuple[CardTerminal, Callable[[str], None]]:
    if where == SIMULATED:
        simulated = SimulatedTerminal(folder / "card_terminal.json")
        simulated.open()
        return simulated, simulated.present
    from devices.emulators.zvt_emulator import ZvtEmulator
    from devices.zvt.driver import ZvtTerminal

    present: Callable[[str], None] = _no_control("the card terminal")
    state = folder / "card_terminal_zvt.json"
    if where == EMULATED:
        # the terminal's open batch outlives this process, as a real one's does: the end of
        # day at collection (often another `kiosk` process) counts the sales made before it
        # its clock in the kiosk's zone, as a terminal set up for this site keeps it: the
        # time on its slip agrees with the kiosk's header printed above it
        emulator = ZvtEmulator(
            folder / "run" / "card-terminal",
            state_path=folder / "card_terminal_emulator.json",
            zone=zone,
        )
        emulator.start()
        closers.append(emulator.stop)
        controls["card-terminal"] = emulator
        handler = emulator.controls()["card"].handler
        present = lambda card: _say(handler([card]))  # noqa: E731
        driver = ZvtTerminal.serial(emulator.port.path, state_path=state)
    else:
        driver = ZvtTerminal.at(where, state_path=state)
    driver.open()
    closers.append(driver.close)
    driver.wait_ready(READY_TIMEOUT)
    return driver, present


def _say(_answer: str) -> None:
    """Emulator controls answer with a line for an operator; scripts do not need it."""


def build_hardware(config: KioskConfig, folder: Path) -> Hardware:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run").mkdir(exist_ok=True)
    devices = config.devices
    closers: list[Callable[[], None]] = []
    emulators: dict[str, object] = {}
    try:
        acceptor, insert = _acceptor(
            devices.bill_acceptor,
            devices.bill_acceptor_protocol,
            devices.emulated_acceptor_model,
            folder,
            closers,
            emulators,
        )
        printer, receipt_text = _printer(devices.receipt_printer, folder, closers, emulators)
        scanner, scan = _scanner(devices.barcode_scanner, folder, closers, emulators)
        terminal, present = _terminal(
            devices.card_terminal, folder, closers, emulators, config.locale.zone()
        )
    except Exception:
        for close in reversed(closers):
            close()
        raise
    ports = PortSet(acceptor, terminal, printer, scanner, SimulatedDirectory())
    controls = Controls(insert, present, scan, receipt_text, emulators)
    return Hardware(ports, controls, closers)
