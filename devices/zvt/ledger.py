"""The driver's own record of each sale: written before the terminal hears of it.

ZVT has no field for the kiosk's reference, so only the kiosk can say which terminal
transaction belongs to which sale. :class:`SaleBook` keeps, per reference, the amount, the
terminal's last trace number *before* the sale (to tell later whether a transaction happened
at all), and once known the receipt and trace numbers, auth code, brand and last four digits.
It is a small JSON file replaced atomically (write, fsync, rename, fsync the directory) and
written *before* the authorisation goes out and again as soon as the terminal's answer is
in, so :meth:`~devices.zvt.driver.ZvtTerminal.status` and ``reverse`` still work after the
kiosk process dies mid-sale.

Nothing in it is card data: last four digits at most, never a PAN, track or CVV. The file
keeps the most recent ``keep`` sales.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SENT = "sent"
"""Authorisation about to go out (or out): no answer yet."""
IN_DOUBT = "in_doubt"
NOT_SENT = "not_sent"
APPROVED = "approved"
DECLINED = "declined"
CANCELLED = "cancelled"
REVERSED = "reversed"
FINAL = {NOT_SENT, APPROVED, DECLINED, CANCELLED, REVERSED}


@dataclass(frozen=True, slots=True)
class SaleRecord:
    reference: str
    amount_cents: int
    state: str
    trace_before: int | None = None
    trace_before_known: bool = False
    trace: int | None = None
    receipt: int | None = None
    auth_code: str = ""
    brand: str = ""
    last4: str = ""
    reason: str = ""
    started_at: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SaleRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class SaleBook:
    """reference -> :class:`SaleRecord`, persisted on every change. Thread-safe."""

    def __init__(self, path: Path, keep: int = 500) -> None:
        self.path = path
        self.keep = max(1, keep)
        self._lock = threading.Lock()
        self._sales: dict[str, SaleRecord] = {}
        self._last_trace: int | None = None
        self._last_trace_known = False
        path.parent.mkdir(parents=True, exist_ok=True)
        self._load()

    # ------------------------------------------------------------------ reading
    def get(self, reference: str) -> SaleRecord | None:
        with self._lock:
            return self._sales.get(reference)

    def last_trace(self) -> tuple[int | None, bool]:
        """The terminal's most recent trace number and whether it is known for certain.

        ``(None, True)`` means known to be none: the terminal had no transaction stored.
        """
        with self._lock:
            return self._last_trace, self._last_trace_known

    def latest_open(self) -> SaleRecord | None:
        """The most recent sale still without an answer (for a late answer from the terminal)."""
        with self._lock:
            for record in reversed(self._sales.values()):
                if record.state in (SENT, IN_DOUBT):
                    return record
            return None

    def ever_traced(self) -> bool:
        """Whether any trace number of this terminal has been seen (by any sale or query)."""
        with self._lock:
            return self._last_trace is not None or any(
                r.trace is not None or r.trace_before is not None for r in self._sales.values()
            )

    def owner_of_trace(self, trace: int) -> str | None:
        """The reference already known to own the terminal's transaction ``trace``."""
        with self._lock:
            for record in self._sales.values():
                if record.trace == trace:
                    return record.reference
            return None

    # ------------------------------------------------------------------ writing
    def begin(self, reference: str, amount_cents: int) -> SaleRecord:
        """Record the sale before it goes to the terminal."""
        with self._lock:
            record = SaleRecord(
                reference,
                amount_cents,
                SENT,
                trace_before=self._last_trace,
                trace_before_known=self._last_trace_known,
                started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
            self._sales.pop(reference, None)
            self._sales[reference] = record
            while len(self._sales) > self.keep:
                del self._sales[next(iter(self._sales))]
            self._save()
            return record

    def update(self, reference: str, **changes: Any) -> SaleRecord | None:
        with self._lock:
            record = self._sales.get(reference)
            if record is None:
                return None
            record = replace(record, **changes)
            self._sales[reference] = record
            self._save()
            return record

    def set_last_trace(self, trace: int | None, known: bool) -> None:
        with self._lock:
            if (trace, known) == (self._last_trace, self._last_trace_known):
                return
            self._last_trace, self._last_trace_known = trace, known
            self._save()

    # ------------------------------------------------------------------ the file
    def _load(self) -> None:
        if not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            sales = {ref: SaleRecord.from_json(row) for ref, row in data["sales"].items()}
            last, known = data.get("last_trace"), bool(data.get("last_trace_known"))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            aside = self.path.with_name(self.path.name + ".unreadable")
            with contextlib.suppress(OSError):
                os.replace(self.path, aside)
            log.error(
                "card terminal: the sale record %s is unreadable (%s); moved to %s, starting "
                "empty: open sales from before must be settled by hand",
                self.path,
                type(exc).__name__,
                aside,
            )
            return
        self._sales = sales
        self._last_trace = last if isinstance(last, int) else None
        # known with no trace: the terminal's journal was empty (it had no transaction yet)
        self._last_trace_known = known and (self._last_trace is not None or last is None)

    def _save(self) -> None:
        data = {
            "version": 1,
            "last_trace": self._last_trace,
            "last_trace_known": self._last_trace_known,
            "sales": {ref: asdict(record) for ref, record in self._sales.items()},
        }
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, sort_keys=True, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
