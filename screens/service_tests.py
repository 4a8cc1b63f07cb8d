"""Tests: print a test page, read (and give back) a bill, scan a code, check the card reader.

Each test has its button and, beside it, what it showed: waiting for the technician (insert
a bill, scan something), running, passed or failed, with the detail (the bill read, the code
scanned, why the page did not print). A test never takes money: the bill goes back.
"""

from __future__ import annotations

from kivy.properties import ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot, TestResult
from screens import service_words as words
from screens.base import KioskScreen
from screens.texts import Texts
from screens.theme import PALETTE

STATUS_COLOURS = {
    "passed": (PALETTE.good, PALETTE.good_text),
    "failed": (PALETTE.danger, PALETTE.danger_text),
    "waiting": (PALETTE.notice, PALETTE.notice_text),
    "running": (PALETTE.notice, PALETTE.notice_text),
}


class TestResultBox(BoxLayout):
    """A test's result: its status on a coloured chip (a word, not the colour alone), and
    what it showed."""

    result = StringProperty("")
    detail = StringProperty("")
    chip = ListProperty(list(PALETTE.background))
    chip_ink = ListProperty(list(PALETTE.text))


class ServiceTestsScreen(KioskScreen):
    labels = ListProperty(["", "", "", ""])
    results = ListProperty(["", "", "", ""])
    details = ListProperty(["", "", "", ""])
    chips = ListProperty([list(PALETTE.background)] * 4)
    chip_inks = ListProperty([list(PALETTE.text)] * 4)
    hint = StringProperty("")

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        _ = texts._
        self.title = _("Tests")
        self.hint = _("Each test shows its result beside its button.")
        found = {t.test: t for t in snapshot.tests}
        labels, results, details, chips, inks = [], [], [], [], []
        for test in words.TEST_ORDER:
            labels.append(_(words.TESTS[test]))
            result = found.get(test, TestResult(test, ""))
            results.append(_(words.TEST_STATUS[result.status]) if result.status else "")
            details.append(words.result_text(texts, test, result.status, result.detail))
            fill, ink = STATUS_COLOURS.get(result.status, (PALETTE.background, PALETTE.text))
            chips.append(list(fill))
            inks.append(list(ink))
        self.labels, self.results, self.details = labels, results, details
        self.chips, self.chip_inks = chips, inks

    def run(self, index: int) -> None:
        self.send(ui.RunTest(words.TEST_ORDER[index]))

    def targets(self, event: object) -> list[Widget]:
        if isinstance(event, ui.RunTest) and event.test in words.TEST_ORDER:
            return [self.ids[f"test_{event.test}"]]
        return super().targets(event)
