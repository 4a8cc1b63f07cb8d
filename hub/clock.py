"""Wall-clock time for the hub, injectable so tests can move it (enrollment expiry, skew)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
