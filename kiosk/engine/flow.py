"""The resident's path through a session: finding the account, the amount, the method,
and how a session ends; plus the technician's and the hub's requests between residents.

Everything here only changes the session and journals what the resident decided; the money
itself is settled in :mod:`kiosk.engine.cash` and :mod:`kiosk.engine.card`.
"""

from __future__ import annotations

import logging
import uuid
from typing import Literal

from contract import payloads
from kiosk.batches import close_batch
from kiosk.bill_stub import NotRecognised, StubParser
from kiosk.completion import account_selected_payload
from kiosk.config import KioskConfig
from kiosk.engine import inputs as ui
from kiosk.engine.base import EngineBase
from kiosk.engine.session import Session
from kiosk.ports import AccountFound, AccountNotFound, Scanned

log = logging.getLogger(__name__)


class ResidentFlow(EngineBase):
    # ------------------------------------------------------------------ guards
    def _lookup_is_current(self, event: AccountFound | AccountNotFound) -> bool:
        return self.session is not None and event.request == self.session.lookup_request

    def _amount_allowed(self, event: ui.ChooseAmount) -> bool:
        low, high = self._amount_bounds()
        return low <= event.amount <= high

    def _cash_chosen_and_possible(self, event: ui.ChooseMethod) -> bool:
        s = self.session
        if event.method != "cash" or s is None or s.amount is None:
            return False
        return self.ports.acceptor.health().usable and s.amount <= self.config.limits.max_cash

    def _bill_in_flight(self, _event: object) -> bool:
        return self.session is not None and self.session.bill_in_flight

    def _money_in(self, _event: object) -> bool:
        return self.session is not None and self.session.money_in

    def _no_money_in(self, _event: object) -> bool:
        return not self._money_in(_event) and not self._bill_in_flight(_event)

    def _finishing_with_money(self, _event: object) -> bool:
        s = self.session
        return s is not None and s.finish_requested and s.money_in and not s.bill_in_flight

    def _cancelling_without_money(self, _event: object) -> bool:
        s = self.session
        return s is not None and s.cancel_requested and not s.money_in and not s.bill_in_flight

    def _finishing_without_money(self, _event: object) -> bool:
        s = self.session
        return s is not None and s.finish_requested and not s.money_in and not s.bill_in_flight

    # ------------------------------------------------------------------ actions
    def _start_session(self, event: object) -> None:
        if isinstance(event, ui.Start) and event.language in self.config.locale.languages:
            self.language = event.language
        self.session = Session(
            session_id=str(uuid.uuid4()),
            language=self.language,
            started_at=self.clock.now(),
        )
        self._record(
            payloads.SessionStarted(session_id=self.session.session_id, language=self.language)
        )

    def _start_session_and_look_up(self, event: Scanned) -> None:
        self._start_session(event)
        self._look_up(event)

    def _look_up(self, event: ui.EnterAccount | Scanned) -> None:
        s = self.session
        assert s is not None
        if isinstance(event, Scanned):
            stub = self._stubs.parse(event.code)
            if isinstance(stub, NotRecognised):
                # a misread or another biller's stub: never guess an account from it
                log.info("barcode not recognised: %s", stub.message)
                s.lookup_pending = False
                s.message = "barcode_not_recognised"
                return
            number, s.bill_amount = stub.account, stub.amount_due
        else:
            number = event.number.strip()
        s.lookup_request = number
        s.lookup_pending = True
        s.message = ""
        self.ports.directory.lookup(number)

    def _show_account(self, event: AccountFound) -> None:
        s = self.session
        assert s is not None
        s.account, s.account_source = event.account, event.source
        s.lookup_pending = False
        s.message = ""

    def _show_not_found(self, event: AccountNotFound) -> None:
        s = self.session
        assert s is not None
        s.lookup_pending = False
        s.message = f"account_{event.reason}"

    def _select_account(self, _event: object) -> None:
        s = self.session
        assert s is not None
        s.account_selected = True
        self._record(account_selected_payload(s))

    def _forget_account(self, _event: object) -> None:
        s = self.session
        assert s is not None
        s.account = None
        s.account_source = None
        s.lookup_request = None

    def _choose_amount(self, event: ui.ChooseAmount) -> None:
        s = self.session
        assert s is not None
        s.amount = event.amount
        s.message = ""
        self._record(
            payloads.AmountChosen(session_id=s.session_id, amount_cents=event.amount.cents)
        )

    def _explain_amount_limits(self, event: ui.ChooseAmount) -> None:
        assert self.session is not None
        low, _ = self._amount_bounds()
        self.session.message = "amount_too_low" if event.amount < low else "amount_too_high"

    def _explain_method_unavailable(self, event: ui.ChooseMethod) -> None:
        assert self.session is not None
        if (
            event.method == "cash"
            and self.session.amount
            and self.session.amount > self.config.limits.max_cash
        ):
            self.session.message = "cash_over_limit"
        else:
            self.session.message = f"{event.method}_unavailable"

    def _request_finish(self, _event: object) -> None:
        assert self.session is not None
        self.session.finish_requested = True

    def _request_cancel(self, _event: object) -> None:
        assert self.session is not None
        self.session.finish_requested = self.session.cancel_requested = True

    def _ask_still_there(self, _event: object) -> None:
        self._interrupted = self.state

    # ------------------------------------------------------------------ ending
    def _end(self, outcome: Literal["completed", "cancelled", "timed_out"]) -> None:
        s = self.session
        if s is None:
            return
        if s.money_in and not s.completed:
            # money the hardware took (a bill stacked although we asked to return it) is
            # never left unpaid: the session becomes a payment of what went in
            self._complete_payment(None)
            outcome = "completed"
        if s.escrow is not None and s.pending_stack_seq is None and s.pending_return_seq is None:
            self._return_escrowed(s.escrow, reason="cancelled")
        if s.method == "cash":
            self.ports.acceptor.disable()
        self._record(payloads.SessionEnded(session_id=s.session_id, outcome=outcome))
        self.session = None
        self.language = self.config.locale.default_language

    def _end_without_payment(self, _event: object) -> None:
        self._end("cancelled")

    def _end_timed_out(self, _event: object) -> None:
        self._end("timed_out")

    def _end_after_payment(self, _event: object) -> None:
        self._end("completed")

    # ------------------------------------------------------------------ between residents
    def _note_out_of_service(self, event: ui.SetOutOfService) -> None:
        self._out_of_service_reason = event.reason
        self._record(payloads.OutOfService(reason=event.reason))

    def _clear_out_of_service(self, _event: object) -> None:
        self._out_of_service_reason = ""
        self._record(payloads.InService())

    def _apply_config(self, config: KioskConfig) -> None:
        self._config_pending = None
        self.config = config
        self._stubs = StubParser.from_config(config.scanner)
        limits, fee = config.limits, config.card_fee
        self._record(
            payloads.ConfigApplied(
                limits=payloads.AppliedLimits(
                    min_payment_cents=limits.min_payment_cents,
                    max_payment_cents=limits.max_payment_cents,
                    max_overpayment_cents=limits.max_overpayment_cents,
                    max_cash_cents=limits.max_cash_cents,
                    accepted_bills_cents=list(limits.accepted_bills_cents),
                ),
                card_fee=payloads.AppliedCardFee(
                    flat_cents=fee.flat_cents,
                    percent_bp=fee.percent_bp,
                    minimum_cents=fee.minimum_cents,
                    maximum_cents=fee.maximum_cents,
                ),
            )
        )

    def _close_batch(self, event: ui.CloseBatch) -> None:
        self.last_batch = close_batch(
            self.journal, "cash_box_collection", event.by, terminal=self.ports.terminal
        )

    def _set_language(self, language: str) -> None:
        if language not in self.config.locale.languages:
            return
        self.language = language
        if self.session is not None:
            self.session.language = language
        self._reset_deadline()
