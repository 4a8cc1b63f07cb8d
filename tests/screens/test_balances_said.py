"""How the screens say a balance: a credit as a credit, nothing due as nothing due, and the
credit a payment leaves, in both languages."""

from __future__ import annotations

from datetime import date

from kiosk.engine.snapshot import AccountView, Snapshot
from kiosk.engine.states import State
from kiosk.money import Money
from screens.confirm_account import balance_lines
from screens.receipt import credit_after
from screens.texts import Texts


def account(cents: int, source: str = "live", review: bool = False) -> AccountView:
    return AccountView(
        number_masked="•••••0302",
        name_masked="Maria G.",
        address_masked="12•• Oak St",
        balance=Money(cents),
        due_date=date(2026, 12, 5),
        usage=(),
        source=source,
        review=review,
    )


def test_a_balance_due_says_when() -> None:
    assert balance_lines(account(4317), Texts("en")) == (
        "Balance",
        "$43.17",
        "Due December 5, 2026",
    )


def test_a_credit_is_said_as_a_credit_without_a_minus_sign() -> None:
    label, amount, due = balance_lines(account(-183), Texts("en"))
    assert (label, amount, due) == ("Credit on your account", "$1.83", "Nothing is due.")
    label, amount, due = balance_lines(account(-183), Texts("es"))
    assert "-" not in amount and "1.83" in amount
    assert label == "Saldo a favor en su cuenta" and due == "No hay nada pendiente de pago."


def test_a_zero_balance_has_nothing_due() -> None:
    assert balance_lines(account(0), Texts("en"))[2] == "Nothing is due."


def test_the_credit_a_payment_leaves() -> None:
    def after(balance: int, paid: int, source: str = "live") -> Money | None:
        snapshot = Snapshot(State.RECEIPT, "en", account=account(balance, source))
        return credit_after(snapshot, Money(paid))

    assert after(4317, 4500) == Money(183)
    assert after(4317, 4317) is None
    assert after(4317, 2000) is None
    assert after(-183, 1000) == Money(1183)  # a credit grows
    assert after(4317, 4500, source="cache") == Money(183)
    assert after(0, 4500, source="manual") is None  # typed by hand: the balance is not known


def test_the_bill_by_service_and_the_last_payment_in_both_languages() -> None:
    from dataclasses import replace

    from kiosk.ports import Charge, LastPaid
    from screens.confirm_account import bill_lines

    billed = replace(
        account(4317),
        last_payment=LastPaid(Money(3890), date(2026, 11, 4)),
        charges=(
            Charge("Water", Money(2910)),
            Charge("Sewer", Money(1107)),
            Charge("Fire line", Money(300)),
        ),
    )
    assert bill_lines(billed, Texts("en")) == (
        "This bill: Water $29.10, Sewer $11.07, Fire line $3.00",
        "Last payment: $38.90 on November 4, 2026",
    )
    bill, paid = bill_lines(billed, Texts("es"))
    assert bill.startswith("Esta factura: Agua ") and "Alcantarillado" in bill
    assert "Fire line" in bill  # a service the kiosk has no word for: as the city names it
    assert paid.startswith("Último pago: ") and "noviembre" in paid
    assert bill_lines(account(4317), Texts("en")) == ("", "")  # the billing system said none
