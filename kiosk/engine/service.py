"""Service mode: a technician at the touchscreen, between residents.

Entry is hidden (a long press in a corner of the idle or out-of-service screen, or a
technician's badge scanned there) and guarded by a PIN checked against argon2 hashes off the
engine thread. Too many wrong PINs lock entry for a while, and the lock outlives a restart
(:mod:`kiosk.technicians`). While a technician is in, the kiosk takes no payment; every page
leaves by itself after the configured time without a touch. Everything a technician does is
a ``service.*`` journal entry with their name, so the hub (and finance) see who did what.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from contract import entries as E
from contract import payloads
from kiosk.completion import receipt_content, test_page
from kiosk.device_calls import CallDone
from kiosk.engine import inputs as ui
from kiosk.engine.base import EngineBase
from kiosk.engine.service_events import PinChecked
from kiosk.engine.session import replay_session
from kiosk.engine.snapshot import DeviceView, TestResult, UnprintedReceipt
from kiosk.engine.states import IN_SERVICE_MODE
from kiosk.money import Money
from kiosk.ports import (
    BillEscrowed,
    CardTerminal,
    ReceiptDone,
    Scanned,
)
from kiosk.technicians import PinLock, badge_owner, lock_from_journal, match_pin

log = logging.getLogger(__name__)

SERVICE = "service"
"""The lane of the service mode's slow calls (the PIN check), beside the devices' own."""
#: how far back the journal is read at start-up for the PIN lock
LOCK_LOOKBACK = 2_000
#: receipts the paper page offers to print again, newest first
UNPRINTED_SHOWN = 10
TEST_PREFIX = "TEST-"


@dataclass(frozen=True, eq=False)
class PinCall:
    """Purpose of the PIN check call."""


@dataclass(frozen=True, eq=False)
class DiagnosisCall:
    """Purpose of the card terminal check on the tests page."""


class ServiceMode(EngineBase):
    _technician: str
    _via: str
    _badge: str
    _pin_lock: PinLock
    _pin_checking: bool
    _service_message: str
    _tests: dict[str, TestResult]
    _test_print: str
    _unprinted: tuple[UnprintedReceipt, ...]
    _reprints: dict[str, str]  # confirmation -> printing | printed | failed, this visit
    _last_faults: dict[str, str]

    def _init_service(self) -> None:
        self._technician = self._via = self._badge = ""
        self._pin_checking = False
        self._service_message = ""
        self._tests = {}
        self._test_print = ""
        self._unprinted = ()
        self._reprints = {}
        self._last_faults = {}
        after = max(0, self.journal.last_seq() - LOCK_LOOKBACK)
        self._pin_lock = lock_from_journal(self.journal.entries(after_seq=after))

    def in_service_mode(self) -> bool:
        return self.state in IN_SERVICE_MODE

    # ------------------------------------------------------------------ guards
    def _badge_scanned(self, event: Scanned) -> bool:
        return badge_owner(self.config.service.technicians, event.code) is not None

    def _pin_entry_open(self, _event: object) -> bool:
        return not self._pin_checking and not self._pin_lock.locked(self.clock.now())

    def _pin_matched(self, event: PinChecked) -> bool:
        return event.technician is not None

    def _held_out_of_service(self, _event: object) -> bool:
        return bool(self._out_of_service_reason)

    # ------------------------------------------------------------------ the PIN
    def _open_pin_pad(self, event: object) -> None:
        self._badge = event.code.strip() if isinstance(event, Scanned) else ""
        self._via = "badge" if self._badge else "pin"
        self._service_message = "locked" if self._pin_lock.locked(self.clock.now()) else ""
        self.ports.acceptor.disable()

    def _close_pin_pad(self, _event: object) -> None:
        self._badge = self._via = self._service_message = ""

    def _check_pin(self, event: ui.EnterPin) -> None:
        self._pin_checking = True
        self._service_message = "checking"
        technicians, pin, badge = list(self.config.service.technicians), event.pin, self._badge
        self._ask(SERVICE, "check_pin", lambda: match_pin(technicians, pin, badge), PinCall())

    def _explain_locked(self, _event: object) -> None:
        if self._pin_lock.locked(self.clock.now()):
            self._service_message = "locked"

    def _refuse_pin(self, _event: PinChecked) -> None:
        now = self.clock.now()
        attempt = self._pin_lock.failures + 1
        self._record(payloads.ServicePinFailed(attempt=attempt, badge=self._badge))
        if self._pin_lock.fail(now, self.config.service.max_pin_attempts, self._lockout()):
            assert self._pin_lock.locked_until is not None
            self._record(
                payloads.ServiceLocked(
                    until=self._pin_lock.locked_until.isoformat(), attempts=attempt
                )
            )
            self._service_message = "locked"
        else:
            self._service_message = "wrong_pin"

    def _lockout(self) -> int:
        return self.config.service.lockout_minutes

    def _enter_service(self, event: PinChecked) -> None:
        assert event.technician is not None
        self._pin_lock.succeed()
        self._technician = event.technician
        self._service_message = ""
        self._tests = {}
        self._record(payloads.ServiceEntered(technician=self._technician, via=self._via))  # type: ignore[arg-type]

    def _service_answer(self, done: CallDone) -> object | None:
        """The answers of the service mode's slow calls, as events for the table."""
        if isinstance(done.call.purpose, PinCall):
            self._pin_checking = False
            name = done.value if done.error is None and isinstance(done.value, str) else None
            return PinChecked(name)
        if isinstance(done.call.purpose, DiagnosisCall):
            self._diagnosed(done)
        return None

    # ------------------------------------------------------------------ leaving
    def _leave_service(self, _event: object) -> None:
        self._leave("done")

    def _leave_service_timed_out(self, _event: object) -> None:
        self._leave("timed_out")

    def _leave(self, reason: str) -> None:
        self.ports.acceptor.disable()
        if self._technician:
            self._record(payloads.ServiceLeft(technician=self._technician, reason=reason))  # type: ignore[arg-type]
        self._technician = self._via = self._badge = self._service_message = ""
        self._tests = {}
        self._unprinted = ()
        self._reprints = {}
        self._end_collection_view()

    def _end_collection_view(self) -> None:
        """Provided by :class:`~kiosk.engine.collection.Collections`."""

    def _back_to_menu(self, _event: object) -> None:
        self.ports.acceptor.disable()  # the bill test's enable ends with the tests page
        self._service_message = ""

    def _action(self, action: str, detail: str = "") -> None:
        self._record(
            payloads.ServiceAction(technician=self._technician, action=action, detail=detail)
        )

    # ------------------------------------------------------------------ the menu
    def _show_device_status(self, _event: object) -> None:
        self._action("device_status")

    def _take_out_of_service(self, event: ui.SetOutOfService) -> None:
        reason = event.reason.strip() or "taken out of service by a technician"
        self._out_of_service_reason = reason
        self._record(payloads.OutOfService(reason=reason))
        self._action("out_of_service", reason)

    def _put_back_in_service(self, _event: object) -> None:
        if not self._out_of_service_reason:
            return
        self._out_of_service_reason = ""
        self._record(payloads.InService())
        self._action("in_service")

    def _push_now(self, _event: object) -> None:
        status = self.ports.link.status()
        self._action("push_now", f"{status.waiting} entries waiting")
        self.ports.link.push_now()

    # ------------------------------------------------------------------ tests
    def _start_tests(self, _event: object) -> None:
        self._tests = {}

    def _run_test(self, event: ui.RunTest) -> None:
        test = event.test
        if test == "print":
            self._test_printer()
        elif test == "bill":
            self.ports.acceptor.enable(self._accepted_bills())
            self._tests["bill"] = TestResult("bill", "waiting")
            self._action("test_bill", "waiting for a bill")
        elif test == "scanner":
            self._tests["scanner"] = TestResult("scanner", "waiting")
            self._action("test_scanner", "waiting for a scan")
        elif test == "terminal":
            self._tests["terminal"] = TestResult("terminal", "running")
            self._action("test_terminal")
            terminal = self.ports.terminal
            self._ask("card_terminal", "diagnose", lambda: _diagnose(terminal), DiagnosisCall())

    def _test_printer(self) -> None:
        confirmation = f"{TEST_PREFIX}{self.journal.last_seq() + 1}"
        self._test_print = confirmation
        self._tests["print"] = TestResult("print", "running", confirmation)
        self._action("test_print", confirmation)
        health = self.ports.printer.health()
        if not health.usable:
            self.submit(ReceiptDone(confirmation, printed=False, reason=health.reason))
            return
        page = test_page(self.config, confirmation, self.clock.now(), self.language)
        self.ports.printer.print_receipt(page)

    def _observe_test_print(self, event: ReceiptDone) -> bool:
        """True when ``event`` answers the test page (it is no receipt of anyone's)."""
        if not self._test_print or event.confirmation != self._test_print:
            return False
        self._test_print = ""
        status = "passed" if event.printed else "failed"
        self._tests["print"] = TestResult("print", status, event.reason)
        self._action("test_print_result", "printed" if event.printed else event.reason)
        return True

    def _note_test_bill(self, event: BillEscrowed) -> None:
        """The bill is on its way back (nothing is credited outside a payment)."""
        self._tests["bill"] = TestResult("bill", "passed", str(event.denomination.cents))
        self._action("test_bill_result", f"read {event.denomination}, returned")

    def _show_scanned(self, event: Scanned) -> None:
        code = event.code.strip()
        self._tests["scanner"] = TestResult("scanner", "passed", code)
        self._action("test_scanner_result", f"read {len(code)} characters")

    def _diagnosed(self, done: CallDone) -> None:
        if done.error is not None:
            result = TestResult("terminal", "failed", str(done.error))
        else:
            ok, detail = done.value if isinstance(done.value, tuple) else (False, "")
            result = TestResult("terminal", "passed" if ok else "failed", str(detail))
        self._tests["terminal"] = result
        self._action("test_terminal_result", f"{result.status}: {result.detail}"[:500])

    # ------------------------------------------------------------------ paper replaced
    def _list_unprinted(self, _event: object) -> None:
        self._action("paper_replaced")
        self._unprinted = tuple(self._receipts_not_printed())
        self._reprints = {}

    def _receipts_not_printed(self) -> list[UnprintedReceipt]:
        """Payments whose last print ended in failure, newest first (of the open batch and
        the one before it)."""
        failed: dict[str, bool] = {}
        paid: dict[str, UnprintedReceipt] = {}
        zone = self.config.locale.zone()
        for entry in self._recent_entries():
            p = entry.payload
            if entry.type == E.PAYMENT_COMPLETED:
                paid[str(p["confirmation"])] = UnprintedReceipt(
                    str(p["confirmation"]),
                    datetime.fromisoformat(str(p["paid_at"])).astimezone(zone),
                    Money(int(p["amount_cents"])) + Money(int(p["fee_cents"])),
                )
            elif entry.type == E.RECEIPT_FAILED:
                failed[str(p["confirmation"])] = True
            elif entry.type == E.RECEIPT_PRINTED:
                failed[str(p["confirmation"])] = False
        unprinted = [paid[c] for c, yes in failed.items() if yes and c in paid]
        unprinted.sort(key=lambda r: r.paid_at_local, reverse=True)
        return unprinted[:UNPRINTED_SHOWN]

    def _recent_entries(self) -> Iterable[E.EntryLike]:
        """The open batch and the one collected before it: where the paper page looks for
        receipts to print again (paper is changed within days of running out), read
        without the years of journal before them."""
        closes = self.journal.of_types(E.BATCH_CLOSED)
        since = closes[-2].seq if len(closes) >= 2 else 0
        entries: Iterable[E.EntryLike] = self.journal.entries(after_seq=since)
        return entries

    def _reprint_receipts(self, event: ui.Reprint) -> None:
        offered = {r.confirmation for r in self._unprinted}
        for confirmation in event.confirmations:
            if confirmation not in offered:
                continue
            self._action("reprint", confirmation)
            self._reprint(confirmation)

    def _reprint(self, confirmation: str) -> None:
        found = self._payment_entry(confirmation)
        if found is None:
            return
        payment, session_id = found
        session = replay_session(self._recent_entries(), session_id)
        if session is None:
            return
        content = receipt_content(session, payment, self.config, offline=False)
        intent = self._record(
            payloads.ReceiptPrintRequested(session_id=session_id, confirmation=confirmation)
        )
        self._receipt_intents[confirmation] = (intent.seq, session_id)
        self._reprints[confirmation] = "printing"
        health = self.ports.printer.health()
        if not health.usable:
            self.submit(ReceiptDone(confirmation, printed=False, reason=health.reason))
            return
        self.ports.printer.print_receipt(content)

    def _observe_reprint(self, event: ReceiptDone) -> None:
        """A receipt asked for again on the paper page came out, or did not: the page says
        which, receipt by receipt (the journal has it either way)."""
        if event.confirmation in self._reprints:
            self._reprints[event.confirmation] = "printed" if event.printed else "failed"

    def _unprinted_view(self) -> tuple[UnprintedReceipt, ...]:
        return tuple(
            replace(r, print_state=self._reprints.get(r.confirmation, "")) for r in self._unprinted
        )

    def _payment_entry(self, confirmation: str) -> tuple[payloads.PaymentCompleted, str] | None:
        for entry in self._recent_entries():
            if entry.type == E.PAYMENT_COMPLETED and entry.payload["confirmation"] == confirmation:
                payment = payloads.read(payloads.PaymentCompleted, entry.payload)
                return payment, payment.session_id or ""
        return None

    # provided by Receipts
    _receipt_intents: dict[str, tuple[int, str]]

    # ------------------------------------------------------------------ what the pages show
    def _note_fault(self, device: str, reason: str) -> None:
        self._last_faults[device] = reason

    def _device_views(self) -> tuple[DeviceView, ...]:
        ports = self.ports
        named = (
            ("bill_acceptor", ports.acceptor),
            ("card_terminal", ports.terminal),
            ("receipt_printer", ports.printer),
            ("barcode_scanner", ports.scanner),
        )
        views = []
        for name, port in named:
            health = port.health()
            counters = getattr(port, "counters", None)
            counts: dict[str, int] = {}
            if callable(counters):
                try:
                    counts = dict(counters())
                except Exception:  # a figure the driver can not give now is no reason to fail
                    log.debug("counters of %s unavailable", name, exc_info=True)
            views.append(
                DeviceView(
                    name=name,
                    state=health.state.value,
                    reason=health.reason,
                    last_fault=self._last_faults.get(name, ""),
                    counters=tuple(sorted(counts.items())),
                )
            )
        return tuple(views)


def _diagnose(terminal: CardTerminal) -> tuple[bool, str]:
    """Ask the terminal to check itself where it can (``diagnose``: whether it is ready and
    what it said); else its health is all there is."""
    diagnose = getattr(terminal, "diagnose", None)
    if callable(diagnose):
        ok, said = diagnose()
        return bool(ok), str(said)
    health = terminal.health()
    return bool(health.usable), health.reason or health.state.value
