"""How much: the amount due in one touch, a few round amounts, or another amount typed in
dollars.

Another amount is typed as it is written: dollars, then cents only after the decimal point
key (2, 0 is $20; 2, 0, ., 5 is $20.50), never filled from the cents as on some cash
machines. The limits are said before the resident types, and a refusal says them again.
Amounts are integer cents throughout: what was typed becomes cents by its digits alone.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot
from kiosk.money import Money
from screens.base import KioskScreen
from screens.texts import Texts

MAX_DOLLAR_DIGITS = 5
COMMON_AMOUNTS = (Money(2000), Money(5000), Money(10000))
"""Round amounts offered beside the amount due (those the kiosk's limits allow)."""


def typed_amount_with(typed: str, key: str) -> str:
    """What the amount field holds after ``key``: a digit, ".", delete ("back") or clear.

    At most one point and two digits after it; no leading zeros; a point typed first is
    "0."; dollars up to :data:`MAX_DOLLAR_DIGITS` digits.
    """
    if key == "back":
        return typed[:-1]
    if key == "clear":
        return ""
    dollars, point, cents = typed.partition(".")
    if key == ".":
        return typed if point else (typed or "0") + "."
    if not key.isdigit() or len(key) != 1:
        return typed
    if point:
        return typed if len(cents) >= 2 else typed + key
    if dollars == "0":
        return key
    if len(dollars) >= MAX_DOLLAR_DIGITS or (not dollars and key == "0"):
        return typed
    return typed + key


def cents_of(typed: str) -> Money:
    """``"20.5"`` -> ``Money(2050)``, from the digits alone (no float on the way)."""
    dollars, _point, cents = typed.partition(".")
    return Money(int(dollars or "0") * 100 + int((cents + "00")[:2]))


def typed_for(amount: Money) -> str:
    """The keys that type ``amount``: ``Money(4317)`` -> ``"43.17"``, ``Money(2000)`` ->
    ``"20"``."""
    dollars, cents = divmod(amount.cents, 100)
    return f"{dollars}.{cents:02d}" if cents else str(dollars)


def offered(full: Money, low: Money, high: Money) -> list[Money]:
    """The round amounts to offer: within the limits, and not the amount due again."""
    return [m for m in COMMON_AMOUNTS if low <= m <= high and m != full]


class AmountScreen(KioskScreen):
    typed = StringProperty("")
    other = StringProperty("")
    other_possible = BooleanProperty(False)
    full_label = StringProperty("")
    full_possible = BooleanProperty(False)
    common = ListProperty([])
    """The round amounts' labels, in the order of their buttons (``common0``...)."""
    limits = StringProperty("")
    pay_other_label = StringProperty("")
    delete_label = StringProperty("")
    _session: str | None = None
    _full: Money = Money(0)
    _common: tuple[Money, ...] = ()
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
            self.full_label = _("Pay the amount due: {amount}").format(
                amount=texts.money(self._full)
            )
        elif self._full.cents < 0:
            self.full_label = _("Nothing is due: you have a credit of {amount}").format(
                amount=texts.money(Money(-self._full.cents))
            )
        else:
            self.full_label = _("Nothing is due")
        self._common = tuple(offered(self._full, snapshot.min_amount, snapshot.max_amount))
        self.common = [texts.money(m) for m in self._common]
        self.limits = _(
            "Or type an amount in dollars. This kiosk takes payments from {low} to {high}."
        ).format(low=texts.money(snapshot.min_amount), high=texts.money(snapshot.max_amount))
        self.pay_other_label = _("Pay this amount")
        self.delete_label = _("Delete")
        self.other = self._shown(self.typed)

    def _shown(self, typed: str) -> str:
        return f"${typed}" if typed else "$ _"

    def typed_amount(self) -> Money:
        return cents_of(self.typed)

    def on_typed(self, _instance: object, typed: str) -> None:
        self.other = self._shown(typed)
        self.other_possible = cents_of(typed).cents > 0

    def key(self, key: str) -> None:
        before = self.typed
        self.typed = typed_amount_with(self.typed, key)
        if self.typed != before:
            self.dismiss_message()  # a refused amount is being changed

    def pay_full(self) -> None:
        if self.full_possible:
            self.send(ui.ChooseAmount(self._full))

    def pay_common(self, index: int) -> None:
        if index < len(self._common):
            self.send(ui.ChooseAmount(self._common[index]))

    def pay_other(self) -> None:
        if self.typed_amount().cents > 0:
            self.send(ui.ChooseAmount(self.typed_amount()))

    def targets(self, event: object) -> list[Widget]:
        if isinstance(event, ui.ChooseAmount):
            if event.amount == self._full and self.full_possible:
                return [self.ids["full"]]
            if event.amount in self._common:
                return [self.ids[f"common{self._common.index(event.amount)}"]]
            keys = self.ids["keypad"].keys_for(
                typed_for(event.amount), clear_first=bool(self.typed), typed=len(self.typed)
            )
            return [*keys, self.ids["pay_other"]]
        return super().targets(event)
