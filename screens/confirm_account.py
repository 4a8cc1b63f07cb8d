"""Is this your account? Masked name and address, balance, due date (flagged when it has
passed), the bill by service and the last payment when the billing system gives them, a
year of water use.

The bar chart is there so a resident surprised by a high bill can see the month it came from
before paying it.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import AccountView, Snapshot
from kiosk.money import Money
from screens.base import KioskScreen
from screens.texts import N_, Texts


class ConfirmAccountScreen(KioskScreen):
    number = StringProperty("")
    holder = StringProperty("")
    address = StringProperty("")
    balance_label = StringProperty("")
    balance = StringProperty("")
    due = StringProperty("")
    past_due = BooleanProperty(False)
    bill = StringProperty("")
    last_paid = StringProperty("")
    note = StringProperty("")
    usage_title = StringProperty("")
    usage = ListProperty([])
    has_usage = BooleanProperty(False)
    yes_label = StringProperty("")
    no_label = StringProperty("")

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        _ = texts._
        self.title = _("Is this your account?")
        self.yes_label = _("Yes, this is my account")
        self.no_label = _("No, go back")
        account = snapshot.account
        if account is None:
            return
        self.number = _("Account {number}").format(number=account.number_masked)
        self.holder = account.name_masked
        self.address = account.address_masked
        self.balance_label, self.balance, self.due = balance_lines(account, texts)
        self.past_due = account.past_due and account.balance.cents > 0
        self.bill, self.last_paid = bill_lines(account, texts)
        if account.review:
            self.note = _("Entered by hand: the city will confirm this account before posting.")
        elif account.source != "live":
            self.note = _(
                "Shown from the kiosk's last update; the balance may not include recent payments."
            )
        else:
            self.note = ""
        self.usage_title = _("Water use, last 12 months (gallons)")
        self.usage = [(texts.month(m.month), m.gallons) for m in account.usage[-12:]]
        self.has_usage = bool(self.usage)

    def confirm(self) -> None:
        self.send(ui.ConfirmAccount())

    def targets(self, event: object) -> list[Widget]:
        if isinstance(event, ui.ConfirmAccount):
            return [self.ids["yes"]]
        return super().targets(event)


def balance_lines(account: AccountView, texts: Texts) -> tuple[str, str, str]:
    """Label, amount and due line: a credit is said as a credit (never a minus sign), and
    nothing is said to be due when nothing is."""
    _ = texts._
    cents = account.balance.cents
    if cents < 0:
        return _("Credit on your account"), texts.money(Money(-cents)), _("Nothing is due.")
    if cents == 0:
        return _("Balance"), texts.money(account.balance), _("Nothing is due.")
    if account.due_date is None:
        return _("Balance"), texts.money(account.balance), ""
    day = texts.day(account.due_date)
    if account.past_due:
        return (
            _("Balance"),
            texts.money(account.balance),
            _("Past due: it was due {date}.").format(date=day),
        )
    return _("Balance"), texts.money(account.balance), _("Due {date}").format(date=day)


#: services billing systems commonly name, said in the resident's language; any other name
#: is shown as the billing system gives it
COMMON_SERVICES = (N_("Water"), N_("Sewer"), N_("Trash"), N_("Stormwater"), N_("Recycling"))


def bill_lines(account: AccountView, texts: Texts) -> tuple[str, str]:
    """The current bill by service and the last payment, each "" when the billing system
    does not say: a resident who did not expect the amount sees where it comes from, and
    whether a payment already made elsewhere is in it."""
    _ = texts._
    bill = ""
    if account.charges:
        parts = ", ".join(f"{_(c.service)} {texts.money(c.amount)}" for c in account.charges)
        bill = _("This bill: {parts}").format(parts=parts)
    paid = ""
    if account.last_payment is not None:
        paid = _("Last payment: {amount} on {date}").format(
            amount=texts.money(account.last_payment.amount),
            date=texts.day(account.last_payment.paid_on),
        )
    return bill, paid
