"""Barcode scanner driver: serial or USB CDC-ACM, one code per line.

A scanner in serial mode sends what it read followed by a suffix its owner programmed (CR,
LF or CR LF). There is no framing beyond that, so the driver has to defend itself: a cable
picking up noise, a scanner left in a mode that sends no suffix, or a stuck stream must not
grow memory or turn two half-codes into one account number. :class:`LineAssembler` keeps at
most ``max_line`` bytes, throws away lines that are too long, hold non-printable bytes or
were left unfinished, and counts each of them so a technician can see a bad cable.

The driver emits :class:`~kiosk.ports.Scanned` with the code as it was read; what the code
means (account number, bill stub) is decided in the core by :mod:`kiosk.bill_stub`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import termios
import threading
import time
from dataclasses import dataclass
from enum import Enum

from devices.health import DISCONNECTED, HealthReport
from devices.outlet import EventOutlet
from devices.serial_link import PortSettings, SerialLink
from kiosk.ports import DeviceHealth, DeviceNotice, Emit, Scanned

log = logging.getLogger(__name__)

DEVICE = "scanner"
MAX_LINE = 256
STALE_AFTER = 0.5
"""Seconds a partial line may wait for the rest: a scanner sends one code in one burst."""

_TERMINATOR = re.compile(rb"[\r\n]")


class Discard(Enum):
    """Why a line was thrown away."""

    TOO_LONG = "too_long"
    UNPRINTABLE = "unprintable"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True, slots=True)
class Discarded:
    reason: Discard
    size: int


class LineAssembler:
    """Bytes in, codes (``str``) and :class:`Discarded` lines out; no I/O, no clock of its own.

    CR and LF both end a line and empty lines are skipped, so CR, LF and CR LF suffixes all
    work, split across reads or not. Surrounding spaces and tabs are stripped; anything
    else outside printable ASCII discards the whole line (a misread is not a code). Once a
    line passes ``max_line`` bytes it is counted once and the rest of it, up to the next
    terminator, is dropped as it arrives. With ``stale_after`` seconds, a partial line older
    than that when more bytes come is dropped first, so a code whose suffix was lost is not
    glued to the front of the next one.
    """

    def __init__(self, max_line: int = MAX_LINE, stale_after: float | None = STALE_AFTER) -> None:
        if max_line < 1:
            raise ValueError("max_line must be at least 1")
        self.max_line = max_line
        self.stale_after = stale_after
        self._line = bytearray()
        self._overflowing = False
        self._last_byte_at: float | None = None

    @property
    def pending(self) -> int:
        """Bytes held for an unfinished line (never more than ``max_line``)."""
        return len(self._line)

    def feed(self, data: bytes, now: float | None = None) -> list[str | Discarded]:
        """Take ``data`` received at monotonic time ``now``; return what it completed."""
        out: list[str | Discarded] = []
        if now is not None and self.stale_after is not None:
            if self._last_byte_at is not None and now - self._last_byte_at > self.stale_after:
                self._drop_partial(out)
            if data:
                self._last_byte_at = now
        pieces = _TERMINATOR.split(data)
        for index, piece in enumerate(pieces):
            self._append(piece, out)
            if index < len(pieces) - 1:
                self._end_line(out)
        return out

    def reset(self) -> list[str | Discarded]:
        """Forget the unfinished line (the port went away); report it if it held anything."""
        out: list[str | Discarded] = []
        self._drop_partial(out)
        return out

    def _drop_partial(self, out: list[str | Discarded]) -> None:
        if self._line.strip(b" \t"):
            out.append(Discarded(Discard.INCOMPLETE, len(self._line)))
        self._line.clear()
        self._overflowing = False
        self._last_byte_at = None

    def _append(self, piece: bytes, out: list[str | Discarded]) -> None:
        if self._overflowing or not piece:
            return
        if len(self._line) + len(piece) > self.max_line:
            out.append(Discarded(Discard.TOO_LONG, len(self._line) + len(piece)))
            self._line.clear()
            self._overflowing = True
            return
        self._line += piece

    def _end_line(self, out: list[str | Discarded]) -> None:
        if self._overflowing:  # already counted when it passed the limit
            self._overflowing = False
            return
        line = bytes(self._line).strip(b" \t")
        self._line.clear()
        if not line:
            return
        if not all(0x20 <= byte <= 0x7E for byte in line):
            out.append(Discarded(Discard.UNPRINTABLE, len(line)))
            return
        out.append(line.decode("ascii"))


class SerialScanner:
    """The :class:`kiosk.ports.Scanner` port over a serial line (9600 8N1 by default).

    ``open()`` starts the reader thread, which keeps trying the port until it appears and
    again whenever it vanishes; ``close()`` stops it. While disabled, codes are still read
    (and counted) but not emitted, so a scan on a screen that has no use for it does nothing.
    Bytes waiting in the port when it (re)connects are thrown away: a code scanned while the
    kiosk was not listening belongs to nobody now.

    Events: :class:`Scanned` per code; health through :class:`~devices.health.HealthReport`
    (:class:`DeviceFault` ``disconnected`` when the port vanishes, or is not there at open;
    :class:`DeviceNotice` ``recovered`` when it is back) and :class:`DeviceNotice`
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
