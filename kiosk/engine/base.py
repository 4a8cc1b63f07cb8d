"""What every part of the payment engine shares: its state, the journal, the device calls.

The engine is one object (the state table names its guards and actions as methods of it),
assembled in :mod:`kiosk.engine.machine` from parts that each do one job: the resident's
path (:mod:`~kiosk.engine.flow`), cash settlement (:mod:`~kiosk.engine.cash`), card
settlement (:mod:`~kiosk.engine.card`), receipts (:mod:`~kiosk.engine.receipts`) and the
snapshots (:mod:`~kiosk.engine.publishing`). This base declares what they share, so each
part reads on its own and the type checker sees every name.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any, Protocol

from contract import entries as E
from contract import payloads
from kiosk.batches import BatchReport
from kiosk.bill_stub import StubParser
from kiosk.config import KioskConfig
from kiosk.device_calls import CallRunner, DeviceCall
from kiosk.engine.session import Session
from kiosk.engine.snapshot import Snapshot
from kiosk.engine.states import State
from kiosk.money import Money
from kiosk.ports import Clock, PortSet

Observer = Callable[[Snapshot], None]


class JournalWriter(Protocol):
    """The part of :class:`kiosk.store.journal.Journal` the engine uses."""

    def record(self, payload: payloads.Payload) -> E.EntryLike: ...
    def append(self, type: str, payload: dict[str, Any]) -> E.EntryLike: ...
    def entries(self, after_seq: int = 0, limit: int | None = None) -> Any: ...
    def open_batch_id(self) -> str: ...
    def last_seq(self) -> int: ...
    def last(self, type_: str | None = None) -> E.EntryLike | None: ...
    def of_types(self, *types: str) -> list[Any]: ...


class EngineBase:
    config: KioskConfig
    journal: JournalWriter
    ports: PortSet
    clock: Clock
    state: State
    session: Session | None
    language: str
    snapshot: Snapshot
    last_batch: BatchReport | None
    _interrupted: State | None
    _deadline: float | None
    _card_sale_began: float | None
    """When the current card sale was started (monotonic): ``card_sale_total`` counts from it."""
    _out_of_service_reason: str
    _out_of_service_pending: str
    _config_pending: KioskConfig | None
    _stubs: StubParser
    _calls: CallRunner
    _queue: queue.Queue[object]

    # ------------------------------------------------------------------ shared helpers
    def submit(self, event: object) -> None:
        """Thread-safe: the only way other threads talk to the engine."""
        self._queue.put(event)

    def _record(self, payload: payloads.Payload) -> E.EntryLike:
        """Journal one fact, built with its entry type's model (``contract.payloads``)."""
        return self.journal.record(payload)

    def _sid(self) -> str | None:
        return self.session.session_id if self.session else None

    def _ask(self, device: str, name: str, run: Callable[[], object], purpose: object) -> None:
        """Start a slow device call; its :class:`~kiosk.device_calls.CallDone` comes back
        through the queue, to the handler for ``purpose``."""
        self._calls.start(DeviceCall(device, name, run, purpose))

    def _taking_cash(self) -> bool:
        return self.session is not None and (
            self.state is State.CASH
            or (self.state is State.STILL_THERE and self._interrupted is State.CASH)
        )

    def _accepted_bills(self) -> list[Money]:
        return [Money(c) for c in self.config.limits.accepted_bills_cents]

    def _amount_bounds(self) -> tuple[Money, Money]:
        limits = self.config.limits
        s = self.session
        balance = s.account.balance if s and s.account else Money(0)
        low = limits.min_payment
        if balance.is_positive() and balance < low:
            low = balance  # a small remaining balance can always be paid off
        high = min(limits.max_payment, Money(max(balance.cents, 0)) + limits.max_overpayment)
        return low, high

    # ------------------------------------------------------------------ provided by the parts
    def _consult(self, event: object) -> None:
        """Look ``event`` up in the state table and take the first transition that holds."""
        raise NotImplementedError

    def _reset_deadline(self) -> None:
        raise NotImplementedError

    def _complete_payment(self, _event: object) -> None:
        raise NotImplementedError

    def _return_escrowed(self, denomination: Money, reason: str) -> None:
        raise NotImplementedError

    def _journal_fault(self, device: str, reason: str) -> None:
        """Journal a device's fault, unless that very fault is still open."""
        raise NotImplementedError

    def _build_snapshot(self) -> Snapshot:
        raise NotImplementedError

    def _note_fault(self, device: str, reason: str) -> None:
        """Remember a device's last fault for the technician's status page."""
        raise NotImplementedError
