"""Paper replaced: the receipts that could not be printed, to print again.

After a new roll goes in, the technician sees the payments whose receipt failed (newest
first), touches the ones to print (a check mark and a change of colour say which are
chosen) and prints them; each then says whether it came out. The resident is long gone, but
the receipt is kept for them, and the journal shows it was printed.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot, UnprintedReceipt
from screens.base import KioskScreen
from screens.texts import Texts
from screens.widgets import KioskButton

SHOWN = 6
"""Receipts on the page at once (the engine offers up to ten; the rest wait their turn)."""
CHECK = "\u2713"


class ReceiptChoice(KioskButton):
    confirmation = StringProperty("")


class ServicePaperScreen(KioskScreen):
    intro = StringProperty("")
    print_label = StringProperty("")
    any_selected = BooleanProperty(False)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.selected: set[str] = set()
        self._shown: tuple[UnprintedReceipt, ...] = ()
        self._texts: Texts | None = None

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        _ = texts._
        self.title = _("Paper replaced")
        listed = snapshot.unprinted[:SHOWN]
        if not listed:
            self.intro = _("Every receipt was printed. Nothing to print again.")
        else:
            self.intro = _("These receipts could not be printed. Touch the ones to print.")
        self.print_label = _("Print selected")
        self._texts, self._shown = texts, listed
        self.selected &= {r.confirmation for r in listed}
        self._draw_choices()

    def on_pre_leave(self, *_args: object) -> None:
        self.selected.clear()

    def _draw_choices(self) -> None:
        assert self._texts is not None
        grid = self.ids["choices"]
        if [c.confirmation for c in reversed(grid.children)] != [
            r.confirmation for r in self._shown
        ]:
            grid.clear_widgets()
            for receipt in self._shown:
                choice = ReceiptChoice(confirmation=receipt.confirmation)
                choice.bind(on_release=self._toggle)
                grid.add_widget(choice)
        for choice, receipt in zip(reversed(grid.children), self._shown, strict=True):
            chosen = receipt.confirmation in self.selected
            choice.kind = "primary" if chosen else "secondary"
            choice.text = choice_text(receipt, chosen, self._texts)
        self.any_selected = bool(self.selected)

    def _toggle(self, choice: ReceiptChoice) -> None:
        self.selected ^= {choice.confirmation}
        self._draw_choices()

    def print_selected(self) -> None:
        if self.selected:
            chosen = tuple(r.confirmation for r in self._shown if r.confirmation in self.selected)
            self.selected.clear()
            self._draw_choices()
            self.send(ui.Reprint(chosen))

    def targets(self, event: object) -> list[Widget]:
        if isinstance(event, ui.Reprint):
            wanted = set(event.confirmations)
            touch = [
                c
                for c in reversed(self.ids["choices"].children)
                if (c.confirmation in wanted) != (c.confirmation in self.selected)
            ]
            return [*touch, self.ids["print"]]
        return super().targets(event)


def choice_text(receipt: UnprintedReceipt, chosen: bool, texts: Texts) -> str:
    """``"✓ ABCD-EFGH-J"`` over ``"December 7, 2026 14:02 · $45.00 · Printed"``."""
    _ = texts._
    when = f"{texts.day(receipt.paid_at_local.date())} {receipt.paid_at_local:%H:%M}"
    parts = [when, texts.money(receipt.amount)]
    state = {
        "printing": _("Printing..."),
        "printed": _("Printed"),
        "failed": _("Not printed"),
    }.get(receipt.print_state)
    if state:
        parts.append(state)
    mark = f"[font=DejaVuSans]{CHECK}[/font] " if chosen else ""
    return f"{mark}{receipt.confirmation}\n" + " · ".join(parts)
