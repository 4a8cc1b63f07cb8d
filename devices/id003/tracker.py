"""What each ID-003 status means for the kiosk: the acceptor's state turned into port events.

Kept apart from the threads and the serial line so every rule here can be read, and tested,
as plain logic. ID-003 reports one state per status request, not event bits, and has no
message sequence numbers: what makes a credit safe is VEND VALID, which the acceptor
repeats until the host answers it with ACK (6-2-1(5)). The rules that protect the money:

* A note is announced once (:class:`BillEscrowed`) when the acceptor first reports it in
  ESCROW, and credited (:class:`BillStacked`) once, at the first VEND VALID after this
  tracker announced it: a repeated VEND VALID (our ACK was lost) credits nothing more.
* A VEND VALID, or a power-up with a note in the stacker, for a note this tracker never
  announced (the kiosk restarted mid-stack) credits nothing: it becomes a notice, and
  recovery settles the journal's open stack intent with it.
* Power up with a note in the acceptor (6-2-2): the acceptor gives the note back when it
  is reset, so a tracked note is reported returned once the reset is done; if a stack
  command was in flight, a fault tells the engine first (as EBDS does). Power up with a
  note in the stacker: the reset stacks it, so a tracked note whose stack was sent is
  credited once the reset is done.
* A tracked note that goes back (RETURNING, or REJECTING after an escrow time-out) is
  reported returned when the acceptor is idle again.
* Stacker full, stacker open (cash box removed), a jam in the acceptor or the stacker and
  a failure are faults: health goes to FAULT and one :class:`AcceptorFault` is emitted per
  occurrence; when a regular status comes back a :class:`DeviceNotice` says it cleared.
  The reasons are the EBDS driver's, so the engine, the journal and the hub read both
  protocols alike.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

from devices.acceptor_state import DEVICE as DEVICE  # the driver names its thread and outlet by it
from devices.acceptor_state import AcceptorState, describe, notice
from devices.id003.messages import (
    ERRORS,
    POWER_UPS,
    USD_NOTES,
    Status,
    StatusReply,
    failure_name,
    reject_reason,
)
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

NOTES: dict[int, Money] = {code: Money(cents) for code, cents in USD_NOTES.items()}
"""The US escrow codes (:data:`~devices.id003.messages.USD_NOTES`) in the kiosk's money."""

Pending = Literal["stack", "return"]

FAULTS: dict[int, str] = {
    Status.ACCEPTOR_JAM: "jam",
    Status.STACKER_JAM: "jam",
    Status.FAILURE: "failure",
    Status.STACKER_OPEN: "cassette_removed",
    Status.STACKER_FULL: "stacker_full",
}
"""Error statuses that stop the acceptor, by the fault reason the kiosk knows them by."""

MOVING = frozenset(
    {
        Status.ACCEPTING,
        Status.STACKING,
        Status.VEND_VALID,
        Status.STACKED,
        Status.RETURNING,
        Status.REJECTING,
        Status.INITIALIZE,
        *POWER_UPS,
    }
)
"""States in which a note may be moving, or the acceptor is still starting."""
IDLE = frozenset({Status.IDLING, Status.DISABLED})
IN_ESCROW = frozenset({Status.ESCROW, Status.HOLDING})


@dataclass
class Counters:
    stacked: dict[Money, int] = field(default_factory=dict)
    returned: int = 0
    rejects: int = 0
    cheats: int = 0
    jams: int = 0
    power_ups: int = 0
    invalid_commands: int = 0
    communication_errors: int = 0
    pauses: int = 0
    disconnects: int = 0
    unattributed: int = 0
    """Notes the acceptor stacked, or lost, that the driver was not tracking."""


class StatusTracker:
    """Feed it every status (:meth:`on_status`) and every silence (:meth:`on_lost`).

    Not thread-safe on its own: the driver holds one lock around every call. Besides the
    events, it tells the driver what to send next: :attr:`reset_needed` after a power-up,
    :attr:`ack_owed` after a VEND VALID, and :meth:`operation` for a stack or return.
    """

    def __init__(self, table: dict[int, Money] | None = None) -> None:
        self.table = dict(table or NOTES)
        self.counters = Counters()
        self.pending: Pending | None = None
        self.sent: Pending | None = None  # the operation the acceptor has acknowledged
        self._refused = False  # the acceptor refused it: not asked again before a new status
        self.bill: Money | None = None  # in escrow or on its way to the box / the customer
        self.last: StatusReply | None = None
        self.reset_needed = False
        self.ack_owed = False
        self._credited = False  # this VEND VALID streak was credited (or noticed) already
        self._going_back = False  # the tracked note is being returned or rejected
        self._after_reset: tuple[str, Money | None] | None = None
        self._state = AcceptorState()

    # ------------------------------------------------------------------ queries
    def health(self) -> DeviceHealth:
        return self._state.health()

    def escrowed(self) -> Money | None:
        if self.last is None or self.last.code not in IN_ESCROW:
            return None
        return self.bill

    def undecided(self) -> bool:
        """A note waits in escrow and the engine has said neither stack nor return."""
        return self.escrowed() is not None and self.pending is None

    def moving(self) -> bool:
        """A note may be moving (or the acceptor is starting): not a time to count."""
        return self.last is None or self.last.code in MOVING or self.reset_needed

    @property
    def connected(self) -> bool:
        return self._state.connected

    # ------------------------------------------------------------------ host commands
    def request(self, what: Pending) -> bool:
        """The engine asks to stack or return the note in escrow; False if there is none."""
        if self.bill is None or self.last is None or self.last.code not in IN_ESCROW:
            return False
        self.pending, self.sent = what, None
        return True

    def operation(self) -> Pending | None:
        """The stack or return to send now: asked for, not yet acknowledged, note in escrow."""
        if self.pending is None or self.sent is not None or self._refused:
            return None
        if self.last is None or self.last.code not in IN_ESCROW:
            return None
        return self.pending

    def operation_answered(self, what: Pending, accepted: bool) -> None:
        """The acceptor answered the stack or return: ACK, or INVALID COMMAND (not now)."""
        if self.pending != what:
            return
        if accepted:
            self.sent = what
        else:
            log.warning("bill acceptor: %s refused (invalid command)", what)
            self.counters.invalid_commands += 1
            self._refused = True

    def reset_sent(self) -> None:
        self.reset_needed = False

    def ack_sent(self) -> None:
        self.ack_owed = False

    # ------------------------------------------------------------------ what the device said
    def on_lost(self) -> list[object]:
        """No valid reply after the retries, or the port vanished."""
        events = self._state.lost()
        if events:
            self.counters.disconnects += 1
        return events

    def on_status(self, status: StatusReply) -> list[object]:
        events, first = self._state.answered()
        previous, self.last = self.last, status
        self._refused = False
        code = status.code
        changed = previous is None or previous.code != code
        if code in POWER_UPS:
            if changed:
                self._power_up(status, events)
            return events
        if code in ERRORS:
            self._error(status, changed, first, events)
            return events
        self._clear_faults(events)
        if code in IN_ESCROW:
            self._escrow(status, events)
        elif code == Status.VEND_VALID:
            self.ack_owed = True
            if not self._credited:
                self._credited = True
                self._vend_valid(events)
            return events
        elif code in (Status.RETURNING, Status.REJECTING):
            if self.bill is not None:
                self._going_back = True
                self.pending = None
            if code == Status.REJECTING and changed and not first:
                self.counters.rejects += 1
                events.append(BillRejected(reject_reason(status.data)))
        elif code in IDLE:
            self._idle(first, events)
        self._credited = False
        return events

    # ------------------------------------------------------------------ the rules
    def _power_up(self, status: StatusReply, events: list[object]) -> None:
        self.counters.power_ups += 1
        self.reset_needed = True
        self.ack_owed = self._credited = False
        bill, in_flight = self.bill, self.sent or self.pending
        self.pending = self.sent = None
        self._going_back = False
        if status.code == Status.POWER_UP_BILL_IN_ACCEPTOR:
            events.append(notice("power_up_with_bill_in_escrow", describe(bill)))
            if in_flight == "stack":
                events.append(AcceptorFault("power_up"))
            self._after_reset = ("returned", bill)
        elif status.code == Status.POWER_UP_BILL_IN_STACKER:
            events.append(notice("power_up_with_bill_in_stacker", describe(bill)))
            # only our stack command takes a note past escrow: a tracked note is ours
            self._after_reset = ("stacked", bill if in_flight == "stack" else None)
        else:
            events.append(notice("power_up"))
            if bill is not None:
                self.counters.unattributed += 1
                events.append(notice("bill_left_path_unreported", describe(bill)))
            self._after_reset = None
        self.bill = None

    def _error(self, status: StatusReply, changed: bool, first: bool, events: list[object]) -> None:
        code = status.code
        reason = FAULTS.get(code)
        if reason is not None:
            # one error status at a time: the one reported is the one that holds
            changes, began = self._state.conditions({reason: True})
            if "jam" in began:
                self.counters.jams += 1
                where = "acceptor" if code == Status.ACCEPTOR_JAM else "stacker"
                events.append(notice("jam_in_" + where, describe(self.bill)))
            if "failure" in began:
                events.append(notice("failure_code", failure_name(status.data)))
            events += changes
            return
        if not changed or first:
            return
        if code == Status.CHEATED:
            self.counters.cheats += 1
            self.counters.rejects += 1
            events.append(notice("cheat_attempt"))
            events.append(BillRejected("cheated"))
        elif code == Status.PAUSE:
            self.counters.pauses += 1
            events.append(notice("pause", "a second note was inserted"))
        elif code == Status.INVALID_COMMAND:
            self.counters.invalid_commands += 1
            log.warning("bill acceptor: the device reported an invalid command")
        elif code == Status.COMMUNICATION_ERROR:
            self.counters.communication_errors += 1
            log.warning("bill acceptor: the device received a damaged message")

    def _clear_faults(self, events: list[object]) -> None:
        events += self._state.conditions({})[0]

    def _escrow(self, status: StatusReply, events: list[object]) -> None:
        if self.bill is not None:
            return  # announced already (ESCROW repeats on every poll, HOLDING follows it)
        code = status.note_code
        bill = self.table.get(code) if code is not None else None
        if bill is None:
            # a document the table can not value: back it goes, without a credit
            described = f"escrow code 0x{code:02X}" if code is not None else "no escrow code"
            events.append(notice("unknown_note_in_escrow", described))
            self.pending, self.sent = "return", None
            return
        self.bill, self._going_back = bill, False
        events.append(BillEscrowed(bill))

    def _vend_valid(self, events: list[object]) -> None:
        bill = self.bill
        self.bill, self.pending, self.sent, self._going_back = None, None, None, False
        if bill is None:
            self.counters.unattributed += 1
            log.warning("bill acceptor: vend valid for a note that was never in escrow here")
            events.append(notice("stacked_without_escrow", "unknown"))
            return
        self.counters.stacked[bill] = self.counters.stacked.get(bill, 0) + 1
        events.append(BillStacked(bill))

    def _idle(self, first: bool, events: list[object]) -> None:
        after, self._after_reset = self._after_reset, None
        if after is not None:
            fate, bill = after
            if fate == "stacked" and bill is not None:
                self.counters.stacked[bill] = self.counters.stacked.get(bill, 0) + 1
                events.append(BillStacked(bill))
            elif fate == "stacked":
                self.counters.unattributed += 1
                events.append(notice("stacked_without_escrow", "power up with bill in stacker"))
            elif bill is not None:
                self.counters.returned += 1
                events.append(BillReturned(bill))
            else:
                events.append(notice("bill_returned_at_power_up", "unknown"))
        bill, going_back = self.bill, self._going_back
        self.bill, self.pending, self.sent, self._going_back = None, None, None, False
        if bill is None or first:
            return
        if going_back:
            self.counters.returned += 1
            events.append(BillReturned(bill))
            return
        self.counters.unattributed += 1
        events.append(notice("bill_left_path_unreported", describe(bill)))
