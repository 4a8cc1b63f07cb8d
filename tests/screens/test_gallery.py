"""Every resident's screen, in English and Spanish, in standard and in large text switched on
by a touch, with and without an error (:mod:`screens.gallery`, in a child process: Kivy owns
one window per process). One run checks:

- the layout: no words over words or off the window, no word broken between two letters
  (the keypad's "Clea"/"r" once large text was switched on; Spanish instructions drawn under
  an error banner);
- the keypad's keys stay where they are when an error is shown;
- the demo panel keeps its size when the resident switches large text on;
- Clear takes an error away (until the engine says something new);
- large text goes back to standard for the next resident;
- the corner mark follows the network as it is now, in a resident's words;
- every text on its background meets WCAG AA (4.5:1) in both text sizes;
- the thank-you screen's QR code is the payment's link, the number beside it, and a card
  payment says what was charged with its fee.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from screens.gallery import samples

ROOT = Path(__file__).resolve().parents[2]
AA = 4.5


def gallery() -> dict[str, Any]:
    env = {**os.environ, "KIVY_NO_ARGS": "1", "KIVY_NO_CONSOLELOG": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "screens.gallery"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    found: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return found


@pytest.mark.timeout(300)
def test_every_screen_in_every_language_and_text_size() -> None:
    """One child process for all of it (a run costs about 30 s of a shared machine)."""
    found = gallery()
    layout(found)
    keys_stay_put(found)
    demo_panel_keeps_its_size(found)
    clear_takes_the_error_away(found)
    large_text_is_not_left_on(found)
    corner_mark(found)
    contrast(found)
    assert found["checks"]["receipt"] == [
        "https://pay.example.gov/lookup?c=7K3M-Q9XD-R",
        "7K3M-Q9XD-R",
        "Charged to your card: $29.75, including a $1.00 card fee.",
    ]


def layout(found: dict[str, Any]) -> None:
    assert found["problems"] == []
    drawn = {c["where"] for c in found["colours"]}
    for size in ("standard", "large"):
        for language in ("en", "es"):
            for name, _snapshot in samples():
                assert f"{size}/{language}/{name}" in drawn


def keys_stay_put(found: dict[str, Any]) -> None:
    keypads = found["keypads"]
    checked = 0
    for where, keys in keypads.items():
        if where.endswith("-message"):
            assert keys == keypads[where.removesuffix("-message")], where
            checked += 1
    assert checked == 8  # two keypad screens, two languages, two text sizes


def demo_panel_keeps_its_size(found: dict[str, Any]) -> None:
    assert found["panel"]["large"] == found["panel"]["standard"]


def clear_takes_the_error_away(found: dict[str, Any]) -> None:
    checks = found["checks"]
    assert checks["banner_after_clear"] == ""
    assert checks["banner_after_next_snapshot"] == ""
    assert "not a valid account number" in checks["banner_after_new_error"]


def large_text_is_not_left_on(found: dict[str, Any]) -> None:
    checks = found["checks"]
    assert checks["large_after_session"] is False
    assert checks["large_at_idle_soon"] is True  # someone who just switched it on keeps it
    assert checks["large_at_idle_later"] is False


def corner_mark(found: dict[str, Any]) -> None:
    checks = found["checks"]
    assert checks["mark_offline"].startswith("No network right now")
    assert "to send" not in checks["mark_offline"] and "Offline" not in checks["mark_offline"]
    assert checks["mark_back"] == ""


def contrast(found: dict[str, Any]) -> None:
    colours = found["colours"]
    assert len(colours) > 500
    low = [f"{c['where']}: {c['text']!r} {c['ratio']}" for c in colours if c["ratio"] < AA]
    assert low == []
    # the pairs measured include the buttons, the banner and the muted words
    inks = {tuple(round(x, 2) for x in c["ink"]) for c in colours}
    unders = {tuple(round(x, 2) for x in c["under"]) for c in colours}
    assert len(inks) >= 4 and len(unders) >= 5
