"""Cash or card. The card's convenience fee and total are on the button, before the choice.

A method that does not work now stays on screen, greyed and saying so in words, so the
resident knows it exists and why it can not be used.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot
from screens.base import KioskScreen
from screens.texts import Texts


class MethodScreen(KioskScreen):
    cash_label = StringProperty("")
    card_label = StringProperty("")
    cash_possible = BooleanProperty(True)
    card_possible = BooleanProperty(True)

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        _ = texts._
        amount = snapshot.amount
        shown = texts.money(amount) if amount is not None else ""
        self.title = _("How do you want to pay {amount}?").format(amount=shown)
        self.cash_possible = snapshot.cash_available
        self.card_possible = snapshot.card_available
        cash = _("Cash")
        detail = _("Bills only. No change is given; any extra is credited to your account.")
        if not snapshot.cash_available:
            detail = _("Not available now.")
        self.cash_label = f"{cash}\n[size={int(self._small())}]{detail}[/size]"
        card = _("Card")
        if snapshot.card_available and amount is not None:
            total = amount + snapshot.card_fee
            card_detail = _("Convenience fee {fee}. Total {total}.").format(
                fee=texts.money(snapshot.card_fee), total=texts.money(total)
            )
        else:
            card_detail = _("Not available now.")
        self.card_label = f"{card}\n[size={int(self._small())}]{card_detail}[/size]"

    def _small(self) -> float:
        from kivy.app import App
        from kivy.metrics import dp

        return float(dp(22) * App.get_running_app().text_scale)

    def choose(self, method: str) -> None:
        self.send(ui.ChooseMethod(method))

    def targets(self, event: object) -> list[Widget]:
        if isinstance(event, ui.ChooseMethod):
            return [self.ids[event.method]]
        return super().targets(event)
