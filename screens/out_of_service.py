"""Out of service: an apology and where else to pay. The technical reason is for the
technician (``kiosk doctor``, service mode), not for the resident."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.engine.snapshot import Snapshot
from screens.base import KioskScreen
from screens.texts import Texts


class OutOfServiceScreen(KioskScreen):
    sorry = StringProperty("")
    elsewhere = StringProperty("")

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        _ = texts._
        self.title = ""
        self.message = ""
        self.sorry = _("Sorry, this kiosk is out of service.")
        self.elsewhere = _(
            "Please use another kiosk, pay online, or call customer service. We are working on it."
        )
