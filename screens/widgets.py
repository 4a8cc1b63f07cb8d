"""The few widgets every screen is built from: buttons, the keypad, a message, the chart.

Their looks (colours, sizes) are in ``widgets.kv`` and :mod:`screens.theme`; what they do is
here. A button shows that it was touched in the very frame the touch arrives (Kivy redraws a
pressed button's colour before the engine has even heard of it), so a resident never taps
twice because nothing seemed to happen.
"""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO

import qrcode
from kivy.clock import Clock, ClockEvent
from kivy.core.image import Image as CoreImage
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Rectangle
from kivy.metrics import dp
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from screens.theme import FONT_BUTTON, PALETTE, RGBA, TOUCH_MIN

_BUTTON_COLOURS: dict[str, tuple[RGBA, RGBA, RGBA]] = {
    "primary": (PALETTE.primary, PALETTE.primary_down, PALETTE.primary_text),
    "secondary": (PALETTE.secondary, PALETTE.secondary_down, PALETTE.secondary_text),
    "danger": (PALETTE.danger, PALETTE.danger_down, PALETTE.danger_text),
}


class KioskButton(Button):
    """A large flat button; ``kind`` picks its colours, ``available`` greys it out."""

    kind = OptionProperty("secondary", options=["primary", "secondary", "danger"])
    available = BooleanProperty(True)
    min_height = NumericProperty(dp(TOUCH_MIN))
    """Never lower than this (a label too long for one line makes it taller): set this, not
    ``height``, which the base rule recomputes whenever the text is redrawn."""
    fill = ListProperty(list(PALETTE.secondary))
    ink = ListProperty(list(PALETTE.secondary_text))
    font_base = NumericProperty(dp(FONT_BUTTON))
    """The size of its words in standard text: set this, not ``font_size``, which the rule
    computes from it (a constant ``font_size`` in a later rule would be overwritten by the
    first change of the text size, as the keypad's word keys were)."""
    scales = BooleanProperty(True)
    """Whether the words grow with the resident's large text (the demo panel's do not)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.bind(kind=self._paint, state=self._paint, available=self._paint)
        self._paint()

    def _paint(self, *_args: object) -> None:
        if not self.available:
            self.fill, self.ink = list(PALETTE.disabled), list(PALETTE.disabled_text)
            return
        normal, down, ink = _BUTTON_COLOURS[self.kind]
        self.fill = list(down if self.state == "down" else normal)
        self.ink = list(ink)


class FixedLabel(Label):
    """Words whose size does not follow the resident's large text: the demo panel's and the
    technician's status mark (``widgets.kv`` gives it the label's drawing and nothing else,
    so no rule of the resident's labels resizes it later)."""


class Keypad(GridLayout):
    """Digits, delete and clear. Fires ``on_key`` with "0"-"9", "back" or "clear"; with
    ``decimal`` set, a decimal point key (".") takes Clear's place, for amounts."""

    back_label = StringProperty("Delete")
    clear_label = StringProperty("Clear")
    decimal = BooleanProperty(False)

    __events__ = ("on_key",)

    def press(self, key: str) -> None:
        self.dispatch("on_key", key)

    def keys_for(self, digits: str, *, clear_first: bool, typed: int = 0) -> list[Widget]:
        """The keys a resident touches to type ``digits`` (and "."), after emptying the
        ``typed`` characters already there if ``clear_first``: Clear, or Delete as often as
        needed on a keypad without Clear."""
        keys: list[Widget] = []
        if clear_first:
            keys = [self.ids["kback"]] * typed if self.decimal else [self.ids["kclear"]]
        for key in digits:
            if key.isdigit():
                keys.append(self.ids[f"k{key}"])
            elif key == "." and self.decimal:
                keys.append(self.ids["kclear"])
        return keys

    def on_key(self, key: str) -> None:
        pass


def typed_with(typed: str, key: str, limit: int, *, leading_zero: bool = True) -> str:
    """What a keypad field holds after ``key``: delete, clear, or one more digit."""
    if key == "back":
        return typed[:-1]
    if key == "clear":
        return ""
    if len(typed) >= limit or (not typed and key == "0" and not leading_zero):
        return typed
    return typed + key


class Banner(Label):
    """A message to the resident, on a light panel with a sign, so it reads without colour."""

    shown = BooleanProperty(False)

    def on_text(self, _instance: object, text: str) -> None:
        self.shown = bool(text)


class UsageChart(Widget):
    """Twelve months of water use as bars, the newest highlighted and labelled.

    ``months`` is a list of ``(label, gallons)``; the month names shrink to fit under their
    bars when the large-text mode makes everything else bigger.
    """

    months = ListProperty([])
    unit = StringProperty("gal")
    font_size = NumericProperty(18)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.bind(pos=self._draw, size=self._draw, months=self._draw, font_size=self._draw)

    def _draw(self, *_args: object) -> None:
        self.canvas.clear()
        months: Sequence[tuple[str, int]] = self.months
        if not months or self.width <= 0:
            return
        top = max(g for _, g in months) or 1
        slot = self.width / len(months)
        font = min(self.font_size, slot * 0.36)  # three letters must fit under each bar
        label_h = font * 1.6
        area_h = max(1.0, self.height - 2 * label_h)
        with self.canvas:
            for i, (name, gallons) in enumerate(months):
                latest = i == len(months) - 1
                Color(*(PALETTE.bar_latest if latest else PALETTE.bar))
                h = area_h * gallons / top
                x = self.x + i * slot
                Rectangle(pos=(x + slot * 0.15, self.y + label_h), size=(slot * 0.7, h))
                Color(*PALETTE.muted)
                self._text(name, x + slot / 2, self.y + label_h / 2, font)
                if latest:
                    y = self.y + label_h + h + label_h / 2
                    self._text(f"{gallons:,} {self.unit}", self.right - slot, y, font, "right")

    def _text(self, text: str, x: float, y: float, font: float, anchor: str = "centre") -> None:
        """Text drawn straight on the canvas: the labels of a chart are part of its picture."""
        label = CoreLabel(text=text, font_size=font)
        label.refresh()
        texture = label.texture
        w, h = texture.size
        left = x - w / 2 if anchor == "centre" else min(x + w / 2, self.right) - w
        Rectangle(texture=texture, pos=(left, y - h / 2), size=(w, h))


class QrCode(Image):
    """The confirmation number as a QR code, drawn crisp (no smoothing between modules)."""

    data = StringProperty("")

    def on_data(self, _instance: object, data: str) -> None:
        if not data:
            self.texture = None
            return
        image = qrcode.make(data, box_size=8, border=2)
        buffer = BytesIO()
        image.save(buffer, "PNG")
        buffer.seek(0)
        texture = CoreImage(buffer, ext="png").texture
        texture.mag_filter = "nearest"
        self.texture = texture


class Row(BoxLayout):
    """A horizontal row of buttons with the standard spacing, as tall as its tallest button.

    The height follows each button's own height here: a kv rule can only watch the list of
    children, so a button grown after it was added (a larger ``min_height``, large text) would
    stick out of a row that kept its first height and cover whatever lies above it.
    """

    def add_widget(self, widget: Widget, *args: object, **kwargs: object) -> None:
        super().add_widget(widget, *args, **kwargs)
        widget.bind(height=self._fit)
        self._fit()

    def remove_widget(self, widget: Widget, *args: object, **kwargs: object) -> None:
        widget.unbind(height=self._fit)
        super().remove_widget(widget, *args, **kwargs)
        self._fit()

    def _fit(self, *_args: object) -> None:
        # a spacer (size_hint_y set) takes the row's height; it does not give the row one
        fixed = [child.height for child in self.children if child.size_hint_y is None]
        self.height = max(fixed, default=dp(TOUCH_MIN))


class HiddenCorner(Widget):
    """An invisible patch that fires ``on_hold`` after a finger has stayed on it for
    ``hold_seconds``: the technician's way into service mode. A resident's tap, or a finger
    that slides away or lifts sooner, does nothing, and nothing is drawn to show it is there.
    """

    hold_seconds = NumericProperty(3.0)

    __events__ = ("on_hold",)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._timer: ClockEvent | None = None
        self._finger: object = None

    def on_touch_down(self, touch: object) -> bool:
        if not self.collide_point(*touch.pos):  # type: ignore[attr-defined]
            return False
        self._cancel()
        self._finger = touch
        self._timer = Clock.schedule_once(self._fire, self.hold_seconds)
        return False  # whatever lies under the corner hears the touch as before

    def on_touch_move(self, touch: object) -> bool:
        if touch is self._finger and not self.collide_point(*touch.pos):  # type: ignore[attr-defined]
            self._cancel()
        return False

    def on_touch_up(self, touch: object) -> bool:
        if touch is self._finger:
            self._cancel()
        return False

    def _fire(self, _dt: float) -> None:
        self._timer, self._finger = None, None
        self.dispatch("on_hold")

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._finger = None, None

    def on_hold(self) -> None:
        pass
