"""The tactile keypad: which key is which (:data:`KEYS`), and what a key does
(:func:`action`).

A USB numeric keypad, as on ATMs and fare machines (ADA 2010 section 707.6): the digits with
a raised 5, Enter, and the keys around them. Its key codes are Kivy's (the window's
``on_key_down``); a keyboard's digit row and arrow keys work the same way. Pure data and one
pure function, so the table can be read, documented and tested without a window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

KeyName = Literal[
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
    "up", "down", "left", "right", "enter", "delete", "back", "help", "repeat", "slower", "point",
]  # fmt: skip

KEYS: dict[int, KeyName] = {
    # the keypad's digits (Kivy's numpad0..numpad9) and a keyboard's digit row
    **{256 + d: str(d) for d in range(10)},  # type: ignore[misc]
    **{48 + d: str(d) for d in range(10)},  # type: ignore[misc]
    273: "up",
    274: "down",
    276: "left",
    275: "right",
    271: "enter",  # numpadenter
    13: "enter",
    8: "delete",  # backspace
    269: "back",  # numpad minus
    270: "help",  # numpad plus
    268: "repeat",  # numpad star
    267: "slower",  # numpad slash: say it again, more slowly
    266: "point",  # numpad decimal point
    46: "point",
}
"""Kivy key code -> the key's name. Escape is not here: it is nobody's key on a kiosk."""

KEY_DOC: tuple[tuple[str, str], ...] = (
    ("2, 8, arrow keys", "move to the next or the previous choice"),
    ("4, 6", "the previous or the next choice"),
    ("5 (raised)", "say the choice that has the focus"),
    ("Enter", "choose it; on a number field, send the number (nothing typed: the next choice)"),
    ("digits", "type into a number field that has the focus"),
    ("point", "the decimal point of an amount"),
    ("Backspace", "delete the last digit typed (elsewhere: back)"),
    ("minus", "delete the last digit typed; with nothing typed, back (Back, or Cancel)"),
    ("star", "say the screen again"),
    ("slash", "say the screen again, more slowly (again: normal speed)"),
    ("plus", "help: what the keys do"),
)
"""What each key does, for docs/accessibility.md."""


@dataclass(frozen=True, slots=True)
class Move:
    step: int  # +1 next, -1 previous


@dataclass(frozen=True, slots=True)
class Type:
    key: str  # a digit, "." or "back" (delete), as the on-screen keypad's keys say it


@dataclass(frozen=True, slots=True)
class Simple:
    what: Literal["activate", "back", "help", "repeat", "slower", "where"]


Action = Move | Type | Simple

_MOVES = {"up": -1, "left": -1, "down": 1, "right": 1, "8": -1, "4": -1, "2": 1, "6": 1}


def action(key: KeyName, *, on_field: bool, typed: bool = False) -> Action | None:
    """What ``key`` does when the focus is (``on_field``) or is not on a number field that
    holds something (``typed``) or nothing; None: nothing (a key with no meaning here,
    answered with help by the caller)."""
    if on_field and key.isdigit():
        return Type(key)
    if on_field and key == "point":
        return Type(".")
    if on_field and (key == "delete" or (key == "back" and typed)):
        return Type("back")
    if on_field and key == "enter" and not typed:
        # a keypad alone has no arrows, and its 2 and 8 type here: an empty field's Enter
        # is the way on to the next choice
        return Move(1)
    if key in _MOVES:
        return Move(_MOVES[key])
    if key == "5":
        return Simple("where")
    if key == "enter":
        return Simple("activate")
    if key in ("delete", "back"):
        return Simple("back")
    if key in ("help", "repeat", "slower"):
        return Simple(key)
    return None
