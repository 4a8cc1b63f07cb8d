"""Insert bills: what is due, what is in, what is left, and that no change is given.

Done finishes with what was inserted (the money can not be handed back once stacked); before
any bill is in, Back returns to the choice of method.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot
from kiosk.money import Money
from screens.base import KioskScreen
from screens.texts import Texts


class CashScreen(KioskScreen):
    due_label = StringProperty("")
    due = StringProperty("")
    inserted_label = StringProperty("")
    inserted = StringProperty("")
    remaining = StringProperty("")
    no_change = StringProperty("")
    accepted = StringProperty("")
    done_label = StringProperty("")
    money_in = BooleanProperty(False)
    busy = BooleanProperty(False)

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        _ = texts._
        self.title = _("Insert your bills")
        amount = snapshot.amount or Money(0)
        self.due_label, self.due = _("Amount to pay"), texts.money(amount)
        self.inserted_label, self.inserted = _("Inserted"), texts.money(snapshot.inserted)
        left = amount - snapshot.inserted
        if left.cents > 0:
            self.remaining = _("Still to pay: {amount}").format(amount=texts.money(left))
        elif left.cents < 0:
            extra = Money(-left.cents)
            self.remaining = _("{amount} extra will be credited to your account.").format(
                amount=texts.money(extra)
            )
        else:
            self.remaining = _("Paid in full.")
        self.no_change = _("No change is given; any extra is credited to your account.")
        self.accepted = _("Accepted: {bills} bills, one at a time.").format(
            bills=texts.bills(snapshot.accepted_bills)
        )
        self.money_in = snapshot.inserted.cents > 0
        self.busy = snapshot.bill_in_escrow
        self.done_label = (
            _("Done: pay {amount}").format(amount=texts.money(snapshot.inserted))
            if self.money_in
            else _("Pay another way")
        )

    def done(self) -> None:
        self.send(ui.FinishCash())

    def targets(self, event: object) -> list[Widget]:
        if isinstance(event, ui.FinishCash):
            return [self.ids["done"]]
        return super().targets(event)
