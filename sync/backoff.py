"""Exponential backoff with full jitter, for retrying the hub.

Why full jitter (a random delay between 0 and the exponential ceiling) rather than a fixed
doubling: when the hub comes back after an outage, a whole fleet of kiosks that lost it at
the same moment would otherwise retry in lock-step and knock it over again. The ceiling is
capped (``cap_s``) so a kiosk notices a returning hub within that many seconds.
"""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """Delays for consecutive failures; :meth:`reset` after a success."""

    def __init__(
        self,
        base_s: float = 0.5,
        cap_s: float = 30.0,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if base_s <= 0 or cap_s < base_s:
            raise ValueError(f"need 0 < base_s <= cap_s, got base {base_s}, cap {cap_s}")
        self.base_s = base_s
        self.cap_s = cap_s
        self._rand = rand
        self.failures = 0

    def ceiling(self) -> float:
        """The largest delay the next failure may wait."""
        # the exponent is bounded so a long outage never overflows a float
        return min(self.cap_s, self.base_s * 2.0 ** min(self.failures, 60))

    def next_delay(self) -> float:
        """Count one more failure and return how long to wait before trying again."""
        delay = self._rand() * self.ceiling()
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0
