"""What every screen of the resident's flow has in common.

A screen draws one engine snapshot (:meth:`KioskScreen.show`) and turns touches into engine
inputs (:meth:`KioskScreen.send`); it never changes payment state, and it never picks the next
screen: the app routes by the snapshot's state. Keys a resident types (an account number, an
amount) stay on the screen until they are sent.

:meth:`KioskScreen.targets` names the widgets a resident would touch to say a given input; the
scripted demo and the UI tests press exactly those, through the window.
"""

from __future__ import annotations

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot
from screens import messages
from screens.texts import Texts


class KioskScreen(Screen):
    title = StringProperty("")
    message = StringProperty("")
    cancel_label = StringProperty("")
    back_label = StringProperty("")

    _message_key = ""
    _dismissed = ""

    def show(self, snapshot: Snapshot, texts: Texts) -> None:
        if snapshot.message != self._dismissed:
            self._dismissed = ""  # a new message (or none): the next one is shown again
        self._message_key = snapshot.message
        shown = "" if snapshot.message == self._dismissed else snapshot.message
        self.message = messages.message(texts, shown, snapshot)
        self.cancel_label = texts._("Cancel")
        self.back_label = texts._("Back")
        self.render(snapshot, texts)

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        raise NotImplementedError

    def dismiss_message(self) -> None:
        """The resident has dealt with the message (cleared what they typed): it goes, and
        stays gone until the engine says something else."""
        self._dismissed = self._message_key
        self.message = ""

    def send(self, event: object) -> None:
        App.get_running_app().send(event)

    def cancel(self) -> None:
        self.send(ui.Cancel())

    def back(self) -> None:
        self.send(ui.Back())

    def enter_service(self) -> None:
        """The hidden corner was held (only the idle and out-of-service screens have one)."""
        self.send(ui.EnterService())

    def targets(self, event: object) -> list[Widget]:
        """The widgets to touch, in order, to give the engine ``event`` from this screen."""
        if isinstance(event, ui.Cancel) and "cancel" in self.ids:
            return [self.ids["cancel"]]
        if isinstance(event, ui.Back) and "back" in self.ids:
            return [self.ids["back"]]
        if isinstance(event, ui.EnterService) and "service_corner" in self.ids:
            return [self.ids["service_corner"]]
        if isinstance(event, ui.SetLanguage) and "top" in self.ids:
            return [self.ids["top"].ids["language"]]
        return []
