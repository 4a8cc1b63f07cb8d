"""The attract screen: what this kiosk does, which ways to pay work now, and the language.

When the printer can not print, the third step says so before anyone starts: the proof of
payment is then the confirmation number on the last screen, and a resident who needs paper
can come back later rather than find out after paying.
"""

from __future__ import annotations

from kivy.properties import StringProperty
from kivy.uix.widget import Widget

from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot
from screens.base import KioskScreen
from screens.texts import Texts


class IdleScreen(KioskScreen):
    headline = StringProperty("")
    cash_status = StringProperty("")
    card_status = StringProperty("")
    start_en = StringProperty("Start in English")
    start_es = StringProperty("Empezar en español")
    step_find = StringProperty("")
    step_find_detail = StringProperty("")
    step_pay = StringProperty("")
    step_pay_detail = StringProperty("")
    step_receipt = StringProperty("")
    step_receipt_detail = StringProperty("")

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        _ = texts._
        self.headline = _("Pay your water bill here")
        self.step_find = _("Find your bill")
        self.step_find_detail = _("Scan its barcode or type the account number.")
        self.step_pay = _("Pay with cash or card")
        self.step_pay_detail = _("Bills or a bank card. No change is given.")
        if snapshot.printer_available:
            self.step_receipt = _("Take your receipt")
            self.step_receipt_detail = _("Keep it as your proof of payment.")
        else:
            self.step_receipt = _("Note your confirmation number")
            self.step_receipt_detail = _(
                "No paper receipt now: a confirmation number is shown instead."
            )
        self.cash_status = (
            _("Cash: available") if snapshot.cash_available else _("Cash: not available now")
        )
        self.card_status = (
            _("Card: available") if snapshot.card_available else _("Card: not available now")
        )

    def start(self, language: str) -> None:
        self.send(ui.Start(language))

    def targets(self, event: object) -> list[Widget]:
        if isinstance(event, ui.Start):
            return [self.ids["start_es" if event.language == "es" else "start_en"]]
        return super().targets(event)
