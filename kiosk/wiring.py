"""The composition root: a running kiosk assembled from its configuration.

With :mod:`kiosk.hardware` and the CLI, the only part of ``kiosk`` allowed to import adapters:
it picks the port implementations, opens the journal, runs recovery before the engine takes
a payment, and hands back the pieces.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kiosk import __version__
from kiosk import entries as E
from kiosk.clock import SystemClock
from kiosk.config import KioskConfig
from kiosk.engine.machine import PaymentEngine
from kiosk.hardware import Hardware, build_hardware
from kiosk.ports import Clock
from kiosk.recovery import RecoveryReport, recover
from kiosk.store.journal import Journal

JOURNAL_FILE = "journal.sqlite"


@dataclass
class Kiosk:
    config: KioskConfig
    journal: Journal
    hardware: Hardware
    engine: PaymentEngine
    recovery: RecoveryReport

    def close(self) -> None:
        self.engine.stop()
        self.hardware.close()
        self.journal.close()

    def fresh_engine(self, clock: Clock | None = None) -> None:
        """Replace a started engine with a new idle one over the same journal and devices."""
        if self.engine.running:
            self.engine.stop()
        self.engine = PaymentEngine(
            self.config, self.journal, self.hardware.ports, clock or SystemClock()
        )


def data_dir(config: KioskConfig) -> Path:
    return config.storage.resolved_data_dir()


def build_kiosk(config: KioskConfig, clock: Clock | None = None) -> Kiosk:
    """Open the journal and the devices, recover, and make the engine (not yet started)."""
    clock = clock or SystemClock()
    journal = Journal.open(data_dir(config) / JOURNAL_FILE, now=clock.now)
    try:
        hardware = build_hardware(config, data_dir(config) / "devices")
    except Exception:
        journal.close()
        raise
    journal.append(E.KIOSK_STARTED, {"version": __version__, "kiosk_id": config.identity.kiosk_id})
    report = recover(journal, hardware.ports, config, clock)
    engine = PaymentEngine(config, journal, hardware.ports, clock)
    return Kiosk(config, journal, hardware, engine, report)
