"""Device status: a row per device (its state in a word on a coloured chip, the reason, the
last fault, a few counters) and the hub link, with a button to push the journal now.

While the page is shown it asks the engine for fresh figures every two seconds
(:class:`~kiosk.engine.inputs.Refresh`), so a technician who opens the printer's cover sees
it here without touching anything. Those asks are not touches: an idle page still lets go.
"""

from __future__ import annotations

from datetime import UTC, datetime

from kivy.clock import Clock, ClockEvent
from kivy.properties import ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import DeviceView, Snapshot
from kiosk.ports import LinkStatus
from screens import service_words as words
from screens.base import KioskScreen
from screens.texts import Texts
from screens.theme import PALETTE

REFRESH_S = 2.0
CHIP_COLOURS = {
    "ok": (PALETTE.good, PALETTE.good_text),
    "degraded": (PALETTE.notice, PALETTE.notice_text),
    "fault": (PALETTE.danger, PALETTE.danger_text),
}


class DeviceRow(BoxLayout):
    """One device: name, state chip, and a line of details."""

    device = StringProperty("")
    state_word = StringProperty("")
    details = StringProperty("")
    chip = ListProperty(list(PALETTE.panel))
    chip_text = ListProperty(list(PALETTE.text))

    def draw(self, view: DeviceView, texts: Texts) -> None:
        _ = texts._
        self.device = words.device_name(texts, view.name)
        self.state_word = words.state_word(texts, view.state)
        fill, ink = CHIP_COLOURS.get(view.state, (PALETTE.panel, PALETTE.text))
        self.chip, self.chip_text = list(fill), list(ink)
        parts = []
        if view.reason:
            parts.append(words.reason(texts, view.reason))
        if view.last_fault:
            last = words.reason(texts, view.last_fault)
            parts.append(_("last fault: {reason}").format(reason=last))
        counts = words.counters(texts, view.name, view.counters)
        if counts:
            parts.append(counts)
        self.details = "\n".join(parts)


class ServiceStatusScreen(KioskScreen):
    hub_heading = StringProperty("")
    hub_text = StringProperty("")
    push_label = StringProperty("")
    _refresh: ClockEvent | None = None

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        _ = texts._
        self.title = _("Device status")
        self.hub_heading = _("Hub")
        self.hub_text = link_text(snapshot.link, texts)
        self.push_label = _("Send to the hub now")
        rows = self.ids["devices"]
        if len(rows.children) != len(snapshot.devices):
            rows.clear_widgets()
            for _view in snapshot.devices:
                rows.add_widget(DeviceRow())
        for row, view in zip(reversed(rows.children), snapshot.devices, strict=True):
            row.draw(view, texts)

    def on_enter(self, *_args: object) -> None:
        self._refresh = Clock.schedule_interval(self._ask_for_figures, REFRESH_S)

    def on_leave(self, *_args: object) -> None:
        if self._refresh is not None:
            self._refresh.cancel()
            self._refresh = None

    def _ask_for_figures(self, _dt: float) -> None:
        self.send(ui.Refresh())

    def push_now(self) -> None:
        self.send(ui.PushNow())

    def targets(self, event: object) -> list[Widget]:
        if isinstance(event, ui.PushNow):
            return [self.ids["push"]]
        return super().targets(event)


def link_text(link: LinkStatus | None, texts: Texts) -> str:
    """The hub link in a few lines: in touch or not, when it last answered, what waits."""
    _ = texts._
    if link is None or not link.enrolled:
        return _("This kiosk is not enrolled with a hub.")
    lines = [_("Enrolled, online") if link.online else _("Enrolled, offline")]
    if link.last_contact is not None:
        lines.append(_("Last contact: {ago}").format(ago=ago(link.last_contact, texts)))
    lines.append(_("Entries waiting to be sent: {count}").format(count=link.waiting))
    if link.problem:
        lines.append(_("Problem: {problem}").format(problem=link.problem))
    return "\n".join(lines)


def ago(when: datetime, texts: Texts, now: datetime | None = None) -> str:
    _ = texts._
    now = now or datetime.now(UTC)
    seconds = max(0, int((now - when).total_seconds()))
    if seconds < 120:
        return _("{count} s ago").format(count=seconds)
    if seconds < 2 * 3600:
        return _("{count} min ago").format(count=seconds // 60)
    return _("{count} h ago").format(count=seconds // 3600)
