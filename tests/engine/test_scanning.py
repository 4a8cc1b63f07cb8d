"""A scanned bill stub starts or continues the lookup; a code we can not read is never guessed."""

from __future__ import annotations

from kiosk.bill_stub import make_stub_code
from kiosk.engine.states import State
from kiosk.money import Money
from tests.engine.conftest import Harness
from tests.fakes import demo_account

GOOD = "100200302"  # Luhn-valid


def test_scanning_a_stub_on_the_idle_screen_finds_the_account(harness: Harness) -> None:
    harness.devices.directory.accounts[GOOD] = demo_account(GOOD)
    harness.devices.scanner.scan(make_stub_code(GOOD, Money(4317)))
    snap = harness.pump()
    assert harness.state is State.CONFIRM_ACCOUNT
    assert harness.devices.directory.requests == [GOOD]
    assert snap.bill_amount == Money(4317)


def test_a_code_that_is_not_a_stub_is_reported_not_looked_up(harness: Harness) -> None:
    harness.to_find_account()
    harness.devices.scanner.scan("HELLO-WORLD")
    snap = harness.pump()
    assert harness.state is State.FIND_ACCOUNT
    assert snap.message == "barcode_not_recognised"
    assert harness.devices.directory.requests == []


def test_a_bad_check_digit_is_refused(harness: Harness) -> None:
    harness.to_find_account()
    harness.devices.scanner.scan("100200301")
    snap = harness.pump()
    assert snap.message == "barcode_not_recognised"
    assert harness.devices.directory.requests == []
