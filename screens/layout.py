"""What a resident could not read on a screen: words drawn over other words or over a button,
or cut off at the window's edge.

A layout can be right in English at standard size and wrong in Spanish or in large text,
where labels are longer and taller; the scripted player runs this on every screen it
photographs, in every language and text size, so such a screen fails the script instead of
reaching the glass. It looks at what is drawn, not at the widgets' boxes: a label's words are
its texture, which Kivy centres on the label and which may be larger than the label itself.
A word too wide for its line is broken by Kivy between two letters ("Clea" over "r"): that
is caught too, from the lines Kivy laid out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from kivy.uix.button import Button
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.widget import Widget

SLACK = 1.0
"""Pixels two drawings may share (anti-aliased edges) before they count as overlapping."""


@dataclass(frozen=True)
class Drawn:
    """One thing drawn on the glass, in window pixels."""

    name: str
    left: float
    bottom: float
    right: float
    top: float

    def overlap(self, other: Drawn) -> bool:
        width = min(self.right, other.right) - max(self.left, other.left)
        height = min(self.top, other.top) - max(self.bottom, other.bottom)
        return width > SLACK and height > SLACK


def problems(roots: Sequence[Widget], window_size: tuple[float, float]) -> list[str]:
    """Each pair of drawings that overlap, each drawing that leaves the window, and each
    button whose words spill out of it, in the widgets under ``roots``."""
    shown = [widget for root in roots for widget in _visible(root)]
    drawn = [box for widget in shown if (box := _drawn(widget)) is not None]
    found = [f"{_name(widget)} is too small for its words" for widget in shown if _overfull(widget)]
    found += [
        f"{_name(widget)} breaks {piece!r} across lines"
        for widget in shown
        for piece in broken_words(widget)
    ]
    for i, first in enumerate(drawn):
        if (
            first.left < -SLACK
            or first.bottom < -SLACK
            or first.right > window_size[0] + SLACK
            or first.top > window_size[1] + SLACK
        ):
            found.append(f"{first.name} is cut off at the edge of the window")
        found.extend(
            f"{first.name} and {second.name} overlap"
            for second in drawn[i + 1 :]
            if first.overlap(second)
        )
    return found


def _visible(widget: Widget) -> Iterator[Widget]:
    if widget.opacity <= 0 or widget.width <= 0 or widget.height <= 0:
        return  # not drawn, nor is anything inside it
    yield widget
    for child in widget.children:
        yield from _visible(child)


def _drawn(widget: Widget) -> Drawn | None:
    box = _drawn_box(widget)
    if box is None:
        return None
    left, bottom, right, top = box
    x0, y0 = widget.to_window(left, bottom)
    x1, y1 = widget.to_window(right, top)
    return Drawn(_name(widget), x0, y0, x1, y1)


def _overfull(widget: Widget) -> bool:
    if not isinstance(widget, Button) or not widget.text.strip():
        return False
    width, height = widget.texture_size
    return bool(width > widget.width + SLACK or height > widget.height + SLACK)


_MARKUP = re.compile(r"\[/?[a-z_]+(?:=[^\]]*)?\]")


def broken_words(widget: Widget) -> list[str]:
    """The pieces of words a label's lines hold that are not whole words of its text: Kivy
    cut a word too wide for the line between two letters."""
    if not isinstance(widget, Label) or not widget.text.strip():
        return []
    lines = getattr(widget._label, "_cached_lines", None) or []
    if len(lines) < 2:
        return []
    text = widget.text
    if widget.markup:
        text = _MARKUP.sub("", text).replace("&bl;", "[").replace("&br;", "]").replace("&amp;", "&")
    whole = set(text.split())
    drawn = ("".join(word.text for word in line.words) for line in lines)
    pieces = [
        _MARKUP.sub("", piece) if widget.markup else piece
        for line in drawn
        for piece in line.split()
    ]
    return [piece for piece in pieces if piece and piece not in whole]


def _drawn_box(widget: Widget) -> tuple[float, float, float, float] | None:
    """In the widget's parent's coordinates, like ``widget.pos``."""
    if isinstance(widget, Button):  # its background fills the whole button
        return widget.x, widget.y, widget.right, widget.top
    if isinstance(widget, Label):
        if not widget.text.strip():
            return None
        width, height = widget.texture_size
        return _centred(widget, width, height)
    if isinstance(widget, Image) and widget.texture is not None:
        width, height = widget.norm_image_size
        return _centred(widget, width, height)
    return None


def _centred(widget: Widget, width: float, height: float) -> tuple[float, float, float, float]:
    cx, cy = widget.center
    return cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2


def _name(widget: Widget) -> str:
    text = getattr(widget, "text", "")
    said = f" {text.strip()[:30]!r}" if isinstance(text, str) and text.strip() else ""
    return f"{type(widget).__name__}{said}"
