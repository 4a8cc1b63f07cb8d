"""The tactile keypad's table and what each key does, without a window."""

from __future__ import annotations

from typing import get_args

import pytest

from screens.keypad import KEYS, KeyName, Move, Simple, Type, action

NUMPAD = {f"numpad{d}": 256 + d for d in range(10)} | {
    "numpadenter": 271,
    "numpadsubstract": 269,
    "numpadadd": 270,
    "numpadmul": 268,
    "numpaddivide": 267,
    "numpaddecimal": 266,
}
"""Kivy's names for a USB keypad's keys (kivy.core.window.Keyboard.keycodes)."""


def test_every_key_of_a_usb_numeric_keypad_has_a_meaning() -> None:
    assert all(code in KEYS for code in NUMPAD.values())
    assert [KEYS[NUMPAD[f"numpad{d}"]] for d in range(10)] == [str(d) for d in range(10)]
    assert KEYS[NUMPAD["numpadenter"]] == "enter" and KEYS[13] == "enter"
    assert 27 not in KEYS  # Escape is nobody's key on a kiosk


def test_every_key_name_is_reached_by_some_key() -> None:
    assert set(KEYS.values()) == set(get_args(KeyName))


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("2", Move(1)),
        ("8", Move(-1)),
        ("6", Move(1)),
        ("4", Move(-1)),
        ("down", Move(1)),
        ("up", Move(-1)),
        ("5", Simple("where")),
        ("enter", Simple("activate")),
        ("back", Simple("back")),
        ("delete", Simple("back")),
        ("help", Simple("help")),
        ("repeat", Simple("repeat")),
        ("slower", Simple("slower")),
        ("1", None),
        ("point", None),
    ],
)
def test_away_from_a_field_digits_move_the_focus(key: KeyName, expected: object) -> None:
    assert action(key, on_field=False) == expected


@pytest.mark.parametrize(
    ("key", "typed", "expected"),
    [
        ("2", False, Type("2")),
        ("8", True, Type("8")),
        ("5", False, Type("5")),
        ("point", True, Type(".")),
        ("delete", True, Type("back")),
        ("back", True, Type("back")),  # minus deletes what was typed...
        ("back", False, Simple("back")),  # ...and, with nothing typed, goes back
        ("down", True, Move(1)),  # the arrows still leave the field
        ("enter", True, Simple("activate")),
        ("enter", False, Move(1)),  # nothing typed: the way off the field without arrows
        ("repeat", True, Simple("repeat")),
    ],
)
def test_on_a_field_digits_type(key: KeyName, typed: bool, expected: object) -> None:
    assert action(key, on_field=True, typed=typed) == expected
