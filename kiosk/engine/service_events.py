"""Answers of the technician's slow calls, as the state table sees them."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.ports import CardSettlement


@dataclass(frozen=True, slots=True)
class PinChecked:
    """The PIN check ran off the engine thread: whose PIN it was, if anyone's."""

    technician: str | None


@dataclass(frozen=True, slots=True)
class EndOfDayAnswered:
    """The card terminal's end of day for a collection, whatever it said."""

    collection_id: str
    settlement: CardSettlement
