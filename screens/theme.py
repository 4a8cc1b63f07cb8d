"""Colours and sizes of the resident's screens, and the contrast rule they are held to.

An outdoor kiosk is read in full sun by people of every eyesight: every text/background pair
named in :data:`TEXT_PAIRS` must meet WCAG 2.x AA (4.5:1 for body text, 3:1 for large text),
which ``tests/screens/test_theme.py`` checks with :func:`contrast_ratio`. State is never
shown by colour alone: an unavailable method says so in words, a message carries a sign.

Sizes are in Kivy's density-independent pixels. A touch target is at least
:data:`TOUCH_MIN` high (about 15 mm on a typical 15-inch kiosk panel), enough for a gloved
finger; the large-text mode multiplies every font size by :data:`LARGE_TEXT_SCALE`.
"""

from __future__ import annotations

RGBA = tuple[float, float, float, float]


def hex_colour(code: str, alpha: float = 1.0) -> RGBA:
    code = code.lstrip("#")
    r, g, b = (int(code[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b, alpha)


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: RGBA) -> float:
    r, g, b, _ = colour
    return 0.2126 * _linear(r) + 0.7152 * _linear(g) + 0.0722 * _linear(b)


def contrast_ratio(a: RGBA, b: RGBA) -> float:
    """WCAG 2.x contrast ratio of two opaque colours, 1.0 to 21.0."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


class Palette:
    """The colours, named by what they are for (fixed: nothing on a kiosk restyles them)."""

    background: RGBA = hex_colour("#0B2540")
    panel: RGBA = hex_colour("#133A5E")
    text: RGBA = hex_colour("#FFFFFF")
    muted: RGBA = hex_colour("#C5D3E2")
    primary: RGBA = hex_colour("#FFC42E")
    primary_text: RGBA = hex_colour("#111111")
    primary_down: RGBA = hex_colour("#D99A00")
    secondary: RGBA = hex_colour("#E6EDF5")
    secondary_text: RGBA = hex_colour("#0B2540")
    secondary_down: RGBA = hex_colour("#A9BCD0")
    danger: RGBA = hex_colour("#A4221A")
    danger_text: RGBA = hex_colour("#FFFFFF")
    danger_down: RGBA = hex_colour("#6E120D")
    disabled: RGBA = hex_colour("#2C4763")
    disabled_text: RGBA = hex_colour("#C9D5E1")
    notice: RGBA = hex_colour("#FFF1C2")
    notice_text: RGBA = hex_colour("#4A3000")
    good: RGBA = hex_colour("#0E5E2F")
    good_text: RGBA = hex_colour("#FFFFFF")
    bar: RGBA = hex_colour("#7FB8F0")
    bar_latest: RGBA = hex_colour("#FFC42E")


PALETTE = Palette()

TEXT_PAIRS: dict[str, tuple[RGBA, RGBA]] = {
    "body on background": (PALETTE.text, PALETTE.background),
    "muted on background": (PALETTE.muted, PALETTE.background),
    "body on panel": (PALETTE.text, PALETTE.panel),
    "muted on panel": (PALETTE.muted, PALETTE.panel),
    "primary button": (PALETTE.primary_text, PALETTE.primary),
    "primary button pressed": (PALETTE.primary_text, PALETTE.primary_down),
    "secondary button": (PALETTE.secondary_text, PALETTE.secondary),
    "secondary button pressed": (PALETTE.secondary_text, PALETTE.secondary_down),
    "danger button": (PALETTE.danger_text, PALETTE.danger),
    "danger button pressed": (PALETTE.danger_text, PALETTE.danger_down),
    "disabled button": (PALETTE.disabled_text, PALETTE.disabled),
    "notice": (PALETTE.notice_text, PALETTE.notice),
    "good news": (PALETTE.good_text, PALETTE.good),
}
"""Every pair of text and background colours the screens use."""

AA_BODY = 4.5

WINDOW_SIZE = (1280, 800)
"""The kiosk's panel, landscape; the demo adds its side panel to the right."""
DEMO_PANEL_WIDTH = 300

TOUCH_MIN = 88
"""Smallest height of anything a resident touches, in dp."""
KEY_SIZE = 96
"""Keys of the on-screen keypad, in dp."""
LARGE_TEXT_SCALE = 1.3

FONT_TITLE = 46
FONT_BIG = 64
FONT_BODY = 28
FONT_BUTTON = 30
FONT_SMALL = 20
FONT_STATUS = 16
