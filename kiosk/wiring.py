"""The composition root: a running kiosk assembled from its configuration.

This is the one module of ``kiosk`` (with the CLI) allowed to import adapters from
``devices``: it picks the port implementations, opens the journal, runs recovery before the
engine takes a payment, and hands back the pieces.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devices.simulated import (
    SimulatedAcceptor,
    SimulatedDirectory,
    SimulatedPrinter,
    SimulatedScanner,
    SimulatedTerminal,
)
from kiosk import __version__
from kiosk import entries as E
from kiosk.clock import SystemClock
from kiosk.config import KioskConfig
from kiosk.engine.machine import PaymentEngine
from kiosk.ports import Clock, PortSet
from kiosk.receipt_text import render_text
from kiosk.recovery import RecoveryReport, recover
from kiosk.store.journal import Journal

JOURNAL_FILE = "journal.sqlite"


@dataclass
class SimulatedDevices:
    acceptor: SimulatedAcceptor
    terminal: SimulatedTerminal
    printer: SimulatedPrinter
    scanner: SimulatedScanner
    directory: SimulatedDirectory

    @classmethod
    def in_dir(cls, folder: Path) -> SimulatedDevices:
        return cls(
            acceptor=SimulatedAcceptor(folder / "bill_acceptor.json"),
            terminal=SimulatedTerminal(folder / "card_terminal.json"),
            printer=SimulatedPrinter(folder / "receipt_printer.json", render=render_text),
            scanner=SimulatedScanner(),
            directory=SimulatedDirectory(),
        )

    def port_set(self) -> PortSet:
        return PortSet(self.acceptor, self.terminal, self.printer, self.scanner, self.directory)


@dataclass
class Kiosk:
    config: KioskConfig
    journal: Journal
    devices: SimulatedDevices
    engine: PaymentEngine
    recovery: RecoveryReport

    def close(self) -> None:
        self.engine.stop()
        self.journal.close()

    def fresh_engine(self, clock: Clock | None = None) -> None:
        """Replace a started engine with a new idle one over the same journal and devices."""
        if self.engine.running:
            self.engine.stop()
        self.engine = PaymentEngine(
            self.config, self.journal, self.devices.port_set(), clock or SystemClock()
        )


def data_dir(config: KioskConfig) -> Path:
    return config.storage.resolved_data_dir()


def open_journal(config: KioskConfig, clock: Clock) -> Journal:
    return Journal.open(data_dir(config) / JOURNAL_FILE, now=clock.now)


def build_kiosk(config: KioskConfig, clock: Clock | None = None) -> Kiosk:
    """Open the journal, recover, and make the engine (not yet started)."""
    clock = clock or SystemClock()
    journal = open_journal(config, clock)
    devices = SimulatedDevices.in_dir(data_dir(config) / "devices")
    ports = devices.port_set()
    journal.append(E.KIOSK_STARTED, {"version": __version__, "kiosk_id": config.identity.kiosk_id})
    report = recover(journal, ports, config, clock)
    engine = PaymentEngine(config, journal, ports, clock)
    return Kiosk(config, journal, devices, engine, report)
