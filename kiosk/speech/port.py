"""The speech port: what the audio mode needs of a speech engine, and nothing more."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

NORMAL_RATE = 160
"""Words per minute, espeak-ng's scale (its own default is 175)."""


@dataclass(frozen=True, slots=True)
class Utterance:
    text: str
    language: str  # "en" | "es"
    rate: int = NORMAL_RATE  # words per minute


class Voice(Protocol):
    """A speech engine.

    :meth:`speak` says ``utterance`` and returns when it is said, or as soon as ``stop`` is
    set (from another thread: a newer utterance interrupts this one). It never raises for a
    missing or failing engine: a kiosk that can not speak still takes payments.
    """

    def speak(self, utterance: Utterance, stop: threading.Event) -> None: ...


class NullVoice:
    """Says nothing (a kiosk without a speech engine, or speech switched off)."""

    def speak(self, utterance: Utterance, stop: threading.Event) -> None:
        return None
