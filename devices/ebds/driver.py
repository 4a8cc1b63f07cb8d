"""The bill acceptor port (:class:`kiosk.ports.BillAcceptor`) over EBDS on a serial line.

EBDS is strictly host-driven: the device speaks only to answer, so the driver polls. A poll
thread sends one omnibus command every ``poll_interval`` (100 ms, inside the cadence the
spec asks for) carrying the current denomination mask and, when the engine asked, the
stack or return bit; the serial link's reader thread turns bytes into frames and hands
them over. What each reply means is decided by :class:`~devices.ebds.tracker.StatusTracker`.

The ACK bit in CTRL toggles once per *answered* host message. A reply that is missing, bad
or carries the other ACK bit makes the driver send the very same bytes again, and the
device, seeing the same ACK bit, answers with its previous reply instead of acting twice:
so a lost reply (with a stacked event in it) is recovered, never repeated. The acceptor
misses polls while it reads a note (Pyramid RS-232, "Interface Description"), so silence is
only a disconnection once it has lasted ``silence_limit`` (5 s, the longest the same text
lets a host leave between polls); then the driver reports :class:`AcceptorFault`
``disconnected`` once and keeps polling with the same ACK bit until the device answers.

A stack or return the engine asks for goes out at once, not with the next periodic poll:
the poll thread is woken and sends it as soon as ``min_gap`` has passed since the device's
last reply.

What the device supports is learnt when it opens: after its first reply the driver asks
once for the cash box total (MEI auxiliary 0x01). An MEI acceptor answers with the count; a
Pyramid Apex takes message type 6 as telemetry, whose first data byte 0x00 is a ping, and
answers that; others flag an invalid command. Only the first keeps a count, and
:meth:`EbdsAcceptor.cashbox_count` answers None for the rest without asking again.

The engine's thread is never blocked, except by :meth:`EbdsAcceptor.cashbox_count` on an
acceptor that counts: it asks through the poll thread, so it never interleaves with a
poll, and gives up after ``query_timeout`` (300 ms).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import serial

from devices.acceptor_state import counter_dict
from devices.ebds.framing import Frame, FrameAssembler, MessageType
from devices.ebds.messages import (
    AuxCommand,
    OmnibusCommand,
    OmnibusStatus,
    aux_command,
    decode_cash_box_total,
    enable_mask,
)
from devices.ebds.tracker import DEVICE, NOTES, Pending, StatusTracker
from devices.polled import PolledDriver
from devices.serial_link import LinkDown, PortSettings
from devices.worker import Worker
from kiosk.money import Money
from kiosk.ports import DeviceError, DeviceHealth

log = logging.getLogger(__name__)

EBDS_SETTINGS = PortSettings(
    baudrate=9600,
    bytesize=serial.SEVENBITS,
    parity=serial.PARITY_EVEN,
    stopbits=serial.STOPBITS_ONE,
)
"""EBDS runs at 9600 baud, 7 data bits, even parity, 1 stop bit."""

PTY_SETTINGS = PortSettings(baudrate=9600)
"""For an emulator's pseudo-terminal: it has no UART, Linux keeps it at 8 bits without
parity, and some kernels refuse (EINVAL) a request for 7E1 on a pty already set up once.
Every EBDS byte is below 0x80, so the bytes are the same either way."""


def settings_for(port: str) -> PortSettings:
    """7E1 on a real serial line; 8N1 when ``port`` resolves to a pseudo-terminal."""
    if os.path.realpath(port).startswith("/dev/pts/"):
        return PTY_SETTINGS
    return EBDS_SETTINGS


class AcceptorUnavailable(DeviceError, ConnectionError):
    """The acceptor could not answer a query now (closed, disconnected or silent)."""


@dataclass(frozen=True)
class Timing:
    poll_interval: float = 0.1
    reply_timeout: float = 0.2
    attempts: int = 3
    """Sends of one message at least before the device counts as gone (and of the probe)."""
    query_timeout: float = 0.3
    """How long :meth:`EbdsAcceptor.cashbox_count` may block the caller."""
    silence_limit: float = 5.0
    """Silence before the device counts as gone: it misses polls while reading a note, and
    the Pyramid RS-232 specification lets polls be as far as 5 s apart."""
    min_gap: float = 0.002
    """Quiet time after the device's reply before the host speaks again (a stack at once)."""


class Capability:
    """What the acceptor answered to the cash box query at open (for technicians)."""

    UNKNOWN = "unknown"
    CASH_BOX_TOTAL = "cash_box_total"
    """An MEI acceptor: auxiliary 0x01 answered with the count."""
    TELEMETRY = "telemetry"
    """A Pyramid Apex: type 6 is telemetry, and it answered the query as a ping."""
    NONE = "none"
    """Invalid command, or no answer: no count."""


class _Query:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: int | None = None
        self.error = "no answer"
        self.cancelled = False


class EbdsAcceptor(PolledDriver):
    """An EBDS bill acceptor on ``port`` (a stable path such as ``/dev/kiosk-bill-acceptor``).

    ``open()`` starts the serial link and the poll thread; ``close()`` stops them.
    ``wait_ready()`` blocks until the device has answered once (start-up and recovery
    need :meth:`escrowed` and :meth:`cashbox_count` to mean something).
    """

    def __init__(
        self,
        port: str,
        *,
        table: dict[int, Money] | None = None,
        timing: Timing | None = None,
        settings: PortSettings | None = None,
        reconnect_interval: float = 0.25,
    ) -> None:
        super().__init__(
            DEVICE,
            port,
            settings or settings_for(port),
            FrameAssembler(),
            reconnect_interval=reconnect_interval,
        )
        self.table = dict(table or NOTES)
        self.timing = timing or Timing()
        self._tracker = StatusTracker(self.table)  # with mask, queries, counters: _lock
        self._mask = 0
        self._queries: deque[_Query] = deque()
        self._io = {
            "polls": 0,
            "retries": 0,
            "timeouts": 0,
            "stale_replies": 0,
            "unexpected_replies": 0,
            "ack_resyncs": 0,
            "cashbox_queries": 0,
        }
        self._cashbox_last = -1
        self._ack = 0  # poll thread only
        self._quiet_at = 0.0  # poll thread only: when the host may speak again
        self._urgent = False  # a stack or return waits to go out (under _lock)
        self.capability = Capability.UNKNOWN
        self._probe_due = True  # set at each (re)connection; the poll thread probes

    # ------------------------------------------------------------------ the port
    def enable(self, denominations: list[Money]) -> None:
        with self._lock:
            cents = {index: note.cents for index, note in self.table.items()}
            self._mask = enable_mask((d.cents for d in denominations), cents)

    def disable(self) -> None:
        with self._lock:
            self._mask = 0

    def stack(self) -> None:
        self._command("stack")

    def return_bill(self) -> None:
        self._command("return")

    def _command(self, what: Pending) -> None:
        """Set the stack or return bit and send it now: the device holds the note in escrow
        until it hears, and the resident watches."""
        with self._lock:
            accepted = self._tracker.request(what)
            self._urgent = self._urgent or accepted
        worker = self._worker
        if not accepted:
            log.warning("bill acceptor: %s asked with no bill in escrow; ignored", what)
        elif worker is not None:
            worker.wake()

    def escrowed(self) -> Money | None:
        with self._lock:
            return self._tracker.escrowed()

    def wait_idle(self, timeout: float) -> bool:
        """True once the last reply shows no note moving (not accepting, stacking, returning).

        Recovery calls this before it reads the cash box count: a stack sent before a
        restart may still be finishing, and a count read too early would miss that bill.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                last = self._tracker.last
                moving = last is None or last.accepting or last.stacking or last.returning
            if not moving:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def _device_health(self) -> DeviceHealth:
        return self._tracker.health()

    def cashbox_count(self) -> int | None:
        """Bills in the cash box as the device counts them, None for a device that keeps
        no count (learnt at open); raises AcceptorUnavailable when it can not say now."""
        worker = self._worker
        if worker is None:
            raise AcceptorUnavailable("the bill acceptor is closed")
        query = _Query()
        with self._lock:
            if not self._tracker.connected or self.capability == Capability.UNKNOWN:
                raise AcceptorUnavailable("the bill acceptor is not answering")
            if self.capability != Capability.CASH_BOX_TOTAL:
                return None
            self._queries.append(query)
        worker.wake()
        if not query.done.wait(self.timing.query_timeout):
            query.cancelled = True
            raise AcceptorUnavailable(
                f"the bill acceptor did not give its cash box count within "
                f"{self.timing.query_timeout * 1000:.0f} ms"
            )
        if query.result is None:
            raise AcceptorUnavailable(f"cash box count unavailable: {query.error}")
        return query.result

    # ------------------------------------------------------------------ for technicians
    def counters(self) -> dict[str, int]:
        with self._lock:
            counts = counter_dict(self._tracker.counters)
            counts.update(cashbox_last=self._cashbox_last, **self._io)
        counts.update(self._link_counters())
        return counts

    def device_info(self) -> dict[str, int]:
        """Model and code revision bytes from the last reply (0 before the first); what it
        answered to the cash box query at open is :attr:`capability`."""
        with self._lock:
            last = self._tracker.last
        return {"model": last.model if last else 0, "revision": last.revision if last else 0}

    # ------------------------------------------------------------------ the link
    def _reconnected(self) -> None:
        with self._lock:
            self.capability = Capability.UNKNOWN  # it may be another acceptor now
        self._probe_due = True

    # ------------------------------------------------------------------ the poll thread
    def _step(self, worker: Worker) -> None:
        """Answer waiting queries, poll when it is time (at once for a stack or return the
        engine just asked for), else sleep until then (or a query, or a command)."""
        self._serve_queries()
        with self._lock:
            urgent = self._urgent
        due = min(self._next_poll, self._quiet_at) if urgent else self._next_poll
        if time.monotonic() >= due:
            self._next_poll = time.monotonic() + self.timing.poll_interval
            self._poll()
            return
        worker.sleep(due - time.monotonic())

    def _finish(self) -> None:
        """The poll thread is ending: nobody waits for an answer that will not come."""
        with self._lock:
            queries, self._queries = list(self._queries), deque()
        for query in queries:
            query.error = "closed"
            query.done.set()

    def _poll(self) -> None:
        if not self.link.connected:
            # at start-up the reader thread may not have opened the port yet: that is not
            # a disconnection until it has had as long as a silent device would get
            grace = self.timing.attempts * self.timing.reply_timeout
            if self._ready.is_set() or time.monotonic() - self._opened_at > grace:
                self._lost()
            return
        with self._lock:
            stack, return_note = self._tracker.command_bits()
            command = OmnibusCommand(enable_mask=self._mask, stack=stack, return_note=return_note)
            self._io["polls"] += 1
            self._urgent = False  # this poll carries it
        reply = self._transact(
            command.encode,
            lambda f: OmnibusStatus.decode(f) is not None,
            self.timing.silence_limit,
        )
        status = OmnibusStatus.decode(reply) if reply is not None else None
        if status is None:
            self._lost()
            return
        with self._lock:
            events = self._tracker.on_status(status)
        if self._probe_due:
            self._probe()
        self._ready.set()
        self._send(events)

    def _probe(self) -> None:
        """Ask once for the cash box total and judge the device by how it answers."""
        self._probe_due = False
        reply = self._transact(
            lambda ack: aux_command(AuxCommand.QUERY_CASH_BOX_TOTAL, ack), lambda f: True
        )
        total = decode_cash_box_total(reply) if reply is not None else None
        if total is not None:
            found = Capability.CASH_BOX_TOTAL
        elif reply is not None and reply.message_type == MessageType.AUXILIARY:
            found = Capability.TELEMETRY
        else:
            found = Capability.NONE
        with self._lock:
            self.capability = found
            if total is not None:
                self._cashbox_last = total
        log.info("bill acceptor: cash box query at open -> %s", found)

    def _serve_queries(self) -> None:
        with self._lock:
            waiting = [q for q in self._queries if not q.cancelled]
            self._queries.clear()
            if not waiting:
                return
            self._io["cashbox_queries"] += 1
        reply = self._transact(
            lambda ack: aux_command(AuxCommand.QUERY_CASH_BOX_TOTAL, ack),
            lambda f: decode_cash_box_total(f) is not None,
        )
        total = decode_cash_box_total(reply) if reply is not None else None
        if total is not None:
            with self._lock:
                self._cashbox_last = total
        for query in waiting:
            query.result = total
            query.done.set()

    def _on_lost(self) -> list[object]:
        return self._tracker.on_lost()

    def _transact(
        self, build: Callable[[int], bytes], accept: Callable[[Frame], bool], patience: float = 0.0
    ) -> Frame | None:
        """Send one message until a reply with our ACK bit is accepted; None if none came
        after ``attempts`` sends and ``patience`` seconds.

        Retries send identical bytes (same ACK bit). If the device answers our ACK bit
        with a different kind of message, it took ours for a repeat of its last one (the
        driver restarted, or a query interleaved): toggle once and send it as new.
        """
        message = build(self._ack)
        resynced = False
        give_up = time.monotonic() + patience
        attempt = 0
        while attempt < max(1, self.timing.attempts) or time.monotonic() < give_up:
            if self._worker is None:
                return None  # closing: a silent device must not hold close() up
            if attempt:
                self._bump("retries")
            attempt += 1
            self._replies.clear()  # anything unread is stale: EBDS is half duplex
            quiet = self._quiet_at - time.monotonic()
            if quiet > 0:
                time.sleep(quiet)  # the device's line turns round: at most min_gap
            try:
                self.link.write(message)
            except LinkDown:
                return None
            outcome = self._await(self._ack, accept)
            if outcome != "timeout":
                self._quiet_at = time.monotonic() + self.timing.min_gap
            if isinstance(outcome, Frame):
                self._ack ^= 1
                return outcome
            if outcome == "other" and not resynced:
                resynced = True
                self._bump("ack_resyncs")
                self._ack ^= 1
                message = build(self._ack)
        return None

    def _await(self, ack: int, accept: Callable[[Frame], bool]) -> Frame | str:
        def judge(frame: Frame) -> Frame | str | None:
            return self._judge(frame, ack, accept)

        verdict: Frame | str | None = self._replies.wait(self.timing.reply_timeout, judge)
        if verdict is None:
            self._bump("timeouts")
            return "timeout"
        return verdict

    def _judge(self, frame: Frame, ack: int, accept: Callable[[Frame], bool]) -> Frame | str | None:
        if frame.ack != ack:
            self._bump("stale_replies")
            return None
        if accept(frame):
            return frame
        self._bump("unexpected_replies")
        return "other"
