"""Thank you: the confirmation number, a QR code of it, and whether the receipt printed.

If the printer could not print, the confirmation number and its QR code on this screen are
the resident's proof of payment, and the screen says so.
"""

from __future__ import annotations

from kivy.properties import StringProperty
from kivy.uix.widget import Widget

from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot
from kiosk.money import Money
from screens.base import KioskScreen
from screens.texts import Texts


class ReceiptScreen(KioskScreen):
    paid = StringProperty("")
    confirmation_label = StringProperty("")
    confirmation = StringProperty("")
    receipt_note = StringProperty("")
    credit_note = StringProperty("")
    offline_note = StringProperty("")
    done_label = StringProperty("")

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        _ = texts._
        self.title = _("Thank you! Your payment is received.")
        paid = snapshot.amount or Money(0)
        self.paid = _("Paid {amount}").format(amount=texts.money(paid))
        credit = credit_after(snapshot, paid)
        self.credit_note = (
            _("Your account now has a credit of {amount}.").format(amount=texts.money(credit))
            if credit is not None
            else ""
        )
        self.confirmation_label = _("Confirmation number")
        self.confirmation = snapshot.confirmation or ""
        if snapshot.receipt == "printed":
            self.receipt_note = _("Please take your receipt below.")
        elif snapshot.receipt == "failed":
            self.receipt_note = _(
                "Receipt unavailable. Please write down the confirmation number or scan the code."
            )
        else:
            self.receipt_note = _("Printing your receipt...")
        self.offline_note = (
            _("The kiosk is offline: your payment will be posted when it reconnects.")
            if snapshot.offline
            else ""
        )
        self.done_label = _("Done")

    def done(self) -> None:
        self.send(ui.Finish())

    def targets(self, event: object) -> list[Widget]:
        if isinstance(event, ui.Finish):
            return [self.ids["done"]]
        return super().targets(event)


def credit_after(snapshot: Snapshot, paid: Money) -> Money | None:
    """The credit the payment leaves on a known balance; None if it leaves none or the
    balance is not known (an account typed in by hand)."""
    account = snapshot.account
    if account is None or account.review or account.source == "manual":
        return None
    left = account.balance - paid
    return Money(-left.cents) if left.cents < 0 else None
