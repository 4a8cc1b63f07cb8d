"""Whether the hub answered lately: the kiosk's idea of being online.

Every request through :class:`sync.client.HubClient` reports here. The account directory's
``online()`` (the engine shows "offline" on the receipt and skips nothing else) and
``kiosk sync status`` read it. "Online" means the last request got an answer from the hub
and that answer is recent: a kiosk whose last contact was an hour ago does not know.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class ContactState:
    """A copy of what :class:`Connectivity` knows, safe to read on any thread."""

    last_ok_at: datetime | None
    last_failure_at: datetime | None
    last_failure: str
    ok_age_s: float | None  # seconds since the last answer (monotonic), None if never
    failing: bool  # the latest request failed


class Connectivity:
    """Thread-safe record of the latest answer and the latest failure."""

    def __init__(
        self,
        window_s: float = 120.0,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.window_s = window_s
        self._monotonic = monotonic
        self._now = now
        self._lock = threading.Lock()
        self._ok_mono: float | None = None
        self._ok_at: datetime | None = None
        self._fail_mono: float | None = None
        self._fail_at: datetime | None = None
        self._failure = ""
        self._failing = False  # the latest outcome was a failure (order, not clock time)

    def succeeded(self) -> None:
        with self._lock:
            self._ok_mono, self._ok_at = self._monotonic(), self._now()
            self._failing = False

    def failed(self, reason: str) -> None:
        with self._lock:
            self._fail_mono, self._fail_at = self._monotonic(), self._now()
            self._failure = reason
            self._failing = True

    def online(self) -> bool:
        """The hub answered the latest request, within the last ``window_s`` seconds."""
        state = self.state()
        return not state.failing and state.ok_age_s is not None and state.ok_age_s <= self.window_s

    def failing_for(self) -> float | None:
        """Seconds since the latest failure when no answer came after it; else None."""
        with self._lock:
            if not self._failing or self._fail_mono is None:
                return None
            return self._monotonic() - self._fail_mono

    def state(self) -> ContactState:
        with self._lock:
            age = None if self._ok_mono is None else self._monotonic() - self._ok_mono
            return ContactState(self._ok_at, self._fail_at, self._failure, age, self._failing)
