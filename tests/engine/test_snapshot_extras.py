"""What a snapshot carries for the screens beyond the payment: whether the bill is past due
(by the kiosk's own calendar), the city's customer service, and the link the QR code holds."""

from __future__ import annotations

from datetime import UTC, datetime

from kiosk.config import Contact, KioskConfig, Receipt
from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import ContactView
from kiosk.engine.states import State
from tests.engine.conftest import Harness, MakeHarness


def at(harness: Harness, when: datetime) -> None:
    harness.clock.advance((when - harness.clock.now()).total_seconds())


def test_past_due_by_the_kiosks_local_day(harness: Harness) -> None:
    # the demo bill is due November 20; the kiosk is in Chicago (UTC-6 in November)
    at(harness, datetime(2026, 11, 21, 5, 59, tzinfo=UTC))  # still the 20th in Chicago
    harness.to_confirm()
    account = harness.engine.snapshot.account
    assert account is not None and not account.past_due
    harness.send(ui.Cancel())
    at(harness, datetime(2026, 11, 21, 6, 0, tzinfo=UTC))  # the 21st in Chicago
    harness.to_confirm()
    account = harness.engine.snapshot.account
    assert account is not None and account.past_due


def test_contact_and_confirmation_link(make_harness: MakeHarness) -> None:
    config = KioskConfig(
        contact=Contact(phone="(555) 010-0100", web="city.example.gov"),
        receipt=Receipt(lookup_url="https://pay.example.gov/lookup?c={confirmation}"),
    )
    harness = make_harness(config)
    assert harness.engine.snapshot.contact == ContactView(
        phone="(555) 010-0100", address="", web="city.example.gov"
    )
    harness.to_cash("45.00")
    for dollars in (20, 20, 5):
        harness.acceptor.insert(dollars)
        harness.pump()
    snapshot = harness.engine.snapshot
    assert snapshot.state is State.RECEIPT and snapshot.confirmation
    assert snapshot.confirmation_link == (
        f"https://pay.example.gov/lookup?c={snapshot.confirmation}"
    )
