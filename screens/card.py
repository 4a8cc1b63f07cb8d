"""The card sale: the terminal's prompts, live, and what will be charged."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.engine.snapshot import Snapshot
from kiosk.money import Money
from screens import messages
from screens.base import KioskScreen
from screens.texts import Texts


class CardScreen(KioskScreen):
    prompt = StringProperty("")
    charge = StringProperty("")
    detail = StringProperty("")

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        _ = texts._
        self.title = _("Pay by card")
        self.prompt = messages.card_prompt(texts, snapshot.card_prompt)
        amount = snapshot.amount or Money(0)
        self.charge = _("Total {total}").format(total=texts.money(amount + snapshot.card_fee))
        self.detail = _("Payment {amount} + convenience fee {fee}").format(
            amount=texts.money(amount), fee=texts.money(snapshot.card_fee)
        )
