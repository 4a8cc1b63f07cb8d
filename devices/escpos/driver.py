"""The receipt printer port over ESC/POS on a serial line (``kiosk.ports.ReceiptPrinter``).

The engine must never wait for paper to move (DESIGN.md, "Devices"), so
:meth:`EscposPrinter.print_receipt` only queues the receipt; a worker thread of the driver
prints it and reports exactly one :class:`~kiosk.ports.ReceiptDone` per receipt through the
``emit`` function given in :meth:`attach`.

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

Between receipts the worker polls the status every ``poll_interval`` seconds, so
:meth:`health` is current (paper low, cover open, offline) and reports ``disconnected`` when
the port vanishes; :class:`~devices.serial_link.SerialLink` reopens it when it comes back.
Health changes are reported as :class:`~kiosk.ports.DeviceFault` (into FAULT) and
:class:`~kiosk.ports.DeviceNotice` (``recovered``, ``paper_low``, ``reconnected``).

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
from devices.serial_link import LinkDown, PortSettings, SerialLink
from kiosk.ports import (
    DeviceFault,
    DeviceHealth,
    DeviceNotice,
    Emit,
    Health,
    ReceiptContent,
    ReceiptDone,
)

log = logging.getLogger(__name__)

DEVICE = "receipt_printer"
DISCONNECTED = DeviceHealth(Health.FAULT, "disconnected")
REMEMBERED = 1000
"""Confirmations kept for :meth:`EscposPrinter.was_printed` (recovery asks about recent ones)."""


def _drop(_event: object) -> None:
    return None


class _Stop:
    pass


class _Poll:
    pass


_STOP = _Stop()
_POLL = _Poll()
_Job = ReceiptContent | _Stop | _Poll


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
    emulator, which prints as the bytes arrive).
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
        reconnect_interval: float = 0.5,
        layout: Callable[[ReceiptContent], list[Chunk]] = receipt_chunks,
        device: str = DEVICE,
    ) -> None:
        self.device = device
        self.poll_interval = poll_interval
        self.reply_timeout = reply_timeout
        self.settle_time = settle_time
        self.layout = layout
        self.state_path = state_path
        self.emit: Emit = _drop
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
        self._health = DISCONNECTED
        self._health_known = False
        self._status: PrinterStatus | None = None
        self._was_connected = False
        self._first_poll = threading.Event()
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None
        self._outcomes: OrderedDict[str, bool | None] = OrderedDict()
        self.counters: dict[str, int] = {
            "printed": 0,
            "failed": 0,
            "cut_short": 0,
            "status_polls": 0,
        }
        self._load_state()

    # ------------------------------------------------------------------ life cycle
    def open(self, wait: float = 2.0) -> None:
        """Start the port and the worker; wait up to ``wait`` s for a first status."""
        if self._worker is not None:
            return
        self._first_poll.clear()
        self._stopping = threading.Event()
        self.link.start()
        self._worker = threading.Thread(target=self._run, name=f"{self.device}-worker", daemon=True)
        self._worker.start()
        self._first_poll.wait(wait)

    def close(self, timeout: float = 3.0) -> None:
        """Finish the receipts already queued (within ``timeout``), then stop.

        A receipt still queued after that is answered ``printer_closed``: every receipt gets
        its one :class:`ReceiptDone`.
        """
        worker, self._worker = self._worker, None
        if worker is not None:
            self._jobs.put(_STOP)
            worker.join(timeout)
            self._stopping.set()  # a worker still busy stops after its current receipt
        self.link.stop()
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if isinstance(job, ReceiptContent):
                self._finish(job.confirmation, False, "printer_closed")

    def __enter__(self) -> EscposPrinter:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the port
    def attach(self, emit: Emit) -> None:
        self.emit = emit

    def print_receipt(self, receipt: ReceiptContent) -> None:
        """Queue the receipt; a :class:`ReceiptDone` follows from the worker thread."""
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
        with self._lock:
            return self._health

    def status(self) -> PrinterStatus | None:
        """The last status read (for the technician's device page)."""
        with self._lock:
            return self._status

    def poll_now(self) -> None:
        """Ask the worker for a status poll now (service mode's "test printer")."""
        self._jobs.put(_POLL)

    # ------------------------------------------------------------------ the worker
    def _run(self) -> None:
        stopping = self._stopping
        while not stopping.is_set():
            try:
                job = self._jobs.get(timeout=self.poll_interval)
            except queue.Empty:
                job = _POLL
            if isinstance(job, _Stop):
                return
            try:
                if isinstance(job, _Poll):
                    self._poll()
                else:
                    self._print(job)
            except Exception:  # the worker must outlive any bug: the engine waits on it
                log.exception("%s: worker step failed", self.device)
                if isinstance(job, ReceiptContent):
                    self._finish(job.confirmation, False, "driver_error")
            finally:
                if isinstance(job, _Poll):
                    self._first_poll.set()

    def _poll(self) -> None:
        self.counters["status_polls"] += 1
        self._check()

    def _check(self) -> DeviceHealth:
        """Read the four statuses and update health; ``disconnected`` if the port is gone."""
        if not self.link.connected:
            self._set_health(DISCONNECTED)
            return DISCONNECTED
        status = self._read_status()
        if status is None or (status.missing and not self.link.connected):
            self._set_health(DISCONNECTED)
            return DISCONNECTED
        health = status.health()
        with self._lock:
            self._status = status
        self._set_health(health)
        return health

    def _read_status(self) -> PrinterStatus | None:
        """DLE EOT 1..4, one at a time (the spec: wait for each reply before sending more).

        None when the port went away; a reply that does not come stops the round (the rest
        are counted missing) so a silent printer costs one timeout, not four.
        """
        replies: dict[StatusKind, bytes | None] = {}
        for kind in ALL_KINDS:
            self._replies.drain()  # a late answer to an earlier request is not this one's
            if not self._send(request(kind)):
                return None
            try:
                replies[kind] = bytes((self._replies.bytes.get(timeout=self.reply_timeout),))
            except queue.Empty:
                for rest in ALL_KINDS[ALL_KINDS.index(kind) :]:
                    replies[rest] = None
                break
        return status_from_replies(replies)

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

    def _print(self, receipt: ReceiptContent) -> None:
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
            health = self._check()
            if chunk.last and health.state is not Health.FAULT and self.settle_time > 0:
                time.sleep(self.settle_time)  # let the last lines print before the last look
                health = self._check()
            if health.state is Health.FAULT:
                self._cut_short(confirmation, health.reason, chunk)
                return
        self._finish(confirmation, True, "")

    def _cut_short(self, confirmation: str, reason: str, chunk: Chunk) -> None:
        self.counters["cut_short"] += 1
        self._emit(
            DeviceNotice(
                self.device,
                "receipt_cut_short",
                f"{confirmation}: {reason} while printing the {chunk.name} section",
            )
        )
        self._finish(confirmation, False, reason)

    def _finish(self, confirmation: str, printed: bool, reason: str) -> None:
        self.counters["printed" if printed else "failed"] += 1
        self._remember(confirmation, printed)
        self._emit(ReceiptDone(confirmation, printed=printed, reason=reason))

    # ------------------------------------------------------------------ health
    def _set_health(self, new: DeviceHealth) -> None:
        with self._lock:
            old, self._health = self._health, new
            first, self._health_known = not self._health_known, True
        if first:
            old = DeviceHealth()  # start-up: report a fault, not a "recovery" from nothing
        if new == old:
            return
        log.info(
            "%s: %s %s -> %s %s",
            self.device,
            old.state.value,
            old.reason,
            new.state.value,
            new.reason,
        )
        if new.state is Health.FAULT:
            self._emit(DeviceFault(self.device, new.reason))
            return
        if old.state is Health.FAULT:
            self._emit(DeviceNotice(self.device, "recovered", old.reason))
        if new.state is Health.DEGRADED and new.reason == "paper_low":
            self._emit(DeviceNotice(self.device, "paper_low"))

    def _connected(self) -> None:
        """Reader thread: the port is open (again); have the worker look at the printer."""
        if self._was_connected:
            self._emit(DeviceNotice(self.device, "reconnected", self.link.port))
        self._was_connected = True
        self._jobs.put(_POLL)

    def _disconnected(self) -> None:
        self._set_health(DISCONNECTED)

    def _emit(self, event: object) -> None:
        try:
            self.emit(event)
        except Exception:
            log.exception("%s: emit failed for %r", self.device, event)

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
