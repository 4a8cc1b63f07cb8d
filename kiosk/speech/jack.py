"""The headphone jack: plugging headphones in starts the audio mode.

On a Linux kiosk the jack's switch is an input device (evdev ``SW_HEADPHONE_INSERT``) or an
ALSA control ("Headphone Jack"); :class:`EvdevJack` reads the first. :class:`EmulatedJack`
is the one the demo and the tests plug and unplug.
"""

from __future__ import annotations

import fcntl
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Protocol

Plugged = Callable[[bool], None]
"""Called with True when headphones go in, False when they come out (any thread)."""


class HeadphoneJack(Protocol):
    def plugged(self) -> bool: ...
    def watch(self, listener: Plugged) -> None: ...


class _Switch:
    """A headphone switch's state and who listens to it: listeners hear only a change."""

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
        """Headphones in (True) or out (False)."""
        with self._lock:
            changed = plugged != self._plugged
            self._plugged = plugged
            listeners = list(self._listeners)
        if changed:
            for listener in listeners:
                listener(plugged)


EV_SW = 5
SW_HEADPHONE_INSERT = 2
_EVENT = struct.Struct("llHHi")  # struct input_event on a 64-bit kernel: time, type, code, value
_EVIOCGSW = (2 << 30) | (8 << 16) | (ord("E") << 8) | 0x1B  # EVIOCGSW(8): the switches now


class EvdevJack(_Switch):
    """The sound card's headphone switch as Linux reports it: an input device
    (``/dev/input/by-path/...``) that sends ``EV_SW``/``SW_HEADPHONE_INSERT`` events. Read
    on its own thread; its state at start is asked with ``EVIOCGSW``."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._file: BinaryIO | None = None

    def start(self) -> None:
        """Open the device (OSError if it can not be) and start listening to it."""
        self._file = self.path.open("rb", buffering=0)
        switches = bytearray(8)
        try:
            fcntl.ioctl(self._file.fileno(), _EVIOCGSW, switches)
            self._plugged = bool(switches[0] & (1 << SW_HEADPHONE_INSERT))
        except OSError:
            pass  # not an input device that answers (a pipe in a test): unplugged until told
        threading.Thread(target=self._read, name="headphone-jack", daemon=True).start()

    def _read(self) -> None:
        assert self._file is not None
        while chunk := self._file.read(_EVENT.size):
            if len(chunk) < _EVENT.size:
                break
            _sec, _usec, type_, code, value = _EVENT.unpack(chunk)
            if type_ == EV_SW and code == SW_HEADPHONE_INSERT:
                self.set(bool(value))


class EmulatedJack(_Switch):
    """Plugged and unplugged by :meth:`set`: the demo panel's button, the scripts."""
