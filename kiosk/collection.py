"""Cash-box collections as the journal tells them, and the slip each one prints.

A collection is a ``collection.started`` intent (who, which box, which bag or seal), the
``batch.closed`` it caused, the card terminal's end of day, and the ``collection.completed``
outcome that sets the kiosk's counts beside the terminal's. Everything on the slip is read
from those entries, so a slip printed again after a power cut says exactly what the first
one said (only marked as a copy).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from contract import entries as E
from contract import payloads
from kiosk.batches import BatchReport, end_of_day_payload, report_for_range
from kiosk.config import KioskConfig
from kiosk.money import Money
from kiosk.ports import CardBrandTotal, CardSettlement, CollectionSlip

__all__ = [
    "CollectionRecord",
    "CollectionSteps",
    "closed_batch_report",
    "collections",
    "completion",
    "end_of_day_payload",
    "last_slip_number",
    "slip_for",
    "unprinted_collection",
]


@dataclass(frozen=True)
class CollectionRecord:
    started_seq: int
    started_at: datetime
    started: payloads.CollectionStarted
    completed: payloads.CollectionCompleted | None = None
    previous_at: datetime | None = None  # when the collection before this one was made


def collections(entries: Iterable[E.EntryLike]) -> list[CollectionRecord]:
    """Every collection in the journal, oldest first."""
    found: list[CollectionRecord] = []
    by_id: dict[str, int] = {}
    for entry in entries:
        if entry.type == E.COLLECTION_STARTED:
            started = payloads.read(payloads.CollectionStarted, entry.payload)
            previous = found[-1].started_at if found else None
            by_id[started.collection_id] = len(found)
            found.append(CollectionRecord(entry.seq, entry.at, started, previous_at=previous))
        elif entry.type == E.COLLECTION_COMPLETED:
            completed = payloads.read(payloads.CollectionCompleted, entry.payload)
            index = by_id.get(completed.collection_id)
            if index is not None:
                r = found[index]
                found[index] = CollectionRecord(
                    r.started_seq, r.started_at, r.started, completed, r.previous_at
                )
    return found


@dataclass
class CollectionSteps:
    """How far a collection got, read from the entries after its ``collection.started``."""

    closing_seq: int | None = None  # its batch.closed
    end_of_day_request: int | None = None  # its card.end_of_day.requested
    settlement: CardSettlement | None = None  # the terminal's journaled answer

    @classmethod
    def find(
        cls, entries: Iterable[E.EntryLike], started: payloads.CollectionStarted
    ) -> CollectionSteps:
        steps = cls()
        for entry in entries:
            p = entry.payload
            if entry.type == E.BATCH_CLOSED and p.get("batch_id") == started.batch_id:
                steps.closing_seq = entry.seq
            elif (
                entry.type == E.CARD_END_OF_DAY_REQUESTED
                and p.get("collection_id") == started.collection_id
            ):
                steps.end_of_day_request = entry.seq
            elif (
                entry.type == E.CARD_END_OF_DAY
                and steps.end_of_day_request is not None
                and p.get("intent_seq") == steps.end_of_day_request
            ):
                steps.settlement = settlement_from(payloads.read(payloads.CardEndOfDay, p))
        return steps


def settlement_from(entry: payloads.CardEndOfDay) -> CardSettlement:
    return CardSettlement(
        ok=entry.ok,
        total=Money(entry.total_cents),
        count=entry.count,
        by_brand=tuple(
            CardBrandTotal(b.brand, b.count, Money(b.amount_cents)) for b in entry.by_brand
        ),
        trace=entry.trace,
        reason=entry.reason,
    )


def closed_batch_report(
    entries: Iterable[E.EntryLike], closing_seq: int, batch_id: str
) -> BatchReport:
    """The report of the batch that the ``batch.closed`` at ``closing_seq`` closed, as the
    engine had it when it closed it (``last_seq`` is the closing entry)."""
    batch: list[E.EntryLike] = []
    for entry in entries:
        if entry.seq >= closing_seq:
            break
        if entry.type == E.BATCH_CLOSED:
            batch = []
        else:
            batch.append(entry)
    return replace(report_for_range(batch, batch_id), last_seq=closing_seq)


class LatestEntries(Protocol):
    def last(self, type_: str | None = None) -> E.EntryLike | None: ...


def unprinted_collection(journal: LatestEntries) -> str | None:
    """The latest collection if it completed but its slip was never sent to the printer (a
    restart in between): recovery prints it. Every slip request after the latest completion
    is for it (a reprint prints the latest), so two look-ups by type tell."""
    completed = journal.last(E.COLLECTION_COMPLETED)
    if completed is None:
        return None
    slip = journal.last(E.SLIP_PRINT_REQUESTED)
    if slip is not None and slip.seq > completed.seq:
        return None
    return str(completed.payload["collection_id"])


def last_slip_number(journal: LatestEntries) -> int | None:
    """The slip number of the latest completed collection: the slip service mode reprints."""
    completed = journal.last(E.COLLECTION_COMPLETED)
    return None if completed is None else int(completed.payload["slip_number"])


def next_slip_number(records: list[CollectionRecord]) -> int:
    return max((r.started.slip_number for r in records), default=0) + 1


def completion(
    started: payloads.CollectionStarted,
    intent_seq: int,
    report: BatchReport,
    settlement: CardSettlement,
    recovered: bool = False,
) -> payloads.CollectionCompleted:
    """The ``collection.completed`` entry: the closed batch's counts beside the terminal's."""
    count = settlement.count
    if count is None and settlement.by_brand:
        count = sum(b.count for b in settlement.by_brand)
    agreed = (
        settlement.ok
        and settlement.total == report.card_total
        and count in (None, report.card_approvals)
    )
    return payloads.CollectionCompleted(
        intent_seq=intent_seq,
        collection_id=started.collection_id,
        slip_number=started.slip_number,
        batch_id=started.batch_id,
        bills={str(d): n for d, n in sorted(report.bills.items())},
        cash_cents=report.cash_total.cents,
        rejected_bills=report.rejected_bills,
        payments=report.payments,
        first_seq=report.first_seq,
        last_seq=report.last_seq,
        card_count=report.card_approvals,
        card_cents=report.card_total.cents,
        terminal_ok=settlement.ok,
        terminal_count=count if settlement.ok else 0,
        terminal_cents=settlement.total.cents if settlement.ok else 0,
        agreed=agreed,
        recovered=recovered,
    )


def slip_for(
    record: CollectionRecord,
    config: KioskConfig,
    language: str,
    software_version: str,
    copy: bool = False,
) -> CollectionSlip:
    """The slip of a completed collection (``record.completed`` must be set)."""
    done = record.completed
    assert done is not None, "a slip is printed once the collection is completed"
    zone = config.locale.zone()
    started = record.started
    return CollectionSlip(
        city=config.identity.city,
        location=config.identity.location,
        kiosk_id=config.identity.kiosk_id,
        language=language,
        slip_number=started.slip_number,
        batch_id=started.batch_id,
        collected_at_local=record.started_at.astimezone(zone),
        previous_collected_at_local=(
            record.previous_at.astimezone(zone) if record.previous_at is not None else None
        ),
        technician=started.technician,
        cashbox_id=started.cashbox_id,
        seal_number=started.seal_number,
        bills=tuple((Money(int(d)), n) for d, n in sorted(done.bills.items(), key=_by_value)),
        rejected_bills=done.rejected_bills,
        payments=done.payments,
        first_seq=done.first_seq,
        last_seq=done.last_seq,
        card_count=done.card_count,
        card_total=Money(done.card_cents),
        terminal_ok=done.terminal_ok,
        terminal_count=done.terminal_count,
        terminal_total=Money(done.terminal_cents),
        software_version=software_version,
        copy=copy,
    )


def _by_value(item: tuple[str, int]) -> int:
    return int(item[0])
