"""What every bill acceptor driver tracks alike, whatever its protocol: whether the device
answers, and which faults hold.

The EBDS and ID-003 trackers read different bytes, but the kiosk must hear the same things
from both: one :class:`AcceptorFault` when the line goes silent and a notice when it answers
again; one fault per occurrence of a jam, a failure, a removed or a full cash box, and a
notice when it clears; a health that says the worst of them. Those rules live here once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from kiosk.money import Money
from kiosk.ports import AcceptorFault, DeviceHealth, DeviceNotice, Health

DEVICE = "bill_acceptor"

FAULTS: tuple[str, ...] = ("jam", "failure", "cassette_removed", "stacker_full")
"""Fault reasons in the order health reports them when several hold at once."""

CLEARED: dict[str, str] = {
    "jam": "jam_cleared",
    "failure": "failure_cleared",
    "cassette_removed": "cassette_replaced",
    "stacker_full": "stacker_full_cleared",
}


def counter_dict(counters: Any) -> dict[str, int]:
    """A tracker's counters dataclass for technicians: notes stacked per denomination
    (``stacked_20.00``) and in all (``stacked``), then every other count by its name."""
    stacked: dict[Money, int] = counters.stacked
    counts = {f"stacked_{bill.plain()}": count for bill, count in sorted(stacked.items())}
    counts["stacked"] = sum(stacked.values())
    for item in dataclasses.fields(counters):
        if item.name != "stacked":
            counts[item.name] = int(getattr(counters, item.name))
    return counts


def notice(kind: str, detail: str = "") -> DeviceNotice:
    return DeviceNotice(DEVICE, kind, detail)


def describe(bill: Money | None) -> str:
    return bill.plain() if bill is not None else "unknown"


class AcceptorState:
    """The line and the fault conditions; not thread-safe on its own (the tracker's lock)."""

    def __init__(self) -> None:
        self.faults: set[str] = set()
        self.connected = False
        self.ever_connected = False
        self._lost_reported = False

    def health(self) -> DeviceHealth:
        if not self.connected:
            reason = "disconnected" if self.ever_connected or self._lost_reported else "starting"
            return DeviceHealth(Health.FAULT, reason)
        for reason in FAULTS:
            if reason in self.faults:
                return DeviceHealth(Health.FAULT, reason)
        return DeviceHealth()

    def lost(self) -> list[object]:
        """No valid reply after the retries, or the port vanished: one fault, not one per
        silent poll. Empty when it was reported already."""
        self.connected = False
        if self._lost_reported:
            return []
        self._lost_reported = True
        return [AcceptorFault("disconnected")]

    def answered(self) -> tuple[list[object], bool]:
        """The device answered: a notice if it had been reported silent, and whether this is
        its first answer since the driver started."""
        events: list[object] = []
        first = not self.ever_connected
        if self._lost_reported:
            events.append(notice("reconnected" if self.ever_connected else "connected"))
        self.connected = self.ever_connected = True
        self._lost_reported = False
        return events, first

    def conditions(self, now: Mapping[str, bool]) -> tuple[list[object], list[str]]:
        """Faults that began (one :class:`AcceptorFault` each) and ended (a notice each) with
        the conditions ``now``; also the reasons that began, for the tracker's counters."""
        events: list[object] = []
        began: list[str] = []
        for reason in FAULTS:
            if now.get(reason, False) and reason not in self.faults:
                self.faults.add(reason)
                began.append(reason)
                events.append(AcceptorFault(reason))
            elif not now.get(reason, False) and reason in self.faults:
                self.faults.discard(reason)
                events.append(notice(CLEARED[reason]))
        return events, began
