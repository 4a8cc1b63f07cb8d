"""What each omnibus reply means for the kiosk: the acceptor's state turned into port events.

Kept apart from the threads and the serial line so every rule here can be read, and tested,
as plain logic. The rules that protect the money:

* A bill is announced once (:class:`BillEscrowed`) when the device first reports it in
  escrow, and credited (:class:`BillStacked`) only when the device reports the *stacked
  event* for a bill this tracker announced or was stacking. A stacked report for a bill
  nobody was tracking is journaled as a notice instead: recovery settles it (by the cash
  box count, or without one by the stack intent), and a stale or repeated reply can never
  credit a bill twice.
* Event bits (stacked, returned, rejected, cheated) count on their rising edge only, and
  not at all in the first reply after the driver starts: a device answers a message whose
  ACK bit matches its previous one with its previous reply, which may be one the last
  process already acted on.
* A bill found in escrow at power-up was never credited (the kiosk can not know what it
  promised for it), so it is returned; if a stack command was in flight, a fault tells the
  engine to settle that stack (by the cash box count; without one, as not stacked).
* Jam, stacker full, cassette removed, failure and a silent line are faults: health goes
  to FAULT and one :class:`AcceptorFault` is emitted per occurrence; when the condition
  clears a :class:`DeviceNotice` says so and health comes back (once no fault holds, the
  driver's outlet adds :class:`DeviceRecovered`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from devices.acceptor_state import DEVICE as DEVICE  # the driver names its thread and outlet by it
from devices.acceptor_state import AcceptorState, describe, notice
from devices.ebds.messages import USD_NOTES, OmnibusStatus
from kiosk.money import Money
from kiosk.ports import (
    AcceptorFault,
    BillEscrowed,
    BillRejected,
    BillReturned,
    BillStacked,
    DeviceHealth,
)

log = logging.getLogger(__name__)


NOTES: dict[int, Money] = {index: Money(cents) for index, cents in USD_NOTES.items()}
"""The standard US note table (:data:`~devices.ebds.messages.USD_NOTES`) in the kiosk's money."""

Pending = Literal["stack", "return"]


@dataclass
class Counters:
    stacked: dict[Money, int] = field(default_factory=dict)
    returned: int = 0
    rejects: int = 0
    cheats: int = 0
    jams: int = 0
    power_ups: int = 0
    invalid_commands: int = 0
    disconnects: int = 0
    unattributed: int = 0
    """Bills the device reported stacked, or gone, that the driver was not tracking."""


class StatusTracker:
    """Feed it every reply (:meth:`on_status`) and every silence (:meth:`on_lost`).

    Not thread-safe on its own: the driver holds one lock around every call.
    """

    def __init__(self, table: dict[int, Money] | None = None) -> None:
        self.table = dict(table or NOTES)
        self._cents = {index: note.cents for index, note in self.table.items()}
        self.counters = Counters()
        self.pending: Pending | None = None
        self.bill: Money | None = None  # in escrow or on its way to the box / the customer
        self.last: OmnibusStatus | None = None
        self._announced = False  # BillEscrowed (or the power-up return) done for this escrow
        self._state = AcceptorState()

    # ------------------------------------------------------------------ queries
    def _note(self, status: OmnibusStatus) -> Money | None:
        """The note the reply names, in the kiosk's money."""
        cents = status.note_cents(self._cents)
        return Money(cents) if cents is not None else None

    def health(self) -> DeviceHealth:
        return self._state.health()

    def escrowed(self) -> Money | None:
        if self.last is None or not self.last.escrowed:
            return None
        return self.bill

    @property
    def connected(self) -> bool:
        return self._state.connected

    # ------------------------------------------------------------------ host commands
    def request(self, what: Pending) -> bool:
        """The engine asks to stack or return the bill in escrow; False if there is none."""
        if self.bill is None or self.last is None or not self.last.escrowed:
            return False
        self.pending = what
        return True

    def command_bits(self) -> tuple[bool, bool]:
        """(stack, return) for the next omnibus command."""
        return self.pending == "stack", self.pending == "return"

    # ------------------------------------------------------------------ what the device said
    def on_lost(self) -> list[object]:
        """No valid reply after the retries, or the port vanished."""
        events = self._state.lost()
        if events:
            self.counters.disconnects += 1
        return events

    def on_status(self, status: OmnibusStatus) -> list[object]:
        events, first = self._state.answered()
        previous, self.last = self.last, status

        def rising(name: str) -> bool:
            return bool(getattr(status, name)) and not (
                previous is not None and getattr(previous, name)
            )

        if rising("power_up"):
            self._power_up(status, previous, events)
        if not first:
            self._events(status, rising, events)
        self._escrow(status, events)
        if self.pending is not None and not status.escrowed:
            self.pending = None  # the device took the command (or lost the bill)
        self._conditions(status, events)
        self._stray(status, first, events)
        if rising("invalid_command"):
            self.counters.invalid_commands += 1
            log.warning("bill acceptor: the device reported an invalid command")
        return events

    # ------------------------------------------------------------------ the rules
    def _power_up(
        self, status: OmnibusStatus, previous: OmnibusStatus | None, events: list[object]
    ) -> None:
        self.counters.power_ups += 1
        in_flight = self.pending
        if status.escrowed:
            bill = self._note(status) or self.bill
            events.append(notice("power_up_with_bill_in_escrow", describe(bill)))
            if in_flight == "stack":
                events.append(AcceptorFault("power_up"))
            self.bill, self._announced, self.pending = bill, True, "return"
            return
        moving = previous is not None and (
            previous.accepting or previous.stacking or previous.returning or previous.escrowed
        )
        if (
            moving
            or in_flight is not None
            or status.stacking
            or status.returning
            or status.stacked
            or status.returned
        ):
            events.append(notice("power_up_with_bill_in_path", describe(self.bill)))
        else:
            events.append(notice("power_up"))

    def _events(
        self, status: OmnibusStatus, rising: Callable[[str], bool], events: list[object]
    ) -> None:
        if rising("stacked"):
            self._stacked(status, events)
        if rising("returned"):
            self._returned(events)
        if rising("cheated"):
            self.counters.cheats += 1
            self.counters.rejects += 1
            events.append(notice("cheat_attempt"))
            events.append(BillRejected("cheated"))
        elif rising("rejected"):
            self.counters.rejects += 1
            events.append(BillRejected("rejected"))

    def _stacked(self, status: OmnibusStatus, events: list[object]) -> None:
        reported = self._note(status)
        bill = self.bill
        self.bill, self._announced, self.pending = None, False, None
        if bill is None:
            self.counters.unattributed += 1
            log.warning("bill acceptor: stacked %s that was never in escrow", reported)
            events.append(notice("stacked_without_escrow", describe(reported)))
            return
        if reported is not None and reported != bill:
            log.warning("bill acceptor: escrowed %s but stacked %s", bill, reported)
            bill = reported  # the note in the box is what the device read at stacking
        self.counters.stacked[bill] = self.counters.stacked.get(bill, 0) + 1
        events.append(BillStacked(bill))

    def _returned(self, events: list[object]) -> None:
        bill = self.bill
        self.bill, self._announced, self.pending = None, False, None
        if bill is None:
            log.info("bill acceptor: returned a document that was never in escrow")
            return
        self.counters.returned += 1
        events.append(BillReturned(bill))

    def _escrow(self, status: OmnibusStatus, events: list[object]) -> None:
        if not status.escrowed:
            if not (status.stacking or status.returning or status.out_of_service):
                self._announced = False
            return
        if self._announced:
            return
        self._announced = True
        bill = self._note(status)
        if bill is None:
            # a document the device can not value (never happens with standard notes)
            events.append(notice("unknown_note_in_escrow", f"note value {status.note_value}"))
            self.pending = "return"
            return
        self.bill = bill
        events.append(BillEscrowed(bill))

    def _stray(self, status: OmnibusStatus, first: bool, events: list[object]) -> None:
        """A tracked bill the device no longer holds, with no stacked/returned report."""
        if self.bill is None or first or self.pending is not None:
            return
        if not status.idling or status.escrowed or status.stacking or status.returning:
            return
        if status.stacked or status.returned:
            return
        self.counters.unattributed += 1
        events.append(notice("bill_left_path_unreported", describe(self.bill)))
        self.bill, self._announced = None, False

    def _conditions(self, status: OmnibusStatus, events: list[object]) -> None:
        now = {
            "jam": status.jammed,
            "failure": status.failure,
            "cassette_removed": not status.cassette_attached,
            "stacker_full": status.stacker_full,
        }
        changes, began = self._state.conditions(now)
        if "jam" in began:
            self.counters.jams += 1
        events += changes
