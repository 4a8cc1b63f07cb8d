"""The bill acceptor port (:class:`kiosk.ports.BillAcceptor`) over ID-003 on a serial line.

ID-003 is host-driven like EBDS: the acceptor speaks only to answer, so the driver polls.
A poll thread sends a status request every ``poll_interval``; the serial link's reader
thread turns bytes into frames and hands them over. What each status means is decided by
:class:`~devices.id003.tracker.StatusTracker`, which also says what the thread must send
between polls, in this order: RESET after a power-up status, the ACK a VEND VALID is owed,
the settings the acceptor does not have yet (after a reset, a reconnection, or a new
denomination set from the engine), and the stack or return the engine asked for. A stack
or return wakes the thread, so it goes out at once instead of at the next poll.

ID-003 messages carry no sequence bit, so a lost answer is simply asked for again: a status
request repeats harmlessly, a repeated stack finds the note gone from escrow and is answered
INVALID COMMAND, and the credit itself waits for VEND VALID, which the acceptor repeats until
it gets our ACK. After ``attempts`` tries without an answer the driver reports
:class:`AcceptorFault` ``disconnected`` once and keeps polling until the device answers.

ID-003 has no query for the number of notes in the cash box: :meth:`Id003Acceptor.cashbox_count`
answers None, as the port allows for an acceptor that keeps no count. The engine and
recovery settle a stack that a fault or a restart interrupted from the acceptor's own
statuses and the journal's stack intent instead (see the tracker).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

from devices.acceptor_state import counter_dict
from devices.id003.framing import Frame, FrameAssembler
from devices.id003.messages import (
    ACK_FRAME,
    STATUS_REQUEST,
    Command,
    Status,
    StatusReply,
    command,
    decode_version,
    disable_mask,
    echo_of,
    is_ack,
    setting,
)
from devices.id003.tracker import DEVICE, NOTES, Pending, StatusTracker
from devices.polled import PolledDriver
from devices.serial_link import LinkDown, PortSettings
from devices.worker import Worker
from kiosk.money import Money
from kiosk.ports import DeviceHealth

log = logging.getLogger(__name__)

ID003_SETTINGS = PortSettings(
    baudrate=9600,
    bytesize=serial.EIGHTBITS,
    parity=serial.PARITY_EVEN,
    stopbits=serial.STOPBITS_ONE,
)
"""ID-003 runs at 9600 baud, 8 data bits, even parity, 1 stop bit (section 2)."""

PTY_SETTINGS = PortSettings(baudrate=9600)
"""For an emulator's pseudo-terminal, which has no UART and no parity to set: the bytes are
the same."""


def settings_for(port: str) -> PortSettings:
    """8E1 on a real serial line; 8N1 when ``port`` resolves to a pseudo-terminal."""
    if os.path.realpath(port).startswith("/dev/pts/"):
        return PTY_SETTINGS
    return ID003_SETTINGS


@dataclass(frozen=True)
class Timing:
    poll_interval: float = 0.1
    reply_timeout: float = 0.2
    attempts: int = 5
    """Sends of one message before the device counts as gone (1 s of silence)."""
    hold_after: float | None = 4.0
    """A note in escrow this long with no decision from the engine is sent HOLD, and again
    every ``hold_after`` while it waits: a JCM acceptor gives a note back by itself after
    about 10 s in escrow with no command, and HOLD keeps it there (HOLDING). The engine
    normally decides in milliseconds; this covers a slow moment (a busy disk under the
    journal). None: never."""
    hold_for: float = 60.0
    """No HOLD is sent once a note has waited this long undecided: an engine that has not
    decided in a minute is stuck, and the acceptor's own time-out then gives the resident
    the note back rather than keeping it for good."""


FIXED_SETTINGS: dict[Command, bytes] = {
    Command.SECURITY: b"\x00\x00",  # the acceptor's standard security for every note
    Command.COMMUNICATION_MODE: b"\x00",  # polling: the acceptor speaks only when asked
    Command.DIRECTION: b"\x00",  # every insertion direction
    Command.OPTIONAL_FUNCTION: b"\x00\x00",
}


class Id003Acceptor(PolledDriver):
    """An ID-003 bill acceptor on ``port`` (a stable path such as ``/dev/kiosk-bill-acceptor``).

    ``open()`` starts the serial link and the poll thread; ``close()`` stops them.
    ``wait_ready()`` blocks until the device has answered a status request once.
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
        self._tracker = StatusTracker(self.table)  # with settings and counters, under _lock
        self._inhibit = True
        self._mask = disable_mask(())
        self._applied: dict[Command, bytes] = {}  # settings the acceptor has echoed
        self._deferred: set[Command] = set()  # refused: not asked again before the next poll
        self._version: str | None = None
        self._undecided: tuple[float, float] | None = None
        """A note in escrow, no stack or return yet: since when, and the last HOLD (or since)."""
        self._io = {
            "polls": 0,
            "retries": 0,
            "timeouts": 0,
            "unexpected_replies": 0,
            "resets_sent": 0,
            "holds_sent": 0,
            "acks_sent": 0,
            "settings_sent": 0,
        }

    # ------------------------------------------------------------------ the port
    def enable(self, denominations: list[Money]) -> None:
        with self._lock:
            cents = {code: note.cents for code, note in self.table.items()}
            self._mask = disable_mask((d.cents for d in denominations), cents)
            self._inhibit = False
        self._wake()

    def disable(self) -> None:
        with self._lock:
            self._inhibit = True
        self._wake()

    def stack(self) -> None:
        self._operate("stack")

    def return_bill(self) -> None:
        self._operate("return")

    def _operate(self, what: Pending) -> None:
        with self._lock:
            accepted = self._tracker.request(what)
        if not accepted:
            log.warning("bill acceptor: %s asked with no bill in escrow; ignored", what)
            return
        self._wake()

    def escrowed(self) -> Money | None:
        with self._lock:
            return self._tracker.escrowed()

    def wait_idle(self, timeout: float) -> bool:
        """True once the last status shows no note moving and no reset still to finish.

        Recovery calls this before it settles a stack intent: a power-up status with a note
        in the stacker is only settled once the reset that stacks it is done.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                moving = self._tracker.moving()
            if not moving:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def _device_health(self) -> DeviceHealth:
        return self._tracker.health()

    def cashbox_count(self) -> int | None:
        """None, always: ID-003 has no command that reports the cash box count."""
        return None

    # ------------------------------------------------------------------ for technicians
    def counters(self) -> dict[str, int]:
        with self._lock:
            counts = counter_dict(self._tracker.counters)
            counts.update(self._io)
        counts.update(self._link_counters())
        return counts

    def device_info(self) -> dict[str, str]:
        """The acceptor's identification (VERSION REQUEST), once it has answered."""
        with self._lock:
            return {"version": self._version or ""}

    # ------------------------------------------------------------------ the poll thread
    def _step(self, worker: Worker) -> None:
        """Send what is owed (reset, ACK, settings, stack or return), poll when it is time,
        else sleep until then or until the engine asks for something."""
        if not self.link.connected:
            # at start-up the reader thread may not have opened the port yet: that is not
            # a disconnection until it has had as long as a silent device would get
            grace = self.timing.attempts * self.timing.reply_timeout
            if self._ready.is_set() or time.monotonic() - self._opened_at > grace:
                self._lost()
            worker.sleep(self.timing.poll_interval)
            return
        if self._ready.is_set() and self._owed():
            self._next_poll = time.monotonic()  # read what the command did at once
            return
        if time.monotonic() >= self._next_poll:
            self._next_poll = time.monotonic() + self.timing.poll_interval
            self._poll()
            return
        worker.sleep(self._next_poll - time.monotonic())

    def _owed(self) -> bool:
        """Send the one thing the protocol owes the acceptor now; False when nothing is."""
        with self._lock:
            reset, ack = self._tracker.reset_needed, self._tracker.ack_owed
            wanted = self._wanted_settings()
            change = next(
                (
                    (c, d)
                    for c, d in wanted.items()
                    if self._applied.get(c) != d and c not in self._deferred
                ),
                None,
            )
            operation = self._tracker.operation()
            hold = self._hold_due()
        if reset:
            self._send_reset()
        elif ack:
            self._send_ack()
        elif change is not None:
            self._send_setting(*change)
        elif operation is not None:
            self._send_operation(operation)
        elif hold:
            self._send_hold()
        else:
            return False
        return True

    def _hold_due(self) -> bool:
        """Time to send HOLD: a note has waited ``hold_after`` in escrow undecided, since it
        came or since the last HOLD, and not yet ``hold_for`` in all."""
        after = self.timing.hold_after
        if after is None or not self._tracker.undecided():
            self._undecided = None
            return False
        now = time.monotonic()
        if self._undecided is None:
            self._undecided = (now, now)
        since, last = self._undecided
        return now - last >= after and now - since < self.timing.hold_for

    def _wanted_settings(self) -> dict[Command, bytes]:
        """The settings the acceptor should hold, inhibit last (it lets notes in)."""
        wanted: dict[Command, bytes] = {Command.ENABLE_DISABLE: bytes([self._mask, 0x00])}
        wanted.update(FIXED_SETTINGS)
        wanted[Command.INHIBIT] = b"\x01" if self._inhibit else b"\x00"
        return wanted

    def _send_reset(self) -> None:
        self._bump("resets_sent")
        reply = self._transact(command(Command.RESET), _operation_answer)
        if reply is None:
            self._lost()
            return
        with self._lock:
            self._tracker.reset_sent()
            self._applied.clear()  # a reset puts every setting back to the acceptor's own

    def _send_ack(self) -> None:
        """The ACK to VEND VALID, which the acceptor does not answer (6-2-1(5))."""
        self._bump("acks_sent")
        try:
            self.link.write(ACK_FRAME)
        except LinkDown:
            return
        with self._lock:
            self._tracker.ack_sent()

    def _send_setting(self, code: Command, data: bytes) -> None:
        self._bump("settings_sent")
        message = setting(code, data)
        reply = self._transact(message, lambda f: echo_of(f, message) or _refused(f))
        if reply is None:
            self._lost()
            return
        with self._lock:
            if echo_of(reply, message):
                self._applied[code] = data
            else:
                # refused now (the acceptor is busy): asked again after the next poll
                self._deferred.add(code)
                log.info("bill acceptor: setting %s refused; will retry", code.name)

    def _send_hold(self) -> None:
        """HOLD (6-3): keep the note in escrow (HOLDING) while the engine decides. ACK, or
        INVALID COMMAND if the note has left escrow meanwhile; either way the next status
        says where it is, and the wait for the next HOLD starts again."""
        self._bump("holds_sent")
        reply = self._transact(command(Command.HOLD), _operation_answer)
        if reply is None:
            self._lost()
            return
        with self._lock:
            if self._undecided is not None:
                self._undecided = (self._undecided[0], time.monotonic())
        if not is_ack(reply):
            log.info("bill acceptor: hold refused (the note is no longer in escrow)")

    def _send_operation(self, what: Pending) -> None:
        code = Command.STACK_1 if what == "stack" else Command.RETURN
        reply = self._transact(command(code), _operation_answer)
        if reply is None:
            self._lost()
            return
        with self._lock:
            self._tracker.operation_answered(what, accepted=is_ack(reply))

    def _poll(self) -> None:
        self._bump("polls")
        reply = self._transact(STATUS_REQUEST, lambda f: StatusReply.decode(f) is not None)
        status = StatusReply.decode(reply) if reply is not None else None
        if status is None:
            self._lost()
            return
        with self._lock:
            events = self._tracker.on_status(status)
            self._deferred.clear()
        if not self._ready.is_set() and self._version is None:
            self._ask_version()  # what it is, known before anyone is told it is ready
        self._ready.set()
        self._send(events)

    def _ask_version(self) -> None:
        """What the acceptor is (model, firmware), learnt once when it first answers."""
        reply = self._transact(
            command(Command.VERSION_REQUEST), lambda f: decode_version(f) is not None
        )
        version = decode_version(reply) if reply is not None else None
        with self._lock:
            self._version = version or ""
        if version:
            log.info("bill acceptor: %s", version)

    def _on_lost(self) -> list[object]:
        self._applied.clear()  # a device that comes back may have been reset
        return self._tracker.on_lost()

    def _transact(self, message: bytes, accept: Callable[[Frame], bool]) -> Frame | None:
        """Send ``message`` until a reply ``accept`` takes arrives; None if none came."""
        for attempt in range(max(1, self.timing.attempts)):
            if attempt:
                self._bump("retries")
            self._replies.clear()  # anything unread is stale: ID-003 is half duplex
            try:
                self.link.write(message)
            except LinkDown:
                return None
            reply = self._await(accept)
            if reply is not None:
                return reply
        return None

    def _await(self, accept: Callable[[Frame], bool]) -> Frame | None:
        def judge(frame: Frame) -> Frame | None:
            if accept(frame):
                return frame
            self._bump("unexpected_replies")
            return None

        reply = self._replies.wait(self.timing.reply_timeout, judge)
        if reply is None:
            self._bump("timeouts")
        return reply


def _refused(frame: Frame) -> bool:
    return frame.cmd == Status.INVALID_COMMAND and not frame.data


def _operation_answer(frame: Frame) -> bool:
    """ACK (6-4), or INVALID COMMAND when the acceptor can not do it now."""
    return is_ack(frame) or _refused(frame)
