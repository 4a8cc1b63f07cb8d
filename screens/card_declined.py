"""The card was not accepted: why, in plain words, and the ways to go on."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot
from screens import messages
from screens.base import KioskScreen
from screens.texts import Texts


class CardDeclinedScreen(KioskScreen):
    reason = StringProperty("")
    nothing_charged = StringProperty("")
    retry_label = StringProperty("")
    cash_label = StringProperty("")
    cash_possible = BooleanProperty(True)
    card_possible = BooleanProperty(True)

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        _ = texts._
        self.title = _("Card not accepted")
        self.message = ""  # the reason below says it all
        self.reason = messages.decline_reason(texts, snapshot.card_decline_reason)
        self.nothing_charged = _("Your card was not charged.")
        self.retry_label = _("Try a card again")
        self.cash_label = _("Pay with cash")
        self.cash_possible = snapshot.cash_available
        self.card_possible = snapshot.card_available

    def retry(self) -> None:
        self.send(ui.RetryCard())

    def pay_cash(self) -> None:
        self.send(ui.ChooseMethod("cash"))

    def targets(self, event: object) -> list[Widget]:
        if isinstance(event, ui.RetryCard):
            return [self.ids["retry"]]
        if isinstance(event, ui.ChooseMethod):
            return [self.ids["retry" if event.method == "card" else "cash"]]
        return super().targets(event)
