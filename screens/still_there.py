"""Are you still there? A countdown, and one large button to carry on."""

from __future__ import annotations

import time
from typing import Any

from kivy.clock import Clock
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

    _deadline: float | None = None
    _texts: Texts | None = None
    _money_in = False
    _ticking: Any = None

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        _ = texts._
        self.title = _("Are you still there?")
        self.question = _("Touch the screen to keep going.")
        self.here_label = _("Yes, I am here")
        self._texts, self._money_in = texts, snapshot.inserted.cents > 0
        left = snapshot.seconds_left
        self._deadline = None if left is None else time.monotonic() + left
        self._count_down()
        if self._ticking is None:
            self._ticking = Clock.schedule_interval(self._count_down, 0.5)

    def on_leave(self, *_args: object) -> None:
        if self._ticking is not None:
            self._ticking.cancel()
            self._ticking = None

    def _count_down(self, *_args: object) -> None:
        """The engine says how long is left when it asks; the screen counts it down."""
        texts = self._texts
        if texts is None:
            return
        _ = texts._
        seconds = None
        if self._deadline is not None:
            seconds = max(0, round(self._deadline - time.monotonic()))
        if seconds is None:
            self.countdown = ""
        elif self._money_in:
            self.countdown = _(
                "In {seconds} seconds your payment will be finished with the money inserted."
            ).format(seconds=seconds)
        else:
            self.countdown = _("In {seconds} seconds the kiosk will start over.").format(
                seconds=seconds
            )

    def here(self) -> None:
        self.send(ui.Touch())

    def targets(self, event: object) -> list[Widget]:
        if isinstance(event, ui.Touch):
            return [self.ids["here"]]
        return super().targets(event)
