"""A finger on the glass, for the scripted demo and the UI tests.

The touch goes in where the touchscreen's own input provider puts its events
(:meth:`kivy.base.EventLoopBase.post_dispatch_input`), so it travels through the window's
``on_motion`` and ``on_touch_down``/``on_touch_up`` to whatever widget is under it, exactly as
a resident's would: nothing calls a button's handler directly.
"""

from __future__ import annotations

import itertools
from typing import Any

from kivy.base import EventLoop
from kivy.input.motionevent import MotionEvent
from kivy.uix.widget import Widget

_ids = itertools.count(1000)


class ScreenTouch(MotionEvent):
    def __init__(self, x: float, y: float) -> None:
        window = EventLoop.window
        args = {"sx": x / max(1.0, window.width - 1.0), "sy": y / max(1.0, window.height - 1.0)}
        super().__init__("screen-touch", next(_ids), args, is_touch=True, type_id="touch")
        self.profile = ["pos"]

    def depack(self, args: dict[str, Any]) -> None:
        self.sx, self.sy = args["sx"], args["sy"]
        super().depack(args)


def centre_of(widget: Widget) -> tuple[float, float]:
    x, y = widget.to_window(*widget.center)
    return float(x), float(y)


def press(widget: Widget) -> ScreenTouch:
    """Put a finger down on the middle of ``widget``."""
    touch = ScreenTouch(*centre_of(widget))
    EventLoop.post_dispatch_input("begin", touch)
    return touch


def release(touch: ScreenTouch) -> None:
    EventLoop.post_dispatch_input("end", touch)
