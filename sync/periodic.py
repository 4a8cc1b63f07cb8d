"""One background thread that runs the periodic pulls (settings, account cache).

They share a thread because each is a short request every minute or so; they are kept off
the push thread so a slow snapshot never delays replication of payments, and vice versa.
A job that fails is logged and tried again at its next turn: a pull is harmless to repeat.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class Job:
    name: str
    interval_s: float
    run: Callable[[], object]
    on_error: Callable[[str, Exception], None] | None = None
    due: float = field(default=0.0)  # monotonic time of the next run; 0: at once


class Periodic:
    def __init__(self, jobs: list[Job], monotonic: Callable[[], float] = time.monotonic) -> None:
        self.jobs = jobs
        self._monotonic = monotonic
        self._stop = threading.Event()
        self._kick = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sync-pull", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._kick.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_all_now(self) -> None:
        """Make every job due at once (a technician's "sync now")."""
        for job in self.jobs:
            job.due = 0.0
        self._kick.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self._monotonic()
            for job in self.jobs:
                if self._stop.is_set():
                    return
                if job.due <= now:
                    self._run_job(job)
                    job.due = self._monotonic() + job.interval_s
            wait = min((job.due for job in self.jobs), default=now + 60.0) - self._monotonic()
            self._kick.wait(max(0.05, wait))
            self._kick.clear()

    @staticmethod
    def _run_job(job: Job) -> None:
        try:
            job.run()
        except Exception as exc:
            log.info("sync: %s failed: %s", job.name, exc)
            if job.on_error is not None:
                job.on_error(job.name, exc)
