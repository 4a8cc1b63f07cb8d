"""Cash or card. The card's convenience fee and total are on the button, before the choice.

A method that does not work now stays on screen, greyed and saying so in words, so the
resident knows it exists and why it can not be used; a notice above the buttons says which
way is left, and that a confirmation number stands in for the receipt when the printer can
not print, before the resident pays rather than after.
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
    notice = StringProperty("")

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
        self.notice = "\n".join(self._notices(snapshot, texts))

    @staticmethod
    def _notices(snapshot: Snapshot, texts: Texts) -> list[str]:
        _ = texts._
        said = []
        if snapshot.cash_available and not snapshot.card_available:
            said.append(_("Card payments are not available right now; cash only."))
        elif snapshot.card_available and not snapshot.cash_available:
            amount = snapshot.amount
            if amount is not None and amount > snapshot.max_cash:
                said.append(
                    _("Cash is taken up to {limit}; this amount can be paid by card only.").format(
                        limit=texts.money(snapshot.max_cash)
                    )
                )
            else:
                said.append(_("Cash is not accepted right now; card only."))
        if not snapshot.printer_available:
            said.append(
                _(
                    "The receipt printer is not working: you will get a confirmation number "
                    "on screen instead of a paper receipt."
                )
            )
        return said

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
