"""A job the running kiosk does every so often on a thread of its own (the metrics file,
the disk watch): once at start, then every ``interval`` seconds until stopped. A failing
round is logged and the next one runs: such a job must never be the end of the kiosk."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, name: str, job: Callable[[], None], interval: float) -> None:
        self.name = name
        self.job = job
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.job()
            except Exception:
                log.exception("%s failed; trying again in %g s", self.name, self.interval)
            self._stop.wait(self.interval)
