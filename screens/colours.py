"""The colour of every text on a screen and the colour drawn under it, read off the widgets.

:data:`screens.theme.TEXT_PAIRS` names the pairs the theme means to use; this finds the pairs
the screens actually draw, so a label put on the wrong panel, or a colour written into a
``.kv`` file by hand, is measured too. A text's colour is its label's ``color`` (a kiosk
button's ``ink``: its words are drawn white and tinted); the colour under it is the last
filled shape drawn under the text's middle by the label itself (a button's fill) or else by
the nearest widget around it (a banner, a panel, the screen's background).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from kivy.graphics import Color, Ellipse, Rectangle, RoundedRectangle
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from screens.theme import RGBA, contrast_ratio


def text_pairs(roots: Sequence[Widget]) -> list[dict[str, Any]]:
    """One entry per visible text under ``roots``: its words, colours and contrast ratio."""
    found = []
    for label in _texts(roots):
        ink = _ink(label)
        under = background_of(label)
        if under is None:
            continue
        found.append(
            {
                "text": label.text.strip()[:40],
                "ink": list(ink),
                "under": list(under),
                "ratio": round(contrast_ratio(ink, under), 2),
                "font_size": float(label.font_size),
                "bold": bool(label.bold),
            }
        )
    return found


def _texts(roots: Sequence[Widget]) -> Iterator[Label]:
    for root in roots:
        yield from _visible_texts(root)


def _visible_texts(widget: Widget) -> Iterator[Label]:
    if widget.opacity <= 0 or widget.width <= 0 or widget.height <= 0:
        return
    if isinstance(widget, Label) and widget.text.strip():
        yield widget
    for child in widget.children:
        yield from _visible_texts(child)


def _ink(label: Label) -> RGBA:
    ink = getattr(label, "ink", None)
    r, g, b, _a = ink if ink is not None else label.color
    return (float(r), float(g), float(b), 1.0)


def background_of(label: Label) -> RGBA | None:
    """The colour drawn under the middle of ``label``: by itself (a button), else by the
    nearest widget around it that draws a filled shape there."""
    x, y = label.to_window(*label.center)
    widget: Widget | None = label
    while widget is not None:
        colour = _fill_under(widget, x, y)
        if colour is not None:
            return colour
        parent = widget.parent
        widget = parent if isinstance(parent, Widget) and parent is not widget else None
    return None


_plain: list[object] = []


def _textured(shape: Rectangle | RoundedRectangle | Ellipse) -> bool:
    """Whether ``shape`` draws a picture (words, a QR code), not a plain fill: a shape
    given no texture has kivy's default one."""
    if not _plain:
        _plain.append(Rectangle().texture)
    return shape.texture is not None and shape.texture is not _plain[0]


def _fill_under(widget: Widget, x: float, y: float) -> RGBA | None:
    """The last untextured shape drawn by ``widget`` (its canvas.before, then its canvas)
    that covers the window point (x, y), with the colour it was drawn in."""
    colour: RGBA | None = None
    current: RGBA = (1.0, 1.0, 1.0, 1.0)
    groups = [widget.canvas.before, widget.canvas] if widget.canvas is not None else []
    for group in groups:
        for instruction in group.children:
            if isinstance(instruction, Color):
                r, g, b, a = instruction.rgba
                current = (float(r), float(g), float(b), float(a))
            elif isinstance(instruction, Rectangle | RoundedRectangle | Ellipse):
                if _textured(instruction) or current[3] <= 0:
                    continue
                left, bottom = instruction.pos
                width, height = instruction.size
                # a widget draws where its pos is (inside a relative layout, its own space)
                left, bottom = widget.to_window(left, bottom)
                if left <= x <= left + width and bottom <= y <= bottom + height:
                    colour = current
    return colour
