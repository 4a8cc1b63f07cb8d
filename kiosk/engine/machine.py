"""The payment engine: the one writer of payment state.

One thread takes events from one queue (device events from driver threads, resident input
from the screens, answers to slow device calls, its own time-outs), journals what happened,
looks the event up in the state table of :mod:`kiosk.engine.states`, runs the named guard and
action, and publishes an immutable :class:`~kiosk.engine.snapshot.Snapshot`. It never waits
on a device: a slow call (a cash box count, a terminal's status query, a reversal) goes to
a :class:`~kiosk.device_calls.DeviceCalls` worker and its answer comes back on the queue.
Tests drive it without a thread through :meth:`PaymentEngine.handle` and
:meth:`PaymentEngine.pump`.

The guards and actions live in the parts the engine is made of, one job each: the resident's
path (:mod:`~kiosk.engine.flow`), cash and card settlement (:mod:`~kiosk.engine.cash`,
:mod:`~kiosk.engine.card`), receipts and snapshots (:mod:`~kiosk.engine.receipts`,
:mod:`~kiosk.engine.publishing`). This module is the loop that drives them.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from contract import payloads
from kiosk.bill_stub import StubParser
from kiosk.config import KioskConfig
from kiosk.device_calls import CallDone, CallRunner, Deliver, DeviceCalls
from kiosk.engine import inputs as ui
from kiosk.engine.base import JournalWriter, Observer
from kiosk.engine.card import TERMINAL, CardSettlement
from kiosk.engine.cash import CashSettlement
from kiosk.engine.collection import Collections, EndOfDayCall
from kiosk.engine.device_reports import DeviceReports
from kiosk.engine.flow import ResidentFlow
from kiosk.engine.publishing import Publishing
from kiosk.engine.receipts import Receipts
from kiosk.engine.service import DiagnosisCall, PinCall, ServiceMode
from kiosk.engine.states import (
    IN_SERVICE_MODE,
    PREVIOUS,
    SERVICE_PAGES,
    STAY,
    State,
    Transition,
    transitions_for,
)
from kiosk.ports import (
    AcceptorFault,
    BillEscrowed,
    BillRejected,
    BillReturned,
    BillStacked,
    CardProgress,
    CardResult,
    Clock,
    DeviceFault,
    DeviceNotice,
    DeviceRecovered,
    PortSet,
    ReceiptDone,
)

__all__ = ["JournalWriter", "Observer", "PaymentEngine"]

log = logging.getLogger(__name__)

RunnerFactory = Callable[[Deliver], CallRunner]

#: how long :meth:`PaymentEngine.pump` waits for a device call's answer
PUMP_ANSWER_WAIT_S = 30.0


class PaymentEngine(
    ResidentFlow,
    CashSettlement,
    CardSettlement,
    Receipts,
    ServiceMode,
    Collections,
    Publishing,
    DeviceReports,
):
    def __init__(
        self,
        config: KioskConfig,
        journal: JournalWriter,
        ports: PortSet,
        clock: Clock,
        calls: RunnerFactory = DeviceCalls,
    ) -> None:
        self.config = config
        self.journal = journal
        self.ports = ports
        self.clock = clock
        self.state = State.IDLE
        self.session = None
        self.language = config.locale.default_language
        self._interrupted = None
        self._deadline = None
        self._card_sale_began = None
        self._out_of_service_reason = ""
        self._out_of_service_pending = ""
        self._stubs = StubParser.from_config(config.scanner)
        self._unsettled_stack = None
        self._escrow_count = None
        self._return_intent = None
        self._receipt_intents = {}
        self._held_card_results = []
        self._config_pending = None
        self._open_faults = {}
        self.last_batch = None  # the latest close, for service mode
        self._queue = queue.Queue()
        self._calls = calls(self.submit)
        self._observers = []
        self._version = 0
        self._thread: threading.Thread | None = None
        self._last_turn = time.monotonic()
        self._init_service()
        self._init_collections()
        self.snapshot = self._build_snapshot()
        for port in (ports.acceptor, ports.terminal, ports.printer, ports.scanner, ports.directory):
            port.attach(self.submit)

    # ------------------------------------------------------------------ public surface
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="payment-engine", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def responsive(self, within: float) -> bool:
        """Whether the engine's thread came round its loop in the last ``within`` seconds:
        an event whose handling hangs (a deadlock, a call that never returns) makes this
        False, and the service manager's watchdog restarts the kiosk into recovery."""
        return self.running and time.monotonic() - self._last_turn < within

    def stop(self, timeout: float = 5.0) -> None:
        self.submit(ui.Stop())
        if self._thread is not None:
            self._thread.join(timeout)
        self._calls.close()

    def pump(self, limit: int = 10_000) -> int:
        """Handle every queued event on the calling thread (tests and scripted runs),
        including the answers of the device calls those events started."""
        handled = 0
        while handled < limit:
            try:
                event = self._queue.get_nowait()
            except queue.Empty:
                if not self._calls.wait_idle(PUMP_ANSWER_WAIT_S) or self._queue.empty():
                    break
                continue
            self.handle(event)
            handled += 1
        self.check_deadline()
        return handled

    def check_deadline(self) -> None:
        if self._deadline is not None and self.clock.monotonic() >= self._deadline:
            self._deadline = None
            self.handle(ui.TimedOut())

    def handle(self, event: object) -> None:
        settled = self._observe(event)
        if settled is not None:
            self._consult(settled)
        self._publish()

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        while True:
            self._last_turn = time.monotonic()
            try:
                event = self._queue.get(timeout=0.05)
            except queue.Empty:
                self.check_deadline()
                continue
            if isinstance(event, ui.Stop):
                return
            try:
                self.handle(event)
                self.check_deadline()
            except Exception:  # the engine must outlive one bad event
                log.exception("engine failed handling %r", event)

    # ------------------------------------------------------------------ the table
    def _consult(self, event: object) -> None:
        if isinstance(event, ui.UpdateConfig):
            self._config_pending = event.config
        if isinstance(event, ui.SetOutOfService) and self.state not in (
            State.IDLE,
            *SERVICE_PAGES,
        ):
            # never in the middle of a resident's payment: when this session ends
            self._out_of_service_pending = event.reason
        if (
            isinstance(event, ui.Touch | ui.Start | ui.EnterAccount | ui.ChooseAmount)
            and self.state is not State.CARD  # the sale waits on the terminal, not on touches
        ):
            self._reset_deadline()
        for transition in transitions_for(self.state, event):
            if transition.guard is None or self._call(transition.guard, event):
                self._take(transition, event)
                break
        else:
            if not isinstance(event, ui.Touch | ui.TimedOut):
                log.debug("no transition from %s on %r", self.state.value, event)
        if self._config_pending is not None and self.state in (State.IDLE, State.OUT_OF_SERVICE):
            self._apply_config(self._config_pending)
        if self.state is State.IDLE and self._out_of_service_pending:
            reason, self._out_of_service_pending = self._out_of_service_pending, ""
            self._consult(ui.SetOutOfService(reason))

    def _take(self, transition: Transition, event: object) -> None:
        before = self.state
        if transition.action is not None:
            self._call(transition.action, event)
        if transition.target is STAY:
            target = self.state
        elif transition.target is PREVIOUS:
            target = self._interrupted or State.IDLE
        else:
            assert isinstance(transition.target, State)
            target = transition.target
        self.state = target
        if target is not State.STILL_THERE:
            self._interrupted = None
        # Always a fresh deadline, also after a time-out that stays (a bill still in flight):
        # that time-out comes back, so a bill that is returned rather than stacked can not
        # leave the prompt up for good. In a card sale only the terminal's own word counts:
        # its limit runs from the terminal's last prompt (touches do not extend it), as the
        # protocol's T4 does, and is longer than the driver's T4, so the driver, which tells
        # the terminal it stops waiting, speaks first. Nor does a page asking for fresh
        # figures (the status page does every 2 s by itself) count: no sign of a technician.
        in_sale = target is before is State.CARD
        terminal_spoke = in_sale and isinstance(event, CardProgress)
        if (not in_sale or terminal_spoke) and not isinstance(event, ui.Refresh):
            self._reset_deadline()

    def _call(self, name: str, event: object) -> bool:
        method: Callable[[object], bool | None] = getattr(self, f"_{name}")
        return bool(method(event))

    # ------------------------------------------------------------------ facts first
    def _observe(self, event: object) -> object | None:
        """Journal what a device reports, whatever the state; settle what must be settled.

        Returns the event for the state table, or None when nothing more is to be done.
        """
        if isinstance(event, ui.SetLanguage):
            self._set_language(event.language)
            return None
        if isinstance(event, CallDone):
            if isinstance(event.call.purpose, PinCall | DiagnosisCall):
                return self._service_answer(event)
            if isinstance(event.call.purpose, EndOfDayCall):
                return self._collection_answer(event)
            if event.call.device == TERMINAL:
                return self._card_answer(event)
            return self._cash_answer(event)
        if isinstance(event, BillEscrowed):
            return self._observe_escrow(event)
        if isinstance(event, BillStacked):
            self._observe_stacked(event)
        elif isinstance(event, BillReturned):
            self._observe_returned(event)
        elif isinstance(event, BillRejected):
            self._record(payloads.BillRejected(session_id=self._sid(), reason=event.reason))
        elif isinstance(event, AcceptorFault):
            return self._observe_acceptor_fault(event)
        elif isinstance(event, DeviceFault | DeviceNotice | DeviceRecovered):
            self._observe_device(event)
            if isinstance(event, DeviceNotice) and event.device == "bill_acceptor":
                self._observe_acceptor_notice(event.kind)
        elif isinstance(event, CardResult):
            return self._observe_card_result(event)
        elif isinstance(event, ReceiptDone):
            if self._observe_slip(event) or self._observe_test_print(event):
                return None
            self._observe_receipt(event)
            self._observe_reprint(event)
        return event

    # ------------------------------------------------------------------ time-outs
    def _timeout_for(self, state: State) -> float | None:
        t = self.config.timeouts
        return {
            State.FIND_ACCOUNT: t.idle_screen,
            State.CONFIRM_ACCOUNT: t.idle_screen,
            State.AMOUNT: t.idle_screen,
            State.METHOD: t.idle_screen,
            State.CARD_DECLINED: t.idle_screen,
            State.CARD_CHECKING: t.idle_screen,
            State.CASH: t.cash_inactivity,
            State.CARD: t.card_sale,
            State.STILL_THERE: t.still_there,
            State.RECEIPT: t.receipt_screen,
            State.SERVICE_PIN: t.idle_screen,
        }.get(state, self.config.service.idle_timeout if state in IN_SERVICE_MODE else None)

    def _reset_deadline(self) -> None:
        timeout = self._timeout_for(self.state)
        self._deadline = None if timeout is None else self.clock.monotonic() + timeout
        began = self._card_sale_began
        if self.state is State.CARD and began is not None and self._deadline is not None:
            # each word from the terminal restarts card_sale; the sale as a whole ends at
            # card_sale_total however often it speaks (a terminal stuck saying "please wait")
            self._deadline = min(self._deadline, began + self.config.timeouts.card_sale_total)
