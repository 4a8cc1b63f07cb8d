"""Find the account: scan the bill's barcode, or type the number on the keypad.

The digits typed stay on this screen until Find is pressed; a new session starts empty.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot
from screens.base import KioskScreen
from screens.texts import Texts
from screens.widgets import typed_with

MAX_DIGITS = 16


def grouped(digits: str) -> str:
    """``"100200302"`` -> ``"100 200 302"``: easier to check against the paper bill."""
    return " ".join(digits[i : i + 3] for i in range(0, len(digits), 3))


class FindAccountScreen(KioskScreen):
    typed = StringProperty("")
    shown_number = StringProperty("")
    prompt = StringProperty("")
    hint = StringProperty("")
    find_label = StringProperty("")
    pending = BooleanProperty(False)
    clear_label = StringProperty("")
    delete_label = StringProperty("")
    _session: str | None = None

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        _ = texts._
        if snapshot.session_id != self._session:
            self._session, self.typed = snapshot.session_id, ""
        self.title = _("Find your account")
        self.prompt = _("Scan the barcode on your bill, or type your account number.")
        self.pending = snapshot.lookup_pending
        self.hint = (
            _("Looking up your account...")
            if self.pending
            else _("The account number is printed at the top of your bill.")
        )
        self.find_label = _("Find my account")
        self.clear_label, self.delete_label = _("Clear"), _("Delete")
        self.shown_number = grouped(self.typed)

    def on_typed(self, _instance: object, typed: str) -> None:
        self.shown_number = grouped(typed)

    def key(self, key: str) -> None:
        self.typed = typed_with(self.typed, key, MAX_DIGITS)
        if key == "clear":
            self.dismiss_message()

    def find(self) -> None:
        if self.typed and not self.pending:
            self.send(ui.EnterAccount(self.typed))

    def targets(self, event: object) -> list[Widget]:
        if isinstance(event, ui.EnterAccount):
            keys = self.ids["keypad"].keys_for(event.number, clear_first=bool(self.typed))
            return [*keys, self.ids["find"]]
        return super().targets(event)
