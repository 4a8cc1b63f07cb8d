"""One name per device: the ``[devices]`` config keys, on every command line.

A technician reads ``card_terminal`` in the config, in ``kiosk devices scan`` and in the
journal's device entries, so that is what every command takes and prints. The short words
a person types without looking (``printer``, ``terminal``) and the older dashed spellings
(``bill-acceptor``) are accepted as aliases, and always turned into the key.
"""

from __future__ import annotations

from kiosk.config import Devices

DEVICE_NAMES: tuple[str, ...] = tuple(
    name for name in Devices.model_fields if name not in Devices.OPTIONS
)
"""``bill_acceptor``, ``card_terminal``, ``receipt_printer``, ``barcode_scanner``."""

ALIASES: dict[str, str] = {
    "acceptor": "bill_acceptor",
    "terminal": "card_terminal",
    "printer": "receipt_printer",
    "scanner": "barcode_scanner",
}


class UnknownDevice(ValueError):
    """A device name that is neither a config key nor an alias of one."""


def choices_text(names: tuple[str, ...] = DEVICE_NAMES) -> str:
    """``bill_acceptor, card_terminal, ... (or acceptor, terminal, ...)`` for messages."""
    short = [alias for alias, name in ALIASES.items() if name in names]
    return f"{', '.join(names)} (or {', '.join(short)})"


def device_name(text: str, allowed: tuple[str, ...] = DEVICE_NAMES) -> str:
    """The config key ``text`` names (``printer`` -> ``receipt_printer``), if ``allowed``."""
    word = text.strip().lower().replace("-", "_")
    name = ALIASES.get(word, word)
    if name not in allowed:
        known = "" if name in DEVICE_NAMES else f"no device is called {text!r}; "
        raise UnknownDevice(f"{known}choose one of {choices_text(allowed)}")
    return name
