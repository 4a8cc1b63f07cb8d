"""The demo's side panel: buttons that play the hardware's part (a bill, a card, a scan).

It is not part of the kiosk: the demo command builds it from the device emulators' own
controls and puts it beside the resident's screen, so a visitor can drive a whole payment
with the mouse. Each action runs a control and shows the emulator's answer underneath.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from screens.widgets import FixedLabel, KioskButton

log = logging.getLogger(__name__)
SHORT_LABEL = 11
"""A section whose labels are all this short ($20, Counterfeit) puts three to a row."""


@dataclass(frozen=True)
class DemoAction:
    section: str
    label: str
    run: Callable[[], object]


class DemoPanel(BoxLayout):
    said = StringProperty("")

    def __init__(self, actions: Sequence[DemoAction], **kwargs: object) -> None:
        super().__init__(**kwargs)
        sections: dict[str, list[DemoAction]] = {}
        for action in actions:
            sections.setdefault(action.section, []).append(action)
        for section, members in sections.items():
            self.ids["buttons"].add_widget(DemoHeading(text=section))
            short = all(len(a.label) <= SHORT_LABEL for a in members)
            grid = DemoGrid(cols=3 if short else 1)
            for action in members:
                button = DemoButton(text=action.label)
                button.bind(on_release=lambda _b, a=action: self.run(a))
                grid.add_widget(button)
            self.ids["buttons"].add_widget(grid)

    def run(self, action: DemoAction) -> None:
        try:
            answer = action.run()
        except Exception as exc:  # a demo control that can not run says so, the kiosk goes on
            log.warning("demo action %s failed: %s", action.label, exc)
            answer = f"{action.label}: {exc}"
        self.said = str(answer or action.label)


class DemoHeading(FixedLabel):
    pass


class DemoGrid(GridLayout):
    pass


class DemoButton(KioskButton):
    pass
