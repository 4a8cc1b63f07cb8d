"""Out of service before the disk is full, and back when space returns.

SQLite never leaves half an entry (a write that finds the disk full rolls back), but a
resident part-way through a payment must not be the one whose receipt entry fails to go
in. So the kiosk stops taking new payments while there is still room: below ``[storage]
min_free_mb`` free on the data directory's file system it goes out of service (the payment
under way finishes first, as with any out of service), with a reason a technician reads on
the screen and in the journal; it comes back by itself once there is 1.5 times that free,
and only if the out of service was this watch's (never over a technician's or the hub's).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from composition.periodic import Periodic
from kiosk.engine import inputs as ui
from kiosk.engine.machine import PaymentEngine

log = logging.getLogger(__name__)
MB = 1024 * 1024
#: free space needed, as a multiple of the threshold, before the kiosk takes payments again:
#: a log rotating or a file removed and written again does not toggle it in and out
BACK_AT = 1.5

FreeBytes = Callable[[Path], int]


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


def reason_for(free: int) -> str:
    return f"disk nearly full ({free // MB} MB free): free space on the kiosk's disk"


class DiskWatch:
    def __init__(
        self,
        engine: PaymentEngine,
        folder: Path,
        min_free_mb: int,
        interval: float = 30.0,
        measure: FreeBytes = free_bytes,
    ) -> None:
        self.engine = engine
        self.folder = folder
        self.threshold = min_free_mb * MB
        self.measure = measure
        self.ours = ""  # the reason this watch set, while it holds the kiosk
        self._rounds = Periodic("disk-watch", self.check, interval)

    def check(self) -> None:
        """Measure once, and go out of service or back as the space says."""
        try:
            free = self.measure(self.folder)
        except OSError as exc:
            log.error("can not measure free space on %s: %s", self.folder, exc)
            return
        if free < self.threshold and not self.ours:
            self.ours = reason_for(free)
            log.error("%s; out of service until there is %d MB", self.ours, self._back_mb())
            self.engine.submit(ui.SetOutOfService(self.ours))
        elif free >= self.threshold * BACK_AT and self.ours:
            if self.engine.snapshot.out_of_service_reason == self.ours:
                self.engine.submit(ui.SetInService())
            log.warning("disk space back (%d MB free): taking payments again", free // MB)
            self.ours = ""

    def _back_mb(self) -> int:
        return int(self.threshold * BACK_AT) // MB

    def start(self) -> None:
        self._rounds.start()

    def stop(self) -> None:
        self._rounds.stop()
