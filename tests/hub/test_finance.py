"""Finance's look-ups: payments by account, confirmation, kiosk and day with their posting;
each closed batch's card total beside the terminal's end of day, and who collected it."""

from __future__ import annotations

import pytest

from contract import payloads
from hub import accounts, demo, finance
from tests.hub.harness import Creds, HubHarness, KioskSide
from tests.store.builders import card_payment, cash_payment

pytestmark = pytest.mark.postgresql_in_slow_suite


def _collect(kiosk: KioskSide, terminal_cents: int, terminal_count: int) -> str:
    """A collection as the kiosk journals it, the terminal saying ``terminal_cents``."""
    j = kiosk.journal
    batch_id = j.open_batch_id()
    started = payloads.CollectionStarted(
        collection_id="c-1",
        slip_number=1,
        batch_id=batch_id,
        technician="Dana Lopez",
        cashbox_id="1",
        seal_number="40417",
    )
    intent = j.record(started).seq
    j.record(
        payloads.BatchClosed(
            batch_id=batch_id,
            reason="cash_box_collection",
            by="Dana Lopez",
            first_seq=1,
            bills={"2000": 1, "500": 1},
            cash_cents=2500,
            card_cents=13274,
            card_count=1,
            reversals=0,
        )
    )
    request = j.record(payloads.CardEndOfDayRequested(collection_id="c-1")).seq
    j.record(
        payloads.CardEndOfDay(
            ok=True,
            total_cents=terminal_cents,
            count=terminal_count,
            by_brand=[],
            trace=None,
            reason="",
            intent_seq=request,
        )
    )
    j.record(
        payloads.CollectionCompleted(
            intent_seq=intent,
            collection_id="c-1",
            slip_number=1,
            batch_id=batch_id,
            bills={"2000": 1, "500": 1},
            cash_cents=2500,
            rejected_bills=0,
            payments=2,
            first_seq=1,
            last_seq=intent + 1,
            card_count=1,
            card_cents=13274,
            terminal_ok=True,
            terminal_count=terminal_count,
            terminal_cents=terminal_cents,
            agreed=terminal_cents == 13274,
        )
    )
    return batch_id


@pytest.fixture
def paid(hub: HubHarness, creds: Creds, kiosk: KioskSide) -> KioskSide:
    accounts.import_accounts(hub.ctx.db, demo.demo_csv(), hub.clock(), hub.clock().date())
    kiosk.write(cash_payment("s1", "100200302", [2000, 500]))
    kiosk.write(card_payment("s2", "100200419", 12950, 324))
    return kiosk


def test_payments_are_found_by_account_confirmation_kiosk_and_day(
    hub: HubHarness, creds: Creds, paid: KioskSide
) -> None:
    hub.push(creds, paid.wire())
    every = finance.search_payments(hub.ctx.db)
    assert {p.payment_id for p in every} == {"P-s1", "P-s2"}
    [cash] = finance.search_payments(hub.ctx.db, account="100200302")
    assert (cash.amount_cents, cash.posting_status, cash.attempts) == (2500, "posted", 1)
    [card] = finance.search_payments(hub.ctx.db, confirmation=every[0].confirmation.lower())
    assert card.payment_id == every[0].payment_id
    assert finance.search_payments(hub.ctx.db, kiosk_id="k-other") == []
    day = cash.effective_date
    assert len(finance.search_payments(hub.ctx.db, kiosk_id="k1", day=day)) == 2
    assert finance.search_payments(hub.ctx.db, status="failed") == []


def test_a_collected_batch_shows_the_terminals_total_and_who_collected(
    hub: HubHarness, creds: Creds, paid: KioskSide
) -> None:
    batch = _collect(paid, terminal_cents=13274, terminal_count=1)
    hub.push(creds, paid.wire())
    [line] = finance.card_settlements(hub.ctx.db, "k1")
    assert (line.batch_id, line.card_count, line.card_cents) == (batch, 1, 13274)
    assert (line.terminal_cents, line.agreed) == (13274, True)
    assert (line.collection.technician, line.collection.seal_number) == ("Dana Lopez", "40417")
    assert finance.last_collections(hub.ctx.db) == {"k1": line.collection}


def test_a_terminal_total_that_differs_is_flagged(
    hub: HubHarness, creds: Creds, paid: KioskSide
) -> None:
    _collect(paid, terminal_cents=13274 + 4425, terminal_count=2)
    hub.push(creds, paid.wire())
    [line] = finance.card_settlements(hub.ctx.db)
    assert line.agreed is False


def test_an_open_batch_has_no_settlement_yet(
    hub: HubHarness, creds: Creds, paid: KioskSide
) -> None:
    hub.push(creds, paid.wire())
    assert finance.card_settlements(hub.ctx.db) == []
