"""The card terminal port (:class:`kiosk.ports.CardTerminal`) over ZVT.

One worker thread owns the conversation with the terminal (:mod:`devices.zvt.session`);
the engine's calls never wait for it except :meth:`ZvtTerminal.status` and
:meth:`ZvtTerminal.reverse`, which recovery and the engine's in-doubt path call
synchronously (bounded by ``Timing.query_timeout``), and :meth:`ZvtTerminal.end_of_day`.

A sale: the reference and amount go into the :class:`~devices.zvt.ledger.SaleBook` first,
with the terminal's last trace number as it stood; then the Authorisation (06 01).
Intermediate statuses become :class:`~kiosk.ports.CardProgress`; the Status-Information's
receipt and trace numbers are written to the book before they are acknowledged.
Completion after a successful status is APPROVED; an abort is DECLINED or CANCELLED (0x6C:
stopped at the terminal, or by our Abort 06 B0); a terminal silent for longer than T4
(``Timing.t4``, restarted by each of its messages) is sent Abort (06 B0) and, if it still
says nothing, the sale is IN_DOUBT, as it is when the line is lost after the authorisation
went out. A sale still running at ``Timing.sale_limit`` (the terminal kept talking) is sent
Abort too and is IN_DOUBT (``sale_limit``) unless the terminal completes it. The engine
then asks
:meth:`~ZvtTerminal.status`, which asks the terminal (Status Enquiry 05 01, then Repeat
Receipt 06 20 for its last transaction) and decides with :mod:`devices.zvt.recovery`.

The worker registers (06 00) at open and again whenever the line comes back; between
commands it answers whatever the terminal sends, so a late answer to a sale we gave up on
is still recorded and reported (the engine reverses a late approval).

Everything logged or stored is free of card data: only the last four digits of the PAN
ever leave :mod:`devices.zvt.bmp`, and APDU payloads are never logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devices.health import CLOSED, DISCONNECTED
from devices.outlet import EventOutlet
from devices.serial_link import PortSettings
from devices.worker import Worker
from devices.zvt import apdu as A
from devices.zvt import codes, ledger, recovery
from devices.zvt.bmp import StatusInformation
from devices.zvt.ledger import SaleBook, SaleRecord
from devices.zvt.link import LinkTiming
from devices.zvt.session import SaleHooks, Session, Talk, Timing
from devices.zvt.transport import DEFAULT_TCP_PORT, ApduTransport, SerialTransport, TcpTransport
from kiosk.money import Money
from kiosk.ports import (
    CardBrandTotal,
    CardOutcome,
    CardProgress,
    CardResult,
    CardSettlement,
    DeviceFault,
    DeviceHealth,
    DeviceNotice,
    Emit,
    Health,
)

__all__ = ["BrandTotal", "EndOfDayResult", "Timing", "ZvtTerminal"]

log = logging.getLogger(__name__)

DEVICE = "card_terminal"
# the port's settlement types, under the names this driver grew up with
BrandTotal = CardBrandTotal
EndOfDayResult = CardSettlement


_OUTCOMES: dict[codes.Outcome, CardOutcome] = {
    codes.Outcome.APPROVED: CardOutcome.APPROVED,
    codes.Outcome.DECLINED: CardOutcome.DECLINED,
    codes.Outcome.CANCELLED: CardOutcome.CANCELLED,
}


def _outcome(code: int) -> CardOutcome:
    """The port's outcome for a ZVT result code."""
    return _OUTCOMES[codes.outcome_for(code)]


class _Sale:
    def __init__(self, reference: str, amount: Money) -> None:
        self.reference = reference
        self.amount = amount
        self.abort = threading.Event()
        self.finished = threading.Event()


class _Job:
    def __init__(self, name: str, run: Callable[[], object]) -> None:
        self.name = name
        self.run = run
        self.done = threading.Event()
        self.result: object = None
        self.cancelled = False


@dataclass(frozen=True)
class TerminalStatus:
    """The terminal's answer to Status Enquiry (05 01): whether it is ready, what it runs.

    ``status`` is its terminal-status byte (00 ready, else a result code saying why not);
    ``reason`` says why there is no answer, or what the status byte means.
    """

    answered: bool
    ready: bool = False
    software: str = ""
    status: int | None = None
    terminal_id: str = ""
    reason: str = ""


class ZvtTerminal:
    """A ZVT payment terminal behind ``transport`` (serial or TCP).

    ``state_path`` is the sale record (see :mod:`devices.zvt.ledger`); keep it on the same
    durable disk as the journal. ``password`` is the terminal's six-digit ZVT password.
    ``currency`` (ISO 4217 number) is sent only when given: by default the terminal uses
    the currency it is configured for (and the service byte, which needs a currency in the
    registration, is sent only with it). ``learn_trace`` lets the driver ask the terminal
    for its last transaction (Repeat Receipt) before a sale when it does not know the last
    trace number, so a lost answer can be settled. ``open()`` starts the transport and the
    worker, which registers; ``wait_ready()`` waits for the registration.
    """

    def __init__(
        self,
        transport: ApduTransport,
        *,
        state_path: Path,
        password: str = "000000",
        config_byte: int = A.DEFAULT_CONFIG,
        currency: int | None = None,
        service_byte: int | None = 0x01,
        timing: Timing | None = None,
        learn_trace: bool = True,
    ) -> None:
        A.registration(password, config_byte)  # a bad password fails here, not at the kiosk
        self.transport = transport
        self.book = SaleBook(state_path)
        self.password = password
        self.config_byte = config_byte
        self.currency = currency
        self.service_byte = service_byte
        self.timing = timing or Timing()
        self.learn_trace = learn_trace
        self.session = Session(
            transport,
            self.timing,
            running=self._running_now,
            on_lost=self._on_lost,
            on_unsolicited=self._unsolicited,
        )
        self.terminal_id = ""
        self._lock = threading.Lock()
        self._outlet = EventOutlet(DEVICE)
        self._jobs: deque[_Job] = deque()
        self._worker: Worker | None = None
        self._ready = threading.Event()
        self._opened_at = 0.0
        self._sale: _Sale | None = None
        self._registered = False
        self._fault = ""
        self._was_lost = False
        self._next_register = 0.0
        self._late_infos: list[StatusInformation] = []
        self._late_lines: list[str] = []
        self._counts: dict[str, int] = dict.fromkeys(
            (
                "sales",
                "approved",
                "declined",
                "cancelled",
                "in_doubt",
                "late_answers",
                "registrations",
                "status_queries",
                "reversals",
                "end_of_days",
                "disconnects",
            ),
            0,
        )

    @classmethod
    def serial(
        cls,
        port: str,
        *,
        state_path: Path,
        settings: PortSettings | None = None,
        link_timing: LinkTiming | None = None,
        reconnect_interval: float = 0.25,
        **options: Any,
    ) -> ZvtTerminal:
        """A terminal on a serial port (9600 8N2 unless ``settings`` say otherwise)."""
        transport = SerialTransport(
            port, settings=settings, timing=link_timing, reconnect_interval=reconnect_interval
        )
        return cls(transport, state_path=state_path, **options)

    @classmethod
    def tcp(
        cls,
        host: str,
        port: int = DEFAULT_TCP_PORT,
        *,
        state_path: Path,
        reconnect_interval: float = 1.0,
        **options: Any,
    ) -> ZvtTerminal:
        """A terminal on the LAN (ZVT over TCP, no DLE framing)."""
        transport = TcpTransport(host, port, reconnect_interval=reconnect_interval)
        return cls(transport, state_path=state_path, **options)

    @classmethod
    def at(cls, where: str, *, state_path: Path, **options: Any) -> ZvtTerminal:
        """A terminal where a config value puts it: ``tcp://HOST[:PORT]`` or a serial path."""
        if where.startswith("tcp://"):
            host, _, port = where.removeprefix("tcp://").partition(":")
            return cls.tcp(host, int(port or DEFAULT_TCP_PORT), state_path=state_path, **options)
        return cls.serial(where, state_path=state_path, **options)

    # ------------------------------------------------------------------ life cycle
    def open(self) -> None:
        if self._worker is not None:
            return
        self._opened_at = time.monotonic()
        self.transport.start()
        self._worker = Worker(f"{DEVICE}-zvt", self._step, finish=self._release_jobs)
        self._worker.start()

    def close(self) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        worker.stop(5.0)
        self.transport.stop()
        self._ready.clear()

    def wait_ready(self, timeout: float) -> bool:
        """True once the terminal has accepted our registration (since ``open``)."""
        return self._ready.wait(timeout)

    # ------------------------------------------------------------------ the port
    def attach(self, emit: Emit) -> None:
        self._outlet.attach(emit)

    def start_sale(self, amount: Money, reference: str) -> None:
        sale = _Sale(reference, amount)
        with self._lock:
            self._sale = sale
        if self._worker is None:
            self.book.begin(reference, amount.cents)
            self.book.update(reference, state=ledger.NOT_SENT, reason="terminal_closed")
            self._send_event(CardResult(reference, CardOutcome.DECLINED, reason="terminal_closed"))
            return
        self._submit(_Job("sale", lambda: self._run_sale(sale)))

    def abort(self) -> None:
        with self._lock:
            sale = self._sale
        if sale is None or sale.finished.is_set():
            log.debug("card terminal: abort with no sale running; ignored")
            return
        log.info("card terminal: abort requested for %s", sale.reference)
        sale.abort.set()
        self._wake()

    def reverse(self, reference: str) -> bool:
        record = self.book.get(reference)
        if record is not None and record.state == ledger.REVERSED:
            return True
        return self._query("reverse", lambda: self._reverse(reference)) is True

    def status(self, reference: str) -> CardResult:
        record = self.book.get(reference)
        if record is None:
            return CardResult(reference, CardOutcome.DECLINED, reason="unknown_reference")
        if record.state in ledger.FINAL:
            return recovery.from_record(record)
        result = self._query("status", lambda: self._resolve(reference))
        return result if isinstance(result, CardResult) else recovery.from_record(record)

    def health(self) -> DeviceHealth:
        if self._worker is None:
            return CLOSED
        if not self.transport.connected:
            return DISCONNECTED
        with self._lock:
            fault, registered = self._fault, self._registered
        if fault:
            return DeviceHealth(Health.FAULT, fault)
        if not registered:
            return DeviceHealth(Health.DEGRADED, "registering")
        return DeviceHealth()

    # ------------------------------------------------------------------ beyond the port
    def end_of_day(self, timeout: float | None = None) -> EndOfDayResult:
        """Close the terminal's batch (06 50) and return its totals. Blocks the caller."""
        wait = timeout if timeout is not None else self.timing.end_of_day_timeout + 10.0
        result = self._query("end_of_day", self._end_of_day, wait)
        if isinstance(result, EndOfDayResult):
            return result
        return EndOfDayResult(ok=False, reason="no_answer")

    def enquire_status(self, timeout: float | None = None) -> TerminalStatus:
        """Ask whether the terminal is ready (Status Enquiry 05 01). Blocks the caller.

        Read-only at the terminal, never a payment: what ``kiosk devices test
        card_terminal`` asks. Runs on the worker between sales like every other command.
        """
        result = self._query("status_enquiry", self._enquire_status, timeout)
        if isinstance(result, TerminalStatus):
            return result
        return TerminalStatus(answered=False, reason="no_answer")

    def diagnose(self) -> tuple[bool, str]:
        """Service mode's terminal check: the Status Enquiry, said in a line (never a sale)."""
        status = self.enquire_status()
        if not status.answered:
            return False, status.reason or "no answer"
        said = [status.reason or ("ready" if status.ready else "not ready")]
        said += [f"terminal {status.terminal_id}"] if status.terminal_id else []
        said += [f"software {status.software}"] if status.software else []
        return status.ready, ", ".join(said)

    def counters(self) -> dict[str, int]:
        with self._lock:
            counts = dict(self._counts)
        return {**counts, **self.session.counts, **self.transport.counters()}

    # ------------------------------------------------------------------ the worker
    def _running_now(self) -> bool:
        worker = self._worker
        return worker is not None and worker.running

    def _wake(self) -> None:
        worker = self._worker
        if worker is not None:
            worker.wake()

    def _submit(self, job: _Job) -> _Job:
        with self._lock:
            self._jobs.append(job)
        self._wake()
        return job

    def _query(self, name: str, run: Callable[[], object], wait: float | None = None) -> object:
        if self._worker is None:
            return None
        job = self._submit(_Job(name, run))
        if not job.done.wait(self.timing.query_timeout if wait is None else wait):
            job.cancelled = True
            log.warning("card terminal: %s did not finish in time; the terminal is busy", name)
            return None
        return job.result

    def _step(self) -> None:
        """Keep registered, then run the next job, or listen to the terminal for a while."""
        job: _Job | None = None
        try:
            self._keep_registered()
            self._outlet.health_now(self.health())  # registered again after a fault: recovered
            with self._lock:
                job = self._jobs.popleft() if self._jobs else None
            if job is None:
                self.session.listen(self.timing.poll)
            elif not job.cancelled:
                job.result = job.run()
        finally:
            if job is not None:
                job.done.set()

    def _release_jobs(self) -> None:
        """The worker is ending: whoever waits on a job it will not run is let go."""
        with self._lock:
            jobs, self._jobs = list(self._jobs), deque()
        for job in jobs:
            job.done.set()

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def _send_event(self, event: object) -> None:
        self._outlet.send(event)

    # ------------------------------------------------------------------ registration
    def _keep_registered(self) -> None:
        if not self.transport.connected:
            if time.monotonic() - self._opened_at > self.timing.command_ack:
                self._on_lost()  # never there since open, or gone: a fault either way
            return
        if not self._registered and time.monotonic() >= self._next_register:
            self._register()

    def _register(self) -> bool:
        self._next_register = time.monotonic() + self.timing.register_retry
        command = A.registration(self.password, self.config_byte, self.currency, self.service_byte)
        talk = self.session.converse(command, self.timing.command_timeout)
        self._count("registrations")
        if talk.completion is not None:
            with self._lock:
                self._registered, self._fault = True, ""
                recovered, self._was_lost = self._was_lost, False
            self.terminal_id = talk.completion.terminal_id
            log.info("card terminal: registered (terminal id %s)", self.terminal_id or "?")
            if recovered:
                self._send_event(DeviceNotice(DEVICE, "reconnected"))
            self._ready.set()
            return True
        if talk.lost:
            return False
        code = talk.refused if talk.refused is not None else talk.abort_code
        reason = "not_responding"
        if code is not None:
            reason = f"registration_refused:{codes.result_reason(code)}"
        with self._lock:
            changed, self._fault = self._fault != reason, reason
        if changed:
            log.warning("card terminal: registration failed (%s)", reason)
            self._send_event(DeviceFault(DEVICE, reason))
        return False

    def _on_lost(self) -> None:
        with self._lock:
            self._registered, self._fault = False, ""
            first, self._was_lost = not self._was_lost, True
        self._next_register = 0.0
        if first:
            self._count("disconnects")
            self._send_event(DeviceFault(DEVICE, "disconnected"))

    # ------------------------------------------------------------------ a sale
    def _run_sale(self, sale: _Sale) -> None:
        try:
            result = self._sale_exchange(sale)
        finally:
            sale.finished.set()
        self._count(result.outcome.value)
        log.info(
            "card terminal: sale %s %s%s",
            sale.reference,
            result.outcome.value,
            f" ({result.reason})" if result.reason else "",
        )
        self._send_event(result)

    def _sale_exchange(self, sale: _Sale) -> CardResult:
        reference, cents = sale.reference, sale.amount.cents
        self._count("sales")
        refusal = self._why_not_send(sale)
        self.book.begin(reference, cents)  # journal before you act
        if refusal:
            outcome = CardOutcome.CANCELLED if refusal == "kiosk" else CardOutcome.DECLINED
            self.book.update(reference, state=ledger.NOT_SENT, reason=refusal)
            return CardResult(reference, outcome, amount=sale.amount, reason=refusal)
        hooks = SaleHooks(
            reference,
            sale.abort,
            on_progress=lambda message: self._send_event(CardProgress(reference, message)),
            on_info=lambda info: self._note_sale_info(reference, info),
        )
        command = A.authorisation(cents, self.currency)
        talk = self.session.converse(command, self.timing.t4, hooks, self.timing.sale_limit)
        return self._settle_sale(sale, talk)

    def _why_not_send(self, sale: _Sale) -> str:
        """The reason the authorisation must not go out at all, or ""."""
        self.session.listen(0.0)
        if sale.abort.is_set():
            return "kiosk"
        if not self.transport.connected:
            return "terminal_unavailable"
        if not self._registered and not self._register():
            return "terminal_not_registered"
        if self.learn_trace and not self.book.last_trace()[1]:
            self._learn_last_trace()
        return "kiosk" if sale.abort.is_set() else ""

    def _note_sale_info(self, reference: str, info: StatusInformation) -> None:
        """Journal after observe: the receipt and trace are on disk before we acknowledge."""
        self.book.update(
            reference,
            trace=info.trace,
            receipt=info.receipt,
            auth_code=info.auth_code,
            brand=info.brand,
            last4=info.pan_last4,
        )

    def _settle_sale(self, sale: _Sale, talk: Talk) -> CardResult:
        info = talk.info
        if talk.refused is not None:  # 84 xx: the terminal never started the sale
            outcome = _outcome(talk.refused)
            if outcome is CardOutcome.APPROVED:  # pragma: no cover - 84 00 is an Ack
                outcome = CardOutcome.DECLINED
            # 84 9C ("please wait") included: the terminal did not start the sale, and
            # waiting for an answer it never promised would hold the resident for nothing
            return self._final(sale, outcome, codes.result_reason(talk.refused), None)
        if talk.over_limit and not (talk.completion is not None and info is not None):
            # the terminal kept the sale going past any sane time; whatever it said to the
            # abort, only the status query (its journal) can say what became of it
            return self._in_doubt(sale, "sale_limit")
        if talk.completion is not None:
            if info is not None and info.result_code not in (None, codes.SUCCESS):
                code = info.result_code or 0
                return self._final(sale, _outcome(code), codes.result_reason(code), info)
            return self._final(sale, CardOutcome.APPROVED, "", info, talk.lines)
        if talk.abort_code is not None:
            code = talk.abort_code
            if (info is not None and info.result_code == codes.SUCCESS) or code == codes.SUCCESS:
                return self._in_doubt(sale, "aborted_after_approval")
            outcome = _outcome(code)
            if outcome is CardOutcome.CANCELLED:
                by = "timeout" if talk.gave_up else "kiosk" if talk.abort_sent else "cardholder"
                return self._final(sale, outcome, by, info)
            return self._final(sale, outcome, codes.result_reason(code), info)
        if not talk.delivered:
            return self._in_doubt(sale, "not_acknowledged")
        return self._in_doubt(sale, "link_lost" if talk.lost else "no_answer")

    def _final(
        self,
        sale: _Sale,
        outcome: CardOutcome,
        reason: str,
        info: StatusInformation | None,
        lines: list[str] | None = None,
    ) -> CardResult:
        state = {
            CardOutcome.APPROVED: ledger.APPROVED,
            CardOutcome.DECLINED: ledger.DECLINED,
            CardOutcome.CANCELLED: ledger.CANCELLED,
        }[outcome]
        if info is not None and info.trace is not None:
            self.book.set_last_trace(info.trace, True)
        record = self.book.update(sale.reference, state=state, reason=reason)
        if outcome is not CardOutcome.APPROVED or record is None:
            return CardResult(sale.reference, outcome, amount=sale.amount, reason=reason)
        return recovery.approval(record, info, tuple(lines or ()))

    def _in_doubt(self, sale: _Sale, reason: str) -> CardResult:
        self.book.update(sale.reference, state=ledger.IN_DOUBT, reason=reason)
        trace, _ = self.book.last_trace()
        self.book.set_last_trace(trace, False)  # the terminal may have used a trace we missed
        self._late_infos.clear()
        self._late_lines.clear()
        return CardResult(sale.reference, CardOutcome.IN_DOUBT, amount=sale.amount, reason=reason)

    # ------------------------------------------------------------------ unsolicited
    def _unsolicited(self, message: A.FromTerminal) -> None:
        """What the terminal says between our commands (already acknowledged)."""
        if isinstance(message, A.StatusInfo):
            self._late_infos.append(message.info)
        elif isinstance(message, A.PrintLine | A.PrintTextBlock):
            self._late_lines.extend(message.lines)
        elif isinstance(message, A.Completion | A.TerminalAbort):
            self._late_answer(message)

    def _late_answer(self, last: A.Completion | A.TerminalAbort) -> None:
        """The terminal finished a sale we had given up on: record it, and tell the engine."""
        infos, lines = self._late_infos, self._late_lines
        self._late_infos, self._late_lines = [], []
        record = self.book.latest_open()
        info = next((i for i in reversed(infos) if not i.is_reversal and i.totals is None), None)
        if record is None or info is None or info.amount_cents != record.amount_cents:
            return
        self._count("late_answers")
        if info.trace is not None:
            self.book.set_last_trace(info.trace, True)
        if isinstance(last, A.Completion) and info.result_code == codes.SUCCESS:
            approved = self._record_approval(record.reference, info, "late")
            log.warning("card terminal: late approval for %s", record.reference)
            self._send_event(recovery.approval(approved, info, tuple(lines)))
            return
        code = info.result_code or (last.result_code if isinstance(last, A.TerminalAbort) else 0xFF)
        reason = codes.result_reason(code)
        self.book.update(record.reference, state=ledger.DECLINED, reason=reason)
        self._send_event(CardResult(record.reference, _outcome(code), reason=reason))

    def _record_approval(self, reference: str, info: StatusInformation, why: str) -> SaleRecord:
        record = self.book.update(
            reference,
            state=ledger.APPROVED,
            reason=why,
            trace=info.trace,
            receipt=info.receipt,
            auth_code=info.auth_code,
            brand=info.brand,
            last4=info.pan_last4,
        )
        assert record is not None
        return record

    # ------------------------------------------------------------------ what became of it
    def _learn_last_trace(self) -> None:
        """Ask for the last stored transaction (Repeat Receipt 06 20) to know its trace.

        A refusal with "function not possible" from a terminal this book has never seen a
        trace of means its journal is empty: that is known too (``(None, True)``), so the
        first sale can still be recovered (:func:`devices.zvt.recovery.empty_before`).
        """
        talk = self.session.converse(A.repeat_receipt(self.password), self.timing.command_timeout)
        info = talk.last_info(lambda i: i.trace is not None)
        if talk.completion is not None and info is not None and info.totals is None:
            self.book.set_last_trace(info.trace, True)
        elif talk.refused == codes.FUNCTION_NOT_POSSIBLE and not self.book.ever_traced():
            log.info("card terminal: no transaction stored yet (an empty journal)")
            self.book.set_last_trace(None, True)

    def _resolve(self, reference: str) -> CardResult:
        self._count("status_queries")
        record = self.book.get(reference)
        if record is None:
            return CardResult(reference, CardOutcome.DECLINED, reason="unknown_reference")
        if record.state in ledger.FINAL:
            return recovery.from_record(record)
        doubt = recovery.from_record(record)
        if not self.transport.connected or (not self._registered and not self._register()):
            return doubt
        if not self.session.settle(self.timing.quiet, self.timing.quiet + self.timing.abort_grace):
            log.info("card terminal: the terminal is still busy; %s stays in doubt", reference)
            return doubt
        timeout = self.timing.command_timeout
        enquiry = self.session.converse(A.status_enquiry(self.password), timeout)
        if enquiry.completion is None or enquiry.completion.terminal_status not in (None, 0):
            log.info("card terminal: the terminal is not ready; %s stays in doubt", reference)
            return doubt
        talk = self.session.converse(A.repeat_receipt(self.password), timeout)
        info = talk.last_info(lambda i: i.trace is not None)
        if recovery.empty_before(record) and talk.refused == codes.FUNCTION_NOT_POSSIBLE:
            log.info("card terminal: the journal is still empty; %s never happened", reference)
            self.book.update(reference, state=ledger.DECLINED, reason="not_processed")
            return CardResult(reference, CardOutcome.DECLINED, reason="not_processed")
        if talk.completion is None or info is None:
            return doubt
        owner = self.book.owner_of_trace(info.trace) if info.trace is not None else None
        verdict = recovery.match(record, info, owner)
        if verdict is None:
            log.warning("card terminal: the last transaction does not settle %s", reference)
            return doubt
        if info.totals is None:
            self.book.set_last_trace(info.trace, True)
        if verdict is recovery.Verdict.NOT_PROCESSED:
            self.book.update(reference, state=ledger.DECLINED, reason="not_processed")
            return CardResult(reference, CardOutcome.DECLINED, reason="not_processed")
        code = info.result_code if info.result_code is not None else 0xFF
        if code != codes.SUCCESS:
            reason = codes.result_reason(code)
            state = ledger.CANCELLED if code == codes.ABORTED else ledger.DECLINED
            self.book.update(reference, state=state, reason=reason, trace=info.trace)
            return CardResult(reference, _outcome(code), reason=reason)
        approved = self._record_approval(reference, info, "recovered")
        log.info("card terminal: %s recovered as approved (receipt %s)", reference, info.receipt)
        return recovery.approval(approved, info, tuple(talk.lines))

    # ------------------------------------------------------------------ reversal
    def _reverse(self, reference: str) -> bool:
        record = self.book.get(reference)
        if record is None:
            log.warning("card terminal: reversal of %s: no record of that sale", reference)
            return False
        if record.state == ledger.REVERSED:
            return True
        if record.state in (ledger.NOT_SENT, ledger.DECLINED, ledger.CANCELLED):
            log.info("card terminal: %s took no money; nothing to reverse", reference)
            return True
        if record.state != ledger.APPROVED:
            verdict = self._resolve(reference)
            if verdict.outcome in (CardOutcome.DECLINED, CardOutcome.CANCELLED):
                return True
            record = self.book.get(reference) or record
        if record.receipt is None:
            log.warning("card terminal: %s has no receipt number to reverse by", reference)
            return False
        self._count("reversals")
        command = A.reversal(self.password, record.receipt)
        talk = self.session.converse(command, self.timing.command_timeout)
        info = talk.info
        if info is not None and info.trace is not None:
            self.book.set_last_trace(info.trace, True)
        done = talk.completion is not None and (info is None or info.result_code in (None, 0))
        if done or talk.abort_code == codes.ALREADY_REVERSED:
            self.book.update(reference, state=ledger.REVERSED, reason="reversed")
            log.info("card terminal: %s reversed (receipt %s)", reference, record.receipt)
            return True
        why = talk.abort_code if talk.abort_code is not None else talk.refused
        log.warning(
            "card terminal: reversal of %s failed (%s)",
            reference,
            codes.result_reason(why) if why is not None else "no answer",
        )
        return False

    # ------------------------------------------------------------------ status enquiry
    def _enquire_status(self) -> TerminalStatus:
        if not self.transport.connected:
            return TerminalStatus(answered=False, reason="disconnected")
        enquiry = A.status_enquiry(self.password)
        talk = self.session.converse(enquiry, self.timing.command_timeout)
        done = talk.completion
        if done is None:
            code = talk.refused if talk.refused is not None else talk.abort_code
            reason = codes.result_reason(code) if code is not None else "no_answer"
            return TerminalStatus(answered=False, reason=reason)
        status = done.terminal_status
        ready = status in (None, codes.SUCCESS)
        return TerminalStatus(
            answered=True,
            ready=ready,
            software=done.sw_version,
            status=status,
            terminal_id=done.terminal_id or self.terminal_id,
            reason="" if ready or status is None else codes.result_reason(status),
        )

    # ------------------------------------------------------------------ end of day
    def _end_of_day(self) -> EndOfDayResult:
        self._count("end_of_days")
        talk = self.session.converse(A.end_of_day(self.password), self.timing.end_of_day_timeout)
        info = talk.last_info(lambda i: i.amount_cents is not None)
        if info is not None and info.trace is not None:
            self.book.set_last_trace(info.trace, True)
        lines = tuple(talk.lines)
        if talk.completion is None:
            code = talk.abort_code if talk.abort_code is not None else talk.refused
            reason = codes.result_reason(code) if code is not None else "no_answer"
            return EndOfDayResult(ok=False, receipt_lines=lines, reason=reason)
        if info is None:
            return EndOfDayResult(ok=True, receipt_lines=lines, reason="no_totals")
        by_brand: tuple[BrandTotal, ...] = ()
        count: int | None = None
        if info.totals is not None:
            groups = [g for g in info.totals.groups if g.count or g.amount_cents]
            by_brand = tuple(BrandTotal(g.brand, g.count, Money(g.amount_cents)) for g in groups)
            count = sum(g.count for g in info.totals.groups)
        return EndOfDayResult(
            ok=True,
            total=Money(info.amount_cents or 0),
            count=count,
            by_brand=by_brand,
            trace=info.trace,
            receipt_lines=lines,
        )
