"""Collect the cash box, step by step: box out, bag or seal number, empty box in, then the
kiosk closes the batch and prints the slip.

The steps are listed on the left, the one under way marked; the right side shows what to do
now. The acceptor normally reports the box going and coming; the buttons "The box is out" and
"The empty box is in" stand in where it can not. At the end the page shows what the slip
says: the cash, the card payments beside the card reader's own total (agreed or not), and
whether the slip printed, with a button to print it again.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import CollectionView, Snapshot
from screens import service_words as words
from screens.base import KioskScreen
from screens.texts import N_, Texts
from screens.theme import PALETTE
from screens.widgets import typed_with

STEPS = ("box_out", "seal", "box_in", "closing", "done")
STEP_NAMES = (
    N_("Remove the full cash box"),
    N_("Enter the bag or seal number"),
    N_("Insert the empty cash box"),
    N_("Closing the books"),
    N_("Done: take the slip"),
)
SEAL_DIGITS = 12
CHECK = "\u2713"


class CollectionScreen(KioskScreen):
    step = StringProperty("box_out")
    step_lines = ListProperty(["", "", "", "", ""])
    step_marks = ListProperty(["1", "2", "3", "4", "5"])
    doing = StringProperty("")
    box_out_label = StringProperty("")
    box_in_label = StringProperty("")
    typed = StringProperty("")
    seal_label = StringProperty("")
    seal_ok_label = StringProperty("")
    clear_label = StringProperty("")
    delete_label = StringProperty("")
    summary = StringProperty("")
    verdict = StringProperty("")
    verdict_fill = ListProperty(list(PALETTE.good))
    verdict_ink = ListProperty(list(PALETTE.good_text))
    slip_note = StringProperty("")
    slip_again_label = StringProperty("")
    can_leave = BooleanProperty(True)
    can_reprint = BooleanProperty(False)

    def on_kv_post(self, base_widget: object) -> None:
        # held here: a section off the stage is only weakly referenced by ``ids``
        self._sections = {
            name: self.ids[f"{name}_section"].__self__ for name in ("act", "seal", "done")
        }
        self._show_section("act")

    def _show_section(self, name: str) -> None:
        """Only the step's own section is on the stage: one hidden behind it would still
        swallow the touches meant for it (Kivy's disabled widgets do)."""
        stage, section = self.ids["stage"], self._sections[name]
        if section.parent is stage:
            return
        stage.clear_widgets()
        stage.add_widget(section)

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        _ = texts._
        self.title = _("Collect the cash box")
        view = snapshot.collection or CollectionView(step="box_out")
        if view.step != "seal":
            self.typed = ""
        self.step = view.step
        self._show_section({"seal": "seal", "done": "done"}.get(view.step, "act"))
        at = STEPS.index(view.step) if view.step in STEPS else 0
        self.step_lines = [_(name) for name in STEP_NAMES]
        self.step_marks = [
            CHECK if i < at or view.step == "done" else str(i + 1) for i in range(len(STEPS))
        ]
        self.doing = doing_text(view, texts)
        self.box_out_label = _("The box is out")
        self.box_in_label = _("The empty box is in")
        self.seal_label = _("Bag or seal number")
        self.seal_ok_label = _("OK")
        self.clear_label, self.delete_label = _("Clear"), _("Delete")
        self.message = (
            words.service_message(texts, snapshot.service_message)
            if snapshot.service_message
            else ""
        )
        self.back_label = _("Back to menu")
        self.can_leave = view.step != "closing"
        self.slip_again_label = _("Print the slip again")
        self.can_reprint = view.step == "done" and view.slip in ("printed", "failed")
        self._draw_result(view, texts)

    def _draw_result(self, view: CollectionView, texts: Texts) -> None:
        _ = texts._
        if view.step != "done":
            self.summary = self.verdict = self.slip_note = ""
            return
        self.summary = summary_text(view, texts)
        if view.agreed:
            self.verdict = _("Cards: AGREED with the card reader")
            fill, ink = PALETTE.good, PALETTE.good_text
        elif view.terminal_ok:
            self.verdict = _("Cards: NOT AGREED with the card reader")
            fill, ink = PALETTE.danger, PALETTE.danger_text
        else:
            self.verdict = _("Cards: NOT AGREED: the card reader gave no total")
            fill, ink = PALETTE.danger, PALETTE.danger_text
        self.verdict_fill, self.verdict_ink = list(fill), list(ink)
        self.slip_note = {
            "printed": _("Slip {number} printed: sign it and put it in the bag."),
            "failed": _("Slip {number} not printed ({reason}). Fix the printer, print it again."),
        }.get(view.slip or "", _("Printing slip {number}...")).format(
            number=view.slip_number, reason=words.reason(texts, view.slip_reason)
        )

    def key(self, key: str) -> None:
        self.typed = typed_with(self.typed, key, SEAL_DIGITS)

    def box_done(self) -> None:
        """The technician says the box is out (or the empty one in) where the acceptor
        could not."""
        if self.step == "box_out":
            self.send(ui.BoxRemoved())
        elif self.step == "box_in":
            self.send(ui.BoxInserted())

    def enter_seal(self) -> None:
        if self.typed:
            self.send(ui.EnterSeal(self.typed))

    def slip_again(self) -> None:
        self.send(ui.ReprintSlip())

    def targets(self, event: object) -> list[Widget]:
        if isinstance(event, ui.BoxRemoved | ui.BoxInserted):
            return [self.ids["box_button"]]
        if isinstance(event, ui.EnterSeal):
            keys = self.ids["keypad"].keys_for(event.number, clear_first=bool(self.typed))
            return [*keys, self.ids["seal_ok"]]
        if isinstance(event, ui.ReprintSlip):
            return [self.ids["slip_again"]]
        return super().targets(event)


def doing_text(view: CollectionView, texts: Texts) -> str:
    """What to do now, in a sentence or two."""
    _ = texts._
    if view.step == "box_out":
        return _(
            "Unlock and pull out the full cash box. The bill acceptor reports it; if this page"
            " does not move on, touch the button."
        )
    if view.step == "seal":
        reported = _("The bill acceptor reports the box out.") if view.box_reported_out else ""
        return " ".join(
            p for p in (reported, _("Put the box in its bag and type the seal number.")) if p
        )
    if view.step == "box_in":
        return _("Seal {seal}. Now push the empty cash box in until it clicks.").format(
            seal=view.seal_number
        )
    if view.step == "closing":
        return _("Closing the batch and asking the card reader for its totals. Please wait.")
    return ""


def summary_text(view: CollectionView, texts: Texts) -> str:
    _ = texts._
    lines = [
        _("Cash: {total} in {count} bills").format(
            total=texts.money(view.cash_total), count=view.bill_count
        ),
        _("Card payments: {count}, {total}").format(
            count=view.card_count, total=texts.money(view.card_total)
        ),
    ]
    if view.terminal_total is not None:
        lines.append(
            _("The card reader says: {total}").format(total=texts.money(view.terminal_total))
        )
    return "\n".join(lines)
