"""The headphone jack: plugging headphones in starts the audio mode.

On a Linux kiosk the jack's switch is an input device (evdev ``SW_HEADPHONE_INSERT``) or an
ALSA control ("Headphone Jack"); an adapter for either implements :class:`HeadphoneJack`.
:class:`EmulatedJack` is the one the demo and the tests plug and unplug.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

Plugged = Callable[[bool], None]
"""Called with True when headphones go in, False when they come out (any thread)."""


class HeadphoneJack(Protocol):
    def plugged(self) -> bool: ...
    def watch(self, listener: Plugged) -> None: ...


class EmulatedJack:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plugged = False
        self._listeners: list[Plugged] = []

    def plugged(self) -> bool:
        with self._lock:
            return self._plugged

    def watch(self, listener: Plugged) -> None:
        with self._lock:
            self._listeners.append(listener)

    def set(self, plugged: bool) -> None:
        """Headphones in (True) or out (False); listeners hear only a change."""
        with self._lock:
            changed = plugged != self._plugged
            self._plugged = plugged
            listeners = list(self._listeners)
        if changed:
            for listener in listeners:
                listener(plugged)
