"""The technician's menu: who is in, the pages, the out-of-service switch, and the way out.

Taking the kiosk out of service needs a reason, picked with one touch from a short list
(nobody types on a kiosk in the sun); the English words are what the journal keeps. While the
kiosk is held out, the same place offers to put it back.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot
from screens import service_words as words
from screens.base import KioskScreen
from screens.texts import Texts

REASON_IDS = ("reason_maintenance", "reason_box_full", "reason_printer", "reason_card_reader")
# the menu's buttons (by id) and what each one tells the engine
PAGES: dict[str, type] = {
    "devices": ui.ShowDeviceStatus,
    "tests": ui.ShowTests,
    "paper": ui.ShowPaper,
    "collect": ui.StartCollection,
    "slip": ui.ReprintSlip,
    "leave": ui.LeaveService,
    "in_service": ui.SetInService,
}


class ServiceMenuScreen(KioskScreen):
    who = StringProperty("")
    status_label = StringProperty("")
    devices_label = StringProperty("")
    tests_label = StringProperty("")
    paper_label = StringProperty("")
    collect_label = StringProperty("")
    slip_label = StringProperty("")
    leave_label = StringProperty("")
    in_service_label = StringProperty("")
    held_out = BooleanProperty(False)
    slip_available = BooleanProperty(False)
    reason_0 = StringProperty("")
    reason_1 = StringProperty("")
    reason_2 = StringProperty("")
    reason_3 = StringProperty("")

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        _ = texts._
        self.title = _("Service mode")
        self.who = _("Signed in: {name}").format(name=snapshot.technician)
        self.held_out = bool(snapshot.out_of_service_reason)
        if self.held_out:
            self.status_label = _("Out of service: {reason}").format(
                reason=words.out_of_service_reason(texts, snapshot.out_of_service_reason)
            )
        else:
            self.status_label = _("In service. To take it out of service, pick why:")
        self.devices_label = _("Device status")
        self.tests_label = _("Tests")
        self.paper_label = _("Paper replaced")
        self.collect_label = _("Collect the cash box")
        self.slip_available = snapshot.last_slip is not None
        self.slip_label = (
            _("Print collection slip {number} again").format(number=snapshot.last_slip)
            if snapshot.last_slip is not None
            else ""
        )
        self.leave_label = _("Leave service mode")
        self.in_service_label = _("Put back in service")
        reasons = [_(r) for r in words.OUT_OF_SERVICE_REASONS]
        self.reason_0, self.reason_1, self.reason_2, self.reason_3 = reasons

    def press(self, button: str) -> None:
        self.send(PAGES[button]())

    def take_out(self, index: int) -> None:
        self.send(ui.SetOutOfService(words.OUT_OF_SERVICE_REASONS[index]))

    def targets(self, event: object) -> list[Widget]:
        for button, kind in PAGES.items():
            if type(event) is kind:
                return [self.ids[button]]
        if isinstance(event, ui.SetOutOfService) and event.reason in words.OUT_OF_SERVICE_REASONS:
            return [self.ids[REASON_IDS[words.OUT_OF_SERVICE_REASONS.index(event.reason)]]]
        return super().targets(event)
