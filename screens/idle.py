"""The attract screen: what this kiosk does, which ways to pay work now, and the language."""

from __future__ import annotations

from kivy.properties import StringProperty
from kivy.uix.widget import Widget

from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot
from screens.base import KioskScreen
from screens.texts import Texts


class IdleScreen(KioskScreen):
    headline = StringProperty("")
    subline = StringProperty("")
    cash_status = StringProperty("")
    card_status = StringProperty("")
    start_en = StringProperty("Start in English")
    start_es = StringProperty("Empezar en español")

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        _ = texts._
        self.headline = _("Pay your water bill here")
        self.subline = _("Scan the barcode on your bill, or type your account number.")
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
