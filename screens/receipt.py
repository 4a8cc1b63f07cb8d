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
    charged = StringProperty("")
    qr_data = StringProperty("")
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
        self.paid, self.charged = paid_lines(snapshot, texts)
        credit = credit_after(snapshot, paid)
        self.credit_note = (
            _("Your account now has a credit of {amount}.").format(amount=texts.money(credit))
            if credit is not None
            else ""
        )
        self.confirmation_label = _("Confirmation number")
        self.confirmation = snapshot.confirmation or ""
        self.qr_data = snapshot.confirmation_link or self.confirmation
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


def paid_lines(snapshot: Snapshot, texts: Texts) -> tuple[str, str]:
    """What reached the account, and what the card was charged for it (the fee included),
    so a resident who paid by card sees both sums their bank statement and bill will show."""
    _ = texts._
    paid = snapshot.amount or Money(0)
    credited = _("Credited to your account: {amount}").format(amount=texts.money(paid))
    if snapshot.method != "card":
        return credited, ""
    total = texts.money(paid + snapshot.card_fee)
    if snapshot.card_fee.cents > 0:
        charged = _("Charged to your card: {total}, including a {fee} card fee.").format(
            total=total, fee=texts.money(snapshot.card_fee)
        )
    else:
        charged = _("Charged to your card: {total}.").format(total=total)
    return credited, charged


def credit_after(snapshot: Snapshot, paid: Money) -> Money | None:
    """The credit the payment leaves on a known balance; None if it leaves none or the
    balance is not known (an account typed in by hand)."""
    account = snapshot.account
    if account is None or account.review or account.source == "manual":
        return None
    left = account.balance - paid
    return Money(-left.cents) if left.cents < 0 else None
