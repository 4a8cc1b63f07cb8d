"""The technician's PIN, after the hidden press or a scanned badge.

The digits stay on this screen (shown as dots, never as digits) until Enter sends them; they
are gone as soon as they are sent, so a wrong PIN is typed again from the start. What the
engine answers is shown above the keypad: checking, wrong (with the tries left), or locked
until a time.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.widget import Widget

from contract.pins import MAX_PIN_DIGITS, MIN_PIN_DIGITS
from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot
from screens import service_words as words
from screens.base import KioskScreen
from screens.texts import Texts
from screens.widgets import typed_with

DOT = "\u25cf"


class ServicePinScreen(KioskScreen):
    typed = StringProperty("")
    dots = StringProperty("")
    prompt = StringProperty("")
    enter_label = StringProperty("")
    clear_label = StringProperty("")
    delete_label = StringProperty("")
    open_for_pin = BooleanProperty(True)

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        _ = texts._
        self.title = _("Service mode")
        self.prompt = _("Enter your technician PIN.")
        self.enter_label = _("Enter")
        self.clear_label, self.delete_label = _("Clear"), _("Delete")
        self.message = pin_message(snapshot, texts)
        key = snapshot.service_message
        self.open_for_pin = key not in ("checking", "locked")

    def on_typed(self, _instance: object, typed: str) -> None:
        self.dots = " ".join(DOT * len(typed))

    def on_pre_leave(self, *_args: object) -> None:
        self.typed = ""

    def key(self, key: str) -> None:
        self.typed = typed_with(self.typed, key, MAX_PIN_DIGITS)

    def enter(self) -> None:
        if len(self.typed) >= MIN_PIN_DIGITS and self.open_for_pin:
            pin, self.typed = self.typed, ""
            self.send(ui.EnterPin(pin))

    def targets(self, event: object) -> list[Widget]:
        if isinstance(event, ui.EnterPin):
            keys = self.ids["keypad"].keys_for(event.pin, clear_first=bool(self.typed))
            return [*keys, self.ids["enter"]]
        return super().targets(event)


def pin_message(snapshot: Snapshot, texts: Texts) -> str:
    """What the engine said about the PIN, with the tries left or the time the lock ends."""
    _ = texts._
    key = snapshot.service_message
    if snapshot.locked_until is not None:
        return _("Too many wrong PINs. Service mode is locked until {time}.").format(
            time=snapshot.locked_until.strftime("%H:%M")
        )
    if key == "wrong_pin" and snapshot.pin_attempts_left is not None:
        return _("Wrong PIN. {count} tries left before service mode locks.").format(
            count=snapshot.pin_attempts_left
        )
    return words.service_message(texts, key) if key else ""
