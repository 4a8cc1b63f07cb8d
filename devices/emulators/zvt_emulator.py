"""A ZVT payment terminal on a pseudo-terminal: the terminal side, byte for byte.

It frames, acknowledges (ACK/NAK) and repeats exactly as the serial transport protocol
says, and answers what a semi-integrated terminal answers: Registration (06 00),
Authorisation (06 01) with intermediate statuses, a Status-Information (04 0F) carrying a
*masked* card number, the receipt as print lines (06 D1) or a text block (06 D3) and
Completion (06 0F); declines and aborts as Abort (06 1E) with a result code; Abort from the
ECR (06 B0) while the card is being read; Reversal (06 30), End-of-Day (06 50) with totals
per card group (BMP 60), Repeat Receipt (06 20) and Status Enquiry (05 01). It never holds
a card number: only a brand and four digits.

Test cards: by the cents of the amount (``.01`` decline, ``.02`` insufficient funds,
``.03`` card removed, ``.04`` the cardholder cancels, ``.05`` slow authorisation, ``.06``
terminal busy, ``.07`` approved then silent (the in-doubt case), ``.08`` reboot mid-sale;
anything else approves), or chosen with the ``card`` control, which holds until
``card auto``. Other controls: ``brand``, ``unplug``/``replug``, ``reboot``, ``garbage N``
(the next N frames go out after noise and with a bad CRC first), ``nak N`` (NAK the next N
frames from the kiosk), ``malformed`` (send an unknown and a malformed APDU).

Its ledger is the terminal's truth, which tests compare with the kiosk: approvals,
declines, reversals and end-of-day totals (:meth:`ZvtEmulator.counters`,
:meth:`ZvtEmulator.entries`). Repeat Receipt answers from it, so an in-doubt sale can be
resolved. With ``tcp_port`` it serves ZVT over TCP on 127.0.0.1 instead of the pty (no
framing), for the driver's LAN transport.

With ``state_path`` the journal, the trace and receipt numbers and the open batch outlive
the process, as a real terminal's do across a restart of the kiosk: a sale made by one
``kiosk`` process is in the end of day another one asks for at collection.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import random
import socket
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Protocol

from devices.emulators.base import Control
from devices.emulators.pty_port import EmulatorLoop, PtyPort
from devices.simulated import StateFile
from devices.zvt import apdu as A
from devices.zvt import bmp, codes
from devices.zvt.framing import DLE, STX
from devices.zvt.link import LinkEndpoint, LinkLost, LinkTiming
from kiosk.money import Money

log = logging.getLogger(__name__)

CARDS = (
    "approve",
    "decline",
    "insufficient",
    "removed",
    "cancel",
    "slow",
    "busy",
    "lose-after-approval",
    "reboot",
)
BY_CENTS = {1: "decline", 2: "insufficient", 3: "removed", 4: "cancel", 5: "slow", 6: "busy"}
BY_CENTS |= {7: "lose-after-approval", 8: "reboot"}
ALIASES = {"in_doubt": "lose-after-approval", "unknown": "reboot", "declined": "decline"}

DECLINE_CODE = 0x05  # ISO 8583 "05 do not honour"
INSUFFICIENT_CODE = 51  # ISO 8583 "51 insufficient funds" (0x33)
REMOVED_CODE = 0x64  # card not readable: pulled out before it was read
REVERSAL_NOT_POSSIBLE = 0xB5

STATUS_INSERT_CARD = 0x0A
STATUS_WATCH_PIN_PAD = 0x01
STATUS_WAITING_FOR_HOST = 0x04
STATUS_PLEASE_WAIT = 0x17
STATUS_REMOVE_CARD = 0x0B

SOFTWARE_VERSION = "KIOSK-EMU ZVT 13.13"
VU_NUMBER = "KIOSKEMULATOR01"


@dataclass(frozen=True)
class EmulatorTiming:
    step: float = 0.02
    """Between the terminal's own messages."""
    card_wait: float = 0.2
    """From "insert card" until the card is read (the ECR may abort meanwhile)."""
    pin_wait: float = 0.1
    """The PIN entry: the terminal sends nothing meanwhile."""
    pin_status_timeout: int | None = None
    """The time-out byte (seconds) sent with "watch PIN pad" (04 FF 01), if any: it tells
    the ECR how long the silence of the PIN entry may last."""
    slow: float = 2.0
    """How long a ``slow`` card's authorisation takes."""
    boot: float = 1.0
    """How long a reboot keeps the terminal deaf."""
    ecr_ack: float = 5.0
    """How long the terminal waits for the ECR's 80 00 00 before giving the ECR up."""
    link: LinkTiming = field(default_factory=lambda: LinkTiming(ack_timeout=0.5))


@dataclass
class Entry:
    """One transaction in the terminal's journal."""

    kind: str  # "sale", "declined", "reversal"
    trace: int
    receipt: int | None
    amount_cents: int
    card_type: int
    result_code: int
    batch: int
    auth_code: str = ""
    reversed: bool = False
    original_trace: int | None = None
    time: str = ""
    date: str = ""


class _Aborted(Exception):
    """The ECR's 06 B0 arrived while the sale could still be stopped."""


class _Gone(Exception):
    """The ECR stopped answering (cable out, process gone) or the terminal rebooted."""


class _Wire(Protocol):
    def send(self, raw: bytes) -> bool: ...
    def receive(self, timeout: float) -> bytes | None: ...
    def discard(self) -> None: ...


class _PtyWire:
    """The serial transport protocol on the emulator's pty, with fault injection."""

    def __init__(self, port: PtyPort, timing: LinkTiming) -> None:
        self.port = port
        self.garble = 0
        self.endpoint = LinkEndpoint(self._write, timing, name="zvt-emulator")
        self._random = random.Random(0x2F7)

    def _write(self, data: bytes) -> None:
        if self.garble > 0 and data[:2] == bytes([DLE, STX]):
            self.garble -= 1
            noise = bytes(self._random.choice((0x00, 0x41, 0x7F, 0xE5)) for _ in range(4))
            damaged = bytearray(data)
            damaged[-1] ^= 0x5A  # the first try carries a bad CRC: the kiosk must NAK it
            self.port.write(noise + bytes([DLE, 0x41]) + bytes(damaged))
            return
        self.port.write(data)

    def send(self, raw: bytes) -> bool:
        return self.endpoint.send(raw, lambda: self.port.plugged)

    def receive(self, timeout: float) -> bytes | None:
        try:
            return self.endpoint.receive(timeout)
        except LinkLost:
            return None

    def discard(self) -> None:
        self.endpoint.reset()
        self.endpoint.discard_pending()


class _TcpWire:
    """ZVT over TCP, the terminal's end: one ECR connection at a time, raw APDUs.

    Unplugged, it closes its listening socket too, so a connect is refused as it is for a
    terminal that dropped off the network; plugged in again, it listens on the same port.
    """

    def __init__(self, port: int) -> None:
        self.server: socket.socket | None = None
        self.port = port
        self.listen()
        self.client: socket.socket | None = None
        self.inbox: queue.Queue[bytes] = queue.Queue()
        self._running = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zvt-emulator-tcp", daemon=True)
        self._lock = threading.Lock()

    @property
    def listening(self) -> bool:
        return self.server is not None

    def listen(self) -> None:
        server = socket.create_server(("127.0.0.1", self.port))
        server.settimeout(0.05)
        self.port = server.getsockname()[1]
        self.server = server

    def unplug(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            with contextlib.suppress(OSError):
                server.close()
        self.drop_client()

    def start(self) -> None:
        self._running.set()
        self._thread.start()

    def stop(self) -> None:
        self._running.clear()
        self._thread.join(2.0)
        self.unplug()

    def drop_client(self) -> None:
        with self._lock:
            client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                client.close()

    def send(self, raw: bytes) -> bool:
        with self._lock:
            client = self.client
            if client is None:
                return False
            try:
                client.sendall(raw)
            except OSError:
                return False
        return True

    def receive(self, timeout: float) -> bytes | None:
        try:
            return self.inbox.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None

    def discard(self) -> None:
        while not self.inbox.empty():
            self.inbox.get_nowait()

    def _run(self) -> None:
        buffer = bytearray()
        while self._running.is_set():
            client, server = self.client, self.server
            if client is None:
                if server is None:
                    time.sleep(0.05)
                    continue
                try:
                    conn, _ = server.accept()
                except OSError:
                    continue
                conn.settimeout(0.05)
                buffer.clear()
                with self._lock:
                    self.client = conn
                continue
            try:
                chunk = client.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                self.drop_client()
                continue
            buffer += chunk
            while (total := A.header_length(buffer)) is not None and len(buffer) >= total:
                self.inbox.put(bytes(buffer[:total]))
                del buffer[:total]


class ZvtEmulator:
    """Implements :class:`devices.emulators.base.Emulator` for the ``card_terminal`` name."""

    name = "card_terminal"

    def __init__(
        self,
        link: Path | None = None,
        *,
        timing: EmulatorTiming | None = None,
        tcp_port: int | None = None,
        password: str = "000000",
        terminal_id: str = "52500001",
        last4: str = "0119",
        text_blocks: bool = False,
        state_path: Path | None = None,
        zone: tzinfo | None = None,
    ) -> None:
        self.port = PtyPort(link)
        self.zone = zone
        """The terminal's clock zone. A real terminal keeps the merchant's local time, so
        the kiosk passes its own zone: the time on the terminal's slip then agrees with
        the kiosk's header above it. None: this machine's local time."""
        self.timing = timing or EmulatorTiming()
        self.password = password
        self.terminal_id = terminal_id
        self.last4 = last4
        self.text_blocks = text_blocks
        self.terminal_status = 0x00
        """What Status Enquiry reports (00 ready; DC a card is inserted, ...)."""
        self.status_with_version = True
        """False: Status Enquiry's completion carries the status byte without the software
        version, as some terminals send it."""
        self.busy_code = codes.RECEIVER_NOT_READY
        """The result code of the ``busy`` card's refusal (84 xx): A0, or 9C please wait."""
        self._lock = threading.RLock()
        self._pty_wire = _PtyWire(self.port, self.timing.link)
        self._tcp: _TcpWire | None = _TcpWire(tcp_port) if tcp_port is not None else None
        self.wire: _Wire = self._tcp if self._tcp is not None else self._pty_wire
        self._loop = EmulatorLoop(self.port, self._from_host, self.name)
        self._running = threading.Event()
        self._serve_thread = threading.Thread(target=self._serve, name="zvt-terminal", daemon=True)
        self._actions: queue.Queue[str] = queue.Queue()
        self._booting_until = 0.0
        # what the terminal is configured with
        self._registered = False
        self._config_byte = 0
        self._currency: int | None = None
        self._card: str | None = None
        self._card_type = codes.BRAND_CARD_TYPES["visa"]
        # the journal
        self._entries: list[Entry] = []
        self._trace = 0
        self._receipt = 0
        self._batch = 1
        self._end_of_days: list[dict[str, Any]] = []
        self._state = StateFile(state_path, self._memory()) if state_path is not None else None
        if self._state is not None:
            self._recall(self._state.load())
        self._probe_answers: list[str] = []
        self._counts: dict[str, int] = {
            "commands": 0,
            "registrations": 0,
            "authorisations": 0,
            "aborted_by_ecr": 0,
            "aborted_by_cardholder": 0,
            "aborts_refused": 0,
            "abort_requests": 0,
            "silent_after_approval": 0,
            "reboots": 0,
            "busy_refusals": 0,
            "refused_while_busy": 0,
            "ecr_gone": 0,
            "unknown_commands": 0,
            "malformed_commands": 0,
            "status_enquiries": 0,
            "repeat_receipts": 0,
            "bytes_ignored_while_booting": 0,
            "receipts_printed_on_terminal": 0,
        }

    @property
    def tcp_port(self) -> int | None:
        return self._tcp.port if self._tcp is not None else None

    # ------------------------------------------------------------------ Emulator surface
    def start(self) -> None:
        self._running.set()
        if self._tcp is not None:
            self._tcp.start()
        else:
            self._loop.start()
        self._serve_thread.start()

    def stop(self) -> None:
        self._running.clear()
        self._serve_thread.join(3.0)
        if self._tcp is not None:
            self._tcp.stop()
        else:
            self._loop.stop()

    def controls(self) -> dict[str, Control]:
        return {
            "card": Control(
                "card approve|decline|insufficient|removed|cancel|slow|busy|"
                "lose-after-approval|reboot|auto: the card the next sales use (auto: by the "
                "cents of the amount)",
                self._card_ctl,
            ),
            "brand": Control(
                f"brand {'|'.join(codes.BRAND_CARD_TYPES)}: the brand of the card presented",
                self._brand_ctl,
            ),
            "unplug": Control("unplug: pull the cable (the port vanishes)", self._unplug),
            "replug": Control("replug: put the cable back (same port path)", self._replug),
            "reboot": Control("reboot: the terminal restarts (deaf a moment)", self._reboot_ctl),
            "garbage": Control(
                "garbage [N]: the next N frames go out after noise, first with a bad CRC",
                self._garbage,
            ),
            "nak": Control("nak [N]: answer the next N frames from the kiosk with NAK", self._nak),
            "malformed": Control(
                "malformed: send the kiosk an unknown APDU and a malformed one", self._malformed
            ),
        }

    def counters(self) -> dict[str, Any]:
        with self._lock:
            approved = [e for e in self._entries if e.kind == "sale"]
            reversals = [e for e in self._entries if e.kind == "reversal"]
            batch = [e for e in approved if e.batch == self._batch and not e.reversed]
            return {
                **self._counts,
                "registered": self._registered,
                "config_byte": self._config_byte,
                "card": self._card or "auto",
                "brand": codes.CARD_TYPES.get(self._card_type, str(self._card_type)),
                "approvals": len(approved),
                "approved_cents": sum(e.amount_cents for e in approved),
                "declines": sum(e.kind == "declined" for e in self._entries),
                "reversals": len(reversals),
                "reversed_cents": sum(e.amount_cents for e in reversals),
                "batch": self._batch,
                "batch_count": len(batch),
                "batch_cents": sum(e.amount_cents for e in batch),
                "end_of_days": [dict(eod) for eod in self._end_of_days],
                "last_trace": self._trace,
                "last_receipt": self._receipt,
                "probe_answers": list(self._probe_answers),
                "plugged": self.port.plugged if self._tcp is None else self._tcp.listening,
                "link": self._pty_wire.endpoint.stats(),
            }

    # ------------------------------------------------------------------ for tests
    def control(self, name: str, *args: str) -> str:
        """Run a control as the console would: ``emu.control("card", "decline")``."""
        return self.controls()[name].handler(list(args))

    def entries(self) -> list[Entry]:
        with self._lock:
            return [Entry(**asdict(e)) for e in self._entries]

    def clear_journal(self) -> None:
        """Forget every stored transaction, as a terminal swapped for a fresh unit would:
        Repeat Receipt is refused from now on, until the next transaction."""
        with self._lock:
            self._entries.clear()
            self._remember()

    # ------------------------------------------------------------------ what survives
    def _memory(self) -> dict[str, Any]:
        return {
            "entries": [asdict(e) for e in self._entries],
            "trace": self._trace,
            "receipt": self._receipt,
            "batch": self._batch,
            "end_of_days": self._end_of_days,
        }

    def _recall(self, memory: dict[str, Any]) -> None:
        self._entries = [Entry(**row) for row in memory["entries"]]
        self._trace, self._receipt = int(memory["trace"]), int(memory["receipt"])
        self._batch = int(memory["batch"])
        self._end_of_days = list(memory["end_of_days"])

    def _now(self) -> datetime:
        """The terminal's clock (see ``zone``)."""
        return datetime.now(self.zone)

    def _remember(self) -> None:
        """Write the terminal's memory to its state file (under ``self._lock``)."""
        if self._state is not None:
            self._state.save(self._memory())

    # ------------------------------------------------------------------ bytes in
    def _from_host(self, data: bytes) -> None:
        if self._booting():
            with self._lock:
                self._counts["bytes_ignored_while_booting"] += len(data)
            return
        self._pty_wire.endpoint.feed(data)

    def _booting(self) -> bool:
        return time.monotonic() < self._booting_until

    # ------------------------------------------------------------------ the terminal
    def _serve(self) -> None:
        while self._running.is_set():
            try:
                self._run_actions()
                if self._booting():
                    time.sleep(0.02)
                    self.wire.discard()
                    continue
                raw = self.wire.receive(0.05)
                if raw is not None:
                    self._command(raw)
            except _Gone:
                with self._lock:
                    self._counts["ecr_gone"] += 1
            except Exception:
                log.exception("zvt emulator: command failed")

    def _run_actions(self) -> None:
        while True:
            try:
                action = self._actions.get_nowait()
            except queue.Empty:
                return
            if action == "malformed":
                self._probe()

    def _command(self, raw: bytes) -> None:
        apdu = A.decode(raw)
        message: A.FromEcr = (
            A.from_ecr(apdu) if apdu is not None else A.Malformed(0, "length mismatch")
        )
        with self._lock:
            self._counts["commands"] += 1
        if isinstance(message, A.Ack | A.NegativeAck):
            return  # a late acknowledgement: nothing waits for it now
        if isinstance(message, A.Registration):
            self._register(message)
        elif isinstance(message, A.Authorisation):
            self._authorise(message)
        elif isinstance(message, A.Reversal):
            self._reverse(message)
        elif isinstance(message, A.PasswordCommand):
            self._password_command(message)
        elif isinstance(message, A.AbortRequest):
            with self._lock:
                self._counts["abort_requests"] += 1
            self._say(A.ack())  # nothing is running: nothing to stop
        elif isinstance(message, A.LogOff):
            with self._lock:
                self._registered = False
            self._say(A.ack())
        elif isinstance(message, A.Unknown):
            with self._lock:
                self._counts["unknown_commands"] += 1
            self._say(A.nack(codes.FUNCTION_NOT_POSSIBLE))
        else:
            with self._lock:
                self._counts["malformed_commands"] += 1
            self._say(A.nack(codes.PROTOCOL_ERROR))

    def _say(self, message: A.Apdu) -> None:
        """Send without waiting for the ECR's acknowledgement (answers to its commands)."""
        if not self.wire.send(message.encode()):
            raise _Gone

    def _tell(self, message: A.Apdu, abortable: bool = False) -> None:
        """Send as master and wait for the ECR's 80 00 00 (or its 06 B0, when allowed)."""
        self._say(message)
        deadline = time.monotonic() + self.timing.ecr_ack
        while True:
            reply = self._next(deadline, abortable)
            if reply is not None:
                return

    def _try_tell(self, message: A.Apdu) -> bool:
        """Tell the ECR if it is there; False when it is not (a reboot still ends the sale)."""
        try:
            self._tell(message)
        except _Gone:
            if self._booting() or not self._running.is_set():
                raise
            return False
        return True

    def _pause(self, seconds: float, abortable: bool = False) -> None:
        """Let time pass as a terminal does: listening, answering what the ECR sends."""
        deadline = time.monotonic() + seconds
        while self._next(deadline, abortable, waiting_for_ack=False) is None:
            if time.monotonic() >= deadline:
                return

    def _next(self, deadline: float, abortable: bool, waiting_for_ack: bool = True) -> str | None:
        """One step of listening inside a command: "ack" when the ECR acknowledged."""
        if self._booting() or not self._running.is_set():
            raise _Gone
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if waiting_for_ack:
                raise _Gone
            return None
        raw = self.wire.receive(min(remaining, 0.05))
        if raw is None:
            return None
        apdu = A.decode(raw)
        message = A.from_ecr(apdu) if apdu is not None else A.Malformed(0, "length mismatch")
        if isinstance(message, A.Ack):
            return "ack" if waiting_for_ack else None
        if isinstance(message, A.NegativeAck):
            return "ack" if waiting_for_ack else None  # refused: the terminal moves on
        if isinstance(message, A.AbortRequest):
            with self._lock:
                self._counts["abort_requests"] += 1
            if abortable:
                raise _Aborted
            with self._lock:
                self._counts["aborts_refused"] += 1
            self._say(A.nack(codes.FUNCTION_NOT_POSSIBLE))
            return None
        with self._lock:
            self._counts["refused_while_busy"] += 1
        self._say(A.nack(codes.RECEIVER_NOT_READY))  # busy with the running command
        return None

    # ------------------------------------------------------------------ commands
    def _register(self, message: A.Registration) -> None:
        if message.password != self.password:
            self._say(A.nack(codes.FUNCTION_NOT_POSSIBLE))
            return
        with self._lock:
            self._registered = True
            self._config_byte = message.config_byte
            self._currency = message.currency
            self._counts["registrations"] += 1
        self._say(A.ack())
        self._tell(A.completion(self.terminal_id, status_byte=0x00))

    def _card_for(self, cents: int) -> str:
        with self._lock:
            return self._card or BY_CENTS.get(cents % 100, "approve")

    def _authorise(self, message: A.Authorisation) -> None:
        with self._lock:
            self._counts["authorisations"] += 1
            registered = self._registered
        card = self._card_for(message.amount_cents)
        if not registered:
            self._say(A.nack(codes.NOT_REGISTERED))
            return
        if card == "busy":
            with self._lock:
                self._counts["busy_refusals"] += 1
            self._say(A.nack(self.busy_code))
            return
        self._say(A.ack())
        try:
            self._sale(card, message.amount_cents)
        except _Aborted:
            with self._lock:
                self._counts["aborted_by_ecr"] += 1
            self._say(A.ack())
            self._tell(A.terminal_abort(codes.ABORTED))

    def _sale(self, card: str, cents: int) -> None:
        self._tell(A.intermediate_status(STATUS_INSERT_CARD), abortable=True)
        self._pause(self.timing.card_wait, abortable=True)
        if card == "reboot":
            self._reboot()  # the sale is forgotten; the kiosk hears nothing more of it
            return
        if card in ("removed", "cancel"):
            code = REMOVED_CODE if card == "removed" else codes.ABORTED
            if card == "cancel":
                with self._lock:
                    self._counts["aborted_by_cardholder"] += 1
            self._tell(A.terminal_abort(code))
            return
        pin_status = A.intermediate_status(STATUS_WATCH_PIN_PAD, self.timing.pin_status_timeout)
        self._tell(pin_status, abortable=True)
        self._pause(self.timing.pin_wait, abortable=True)
        # online now: too late to stop, and the host's answer does not depend on the
        # kiosk's cable; if the kiosk goes away, the authorisation still completes
        ecr_there = self._try_tell(A.intermediate_status(STATUS_WAITING_FOR_HOST))
        if card == "slow":
            end = time.monotonic() + self.timing.slow
            while time.monotonic() < end:
                self._pause(min(0.25, self.timing.slow / 4))
                if ecr_there:
                    ecr_there = self._try_tell(A.intermediate_status(STATUS_PLEASE_WAIT))
        self._pause(self.timing.step)
        if card in ("decline", "insufficient"):
            code = DECLINE_CODE if card == "decline" else INSUFFICIENT_CODE
            entry = self._journal("declined", cents, code)
            self._tell(A.status_information_apdu(self._status_fields(entry)))
            self._print(self._receipt_lines(entry))
            self._tell(A.terminal_abort(code))
            return
        entry = self._journal("sale", cents, codes.SUCCESS)  # the terminal's truth first
        if not ecr_there:
            raise _Gone
        if card == "lose-after-approval":
            with self._lock:
                self._counts["silent_after_approval"] += 1
            return
        self._tell(A.status_information_apdu(self._status_fields(entry)))
        self._tell(A.intermediate_status(STATUS_REMOVE_CARD))
        self._print(self._receipt_lines(entry))
        self._tell(A.completion())

    def _reverse(self, message: A.Reversal) -> None:
        if message.password != self.password:
            self._say(A.nack(codes.FUNCTION_NOT_POSSIBLE))
            return
        self._say(A.ack())
        self._tell(A.intermediate_status(STATUS_WAITING_FOR_HOST))
        with self._lock:
            sale = next(
                (e for e in self._entries if e.kind == "sale" and e.receipt == message.receipt),
                None,
            )
            refusal = None
            if sale is None or sale.batch != self._batch:
                refusal = REVERSAL_NOT_POSSIBLE
            elif sale.reversed:
                refusal = codes.ALREADY_REVERSED
            else:
                sale.reversed = True
        if refusal is not None or sale is None:
            self._tell(A.terminal_abort(refusal or REVERSAL_NOT_POSSIBLE))
            return
        entry = self._journal("reversal", sale.amount_cents, codes.SUCCESS, original=sale)
        self._tell(A.status_information_apdu(self._status_fields(entry)))
        self._print(self._receipt_lines(entry))
        self._tell(A.completion())

    def _password_command(self, message: A.PasswordCommand) -> None:
        if message.password != self.password:
            self._say(A.nack(codes.FUNCTION_NOT_POSSIBLE))
            return
        if message.control == A.END_OF_DAY:
            self._end_of_day()
        elif message.control == A.REPEAT_RECEIPT:
            self._repeat_receipt(message.service_byte)
        else:
            with self._lock:
                self._counts["status_enquiries"] += 1
            self._say(A.ack())
            version = SOFTWARE_VERSION if self.status_with_version else ""
            self._tell(A.status_completion(version, self.terminal_status))

    def _end_of_day(self) -> None:
        self._say(A.ack())
        self._tell(A.intermediate_status(STATUS_WAITING_FOR_HOST))
        with self._lock:
            batch = [e for e in self._entries if e.kind == "sale" and e.batch == self._batch]
            counted = [e for e in batch if not e.reversed]
            groups = [[0, 0] for _ in codes.TOTALS_GROUPS]
            for e in counted:
                group = groups[codes.totals_group(e.card_type)]
                group[0] += 1
                group[1] += e.amount_cents
            receipts = [e.receipt for e in batch if e.receipt is not None]
            totals = bmp.Totals(
                min(receipts, default=0),
                max(receipts, default=0),
                tuple(
                    bmp.BrandTotal(name, count, cents)
                    for name, (count, cents) in zip(codes.TOTALS_GROUPS, groups, strict=True)
                ),
            )
            total = sum(e.amount_cents for e in counted)
            self._trace = self._trace % 999_999 + 1
            trace, batch_number = self._trace, self._batch
            now = self._now()
            by_group = {
                name: [count, cents]
                for name, (count, cents) in zip(codes.TOTALS_GROUPS, groups, strict=True)
                if count
            }
            self._end_of_days.append(
                {
                    "batch": batch_number,
                    "trace": trace,
                    "count": len(counted),
                    "total_cents": total,
                    "groups": by_group,
                }
            )
            self._batch += 1
            self._remember()
        fields = (
            bmp.fixed(0x27, bytes([codes.SUCCESS]))
            + bmp.fixed(0x04, bmp.to_bcd(total, 6))
            + bmp.fixed(0x0B, bmp.to_bcd(trace, 3))
            + bmp.fixed(0x0C, bmp.to_bcd(int(now.strftime("%H%M%S")), 3))
            + bmp.fixed(0x0D, bmp.to_bcd(int(now.strftime("%m%d")), 2))
            + bmp.encode_totals(totals)
        )
        self._tell(A.status_information_apdu(fields))
        lines = ["END OF DAY", f"Batch {batch_number}", f"Trace {trace:06d}"]
        for name, (count, cents) in by_group.items():
            lines.append(f"{name}: {count} x {Money(cents).plain()}")
        lines.append(f"Total {len(counted)} {Money(total).plain()}")
        self._print(lines, admin=True)
        self._tell(A.completion())

    def _repeat_receipt(self, service_byte: int | None) -> None:
        """The last transaction's printout again; its Status-Information only when the
        service byte asks for it (bit 0 of BMP 03), as a current terminal does."""
        with self._lock:
            self._counts["repeat_receipts"] += 1
            last = self._entries[-1] if self._entries else None
        if last is None:
            self._say(A.nack(codes.FUNCTION_NOT_POSSIBLE))  # nothing stored to repeat
            return
        self._say(A.ack())
        if service_byte is not None and service_byte & A.REPEAT_RECEIPT_SEND_STATUS:
            self._tell(A.status_information_apdu(self._status_fields(last)))
        self._print(["COPY", *self._receipt_lines(last)])
        self._tell(A.completion())

    def _print(self, lines: list[str], admin: bool = False) -> None:
        with self._lock:
            wanted = A.CONFIG_ECR_PRINTS_ADMIN if admin else A.CONFIG_ECR_PRINTS_PAYMENT
            to_ecr = bool(self._config_byte & wanted)
            if not to_ecr:
                self._counts["receipts_printed_on_terminal"] += 1
        if not to_ecr:
            return
        if self.text_blocks:
            self._tell(A.print_text_block(lines))
            return
        for index, line in enumerate(lines):
            self._tell(A.print_line(line, last=index == len(lines) - 1))

    # ------------------------------------------------------------------ the journal
    def _journal(self, kind: str, cents: int, code: int, original: Entry | None = None) -> Entry:
        with self._lock:
            self._trace = self._trace % 999_999 + 1
            receipt = None
            if kind != "declined":
                self._receipt = self._receipt % 9_999 + 1
                receipt = self._receipt
            now = self._now()
            entry = Entry(
                kind=kind,
                trace=self._trace,
                receipt=receipt,
                amount_cents=cents,
                card_type=original.card_type if original else self._card_type,
                result_code=code,
                batch=self._batch,
                auth_code=f"{(self._trace * 7919) % 1_000_000:06d}" if kind == "sale" else "",
                original_trace=original.trace if original else None,
                time=now.strftime("%H%M%S"),
                date=now.strftime("%m%d"),
            )
            self._entries.append(entry)
            self._remember()
            return entry

    def _status_fields(self, entry: Entry) -> bytes:
        name = codes.CARD_TYPES.get(entry.card_type, "CARD")
        fields = (
            bmp.fixed(0x27, bytes([entry.result_code]))
            + bmp.fixed(0x04, bmp.to_bcd(entry.amount_cents, 6))
            + bmp.fixed(0x0B, bmp.to_bcd(entry.trace, 3))
            + bmp.fixed(0x0C, bmp.to_bcd(int(entry.time or "0"), 3))
            + bmp.fixed(0x0D, bmp.to_bcd(int(entry.date or "0"), 2))
            + bmp.masked_pan("*" * 12 + self.last4)
        )
        if entry.original_trace is not None:
            fields += bmp.fixed(0x37, bmp.to_bcd(entry.original_trace, 3))
        if entry.receipt is not None:
            fields += bmp.fixed(0x87, bmp.to_bcd(entry.receipt, 2))
        if entry.auth_code:
            fields += bmp.fixed(0x3B, bmp.text(entry.auth_code, 8))
        fields += bmp.fixed(0x8A, bytes([entry.card_type])) + bmp.llvar(0x8B, bmp.text(name))
        fields += bmp.fixed(0x29, bytes.fromhex(self.terminal_id))
        fields += bmp.fixed(0x2A, bmp.text(VU_NUMBER, 15))
        if self._currency is not None:
            fields += bmp.fixed(0x49, bmp.to_bcd(self._currency, 2))
        return fields

    def _receipt_lines(self, entry: Entry) -> list[str]:
        title = {"sale": "PAYMENT", "declined": "PAYMENT", "reversal": "REVERSAL"}[entry.kind]
        lines = [
            "KIOSK EMULATOR TERMINAL",
            title,
            f"Terminal {self.terminal_id}",
            f"Date {entry.date[2:]}.{entry.date[:2]} {entry.time[:2]}:{entry.time[2:4]}",
            f"Trace {entry.trace:06d}",
        ]
        if entry.receipt is not None:
            lines.append(f"Receipt {entry.receipt:04d}")
        lines += [
            codes.CARD_TYPES.get(entry.card_type, "CARD"),
            f"Card {'*' * 12}{self.last4}",
            f"Amount {Money(entry.amount_cents).plain()}",
        ]
        if entry.auth_code:
            lines.append(f"Auth code {entry.auth_code}")
        lines.append("APPROVED" if entry.result_code == codes.SUCCESS else "DECLINED")
        return lines

    # ------------------------------------------------------------------ faults
    def _reboot(self) -> None:
        with self._lock:
            self._counts["reboots"] += 1
        self._booting_until = time.monotonic() + self.timing.boot
        self.wire.discard()

    def _probe(self) -> None:
        """Send an unknown and a malformed APDU and note what the kiosk answers."""
        for raw in (A.Apdu(0x04, 0x77, b"\x01").encode(), bytes([0x04, 0x0F, 0x05, 0x27])):
            if not self.wire.send(raw):
                with self._lock:
                    self._probe_answers.append("undelivered")
                continue
            answer = self.wire.receive(self.timing.ecr_ack)
            apdu = A.decode(answer) if answer is not None else None
            with self._lock:
                self._probe_answers.append(apdu.name if apdu is not None else "none")

    # ------------------------------------------------------------------ controls
    def _card_ctl(self, args: list[str]) -> str:
        if len(args) != 1:
            raise ValueError("usage: card " + "|".join((*CARDS, "auto")))
        card = ALIASES.get(args[0], args[0])
        if card != "auto" and card not in CARDS:
            raise ValueError(f"unknown card {args[0]!r}; one of {', '.join(CARDS)} or auto")
        with self._lock:
            self._card = None if card == "auto" else card
        return f"card: {card}"

    def _brand_ctl(self, args: list[str]) -> str:
        if len(args) != 1 or args[0].lower() not in codes.BRAND_CARD_TYPES:
            raise ValueError("usage: brand " + "|".join(codes.BRAND_CARD_TYPES))
        with self._lock:
            self._card_type = codes.BRAND_CARD_TYPES[args[0].lower()]
        return f"brand: {codes.CARD_TYPES[self._card_type]}"

    def _unplug(self, args: list[str]) -> str:
        if self._tcp is not None:
            self._tcp.unplug()
            return "unplugged: connections are refused"
        if not self.port.plugged:
            return "already unplugged"
        self.port.unplug()
        return f"unplugged: {self.port.path} is gone"

    def _replug(self, args: list[str]) -> str:
        if self._tcp is not None:
            if not self._tcp.listening:
                self._tcp.listen()
            return f"plugged in again: 127.0.0.1:{self._tcp.port}"
        if self.port.plugged:
            return "already plugged in"
        self.port.replug()
        return f"plugged in again at {self.port.path}"

    def _reboot_ctl(self, args: list[str]) -> str:
        self._reboot()
        return f"rebooting ({self.timing.boot:.1f} s)"

    def _garbage(self, args: list[str]) -> str:
        count = _count(args, "garbage [N]")
        self._pty_wire.garble += count
        return f"the next {count} frames go out damaged first"

    def _nak(self, args: list[str]) -> str:
        count = _count(args, "nak [N]")
        self._pty_wire.endpoint.refuse_next += count
        return f"the next {count} frames from the kiosk will be NAKed"

    def _malformed(self, args: list[str]) -> str:
        self._actions.put("malformed")
        return "an unknown and a malformed APDU go to the kiosk"


def _count(args: list[str], usage: str) -> int:
    try:
        count = int(args[0]) if args else 1
    except ValueError:
        count = 0
    if not 1 <= count <= 1000 or len(args) > 1:
        raise ValueError(f"usage: {usage} (N from 1 to 1000)")
    return count


__all__ = ["CARDS", "EmulatorTiming", "Entry", "ZvtEmulator"]
