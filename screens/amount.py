"""How much: the balance in one touch, or another amount typed like on a cash machine.

Digits fill from the right as cents (2, 5, 0, 0 is $25.00), so there is no decimal point to
find. The limits are said before the resident types, not only after a refusal.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot
from kiosk.money import Money
from screens.base import KioskScreen
from screens.texts import Texts
from screens.widgets import typed_with

MAX_DIGITS = 7


class AmountScreen(KioskScreen):
    typed = StringProperty("")
    other = StringProperty("")
    full_label = StringProperty("")
    full_possible = BooleanProperty(False)
    other_title = StringProperty("")
    limits = StringProperty("")
    pay_other_label = StringProperty("")
    clear_label = StringProperty("")
    delete_label = StringProperty("")
    _session: str | None = None
    _full: Money = Money(0)
    _texts: Texts | None = None

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        _ = texts._
        self._texts = texts
        if snapshot.session_id != self._session:
            self._session, self.typed = snapshot.session_id, ""
        self.title = _("How much do you want to pay?")
        due = snapshot.bill_amount
        if due is None and snapshot.account is not None:
            due = snapshot.account.balance
        self._full = due if due is not None else Money(0)
        self.full_possible = self._full.cents > 0
        if self.full_possible:
            self.full_label = _("Pay the full balance: {amount}").format(
                amount=texts.money(self._full)
            )
        elif self._full.cents < 0:
            self.full_label = _("Nothing is due: you have a credit of {amount}").format(
                amount=texts.money(Money(-self._full.cents))
            )
        else:
            self.full_label = _("Nothing is due")
        self.other_title = _("Or type another amount")
        self.limits = _("This kiosk takes payments from {low} to {high}.").format(
            low=texts.money(snapshot.min_amount), high=texts.money(snapshot.max_amount)
        )
        self.pay_other_label = _("Pay this amount")
        self.clear_label, self.delete_label = _("Clear"), _("Delete")
        self.other = texts.money(self.typed_amount())

    def typed_amount(self) -> Money:
        return Money(int(self.typed or "0"))

    def on_typed(self, _instance: object, _typed: str) -> None:
        if self._texts is not None:
            self.other = self._texts.money(self.typed_amount())

    def key(self, key: str) -> None:
        self.typed = typed_with(self.typed, key, MAX_DIGITS, leading_zero=False)

    def pay_full(self) -> None:
        if self.full_possible:
            self.send(ui.ChooseAmount(self._full))

    def pay_other(self) -> None:
        if self.typed:
            self.send(ui.ChooseAmount(self.typed_amount()))

    def targets(self, event: object) -> list[Widget]:
        if isinstance(event, ui.ChooseAmount):
            if event.amount == self._full and self.full_possible:
                return [self.ids["full"]]
            cents = str(event.amount.cents)
            keys = self.ids["keypad"].keys_for(cents, clear_first=bool(self.typed))
            return [*keys, self.ids["pay_other"]]
        return super().targets(event)
