"""Who may enter service mode, and the lock after wrong PINs.

PINs are kept only as argon2 hashes (from the hub, or the config's fallback list). Checking
one costs tens of milliseconds per technician by design, so the engine runs
:func:`match_pin` as a slow call off its thread. The lock state is rebuilt from the journal
at start-up (:func:`lock_from_journal`): switching the kiosk off and on does not give five
fresh guesses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from contract import entries as E
from contract.pins import verify_pin
from kiosk.config import Technician


def match_pin(technicians: Sequence[Technician], pin: str, badge: str = "") -> str | None:
    """The name of the technician whose PIN this is (only the badge's owner when a badge
    opened the pad), or None."""
    candidates = [t for t in technicians if not badge or t.badge == badge]
    for technician in candidates:
        if verify_pin(technician.pin_hash, pin):
            return technician.name
    return None


def badge_owner(technicians: Sequence[Technician], code: str) -> Technician | None:
    code = code.strip()
    if not code:
        return None
    return next((t for t in technicians if t.badge and t.badge == code), None)


@dataclass
class PinLock:
    """Consecutive wrong PINs and, once there were too many, until when entry is locked."""

    failures: int = 0
    locked_until: datetime | None = None

    def locked(self, now: datetime) -> bool:
        if self.locked_until is not None and now >= self.locked_until:
            self.locked_until = None  # the lock ran out: a fresh set of tries
        return self.locked_until is not None

    def fail(self, now: datetime, max_attempts: int, lock_minutes: int) -> bool:
        """Count a wrong PIN; True when this one locks entry."""
        self.failures += 1
        if self.failures < max_attempts:
            return False
        self.failures = 0
        self.locked_until = now + timedelta(minutes=lock_minutes)
        return True

    def succeed(self) -> None:
        self.failures = 0


def lock_from_journal(entries: Iterable[E.EntryLike]) -> PinLock:
    lock = PinLock()
    for entry in entries:
        if entry.type == E.SERVICE_PIN_FAILED:
            lock.failures = int(entry.payload["attempt"])
        elif entry.type == E.SERVICE_LOCKED:
            lock.failures = 0
            lock.locked_until = datetime.fromisoformat(str(entry.payload["until"]))
        elif entry.type == E.SERVICE_ENTERED:
            lock.failures = 0
    return lock
