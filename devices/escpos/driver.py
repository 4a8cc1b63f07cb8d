"""The receipt printer port over ESC/POS on a serial line (``kiosk.ports.ReceiptPrinter``).

The engine must never wait for paper to move (DESIGN.md, "Devices"), so
:meth:`EscposPrinter.print_receipt` only queues the receipt; a worker thread of the driver
prints it and reports exactly one :class:`~kiosk.ports.ReceiptDone` per receipt through the
``emit`` function given in :meth:`attach`. A cash-box collection slip is printed the same way,
every step below included, and is known by its ``confirmation`` (its document id).

How a receipt is printed, and why:

1. Ask the printer's real-time status (``DLE EOT 1..4``, :mod:`devices.escpos.status`). If
   it can not print (paper out, cover open, cutter jammed, offline, no answer) the receipt
   is reported as not printed with that reason, and nothing is sent.
2. Send the receipt section by section (:mod:`devices.escpos.layout`), asking the status
   again after each section and after the cut. A printer stops printing the moment its
   paper-end sensor trips, so this is how paper running out *in the middle* of a receipt is
   noticed: the receipt is reported ``printed=False, reason="paper_out"``, health becomes
   FAULT, and a :class:`~kiosk.ports.DeviceNotice` ``receipt_cut_short`` tells technicians
   that a partial receipt is in the printer.
3. Only a receipt whose every section and cut went through with a clean status after it
   counts as printed; :meth:`was_printed` answers from that record (kept in memory and, if
   ``state_path`` is given, in a small JSON file that survives a restart).
4. A status that did not come (or came garbled) decides nothing by itself. The request
   travels behind the section just written, so its answer comes only once the printer has
   received that section: each wait allows the section's time on the line. And before a
   receipt is called failed for a missing or unreadable answer, the printer is asked again
   (``DLE EOT``, after the line has gone quiet, ``confirm_tries`` times with
   ``confirm_timeout`` per byte): a busy printer, or a kiosk under load, that answers late
   has still printed the receipt, and a receipt that printed is never reported failed.
   One that did fail can be sent again, whole (service mode's reprint).

The worker polls the status as soon as the port opens and then every ``poll_interval``
seconds between receipts, so :meth:`health` is current (paper low, cover open, offline) and
reports ``disconnected`` when the port vanishes; :class:`~devices.serial_link.SerialLink`
reopens it when it comes back. Health changes go through :class:`~devices.health.HealthReport`
like every driver's: :class:`~kiosk.ports.DeviceFault` into FAULT (a printer already out of
paper when the kiosk starts included), :class:`~kiosk.ports.DeviceRecovered` out of it,
:class:`~kiosk.ports.DeviceNotice` ``paper_low``; and ``reconnected`` when the port comes
back. They wait in the driver's :class:`~devices.outlet.EventOutlet` until the engine
attaches.

Nothing here raises into the engine: every failure becomes a reason.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from devices.escpos.layout import Chunk, receipt_chunks
from devices.escpos.status import ALL_KINDS, PrinterStatus, StatusKind, request, status_from_replies
from devices.health import DISCONNECTED, HealthReport
from devices.outlet import EventOutlet
from devices.serial_link import LinkDown, PortSettings, SerialLink
from devices.worker import Worker
from kiosk.ports import (
    DeviceHealth,
    DeviceNotice,
    Emit,
    Health,
    Printable,
    ReceiptDone,
)

log = logging.getLogger(__name__)

DEVICE = "receipt_printer"
REMEMBERED = 1000
"""Confirmations kept for :meth:`EscposPrinter.was_printed` (recovery asks about recent ones)."""


def health_of(status: PrinterStatus) -> DeviceHealth:
    """The port's health for a status: FAULT with its reason, DEGRADED for a warning, else OK."""
    if fault := status.fault():
        return DeviceHealth(Health.FAULT, fault)
    if warning := status.warning():
        return DeviceHealth(Health.DEGRADED, warning)
    return DeviceHealth()


class _Stop:
    pass


class _Poll:
    pass


_STOP = _Stop()
_POLL = _Poll()
_Job = Printable | _Stop | _Poll


class _Replies:
    """The link's protocol: a printer only speaks when asked, one status byte per request."""

    def __init__(self, printer: EscposPrinter) -> None:
        self.printer = printer
        self.bytes: queue.Queue[int] = queue.Queue()

    def connection_made(self, link: SerialLink) -> None:
        self.printer._connected()

    def data_received(self, data: bytes) -> None:
        for byte in data:
            self.bytes.put(byte)

    def connection_lost(self, error: Exception | None) -> None:
        self.printer._disconnected()

    def drain(self) -> None:
        while True:
            try:
                self.bytes.get_nowait()
            except queue.Empty:
                return


class EscposPrinter:
    """An ESC/POS receipt printer on a serial port (or the emulator's pty).

    ``port`` is the path to open (a udev symlink in the field). Times are in seconds:
    ``reply_timeout`` for each status byte; ``poll_interval`` between status polls when idle;
    ``settle_time`` to wait after the cut before the final status check (a real printer is
    still printing the last lines when the bytes have left the serial port; 0 for the
    emulator, which prints as the bytes arrive). ``confirm_timeout`` and ``confirm_tries``:
    how patiently a missing or garbled status is asked again before it counts as a fault.
    """

    def __init__(
        self,
        port: str,
        *,
        settings: PortSettings | None = None,
        state_path: Path | None = None,
        poll_interval: float = 2.0,
        reply_timeout: float = 0.5,
        settle_time: float = 1.0,
        confirm_timeout: float = 2.0,
        confirm_tries: int = 2,
        reconnect_interval: float = 0.5,
        layout: Callable[[Printable], list[Chunk]] = receipt_chunks,
        device: str = DEVICE,
    ) -> None:
        self.device = device
        self.poll_interval = poll_interval
        self.reply_timeout = reply_timeout
        self.settle_time = settle_time
        self.confirm_timeout = confirm_timeout
        self.confirm_tries = confirm_tries
        self._latency = 0.0
        """How long the printer took for its slowest status byte in the last full round."""
        self.layout = layout
        self.state_path = state_path
        self._outlet = EventOutlet(device)
        self._health = HealthReport(self._outlet)
        self._replies = _Replies(self)
        self.link = SerialLink(
            port,
            self._replies,
            settings,
            name=device,
            reconnect_interval=reconnect_interval,
        )
        self._jobs: queue.Queue[_Job] = queue.Queue()
        self._lock = threading.Lock()
        self._status: PrinterStatus | None = None
        self._was_connected = False
        self._ready = threading.Event()  # a status was read since open
        self._worker: Worker | None = None
        self._outcomes: OrderedDict[str, bool | None] = OrderedDict()
        self._counts: dict[str, int] = {
            "printed": 0,
            "failed": 0,
            "cut_short": 0,
            "status_polls": 0,
            "status_confirmations": 0,
        }
        self._load_state()

    # ------------------------------------------------------------------ life cycle
    def open(self) -> None:
        """Start the port and the worker; the worker reads the status once the port opens."""
        if self._worker is not None:
            return
        self._ready.clear()
        self._health.opened(DISCONNECTED)
        self.link.start()
        worker = Worker(f"{self.device}-worker", lambda: self._step(worker))
        self._worker = worker
        worker.start()

    def wait_ready(self, timeout: float) -> bool:
        """True once the printer has answered a status since ``open`` (whatever it said)."""
        return self._ready.wait(timeout)

    def close(self, timeout: float = 3.0) -> None:
        """Finish the receipts already queued (within ``timeout``), then stop.

        A receipt still queued after that is answered ``printer_closed``: every receipt gets
        its one :class:`ReceiptDone`.
        """
        worker, self._worker = self._worker, None
        if worker is not None:
            self._jobs.put(_STOP)
            worker.join(timeout)
            worker.request_stop()  # a worker still busy stops after its current receipt
        self.link.stop()
        self._health.closed()
        self._ready.clear()
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if not isinstance(job, _Stop | _Poll):
                self._finish(job.confirmation, False, "printer_closed")

    def __enter__(self) -> EscposPrinter:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the port
    def attach(self, emit: Emit) -> None:
        self._outlet.attach(emit)

    def print_receipt(self, receipt: Printable) -> None:
        """Queue the receipt or slip; a :class:`ReceiptDone` follows from the worker thread."""
        if self._worker is None:
            self._emit(ReceiptDone(receipt.confirmation, printed=False, reason="printer_closed"))
            return
        self._jobs.put(receipt)

    def was_printed(self, confirmation: str) -> bool | None:
        """True: printed in full. False: known not printed. None: started but the outcome is
        unknown (the kiosk stopped mid-print), or never seen by this printer's record."""
        with self._lock:
            return self._outcomes.get(confirmation)

    def health(self) -> DeviceHealth:
        return self._health.now()

    def counters(self) -> dict[str, int]:
        with self._lock:
            counts = dict(self._counts)
        counts["reconnects"] = self.link.reconnects
        return counts

    def status(self) -> PrinterStatus | None:
        """The last status read (for the technician's device page)."""
        with self._lock:
            return self._status

    def poll_now(self) -> None:
        """Ask the worker for a status poll now (service mode's "test printer")."""
        self._jobs.put(_POLL)

    # ------------------------------------------------------------------ the worker
    def _step(self, worker: Worker) -> None:
        """One job from the queue, or a status poll when none came within ``poll_interval``."""
        try:
            job = self._jobs.get(timeout=self.poll_interval)
        except queue.Empty:
            job = _POLL
        if isinstance(job, _Stop):
            worker.request_stop()
            return
        if isinstance(job, _Poll):
            self._count("status_polls")
            self._check()
            return
        try:
            self._print(job)
        except Exception:  # every receipt gets its one ReceiptDone, even after a bug
            self._finish(job.confirmation, False, "driver_error")
            raise

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def _check(self, sent: int = 0) -> DeviceHealth:
        """Read the four statuses and update health; ``disconnected`` if the port is gone.

        ``sent``: bytes just written ahead of the request, whose time on the line the first
        answer may take. A missing or garbled answer is asked again before it counts.
        """
        if not self.link.connected:
            self._set_health(DISCONNECTED)
            return DISCONNECTED
        status = self._read_status(self._line_time(sent))
        # a printer already found silent is not asked patiently again and again: each
        # patient round costs seconds, and a receipt waits behind them
        known_silent = self._health.now().reason == "no_response"
        for _ in range(0 if known_silent else self.confirm_tries):
            if status is None or status.complete:
                break
            self._count("status_confirmations")
            log.info("%s: status unclear (%s); asking again", self.device, status.fault())
            self._quiet()
            status = self._read_status(self.confirm_timeout, self.confirm_timeout)
        if status is None or (status.missing and not self.link.connected):
            self._set_health(DISCONNECTED)
            return DISCONNECTED
        health = health_of(status)
        with self._lock:
            self._status = status
        self._set_health(health)
        if not status.missing:
            self._ready.set()
        return health

    def _line_time(self, size: int) -> float:
        """How long ``size`` bytes take on the serial line (start, data, parity, stop bits)."""
        settings = self.link.settings
        bits = 1 + settings.bytesize + (settings.parity != "N") + settings.stopbits
        return size * bits / settings.baudrate

    def _quiet(self) -> None:
        """Wait until late answers stop coming, and throw them away: they are not the next."""
        while True:
            try:
                self._replies.bytes.get(timeout=self.reply_timeout)
            except queue.Empty:
                return

    def _read_status(
        self, extra: float = 0.0, timeout: float | None = None
    ) -> PrinterStatus | None:
        """DLE EOT 1..4, one at a time (the spec: wait for each reply before sending more).

        None when the port went away; a reply that does not come stops the round (the rest
        are counted missing) so a silent printer costs one timeout, not four. ``extra`` is
        added to the first wait (the bytes still on the line ahead of the request).
        """
        replies: dict[StatusKind, bytes | None] = {}
        wait = self._patience() if timeout is None else timeout
        slowest = 0.0
        for index, kind in enumerate(ALL_KINDS):
            self._replies.drain()  # a late answer to an earlier request is not this one's
            if not self._send(request(kind)):
                return None
            patience = wait + (extra if index == 0 else 0.0)
            asked = time.monotonic()
            try:
                replies[kind] = bytes((self._replies.bytes.get(timeout=patience),))
                if index:
                    slowest = max(slowest, time.monotonic() - asked)
            except queue.Empty:
                for rest in ALL_KINDS[ALL_KINDS.index(kind) :]:
                    replies[rest] = None
                break
        status = status_from_replies(replies)
        if status.complete:
            self._latency = slowest
        return status

    def _patience(self) -> float:
        """The wait for one status byte: ``reply_timeout``, or twice what the printer took
        last time when it has been answering slowly (up to ``confirm_timeout``), so a busy
        printer is not asked twice for every status."""
        return max(self.reply_timeout, min(self.confirm_timeout, 2 * self._latency))

    def _send(self, data: bytes) -> bool:
        """Write to the printer; False when the port is gone (never raises)."""
        try:
            self.link.write(data)
        except LinkDown:
            return False
        except Exception:  # a driver-level error from pyserial we did not foresee
            log.exception("%s: write failed", self.device)
            return False
        return True

    def _print(self, receipt: Printable) -> None:
        confirmation = receipt.confirmation
        health = self._check()
        if health.state is Health.FAULT:
            self._finish(confirmation, False, health.reason)
            return
        try:
            chunks = self.layout(receipt)
        except Exception:
            log.exception("%s: could not lay out receipt %s", self.device, confirmation)
            self._finish(confirmation, False, "layout_error")
            return
        self._remember(confirmation, None)  # started: a crash from here on leaves "unknown"
        for chunk in chunks:
            if not self._send(chunk.data):
                self._set_health(DISCONNECTED)
                self._cut_short(confirmation, "disconnected", chunk)
                return
            health = self._check(len(chunk.data))
            if chunk.last and health.state is not Health.FAULT and self.settle_time > 0:
                time.sleep(self.settle_time)  # let the last lines print before the last look
                health = self._check()
            if health.state is Health.FAULT:
                self._cut_short(confirmation, health.reason, chunk)
                return
        self._finish(confirmation, True, "")

    def _cut_short(self, confirmation: str, reason: str, chunk: Chunk) -> None:
        self._count("cut_short")
        self._emit(
            DeviceNotice(
                self.device,
                "receipt_cut_short",
                f"{confirmation}: {reason} while printing the {chunk.name} section",
            )
        )
        self._finish(confirmation, False, reason)

    def _finish(self, confirmation: str, printed: bool, reason: str) -> None:
        self._count("printed" if printed else "failed")
        self._remember(confirmation, printed)
        self._emit(ReceiptDone(confirmation, printed=printed, reason=reason))

    # ------------------------------------------------------------------ health
    def _set_health(self, new: DeviceHealth) -> None:
        self._health.set(new)

    def _connected(self) -> None:
        """Reader thread: the port is open (again); have the worker look at the printer."""
        if self._was_connected:
            self._emit(DeviceNotice(self.device, "reconnected", self.link.port))
        self._was_connected = True
        self._jobs.put(_POLL)

    def _disconnected(self) -> None:
        self._set_health(DISCONNECTED)

    def _emit(self, event: object) -> None:
        self._outlet.send(event)

    # ------------------------------------------------------------------ the record
    def _remember(self, confirmation: str, printed: bool | None) -> None:
        with self._lock:
            self._outcomes[confirmation] = printed
            self._outcomes.move_to_end(confirmation)
            while len(self._outcomes) > REMEMBERED:
                self._outcomes.popitem(last=False)
            snapshot = dict(self._outcomes)
        self._save_state(snapshot)

    def _load_state(self) -> None:
        if self.state_path is None or not self.state_path.exists():
            return
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
            outcomes = data["outcomes"]
            for confirmation, printed in outcomes.items():
                if isinstance(confirmation, str) and printed in (True, False, None):
                    self._outcomes[confirmation] = printed
        except (OSError, ValueError, KeyError, AttributeError, TypeError):
            log.warning("%s: unreadable record %s; starting empty", self.device, self.state_path)

    def _save_state(self, outcomes: dict[str, bool | None]) -> None:
        """Write, fsync, rename: the record must say "started" before the paper moves."""
        path = self.state_path
        if path is None:
            return
        tmp: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"outcomes": outcomes}, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except OSError:
            log.exception("%s: could not write %s", self.device, path)
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
