"""One command at a time with the terminal: send it, then take part until its last word.

ZVT hands the master role to the terminal after it acknowledges a command; from then on the
ECR only answers. :meth:`Session.converse` sends a command and answers everything that
follows with ``80 00 00`` (unknown messages with ``84 83``, unreadable ones with ``84 9A``)
until Completion (06 0F), Abort (06 1E), a refusal (84 xx instead of 80 00), silence past
the time-out, or the line lost. What came back is a :class:`Talk` for the driver to judge.

Between commands :meth:`Session.listen` answers what the terminal sends on its own (a late
answer to a sale we stopped waiting for, a printout) and hands it to the driver.

No APDU payload is ever logged: only command names and sizes (payloads may hold card data).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from devices.zvt import apdu as A
from devices.zvt import codes
from devices.zvt.bmp import StatusInformation
from devices.zvt.link import LinkLost
from devices.zvt.transport import ApduTransport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timing:
    command_ack: float = 5.0
    """T3: how long the terminal may take to acknowledge a command (80 00 00)."""
    t4: float = 180.0
    """T4 (PA00P016, 3.2.6): while the terminal is master of a sale, the longest silence
    before the ECR gives up. It restarts with every message the terminal sends (an
    intermediate status 04 FF, a Status-Information 04 0F, a print line), and a 04 FF that
    carries its own time-out byte sets the next wait instead. A fixed deadline from the
    moment the authorisation went out would cut off a slow but valid payment: PIN entry,
    for one, sends nothing. The engine's own limit (``timeouts.card_sale``) counts from
    the terminal's last word and is longer than this plus ``abort_grace``, so this driver,
    which aborts first, speaks before the engine gives up."""
    sale_limit: float = 420.0
    """The longest a sale may last from the authorisation, however often the terminal
    speaks. T4 alone has no end: a terminal that sends an intermediate status every few
    seconds forever (a stuck host connection, a firmware fault) would hold the kiosk and
    the resident for good. Past this the kiosk sends Abort (06 B0) and, unless the terminal
    then completes an approval, treats the sale as in doubt: the status query settles it.
    Seven minutes: more than twice T4, far more than a card read, PIN and host answer."""
    abort_grace: float = 5.0
    """After our Abort (06 B0): how long the terminal's final answer is waited for, counted
    from the moment the abort goes out, its own delivery (ACK, repeats) included."""
    command_timeout: float = 60.0
    """Registration, Status Enquiry, Repeat Receipt and Reversal: the longest silence."""
    end_of_day_timeout: float = 300.0
    query_timeout: float = 20.0
    """How long ``status()`` / ``reverse()`` may block their caller."""
    quiet: float = 2.0
    """Before asking what became of a sale: the silence that shows the terminal is no
    longer master of a transaction (it sends intermediate statuses while it is)."""
    register_retry: float = 5.0
    poll: float = 0.05


@dataclass
class Talk:
    """What came back for one command, up to the terminal's last word (or silence)."""

    delivered: bool = False
    """The command reached the terminal (serial: it ACKed the frame)."""
    accepted: bool = False
    """The terminal acknowledged it (80 00 00) or began answering."""
    refused: int | None = None
    """The code of an 84 xx the terminal gave instead of accepting."""
    infos: list[StatusInformation] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    completion: A.Completion | None = None
    abort_code: int | None = None
    lost: bool = False
    timed_out: bool = False
    abort_sent: bool = False
    gave_up: bool = False
    """The terminal said nothing in time (T4, or no 80 00 within T3), or the sale reached
    ``sale_limit``, and the kiosk sent Abort (06 B0) on its own."""
    over_limit: bool = False
    """The abort was for ``sale_limit``: the terminal kept the sale going too long."""

    @property
    def info(self) -> StatusInformation | None:
        return self.infos[-1] if self.infos else None

    def last_info(self, wanted: Callable[[StatusInformation], bool]) -> StatusInformation | None:
        return next((i for i in reversed(self.infos) if wanted(i)), None)


@dataclass(frozen=True)
class SaleHooks:
    """What a sale adds to a conversation: prompts out, receipts to disk, the abort in."""

    reference: str
    abort: threading.Event
    on_progress: Callable[[str], None]
    on_info: Callable[[StatusInformation], None]


class Session:
    """The conversation with the terminal; used by one thread (the driver's worker)."""

    def __init__(
        self,
        transport: ApduTransport,
        timing: Timing,
        *,
        running: Callable[[], bool],
        on_lost: Callable[[], None],
        on_unsolicited: Callable[[A.FromTerminal], None],
    ) -> None:
        self.transport = transport
        self.timing = timing
        self.running = running
        self.on_lost = on_lost
        self.on_unsolicited = on_unsolicited
        self.counts = {"unknown_apdus": 0, "malformed_apdus": 0}
        self.heard = 0
        """Messages the terminal sent on its own (between our commands)."""

    def reply(self, answer: A.Apdu) -> None:
        if not self.transport.send(answer.encode()):
            log.warning("card terminal: could not deliver %s", answer.describe())

    def converse(
        self,
        command: A.Apdu,
        timeout: float,
        sale: SaleHooks | None = None,
        limit: float | None = None,
    ) -> Talk:
        """Send ``command`` and take part in what follows until the terminal's last word.

        ``timeout`` is the longest silence (T4): every message from the terminal restarts
        it, and an intermediate status with a time-out byte replaces it for the next wait.
        ``limit`` caps the whole command, however often the terminal speaks. In a sale,
        silence past the time-out or the limit reached is answered with Abort (06 B0) and
        ``abort_grace`` for the terminal's last word before the sale counts as unanswered:
        the terminal is told the kiosk has stopped waiting before anyone treats the sale as
        in doubt.
        """
        talk = Talk()
        self.listen(0.0)  # anything left over is answered first (it may be a late answer)
        if not self.transport.connected:
            return talk
        log.debug("card terminal: sending %s", command.describe())
        if not self.transport.send(command.encode()):
            talk.lost = not self.transport.connected
            return talk
        talk.delivered = True
        now = time.monotonic()
        cap = None if limit is None else now + limit
        deadline, ack_deadline = self._capped(now + timeout, cap), now + self.timing.command_ack
        while True:
            now = time.monotonic()
            over = cap is not None and now >= cap
            silent = over or now >= deadline or (not talk.accepted and now >= ack_deadline)
            if sale is not None and not talk.abort_sent and silent:
                talk.gave_up, talk.over_limit = True, over
                why = "the sale reached its time limit" if over else "no word in time"
                log.warning("card terminal: %s for %s; sending abort", why, sale.reference)
                sale.abort.set()
            if sale is not None and sale.abort.is_set() and not talk.abort_sent:
                talk.abort_sent = True
                deadline = self._send_abort(sale.reference)
                ack_deadline = deadline  # any answer now is to the abort: the grace decides
            now = time.monotonic()
            late = now >= deadline or (not talk.accepted and now >= ack_deadline)
            if late or not self.running():
                talk.timed_out = True
                return talk
            try:
                raw = self.transport.receive(min(self.timing.poll, deadline - now))
            except LinkLost:
                talk.lost = True
                self.on_lost()
                return talk
            if raw is None:
                continue
            message = self._decode(raw)
            if self._take(message, talk, sale):
                return talk
            if not talk.abort_sent and not isinstance(message, A.Unknown | A.Malformed):
                deadline = self._capped(time.monotonic() + self._wait_after(message, timeout), cap)

    @staticmethod
    def _capped(deadline: float, cap: float | None) -> float:
        return deadline if cap is None else min(deadline, cap)

    def _send_abort(self, reference: str) -> float:
        """Send Abort (06 B0); the deadline for the terminal's last word.

        ``abort_grace`` counts from now and bounds the abort's own delivery too: a terminal
        that does not ACK the frame is not sent it again past the grace (three sends of T2
        each would hold the sale 15 s for a terminal that is not listening).
        """
        deadline = time.monotonic() + self.timing.abort_grace
        log.info("card terminal: sending abort (06 B0) for %s", reference)
        if not self.transport.send(A.abort_request().encode(), within=self.timing.abort_grace):
            log.warning("card terminal: the abort for %s was not delivered", reference)
        return deadline

    @staticmethod
    def _wait_after(message: A.FromTerminal, timeout: float) -> float:
        """The next silence allowed: the status's own time-out byte when it gives one."""
        if isinstance(message, A.IntermediateStatus) and message.timeout:
            return float(message.timeout)
        return timeout

    def listen(self, timeout: float) -> None:
        """Outside a command: answer whatever the terminal sends, and pass it on."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                raw = self.transport.receive(max(0.0, deadline - time.monotonic()))
            except LinkLost:
                self.on_lost()
                continue
            if raw is None:
                return
            message = self._decode(raw)
            if isinstance(message, A.Ack | A.NegativeAck):
                continue  # a late answer to something nobody waits for now
            if isinstance(message, A.Unknown | A.Malformed):
                self._refuse(message)
                continue
            self.heard += 1
            self.reply(A.ack())
            self.on_unsolicited(message)

    def settle(self, quiet: float, limit: float) -> bool:
        """Wait until the terminal has said nothing for ``quiet`` seconds (True), or give up
        after ``limit`` (False): it is still master of a transaction, so no command now."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            before = self.heard
            self.listen(min(quiet, max(0.0, deadline - time.monotonic())))
            if self.heard == before:
                return True
        return False

    # ------------------------------------------------------------------ one message
    def _take(self, message: A.FromTerminal, talk: Talk, sale: SaleHooks | None) -> bool:
        """Handle one message inside a command; True when it was the terminal's last word."""
        if isinstance(message, A.Ack):
            if talk.accepted and talk.abort_sent:
                log.info("card terminal: the terminal took the abort")
            talk.accepted = True
            return False
        if isinstance(message, A.NegativeAck):
            if not talk.accepted:
                talk.refused = message.code
                log.info("card terminal: refused (84 %02X, %s)", message.code, message.reason)
                return True
            log.info("card terminal: the terminal refused the abort (%s)", message.reason)
            return False
        if isinstance(message, A.Unknown | A.Malformed):
            self._refuse(message)
            return False
        talk.accepted = True
        if isinstance(message, A.IntermediateStatus):
            if sale is not None:
                sale.on_progress(message.message)
        elif isinstance(message, A.StatusInfo):
            talk.infos.append(message.info)
            if sale is not None:
                sale.on_info(message.info)  # on disk before the terminal hears our 80 00
        elif isinstance(message, A.PrintLine | A.PrintTextBlock):
            talk.lines.extend(message.lines)
        elif isinstance(message, A.Completion):
            talk.completion = message
        elif isinstance(message, A.TerminalAbort):
            talk.abort_code = message.result_code
        self.reply(A.ack())
        return talk.completion is not None or talk.abort_code is not None

    @staticmethod
    def _decode(raw: bytes) -> A.FromTerminal:
        apdu = A.decode(raw)
        if apdu is None:
            control = (raw[0] << 8) | raw[1] if len(raw) >= 2 else 0
            return A.Malformed(control, "length mismatch")
        return A.from_terminal(apdu)

    def _refuse(self, message: A.Unknown | A.Malformed) -> None:
        if isinstance(message, A.Unknown):
            self.counts["unknown_apdus"] += 1
            log.warning(
                "card terminal: unknown message %04X (%d bytes); answered 84 83",
                message.control,
                message.length,
            )
            self.reply(A.nack(codes.FUNCTION_NOT_POSSIBLE))
            return
        self.counts["malformed_apdus"] += 1
        log.warning(
            "card terminal: malformed message %04X (%s); answered 84 9A",
            message.control,
            message.reason,
        )
        self.reply(A.nack(codes.PROTOCOL_ERROR))
