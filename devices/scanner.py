"""Barcode scanner driver: serial or USB CDC-ACM, one code per line.

The lines are cut and checked by :class:`~devices.scanner_lines.LineAssembler` (the codec);
this driver reads the port, counts what was thrown away so a technician can see a bad cable,
and emits :class:`~kiosk.ports.Scanned` with the code as it was read; what the code means
(account number, bill stub) is decided in the core by :mod:`kiosk.bill_stub`.
"""

from __future__ import annotations

import contextlib
import logging
import termios
import threading
import time

from devices.health import DISCONNECTED, HealthReport
from devices.outlet import EventOutlet
from devices.scanner_lines import MAX_LINE, STALE_AFTER, Discard, Discarded, LineAssembler
from devices.serial_link import PortSettings, SerialLink
from kiosk.ports import DeviceHealth, DeviceNotice, Emit, Scanned

__all__ = ["DEVICE", "Discard", "Discarded", "LineAssembler", "SerialScanner"]

log = logging.getLogger(__name__)

DEVICE = "scanner"


class SerialScanner:
    """The :class:`kiosk.ports.Scanner` port over a serial line (9600 8N1 by default).

    ``open()`` starts the reader thread, which keeps trying the port until it appears and
    again whenever it vanishes; ``close()`` stops it. While disabled, codes are still read
    (and counted) but not emitted, so a scan on a screen that has no use for it does nothing.
    Bytes waiting in the port when it (re)connects are thrown away: a code scanned while the
    kiosk was not listening belongs to nobody now.

    Events: :class:`Scanned` per code; health through :class:`~devices.health.HealthReport`
    (:class:`DeviceFault` ``disconnected`` when the port vanishes, or is not there at open;
    :class:`DeviceRecovered` when it is back) and :class:`DeviceNotice`
    ``reconnected`` when the port opens again.
    """

    def __init__(
        self,
        port: str,
        settings: PortSettings | None = None,
        *,
        max_line: int = MAX_LINE,
        stale_after: float | None = STALE_AFTER,
        reconnect_interval: float = 0.25,
    ) -> None:
        self._outlet = EventOutlet(DEVICE)
        self._health = HealthReport(self._outlet)
        self._lines = LineAssembler(max_line, stale_after)
        self._lock = threading.Lock()
        self._enabled = True
        self._opened = False
        self._ever_connected = False
        self._ready = threading.Event()  # connected, and stale input thrown away
        self._counts: dict[str, int] = {
            "codes_read": 0,
            "codes_ignored_disabled": 0,
            "lines_discarded": 0,
            **{f"discarded_{reason.value}": 0 for reason in Discard},
            "disconnects": 0,
        }
        self.link = SerialLink(
            port,
            self,
            settings,
            name=DEVICE,
            reconnect_interval=reconnect_interval,
            on_absent=self._absent,
        )

    # ------------------------------------------------------------------ the port
    def attach(self, emit: Emit) -> None:
        self._outlet.attach(emit)

    def health(self) -> DeviceHealth:
        return self._health.now()

    # ------------------------------------------------------------------ life cycle
    def open(self) -> None:
        if not self._opened:
            self._opened = True
            self._health.opened(DISCONNECTED)
            self.link.start()

    def close(self) -> None:
        if self._opened:
            self._opened = False
            self.link.stop()
            self._ready.clear()
            self._health.closed()

    def enable(self) -> None:
        self._enabled = True

    def disable(self) -> None:
        self._enabled = False

    def wait_ready(self, timeout: float) -> bool:
        """Wait until codes sent from now on will be read (tests, start-up checks)."""
        return self._ready.wait(timeout)

    def counters(self) -> dict[str, int]:
        with self._lock:
            counts = dict(self._counts)
        counts["reconnects"] = self.link.reconnects
        return counts

    # ------------------------------------------------------------------ LinkProtocol
    def connection_made(self, link: SerialLink) -> None:
        # tcflush on a port that vanished again at once: the next read reports the loss
        with contextlib.suppress(termios.error):
            link.reset_input()
        reconnected = self._ever_connected
        self._ever_connected = True
        self._ready.set()
        if reconnected:
            self._outlet.send(DeviceNotice(DEVICE, "reconnected", link.port))
        self._health.set(DeviceHealth())

    def connection_lost(self, error: Exception | None) -> None:
        self._ready.clear()
        self._count(self._lines.reset())
        with self._lock:
            self._counts["disconnects"] += 1
        self._health.set(DISCONNECTED)

    def _absent(self) -> None:
        """The port was not there at open: a fault now, not only once it has come and gone."""
        self._health.set(DISCONNECTED)

    def data_received(self, data: bytes) -> None:
        self._count(self._lines.feed(data, time.monotonic()))

    def _count(self, results: list[str | Discarded]) -> None:
        for item in results:
            if isinstance(item, Discarded):
                with self._lock:
                    self._counts["lines_discarded"] += 1
                    self._counts[f"discarded_{item.reason.value}"] += 1
                log.warning(
                    "%s: discarded a line (%s, %d bytes)", DEVICE, item.reason.value, item.size
                )
                continue
            emit = self._enabled
            with self._lock:
                self._counts["codes_read"] += 1
                if not emit:
                    self._counts["codes_ignored_disabled"] += 1
            if emit:
                self._outlet.send(Scanned(item))
