"""What the screens say where a resident stumbled: a past-due bill, what a card payment put on
the account and what it charged, the limits a refused amount broke, and where to call."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from kiosk.engine.snapshot import AccountView, ContactView, Snapshot
from kiosk.engine.states import State
from kiosk.money import Money
from screens import messages
from screens.confirm_account import balance_lines
from screens.out_of_service import contact_lines
from screens.receipt import paid_lines
from screens.texts import Texts

CONTACT = ContactView(phone="(555) 010-0100", address="City Hall", web="city.example.gov")


def account(past_due: bool) -> AccountView:
    return AccountView(
        number_masked="•••••0302",
        name_masked="Maria G.",
        address_masked="12•• Oak St",
        balance=Money(4317),
        due_date=date(2026, 12, 5),
        usage=(),
        source="live",
        review=False,
        past_due=past_due,
    )


def test_a_past_due_bill_says_so() -> None:
    assert balance_lines(account(True), Texts("en"))[2] == (
        "Past due: it was due December 5, 2026."
    )
    assert balance_lines(account(False), Texts("en"))[2] == "Due December 5, 2026"
    said = balance_lines(account(True), Texts("es"))[2]
    assert said.startswith("Pago atrasado") and "diciembre" in said


def receipt(method: str, amount: int, fee: int) -> Snapshot:
    return Snapshot(State.RECEIPT, "en", method=method, amount=Money(amount), card_fee=Money(fee))


def test_a_card_payment_says_what_was_credited_and_what_was_charged() -> None:
    credited, charged = paid_lines(receipt("card", 2875, 100), Texts("en"))
    assert credited == "Credited to your account: $28.75"
    assert charged == "Charged to your card: $29.75, including a $1.00 card fee."
    credited, charged = paid_lines(receipt("card", 2875, 100), Texts("es"))
    assert "$28.75" in credited and "$29.75" in charged and "$1.00" in charged


def test_a_card_payment_without_a_fee_and_a_cash_payment() -> None:
    assert paid_lines(receipt("card", 2875, 0), Texts("en"))[1] == ("Charged to your card: $28.75.")
    assert paid_lines(receipt("cash", 4500, 0), Texts("en")) == (
        "Credited to your account: $45.00",
        "",
    )


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_refused_amount_says_the_limit(language: str) -> None:
    snapshot = Snapshot(State.AMOUNT, language, min_amount=Money(100), max_amount=Money(200_000))
    assert "$1.00" in messages.message(Texts(language), "amount_too_low", snapshot)
    assert "$2,000.00" in messages.message(Texts(language), "amount_too_high", snapshot)


def test_a_closed_account_gives_the_citys_number_when_there_is_one() -> None:
    without = Snapshot(State.FIND_ACCOUNT, "en")
    with_phone = replace(without, contact=CONTACT)
    assert messages.message(Texts("en"), "account_closed", without) == (
        "That account is closed. Please call customer service."
    )
    assert messages.message(Texts("en"), "account_closed", with_phone).endswith(
        "customer service at (555) 010-0100."
    )
    assert "(555) 010-0100" in messages.message(Texts("es"), "account_closed", with_phone)


def test_out_of_service_says_where_else_to_pay() -> None:
    snapshot = Snapshot(State.OUT_OF_SERVICE, "en", contact=CONTACT)
    assert contact_lines(snapshot, Texts("en")) == [
        "Customer service: (555) 010-0100",
        "Pay online: city.example.gov",
        "Pay in person: City Hall",
    ]
    assert contact_lines(replace(snapshot, contact=ContactView()), Texts("en")) == []
    spanish = contact_lines(snapshot, Texts("es"))
    assert spanish[0] == "Servicio al cliente: (555) 010-0100"
