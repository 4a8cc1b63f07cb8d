"""Are you still there? A countdown, and one large button to carry on."""

from __future__ import annotations

from kivy.properties import StringProperty
from kivy.uix.widget import Widget

from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot
from screens.base import KioskScreen
from screens.texts import Texts


class StillThereScreen(KioskScreen):
    question = StringProperty("")
    countdown = StringProperty("")
    here_label = StringProperty("")

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        _ = texts._
        self.title = _("Are you still there?")
        self.question = _("Touch the screen to keep going.")
        seconds = snapshot.seconds_left
        money_in = snapshot.inserted.cents > 0
        if seconds is None:
            self.countdown = ""
        elif money_in:
            self.countdown = _(
                "In {seconds} seconds your payment will be finished with the money inserted."
            ).format(seconds=seconds)
        else:
            self.countdown = _("In {seconds} seconds the kiosk will start over.").format(
                seconds=seconds
            )
        self.here_label = _("Yes, I am here")

    def here(self) -> None:
        self.send(ui.Touch())

    def targets(self, event: object) -> list[Widget]:
        if isinstance(event, ui.Touch):
            return [self.ids["here"]]
        return super().targets(event)
