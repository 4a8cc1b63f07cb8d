"""Snapshots: what the engine shows its observers after every event it handles.

A snapshot is built from the engine's state alone and published only when it differs from
the last one, so observers (the screens, the demo runner, tests) see each change once and
never reach into the engine.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date

from kiosk.completion import credited_amount
from kiosk.engine.base import EngineBase, Observer
from kiosk.engine.snapshot import (
    AccountView,
    CollectionView,
    ContactView,
    DeviceView,
    Snapshot,
    TestResult,
    UnprintedReceipt,
)
from kiosk.engine.states import IN_SERVICE_MODE, State
from kiosk.fees import card_fee
from kiosk.masking import mask_account, mask_address, mask_name
from kiosk.money import Money
from kiosk.technicians import PinLock

log = logging.getLogger(__name__)


class Publishing(EngineBase):
    _observers: list[Observer]
    _version: int

    def subscribe(self, observer: Observer) -> None:
        self._observers.append(observer)
        observer(self.snapshot)

    def _publish(self) -> None:
        snapshot = replace(self._build_snapshot(), version=self.snapshot.version)
        if snapshot == self.snapshot:
            return
        self._version += 1
        self.snapshot = snapshot = replace(snapshot, version=self._version)
        for observer in list(self._observers):
            try:
                observer(snapshot)
            except Exception:
                log.exception("snapshot observer failed")

    def _build_snapshot(self) -> Snapshot:
        s = self.session
        seconds_left = None
        if self._deadline is not None:
            seconds_left = max(0.0, self._deadline - self.clock.monotonic())
        base = Snapshot(
            state=self.state,
            language=self.language,
            interrupted=self._interrupted,
            seconds_left=None if seconds_left is None else round(seconds_left),
            out_of_service_reason=self._out_of_service_reason,
            cash_available=self.ports.acceptor.health().usable,
            card_available=self.ports.terminal.health().usable,
            printer_available=self.ports.printer.health().usable,
            max_cash=self.config.limits.max_cash,
            accepted_bills=tuple(self._accepted_bills()),
            offline=not self.ports.directory.online(),
            contact=self._contact_view(),
            version=self._version,
        )
        if self.state in IN_SERVICE_MODE:
            return self._service_snapshot(base)
        if s is None:
            return base
        low, high = self._amount_bounds()
        account = None
        if s.account is not None:
            a = s.account
            account = AccountView(
                number_masked=mask_account(a.number),
                name_masked=mask_name(a.name),
                address_masked=mask_address(a.service_address),
                balance=a.balance,
                due_date=a.due_date,
                usage=a.usage,
                source=s.account_source.value if s.account_source else "live",
                review=s.review,
                past_due=self._past_due(a.balance, a.due_date),
                last_payment=a.last_payment,
                charges=a.charges,
            )
        fee = card_fee(s.amount, self.config.card_fee) if s.amount is not None else Money(0)
        cash_fits = s.amount is None or s.amount <= self.config.limits.max_cash
        return replace(
            base,
            session_id=s.session_id,
            message=s.message,
            lookup_pending=s.lookup_pending,
            bill_amount=s.bill_amount,
            account=account,
            amount=credited_amount(s) if s.completed else s.amount,
            min_amount=low,
            max_amount=high,
            method=s.method,
            card_fee=fee,
            cash_available=base.cash_available and cash_fits,
            inserted=s.inserted,
            bills=tuple(s.bills),
            bill_in_escrow=s.bill_in_flight,
            card_prompt=s.card_prompt,
            card_decline_reason=s.card_decline_reason,
            confirmation=s.confirmation,
            confirmation_link=self.config.receipt.link(s.confirmation) if s.confirmation else "",
            receipt=s.receipt_state,
            offline=base.offline or s.offline,
        )

    def _contact_view(self) -> ContactView:
        contact = self.config.contact
        return ContactView(phone=contact.phone, address=contact.address, web=contact.web)

    def _past_due(self, balance: Money, due: date | None) -> bool:
        """A balance still owed after its due date, by the kiosk's own calendar."""
        if due is None or balance.cents <= 0:
            return False
        today = self.clock.now().astimezone(self.config.locale.zone()).date()
        return due < today

    # ------------------------------------------------------------------ service mode
    def _service_snapshot(self, base: Snapshot) -> Snapshot:
        """What the technician's pages show; device figures only where they are read."""
        lock = self._pin_lock
        now = self.clock.now()
        locked = lock.locked(now)
        max_attempts = self.config.service.max_pin_attempts
        status_pages = (State.SERVICE_STATUS, State.SERVICE_MENU)
        return replace(
            base,
            technician=self._technician,
            service_message=self._service_message,
            locked_until=(
                lock.locked_until.astimezone(self.config.locale.zone())
                if locked and lock.locked_until is not None
                else None
            ),
            pin_attempts_left=None if locked else max_attempts - lock.failures,
            devices=self._device_views() if self.state in status_pages else (),
            link=self.ports.link.status() if self.state in status_pages else None,
            tests=tuple(self._tests.values()),
            unprinted=self._unprinted_view(),
            collection=self._collection_view(),
            last_slip=self._last_slip,
        )

    # provided by the service mode and collection parts
    _technician: str
    _service_message: str
    _last_slip: int | None
    _pin_lock: PinLock
    _tests: dict[str, TestResult]
    _unprinted: tuple[UnprintedReceipt, ...]

    def _device_views(self) -> tuple[DeviceView, ...]:
        raise NotImplementedError

    def _unprinted_view(self) -> tuple[UnprintedReceipt, ...]:
        raise NotImplementedError

    def _collection_view(self) -> CollectionView | None:
        raise NotImplementedError
